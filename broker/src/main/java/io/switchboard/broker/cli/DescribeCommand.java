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

@Command(name = "describe", usageHelpWidth = 110,
    description = "A service's message types and their fields (from the schema's IR), as indented JSON.",
    footer = {"", "--json prints the same service object on one line: {\"name\":...,\"message_types\":[...],...}",
        "", ExitCodes.TABLE})
final class DescribeCommand extends GatewayCommand
{
    @Parameters(index = "0", paramLabel = "SERVICE", description = "the service to describe")
    String service;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
        description = "how long the broker has to answer (default: ${DEFAULT-VALUE})")
    Seconds timeout;

    @Override
    int run(final GatewayConnection connection) throws JsonProcessingException
    {
        final JsonNode answer = cli.discover(connection, service, timeout);
        if (null == answer)
        {
            return cli.timedOut("no answer from the broker", timeout);
        }
        if (!answer.path("success").asBoolean(true))
        {
            return cli.failure(answer);
        }
        for (final JsonNode found : answer.path("services"))
        {
            if (service.equals(found.path("name").asText()))
            {
                if (cli.json)
                {
                    cli.print(found);
                }
                else
                {
                    cli.out.println(Json.writePretty(found));
                }
                return EXIT_OK;
            }
        }
        cli.err.println("switchboard: ACTOR_NOT_FOUND: no service named '" + service + "'");
        return ExitCodes.of("ACTOR_NOT_FOUND");
    }
}
