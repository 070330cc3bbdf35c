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

/** The names the completion script offers, asked of the broker with a short timeout. Not for people. */
@Command(name = "__complete", hidden = true)
final class CompleteNamesCommand implements Callable<Integer>
{
    @ParentCommand
    SwitchboardCli cli;

    @Parameters(index = "0", paramLabel = "WHAT")
    String what;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SERVICE")
    String service;

    @Override
    public Integer call()
    {
        try (GatewayConnection connection = cli.connect())
        {
            final JsonNode answer = cli.discover(connection, null, new Seconds(TimeUnit.SECONDS.toNanos(1)));
            if (null == answer)
            {
                return ExitCodes.TIMEOUT;
            }
            final List<String> names = new ArrayList<>();
            for (final JsonNode found : answer.path("services"))
            {
                if ("services".equals(what))
                {
                    names.add(found.path("name").asText());
                }
                else if ("types".equals(what) && found.path("name").asText().equals(service))
                {
                    found.path("message_types").forEach((t) -> names.add(t.isTextual() ? t.asText() :
                        t.path("name").asText()));
                }
            }
            cli.out.println(String.join("\n", names));
            return EXIT_OK;
        }
        catch (final NoBrokerException | IOException ex)
        {
            return ExitCodes.NO_BROKER;
        }
    }
}
