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

@Command(name = "stats", usageHelpWidth = 110,
    description = "The broker's counters (by error code, per service, per subject), as indented JSON.",
    footer = {"", "--json prints the STATS RESPONSE frame whole on one line: {\"correlation_id\":...," +
        "\"success\":true,\"payload\":{...counters...}}", "", ExitCodes.TABLE})
final class StatsCommand extends GatewayCommand
{
    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
        description = "how long the broker has to answer (default: ${DEFAULT-VALUE})")
    Seconds timeout;

    @Override
    int run(final GatewayConnection connection) throws JsonProcessingException
    {
        final String id = cli.nextId();
        cli.send(connection, FrameType.STATS, NODES.objectNode().put("correlation_id", id));
        final JsonNode answer = cli.awaitFrame(connection, id, System.nanoTime() + timeout.nanos);
        if (null == answer)
        {
            return cli.timedOut("no answer from the broker", timeout);
        }
        if (!answer.path("success").asBoolean(false))
        {
            return cli.failure(answer);
        }
        if (cli.json)
        {
            cli.print(answer);
        }
        else
        {
            cli.out.println(Json.writePretty(answer.path("payload")));
        }
        return EXIT_OK;
    }
}
