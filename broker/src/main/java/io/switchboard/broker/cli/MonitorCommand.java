package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "monitor", usageHelpWidth = 110,
    description = {"A live tap, until Ctrl-C, --count or --deadline: every request the gateway takes and every " +
        "answer it gives (with the gateway's latency), and every publication on a matching subject.",
        "",
        "What it sees: requests and answers that pass the gateway (socket clients calling any service); " +
        "publications from every peer, Java or socket (it subscribes to them like any subscriber, so it reads the " +
        "same shared logs).",
        "What it cannot see: calls from one Java peer to another (they go straight from the caller's process to " +
        "the service's inbox over shared memory, with no broker hop; tapping them would cost every call a second " +
        "write), and calls from Java peers to services socket clients serve. Use 'switchboard top' for their " +
        "counts. A monitor that does not keep up loses events (the gateway never waits for it); it says how many."},
    footer = {"", "Prints one line per event: TIME KIND NAME DETAIL, KIND one of REQ, REP, ERR, PUB, LOST.",
        "--json prints each PUSH frame whole: message_type \"$monitor.request|response|error\" (payload {service," +
        "latency_us,error_code}) or the subject of a publication.", "", ExitCodes.TABLE})
final class MonitorCommand extends GatewayCommand
{
    private static final DateTimeFormatter TIME =
        DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    @Parameters(arity = "0..1", paramLabel = "PATTERN",
        description = "services and subjects to show, e.g. 'prices.*' or 'calculator' (default: all, '>')")
    String pattern;

    @Option(names = "--count", paramLabel = "N", description = "stop (exit 0) after N events")
    Long count;

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
        final String filter = null == pattern ? ">" : pattern;
        final String tapId = cli.nextId();
        cli.send(connection, FrameType.STATS, NODES.objectNode().put("correlation_id", tapId).put("monitor", true)
            .put("pattern", filter));
        final JsonNode tapped = cli.awaitFrame(connection, tapId, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        if (null == tapped)
        {
            return cli.timedOut("the broker did not start the tap", Seconds.ofSeconds(30));
        }
        if (!tapped.path("success").asBoolean(false) || !tapped.path("payload").path("monitoring").asBoolean(false))
        {
            return tapped.has("error_code") ? cli.failure(tapped) : cli.failure(NODES.objectNode()
                .put("error_code", "PROTOCOL_ERROR").put("error", "this broker has no monitor tap"));
        }
        final String subscribeId = cli.nextId();
        final ObjectNode subscribe = NODES.objectNode().put("correlation_id", subscribeId);
        subscribe.putArray("message_types").add(filter);
        cli.send(connection, FrameType.SUBSCRIBE, subscribe);
        final JsonNode subscribed = cli.awaitFrame(connection, subscribeId,
            System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        if (null == subscribed || !subscribed.path("success").asBoolean(false))
        {
            return null == subscribed ? cli.timedOut("the broker did not confirm the subscription",
                Seconds.ofSeconds(30)) : cli.failure(subscribed);
        }
        cli.err.println("switchboard: monitoring '" + filter + "' (requests and answers through the gateway, " +
            "publications from every peer; Java-to-Java calls are not seen)");

        final long endNs = null == deadline ? Long.MAX_VALUE : System.nanoTime() + deadline.nanos;
        long events = 0;
        while (null == count || events < count)
        {
            final GatewayConnection.Frame frame = cli.next(connection,
                null == deadline ? System.nanoTime() + TimeUnit.DAYS.toNanos(365) : endNs);
            if (null == frame)
            {
                if (null != deadline && System.nanoTime() - endNs >= 0)
                {
                    return EXIT_OK;
                }
                continue;
            }
            final String line = line(frame);
            if (null == line)
            {
                continue;
            }
            events++;
            if (cli.json)
            {
                cli.print(frame.body);
            }
            else
            {
                cli.out.println(line);
                cli.out.flush();
            }
        }
        return EXIT_OK;
    }

    private static String line(final GatewayConnection.Frame frame)
    {
        final JsonNode body = frame.body;
        final String time = TIME.format(body.has("timestamp_ms") ?
            Instant.ofEpochMilli(body.path("timestamp_ms").asLong()) : Instant.now());
        if (FrameType.PUSH != frame.type)
        {
            return body.has("lost") || body.has("dropped") ? time + " LOST " + body : null;
        }
        final String type = body.path("message_type").asText();
        final JsonNode payload = body.path("payload");
        switch (type)
        {
            case "$monitor.request":
                return time + " REQ  " + payload.path("service").asText();
            case "$monitor.response":
                return String.format(Locale.US, "%s REP  %s %.3f ms", time, payload.path("service").asText(),
                    payload.path("latency_us").asLong() / 1000.0);
            case "$monitor.error":
                return time + " ERR  " + payload.path("service").asText() + " " + payload.path("error_code").asText();
            default:
                return time + " PUB  " + type + " " + Json.write(payload);
        }
    }
}
