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

@Command(name = "publish", usageHelpWidth = 110,
    description = "Publish on a subject; each publication is acknowledged by the broker.",
    footer = {"", "Prints nothing by default; --json prints each acknowledgement: " +
        "{\"correlation_id\":\"cli-1\",\"success\":true,...}", "", ExitCodes.TABLE})
final class PublishCommand extends GatewayCommand
{
    @Parameters(index = "0", paramLabel = "SUBJECT", description = "a dot-separated subject, e.g. alerts.disk")
    String subject;

    @Parameters(index = "1..*", paramLabel = "PAYLOAD",
        description = "one JSON document, '-' (read from stdin once), or key=value / key:=json pairs")
    List<String> payload = new ArrayList<>();

    @Option(names = "--retain", description = "the broker keeps it and gives it to each new matching subscriber")
    boolean retain;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
        description = "publish the same payload N times (default: ${DEFAULT-VALUE})")
    long count;

    @Option(names = "--interval", paramLabel = "SECONDS",
        description = "wait this long between publications (default: none)")
    Seconds interval;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
        description = "how long the broker has to acknowledge each (default: ${DEFAULT-VALUE})")
    Seconds timeout;

    private JsonNode body;

    @Override
    void check()
    {
        if (count < 1)
        {
            throw new UsageException("--count must be at least 1, found " + count);
        }
        body = payload(payload, cli.in);
    }

    @Override
    int run(final GatewayConnection connection) throws InterruptedException
    {
        for (long i = 0; i < count; i++)
        {
            if (i > 0 && null != interval)
            {
                TimeUnit.NANOSECONDS.sleep(interval.nanos); // the pacing the user asked for
            }
            final String id = cli.nextId();
            final ObjectNode frame = NODES.objectNode().put("correlation_id", id).put("message_type", subject);
            frame.set("payload", body);
            if (retain)
            {
                frame.put("retain", true);
            }
            cli.send(connection, FrameType.PUBLISH, frame);
            final JsonNode answer = cli.awaitFrame(connection, id, System.nanoTime() + timeout.nanos);
            if (null == answer)
            {
                return cli.timedOut("no acknowledgement from the broker", timeout);
            }
            if (cli.json)
            {
                cli.print(answer);
            }
            if (!answer.path("success").asBoolean(false))
            {
                return cli.failure(answer);
            }
        }
        return EXIT_OK;
    }
}
