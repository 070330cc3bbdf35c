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

@Command(name = "listen", usageHelpWidth = 110,
    description = "Print publications matching the patterns ('*' one token, '>' the rest) until Ctrl-C, " +
        "--count or --deadline.",
    footer = {"", "Prints 'SUBJECT PAYLOAD' per publication; --json prints each PUSH frame whole: " +
        "{\"notification_id\":...,\"message_type\":\"prices.ACME\",\"payload\":{...},\"timestamp_ms\":...," +
        "\"sequence\":1}", "", ExitCodes.TABLE})
final class ListenCommand extends GatewayCommand
{
    @Parameters(arity = "1..*", paramLabel = "PATTERN", description = "subject patterns, e.g. 'prices.*'")
    List<String> patterns;

    @Option(names = "--count", paramLabel = "N", description = "stop (exit 0) after N publications")
    Long count;

    @Option(names = "--timeout", paramLabel = "SECONDS",
        description = "give up (exit 6) when no publication came for this long (default: wait forever)")
    Seconds timeout;

    @Option(names = "--deadline", paramLabel = "SECONDS", description = "stop (exit 0) after this long")
    Seconds deadline;

    @Override
    void check()
    {
        if (null != count && count < 1)
        {
            throw new UsageException("--count must be at least 1, found " + count);
        }
    }

    @Override
    int run(final GatewayConnection connection)
    {
        final String id = cli.nextId();
        final ObjectNode body = NODES.objectNode().put("correlation_id", id);
        final ArrayNode types = body.putArray("message_types");
        patterns.forEach(types::add);
        cli.send(connection, FrameType.SUBSCRIBE, body);
        final JsonNode answer = cli.awaitFrame(connection, id, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        if (null == answer)
        {
            return cli.timedOut("the broker did not confirm the subscription", Seconds.ofSeconds(30));
        }
        if (!answer.path("success").asBoolean(false))
        {
            return cli.failure(answer);
        }
        cli.err.println("switchboard: listening to " + answer.path("subscribed_types"));

        final long endNs = null == deadline ? Long.MAX_VALUE : System.nanoTime() + deadline.nanos;
        long received = 0;
        long gapNs = null == timeout ? Long.MAX_VALUE : System.nanoTime() + timeout.nanos;
        while (null == count || received < count)
        {
            final long until = Math.min(gapNs - System.nanoTime(), endNs - System.nanoTime());
            final GatewayConnection.Frame frame = cli.next(connection,
                System.nanoTime() + Math.min(until, TimeUnit.DAYS.toNanos(365)));
            if (null == frame)
            {
                if (null != deadline && System.nanoTime() - endNs >= 0)
                {
                    return EXIT_OK;
                }
                if (null != timeout && System.nanoTime() - gapNs >= 0)
                {
                    return cli.timedOut("no publication", timeout);
                }
                continue;
            }
            if (FrameType.PUSH != frame.type)
            {
                continue;
            }
            received++;
            if (null != timeout)
            {
                gapNs = System.nanoTime() + timeout.nanos;
            }
            if (cli.json)
            {
                cli.print(frame.body);
            }
            else
            {
                cli.out.println(frame.body.path("message_type").asText() + " " + Json.write(frame.body.path("payload")));
                cli.out.flush();
            }
        }
        return EXIT_OK;
    }
}
