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
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "services", usageHelpWidth = 110,
    description = "List services: transport, mode, instances, message types, then one line per instance " +
        "(who serves it).",
    footer = {"", "--json prints the DISCOVER answer whole: {\"correlation_id\":...,\"success\":true," +
        "\"services\":[{\"name\":...,\"instances\":1,\"mode\":...,\"message_types\":[...],\"transport\":...," +
        "\"instances_detail\":[...]}],...}", "", ExitCodes.TABLE})
final class ServicesCommand extends GatewayCommand
{
    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
        description = "how long the broker has to answer (default: ${DEFAULT-VALUE})")
    Seconds timeout;

    @Override
    int run(final GatewayConnection connection)
    {
        final JsonNode answer = cli.discover(connection, null, timeout);
        if (null == answer)
        {
            return cli.timedOut("no answer from the broker", timeout);
        }
        if (cli.json)
        {
            cli.print(answer);
            return EXIT_OK;
        }
        for (final JsonNode service : answer.path("services"))
        {
            final List<String> types = new ArrayList<>();
            service.path("message_types").forEach((t) -> types.add(t.isTextual() ? t.asText() :
                t.path("name").asText()));
            cli.out.printf(Locale.US, "%-24s %-13s %-9s %2d instance(s)  %s%n", service.path("name").asText(),
                service.path("transport").asText(""), service.path("mode").asText(""),
                service.path("instances").asInt(), String.join(", ", types));
            for (final JsonNode instance : service.path("instances_detail"))
            {
                cli.out.println("    " + instanceLine(instance));
            }
        }
        return EXIT_OK;
    }
}
