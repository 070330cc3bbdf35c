package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.TrustedDirectory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code switchboard call | stream | publish | listen | services | describe | stats}: the broker from a shell, over
 * the gateway socket (PROTOCOL.md).
 * <p>
 * Exit codes: 0 success; 1 broker or internal error; 2 usage; 3 no broker; 4 not found (unknown service or
 * message type); 5 bad input (serialization, invalid request, too large); 6 timeout; 7 unavailable (service gone,
 * busy, shutting down, rate or connection limit); 8 refused (forbidden, name in use); 9 the service's own error;
 * 10 cancelled.
 */
public final class SwitchboardCli
{
    static final String USAGE = String.join("\n",
        "usage: switchboard <command> [options] [arguments]",
        "",
        "commands:",
        "  call SERVICE TYPE [PAYLOAD...]     request-response; prints the reply payload",
        "  stream SERVICE TYPE [PAYLOAD...]   request-stream; prints one payload per line until the end",
        "  publish SUBJECT [PAYLOAD...]       publish on a subject (add --retain to keep it for new subscribers)",
        "  listen PATTERN...                  print publications matching the patterns until Ctrl-C",
        "  services                           list services, their instances and message types",
        "  describe SERVICE                   message types of a service and their fields",
        "  stats                              the broker's counters",
        "",
        "PAYLOAD is one JSON document, or key=value (a string) and key:=json (any JSON) pairs:",
        "  switchboard call calculator Add a:=2 b:=3",
        "  switchboard call kv_store Set key=colour value=teal",
        "  switchboard call calculator Add '{\"a\": 2, \"b\": 3}'",
        "",
        "options:",
        "  --socket PATH      broker socket (default: $SWITCHBOARD_SOCKET, $XDG_RUNTIME_DIR/switchboard/broker.sock,",
        "                     /tmp/switchboard-<uid>/broker.sock)",
        "  --timeout SECONDS  give up after this long (default 30; for listen: stop after this long, default never)",
        "  --count N          listen: stop after N publications",
        "  --json             machine-readable output: whole response frames, one JSON document per line",
        "  -h, --help         this help",
        "",
        "exit codes: 0 ok, 1 broker/internal error, 2 usage, 3 no broker, 4 not found, 5 bad input, 6 timeout,",
        "            7 unavailable, 8 refused, 9 service's own error, 10 cancelled",
        "");

    static final int EXIT_OK = 0;
    static final int EXIT_ERROR = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_NO_BROKER = 3;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final PrintStream out;
    private final PrintStream err;
    private Path socket;
    private long timeoutNs = TimeUnit.SECONDS.toNanos(30);
    private boolean timeoutGiven;
    private long count = -1;
    private boolean json;
    private boolean retain;
    private int nextId = 1;

    SwitchboardCli(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    /**
     * Entry point.
     *
     * @param args command line.
     */
    public static void main(final String[] args)
    {
        System.exit(new SwitchboardCli(System.out, System.err).run(args));
    }

    int run(final String[] args)
    {
        final List<String> positional = new ArrayList<>();
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                final String arg = args[i];
                switch (arg)
                {
                    case "-h":
                    case "--help":
                        out.print(USAGE);
                        return EXIT_OK;
                    case "--socket":
                        socket = Paths.get(value(args, ++i, arg));
                        break;
                    case "--timeout":
                        timeoutNs = (long)(Double.parseDouble(value(args, ++i, arg)) * 1e9);
                        timeoutGiven = true;
                        if (timeoutNs <= 0)
                        {
                            throw new IllegalArgumentException("--timeout must be positive");
                        }
                        break;
                    case "--count":
                        count = Long.parseLong(value(args, ++i, arg));
                        break;
                    case "--json":
                        json = true;
                        break;
                    case "--retain":
                        retain = true;
                        break;
                    default:
                        if (arg.startsWith("--"))
                        {
                            throw new IllegalArgumentException("unknown option '" + arg + "'");
                        }
                        positional.add(arg);
                }
            }
            if (positional.isEmpty())
            {
                throw new IllegalArgumentException("no command given");
            }
        }
        catch (final IllegalArgumentException ex)
        {
            return usage(ex.getMessage());
        }
        if (null == socket)
        {
            socket = defaultSocket();
        }

        final String command = positional.get(0);
        final List<String> rest = positional.subList(1, positional.size());
        try
        {
            // bad arguments are usage errors, found before any connection is made
            if (("call".equals(command) || "stream".equals(command)) && rest.size() >= 2)
            {
                payload(rest.subList(2, rest.size()));
            }
            else if ("publish".equals(command) && !rest.isEmpty())
            {
                payload(rest.subList(1, rest.size()));
            }
        }
        catch (final IllegalArgumentException ex)
        {
            return usage(ex.getMessage());
        }
        try (GatewayConnection connection = GatewayConnection.open(socket))
        {
            switch (command)
            {
                case "call":
                    return call(connection, rest, false);
                case "stream":
                    return call(connection, rest, true);
                case "publish":
                    return publish(connection, rest);
                case "listen":
                    return listen(connection, rest);
                case "services":
                    return services(connection, rest);
                case "describe":
                    return describe(connection, rest);
                case "stats":
                    return stats(connection);
                default:
                    return usage("unknown command '" + command + "'");
            }
        }
        catch (final IllegalArgumentException ex)
        {
            return usage(ex.getMessage());
        }
        catch (final IOException ex)
        {
            err.println("switchboard: " + ex.getMessage());
            return ex instanceof TrustedDirectory.UntrustedDirectoryException ||
                (ex.getMessage() != null && ex.getMessage().startsWith("no broker at")) ? EXIT_NO_BROKER : EXIT_ERROR;
        }
    }

    static Path defaultSocket()
    {
        final String env = System.getenv(Configuration.SOCKET_ENV);
        if (null != env && !env.isEmpty())
        {
            return Paths.get(env);
        }
        return Configuration.socketDir().resolve(Configuration.GATEWAY_SOCKET_NAME);
    }

    private int call(final GatewayConnection connection, final List<String> args, final boolean stream)
        throws IOException
    {
        if (args.size() < 2)
        {
            throw new IllegalArgumentException((stream ? "stream" : "call") + " needs SERVICE and TYPE");
        }
        final String id = "cli-" + nextId++;
        final ObjectNode request = NODES.objectNode()
            .put("correlation_id", id)
            .put("target", args.get(0))
            .put("message_type", args.get(1));
        request.set("payload", payload(args.subList(2, args.size())));
        request.put(stream ? "expects_stream" : "expects_reply", true);
        request.put("response_timeout_ms", TimeUnit.NANOSECONDS.toMillis(timeoutNs));
        connection.send(FrameType.REQUEST, request);

        final long deadlineNs = System.nanoTime() + timeoutNs + TimeUnit.SECONDS.toNanos(2);
        while (true)
        {
            final GatewayConnection.Frame frame = connection.next(deadlineNs);
            if (null == frame)
            {
                err.println("switchboard: no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
                return ExitCodes.of("TIMEOUT");
            }
            if (!id.equals(frame.body.path("correlation_id").asText()))
            {
                continue; // a heartbeat or someone else's frame
            }
            if (json)
            {
                out.println(JSON.writeValueAsString(frame.body));
            }
            if (FrameType.STREAM == frame.type)
            {
                if (!frame.body.path("is_final").asBoolean(false))
                {
                    if (!json)
                    {
                        out.println(JSON.writeValueAsString(frame.body.path("payload")));
                    }
                    continue;
                }
                return frame.body.has("error_code") ? failure(frame.body) : EXIT_OK;
            }
            if (frame.body.path("success").asBoolean(false))
            {
                if (!json)
                {
                    out.println(PRETTY.writeValueAsString(frame.body.path("payload")));
                }
                return EXIT_OK;
            }
            return failure(frame.body);
        }
    }

    private int publish(final GatewayConnection connection, final List<String> args) throws IOException
    {
        if (args.isEmpty())
        {
            throw new IllegalArgumentException("publish needs SUBJECT");
        }
        final String id = "cli-" + nextId++;
        final ObjectNode body = NODES.objectNode().put("correlation_id", id).put("message_type", args.get(0));
        body.set("payload", payload(args.subList(1, args.size())));
        if (retain)
        {
            body.put("retain", true);
        }
        connection.send(FrameType.PUBLISH, body);
        return awaitAnswer(connection, id, null);
    }

    private int listen(final GatewayConnection connection, final List<String> patterns) throws IOException
    {
        if (patterns.isEmpty())
        {
            throw new IllegalArgumentException("listen needs at least one PATTERN");
        }
        final String id = "cli-" + nextId++;
        final ObjectNode body = NODES.objectNode().put("correlation_id", id);
        final ArrayNode types = body.putArray("message_types");
        patterns.forEach(types::add);
        connection.send(FrameType.SUBSCRIBE, body);
        final int subscribed = awaitAnswer(connection, id, (frame) -> err.println("switchboard: listening to " +
            frame.body.path("subscribed_types")));
        if (subscribed != EXIT_OK)
        {
            return subscribed;
        }

        final long deadlineNs = timeoutGiven ? System.nanoTime() + timeoutNs : Long.MAX_VALUE;
        long received = 0;
        while (count < 0 || received < count)
        {
            final GatewayConnection.Frame frame = connection.next(
                timeoutGiven ? deadlineNs : System.nanoTime() + TimeUnit.DAYS.toNanos(365));
            if (null == frame)
            {
                return EXIT_OK;
            }
            if (FrameType.PUSH != frame.type)
            {
                continue;
            }
            received++;
            if (json)
            {
                out.println(JSON.writeValueAsString(frame.body));
            }
            else
            {
                out.println(frame.body.path("message_type").asText() + " " +
                    JSON.writeValueAsString(frame.body.path("payload")));
            }
            out.flush();
        }
        return EXIT_OK;
    }

    private int services(final GatewayConnection connection, final List<String> args) throws IOException
    {
        final JsonNode answer = discover(connection, null);
        if (null == answer)
        {
            return ExitCodes.of("TIMEOUT");
        }
        if (json)
        {
            out.println(JSON.writeValueAsString(answer));
            return EXIT_OK;
        }
        for (final JsonNode service : answer.path("services"))
        {
            final List<String> types = new ArrayList<>();
            service.path("message_types").forEach((t) -> types.add(t.isTextual() ? t.asText() : t.path("name").asText()));
            out.printf("%-24s %-13s %-9s %2d instance(s)  %s%n", service.path("name").asText(),
                service.path("transport").asText(""), service.path("mode").asText(""),
                service.path("instances").asInt(), String.join(", ", types));
            for (final JsonNode instance : service.path("instances_detail"))
            {
                out.println("    " + instanceLine(instance));
            }
        }
        return EXIT_OK;
    }

    /** One instance of a service as {@code services} prints it: its path and its peer or connection. */
    static String instanceLine(final JsonNode instance)
    {
        final String path = instance.path("path").asText("");
        if (instance.has("connection"))
        {
            return path + "  connection " + instance.path("connection").asLong() +
                (instance.has("pid") ? " (pid " + instance.path("pid").asLong() + ")" : "");
        }
        final String peer = instance.path("peer").asText("");
        return path + "  client " + instance.path("client_id").asInt() + (peer.isEmpty() ? "" : " " + peer) +
            (instance.path("pid").asLong() > 0 ? " (pid " + instance.path("pid").asLong() + ")" : "");
    }

    private int describe(final GatewayConnection connection, final List<String> args) throws IOException
    {
        if (args.size() != 1)
        {
            throw new IllegalArgumentException("describe needs SERVICE");
        }
        final JsonNode answer = discover(connection, args.get(0));
        if (null == answer)
        {
            return ExitCodes.of("TIMEOUT");
        }
        if (!answer.path("success").asBoolean(true))
        {
            return failure(answer);
        }
        for (final JsonNode service : answer.path("services"))
        {
            if (args.get(0).equals(service.path("name").asText()))
            {
                out.println(json ? JSON.writeValueAsString(service) : PRETTY.writeValueAsString(service));
                return EXIT_OK;
            }
        }
        err.println("switchboard: no service named '" + args.get(0) + "'");
        return ExitCodes.of("ACTOR_NOT_FOUND");
    }

    private JsonNode discover(final GatewayConnection connection, final String describe) throws IOException
    {
        final String id = "cli-" + nextId++;
        final ObjectNode body = NODES.objectNode().put("correlation_id", id)
            .put("include_actors", true).put("include_message_types", true);
        if (null != describe)
        {
            body.put("describe", describe);
        }
        connection.send(FrameType.DISCOVER, body);
        return awaitFrame(connection, id);
    }

    private int stats(final GatewayConnection connection) throws IOException
    {
        final String id = "cli-" + nextId++;
        connection.send(FrameType.STATS, NODES.objectNode().put("correlation_id", id));
        final JsonNode answer = awaitFrame(connection, id);
        if (null == answer)
        {
            return ExitCodes.of("TIMEOUT");
        }
        if (!answer.path("success").asBoolean(false))
        {
            return failure(answer);
        }
        out.println(json ? JSON.writeValueAsString(answer) : PRETTY.writeValueAsString(answer.path("payload")));
        return EXIT_OK;
    }

    private int awaitAnswer(
        final GatewayConnection connection, final String id, final java.util.function.Consumer<GatewayConnection.Frame> ok)
        throws IOException
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (true)
        {
            final GatewayConnection.Frame frame = connection.next(deadlineNs);
            if (null == frame)
            {
                err.println("switchboard: no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
                return ExitCodes.of("TIMEOUT");
            }
            if (!id.equals(frame.body.path("correlation_id").asText()))
            {
                continue;
            }
            if (json)
            {
                out.println(JSON.writeValueAsString(frame.body));
            }
            if (frame.body.path("success").asBoolean(false))
            {
                if (null != ok)
                {
                    ok.accept(frame);
                }
                return EXIT_OK;
            }
            return failure(frame.body);
        }
    }

    private JsonNode awaitFrame(final GatewayConnection connection, final String id) throws IOException
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (true)
        {
            final GatewayConnection.Frame frame = connection.next(deadlineNs);
            if (null == frame)
            {
                err.println("switchboard: no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
                return null;
            }
            if (id.equals(frame.body.path("correlation_id").asText()))
            {
                return frame.body;
            }
        }
    }

    private int failure(final JsonNode body)
    {
        final String code = body.path("error_code").asText("INTERNAL_ERROR");
        err.println("switchboard: " + code + ": " + body.path("error").asText(""));
        return ExitCodes.of(code);
    }

    private int usage(final String problem)
    {
        err.println("switchboard: " + problem);
        err.print(USAGE);
        return EXIT_USAGE;
    }

    private static String value(final String[] args, final int index, final String option)
    {
        if (index >= args.length)
        {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[index];
    }

    /**
     * Build a payload from a single JSON document or from key=value / key:=json pairs.
     *
     * @param args the payload arguments.
     * @return the payload, or null when there are none.
     */
    static JsonNode payload(final List<String> args)
    {
        if (args.isEmpty())
        {
            return NODES.nullNode();
        }
        final String first = args.get(0).trim();
        if (args.size() == 1 && (first.startsWith("{") || first.startsWith("[") || first.startsWith("\"")))
        {
            return parse(first, "payload");
        }
        final ObjectNode object = NODES.objectNode();
        for (final String arg : args)
        {
            final int typed = arg.indexOf(":=");
            final int plain = arg.indexOf('=');
            if (typed > 0 && typed < plain + 1)
            {
                object.set(arg.substring(0, typed), parse(arg.substring(typed + 2), arg.substring(0, typed)));
            }
            else if (plain > 0)
            {
                object.put(arg.substring(0, plain), arg.substring(plain + 1));
            }
            else
            {
                throw new IllegalArgumentException("payload argument '" + arg +
                    "': expected key=value, key:=json or one JSON document");
            }
        }
        return object;
    }

    private static JsonNode parse(final String text, final String what)
    {
        try
        {
            return JSON.readTree(text);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalArgumentException(what + " is not valid JSON: " + ex.getOriginalMessage());
        }
    }

    /** Exit code per error class. */
    static final class ExitCodes
    {
        private static final Map<String, Integer> BY_CODE = Map.ofEntries(
            Map.entry("ACTOR_NOT_FOUND", 4), Map.entry("UNKNOWN_MESSAGE_TYPE", 4),
            Map.entry("SERIALIZATION_ERROR", 5), Map.entry("INVALID_REQUEST", 5), Map.entry("PAYLOAD_TOO_LARGE", 5),
            Map.entry("TIMEOUT", 6),
            Map.entry("SERVICE_UNAVAILABLE", 7), Map.entry("TARGET_BUSY", 7), Map.entry("SHUTTING_DOWN", 7),
            Map.entry("RATE_LIMITED", 7), Map.entry("CONNECTION_LIMIT_REACHED", 7),
            Map.entry("FORBIDDEN", 8), Map.entry("NAME_IN_USE", 8),
            Map.entry("CANCELLED", 10),
            Map.entry("PROTOCOL_ERROR", 1), Map.entry("UNSUPPORTED_PROTOCOL_VERSION", 1), Map.entry("INTERNAL_ERROR", 1));

        private ExitCodes()
        {
        }

        static int of(final String code)
        {
            return BY_CODE.getOrDefault(code, 9);
        }
    }
}
