package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.TrustedDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.cli.SwitchboardCli.*;

/** Options every command that waits for an answer takes. */
abstract class GatewayCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    SwitchboardCli cli;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public final Integer call() throws Exception
    {
        check();
        try (GatewayConnection connection = cli.connect())
        {
            return run(connection);
        }
        catch (final NoBrokerException ex)
        {
            cli.err.println("switchboard: " + ex.getMessage());
            return ExitCodes.NO_BROKER;
        }
    }

    /** Check the arguments before any connection is made: a usage error never waits for a broker. */
    void check()
    {
    }

    abstract int run(GatewayConnection connection) throws Exception;
}
