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

/**
 * {@code switchboard call | stream | publish | listen | reply | services | describe | stats | completion}: the broker
 * from a shell, over the gateway socket (PROTOCOL.md). Options are parsed by picocli; every failure ends in one line on
 * stderr and an exit code per error class ({@link ExitCodes}).
 */
@Command(name = "switchboard", mixinStandardHelpOptions = true, versionProvider = Version.class,
    synopsisSubcommandLabel = "COMMAND", usageHelpAutoWidth = false, usageHelpWidth = 110,
    description = "The Switchboard broker from a shell: call services, stream, publish, listen, serve, inspect.",
    footer = {
        "",
        "`switchboard broker` runs the broker itself (`switchboard broker --help` lists its options and config file).",
        "`switchboard COMMAND --help` explains a command. Global options (--socket, --json) go before or after it.",
        "",
        "PAYLOAD is one JSON document, '-' (one JSON document read from stdin), or key=value (a string) and",
        "key:=json (any JSON) pairs:",
        "  switchboard call calculator Add a:=2 b:=3",
        "  echo '{\"a\": 2, \"b\": 3}' | switchboard call calculator Add -",
        "",
        SwitchboardCli.ExitCodes.TABLE,
        "",
        "environment: SWITCHBOARD_SOCKET (the gateway socket; default $XDG_RUNTIME_DIR/switchboard/broker.sock,",
        "else /tmp/switchboard-<uid>/broker.sock)"})
public final class SwitchboardCli implements Callable<Integer>
{
    static final int EXIT_OK = 0;
    static final int EXIT_USAGE = 2;
    static final int EXIT_NO_BROKER = 3;

    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final int MAX_STDIN_BYTES = 16 * 1024 * 1024;

    @Option(names = "--socket", paramLabel = "PATH", scope = ScopeType.INHERIT,
        description = "the broker's gateway socket (default: $SWITCHBOARD_SOCKET, else " +
            "$XDG_RUNTIME_DIR/switchboard/broker.sock, else /tmp/switchboard-<uid>/broker.sock)")
    Path socket;

    @Option(names = "--json", scope = ScopeType.INHERIT,
        description = "machine-readable output: one JSON document per line (the shape of each command is in its --help)")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final PrintStream out;
    final PrintStream err;
    final InputStream in;
    private int nextId = 1;

    SwitchboardCli(final PrintStream out, final PrintStream err, final InputStream in)
    {
        this.out = out;
        this.err = err;
        this.in = in;
    }

    SwitchboardCli(final PrintStream out, final PrintStream err)
    {
        this(out, err, System.in);
    }

    int run(final String[] args)
    {
        return commandLine(this, args).execute(args);
    }

    /**
     * Entry point.
     *
     * @param args command line.
     */
    public static void main(final String[] args)
    {
        final int status = run(System.out, System.err, System.in, args);
        System.out.flush();
        System.exit(status);
    }

    static int run(final PrintStream out, final PrintStream err, final InputStream in, final String[] args)
    {
        final SwitchboardCli cli = new SwitchboardCli(out, err, in);
        return commandLine(cli, args).execute(args);
    }

    /** Every command, in the order --help lists them. */
    static final Class<?>[] COMMANDS = {
        CallCommand.class, StreamCommand.class, PublishCommand.class, ListenCommand.class, ReplyCommand.class,
        ServicesCommand.class, DescribeCommand.class,
        StatsCommand.class, StatCommand.class, TopCommand.class, ConnectionsCommand.class, MonitorCommand.class,
        ErrorsCommand.class, MetricsCommand.class, CompletionCommand.class, CompleteNamesCommand.class, TrainCommand.class};

    static CommandLine commandLine(final SwitchboardCli cli)
    {
        return commandLine(cli, null);
    }

    /**
     * The command line with only the command that {@code args} names, when it names one: picocli builds each
     * command's model by reflection, and building one instead of eleven is a third of the tool's start-up.
     */
    static CommandLine commandLine(final SwitchboardCli cli, final String[] args)
    {
        final CommandLine commandLine = new CommandLine(cli);
        final String named = null == args ? null : commandName(args);
        // `switchboard --version` needs no command at all
        boolean added = null == named && null != args && asksVersion(args);
        for (final Class<?> command : COMMANDS)
        {
            final String name = command.getAnnotation(Command.class).name();
            if (name.equals(named) && !"completion".equals(named))
            {
                commandLine.addSubcommand(name, command);
                added = true;
            }
        }
        if (!added)
        {
            for (final Class<?> command : COMMANDS)
            {
                commandLine.addSubcommand(command.getAnnotation(Command.class).name(), command);
            }
        }
        commandLine.setOut(new PrintWriter(cli.out, true));
        commandLine.setErr(new PrintWriter(cli.err, true));
        // named classes, not lambdas: picocli's interfaces are Java 5 class files, which the class-data sharing
        // archive leaves out (with every class implementing them: its type converters) once a lambda links them
        commandLine.registerConverter(Seconds.class, new SecondsConverter());
        commandLine.setParameterExceptionHandler(new ParameterErrors(cli));
        commandLine.setExecutionExceptionHandler(new ExecutionErrors(cli));
        return commandLine;
    }

    /** {@code --timeout 1.5}: seconds, as {@link Seconds}. */
    private static final class SecondsConverter implements CommandLine.ITypeConverter<Seconds>
    {
        public Seconds convert(final String value)
        {
            return Seconds.parse(value);
        }
    }

    /** An option or argument picocli refused: one line, a pointer to --help, exit 2. */
    private static final class ParameterErrors implements CommandLine.IParameterExceptionHandler
    {
        private final SwitchboardCli cli;

        ParameterErrors(final SwitchboardCli cli)
        {
            this.cli = cli;
        }

        public int handleParseException(final CommandLine.ParameterException ex, final String[] given)
        {
            final CommandLine failed = ex.getCommandLine();
            final String name = failed.getCommandSpec().qualifiedName();
            if (ex instanceof CommandLine.UnmatchedArgumentException && null == failed.getParent() &&
                null != commandName(given))
            {
                cli.err.println("switchboard: unknown command '" + commandName(given) + "'");
                cli.err.println("Try 'switchboard --help' for the list of commands.");
                return EXIT_USAGE;
            }
            cli.err.println("switchboard: " + oneLine(ex.getMessage()));
            cli.err.println("Try '" + name + " --help' for more information.");
            return EXIT_USAGE;
        }
    }

    /** A command failed: a usage error (2), the broker went away (1), or a bug of the tool (70). */
    private static final class ExecutionErrors implements CommandLine.IExecutionExceptionHandler
    {
        private final SwitchboardCli cli;

        ExecutionErrors(final SwitchboardCli cli)
        {
            this.cli = cli;
        }

        public int handleExecutionException(
            final Exception ex, final CommandLine failed, final CommandLine.ParseResult parseResult)
        {
            if (ex instanceof UsageException)
            {
                cli.err.println("switchboard: " + ex.getMessage());
                cli.err.println("Try '" + failed.getCommandSpec().qualifiedName() + " --help' for more information.");
                return EXIT_USAGE;
            }
            if (ex instanceof BrokerGone)
            {
                cli.err.println("switchboard: " + ex.getMessage());
                return ExitCodes.BROKER;
            }
            cli.err.println("switchboard: the tool failed (a bug; please report it): " + ex.getClass().getSimpleName() +
                (null == ex.getMessage() ? "" : ": " + oneLine(ex.getMessage())));
            return ExitCodes.TOOL;
        }
    }

    private static boolean asksVersion(final String[] args)
    {
        for (final String arg : args)
        {
            if ("--version".equals(arg) || "-V".equals(arg))
            {
                return true;
            }
        }
        return false;
    }

    /** The first argument that is neither an option nor the value of --socket: the command's name, or null. */
    static String commandName(final String[] args)
    {
        for (int i = 0; i < args.length; i++)
        {
            if ("--socket".equals(args[i]))
            {
                i++;
            }
            else if (!args[i].startsWith("-"))
            {
                return args[i];
            }
        }
        return null;
    }

    static String oneLine(final String message)
    {
        final String text = null == message ? "" : message.trim();
        final int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }

    @Override
    public Integer call()
    {
        throw new UsageException("no command given");
    }

    /** A usage error found after parsing (payload syntax, values out of range): exit 2 with a pointer to --help. */
    static final class UsageException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        UsageException(final String message)
        {
            super(message, null, false, false);
        }
    }

    /** The connection to the broker broke (closed, malformed frame): exit 1. */
    static final class BrokerGone extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        BrokerGone(final String message)
        {
            super(message, null, false, false);
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

    // ------------------------------------------------------------------------------------------------------------
    // shared plumbing

    GatewayConnection connect() throws NoBrokerException
    {
        final Path path = null == socket ? defaultSocket() : socket;
        try
        {
            return GatewayConnection.open(path);
        }
        catch (final TrustedDirectory.UntrustedDirectoryException ex)
        {
            throw new NoBrokerException(oneLine(ex.getMessage()));
        }
        catch (final IOException ex)
        {
            throw new NoBrokerException(oneLine(ex.getMessage()));
        }
    }

    /** Nothing at the socket, or a socket in a directory not to be trusted: exit 3. */
    static final class NoBrokerException extends Exception
    {
        private static final long serialVersionUID = 1L;

        NoBrokerException(final String message)
        {
            super(message, null, false, false);
        }
    }

    String nextId()
    {
        return "cli-" + nextId++;
    }

    void print(final JsonNode node)
    {
        out.println(Json.write(node));
        out.flush();
    }

    int failure(final JsonNode body)
    {
        final String code = body.path("error_code").asText("INTERNAL_ERROR");
        err.println("switchboard: " + code + ": " + body.path("error").asText(""));
        return ExitCodes.of(code);
    }

    int timedOut(final String what, final Seconds after)
    {
        err.println("switchboard: TIMEOUT: " + what + " within " + after.text());
        return ExitCodes.TIMEOUT;
    }

    GatewayConnection.Frame next(final GatewayConnection connection, final long deadlineNs)
    {
        try
        {
            return connection.next(deadlineNs);
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new BrokerGone(oneLine(ex.getMessage()));
        }
    }

    void send(final GatewayConnection connection, final FrameType type, final ObjectNode body)
    {
        try
        {
            connection.send(type, body);
        }
        catch (final IOException ex)
        {
            throw new BrokerGone("the broker closed the connection: " + oneLine(ex.getMessage()));
        }
    }

    /** The frame answering correlation id {@code id}, or null when the deadline passed first. */
    JsonNode awaitFrame(final GatewayConnection connection, final String id, final long deadlineNs)
    {
        while (true)
        {
            final GatewayConnection.Frame frame = next(connection, deadlineNs);
            if (null == frame)
            {
                return null;
            }
            if (id.equals(frame.body.path("correlation_id").asText()))
            {
                return frame.body;
            }
        }
    }

    JsonNode discover(final GatewayConnection connection, final String describe, final Seconds timeout)
    {
        final String id = nextId();
        final ObjectNode body = NODES.objectNode().put("correlation_id", id)
            .put("include_actors", true).put("include_message_types", true);
        if (null != describe)
        {
            body.put("describe", describe);
        }
        send(connection, FrameType.DISCOVER, body);
        return awaitFrame(connection, id, System.nanoTime() + timeout.nanos);
    }

    /**
     * Build a payload from a single JSON document, {@code -} (a JSON document on stdin), or key=value /
     * key:=json pairs.
     *
     * @param args the payload arguments.
     * @param in standard input, for {@code -}.
     * @return the payload, a JSON null when there are none.
     */
    static JsonNode payload(final List<String> args, final InputStream in)
    {
        if (null == args || args.isEmpty())
        {
            return NODES.nullNode();
        }
        if (args.size() == 1 && "-".equals(args.get(0)))
        {
            return parse(readStdin(in), "the payload read from stdin");
        }
        final String first = args.get(0).trim();
        if (args.size() == 1 && (first.startsWith("{") || first.startsWith("[") || first.startsWith("\"")))
        {
            return parse(first, "the payload");
        }
        final ObjectNode object = NODES.objectNode();
        for (final String arg : args)
        {
            final int typed = arg.indexOf(":=");
            final int plain = arg.indexOf('=');
            if (typed > 0 && typed < plain + 1)
            {
                object.set(arg.substring(0, typed), parse(arg.substring(typed + 2), "the value of '" +
                    arg.substring(0, typed) + "'"));
            }
            else if (plain > 0)
            {
                object.put(arg.substring(0, plain), arg.substring(plain + 1));
            }
            else
            {
                throw new UsageException("payload argument '" + arg +
                    "': expected key=value, key:=json, one JSON document or '-' (stdin)");
            }
        }
        return object;
    }

    static JsonNode payload(final List<String> args)
    {
        return payload(args, System.in);
    }

    static String readStdin(final InputStream in)
    {
        try
        {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            final byte[] chunk = new byte[8192];
            int read;
            while ((read = in.read(chunk)) >= 0)
            {
                bytes.write(chunk, 0, read);
                if (bytes.size() > MAX_STDIN_BYTES)
                {
                    throw new UsageException("the payload on stdin is over " + MAX_STDIN_BYTES + " bytes");
                }
            }
            return bytes.toString(StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new UsageException("cannot read the payload from stdin: " + oneLine(ex.getMessage()));
        }
    }

    /**
     * Parse one JSON document; the error names where it failed in words, never the parser's internals.
     */
    static JsonNode parse(final String text, final String what)
    {
        if (text.isBlank())
        {
            throw new UsageException(what + " is empty; expected one JSON document");
        }
        try
        {
            return Json.read(text);
        }
        catch (final JsonProcessingException ex)
        {
            final com.fasterxml.jackson.core.JsonLocation where = ex.getLocation();
            throw new UsageException(what + " is not valid JSON" +
                (null == where ? "" : " (line " + where.getLineNr() + ", column " + where.getColumnNr() + ")") +
                ": " + text.strip().replaceAll("\\s+", " ").substring(0, Math.min(60, text.strip().length())));
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // commands

    int request(
        final GatewayConnection connection,
        final String service,
        final String type,
        final JsonNode payload,
        final boolean stream,
        final Seconds timeout,
        final Seconds deadline)
    {
        final String id = nextId();
        final ObjectNode request = NODES.objectNode()
            .put("correlation_id", id)
            .put("target", service)
            .put("message_type", type);
        request.set("payload", payload);
        request.put(stream ? "expects_stream" : "expects_reply", true);
        request.put("response_timeout_ms", timeout.millis());
        send(connection, FrameType.REQUEST, request);

        // the broker answers TIMEOUT itself after the timeout; the margin covers a broker too busy to say so
        final long marginNs = TimeUnit.SECONDS.toNanos(2);
        final long endNs = null == deadline ? Long.MAX_VALUE : System.nanoTime() + deadline.nanos;
        long gapNs = System.nanoTime() + timeout.nanos + marginNs;
        while (true)
        {
            final long waitUntil = null != deadline && endNs - gapNs < 0 ? endNs : gapNs;
            final GatewayConnection.Frame frame = next(connection, waitUntil);
            if (null == frame)
            {
                if (waitUntil == endNs) // the whole-stream deadline came before the gap's
                {
                    send(connection, FrameType.CANCEL, NODES.objectNode().put("correlation_id", id));
                    return timedOut("the stream did not end", deadline);
                }
                return timedOut(stream ? "no item from the broker" : "no answer from the broker", timeout);
            }
            if (!id.equals(frame.body.path("correlation_id").asText()))
            {
                continue; // a heartbeat or a loss notice
            }
            gapNs = System.nanoTime() + timeout.nanos + marginNs;
            if (json)
            {
                print(frame.body);
            }
            if (FrameType.STREAM == frame.type)
            {
                if (!frame.body.path("is_final").asBoolean(false))
                {
                    if (!json)
                    {
                        print(frame.body.path("payload"));
                    }
                    continue;
                }
                return frame.body.has("error_code") ? failure(frame.body) : EXIT_OK;
            }
            if (frame.body.path("success").asBoolean(false))
            {
                if (!json)
                {
                    print(frame.body.has("payload") ? frame.body.get("payload") : NODES.nullNode());
                }
                return EXIT_OK;
            }
            return failure(frame.body);
        }
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

    /** Exit code per error class. */
    static final class ExitCodes
    {
        static final int BROKER = 1;
        static final int NO_BROKER = EXIT_NO_BROKER;
        static final int TIMEOUT = 6;
        static final int INTERNAL = 11;
        static final int TOOL = 70;

        static final String TABLE =
            "exit status:%n" +
            "   0  success%n" +
            "   1  broker or protocol error (PROTOCOL_ERROR, UNSUPPORTED_PROTOCOL_VERSION, the connection broke)%n" +
            "   2  usage error (options, arguments, payload syntax)%n" +
            "   3  no broker at the socket, or its directory is not to be trusted%n" +
            "   4  not found (ACTOR_NOT_FOUND, UNKNOWN_MESSAGE_TYPE)%n" +
            "   5  bad input (SERIALIZATION_ERROR, INVALID_REQUEST, PAYLOAD_TOO_LARGE)%n" +
            "   6  timeout (TIMEOUT; a --timeout passed; stream: its --deadline passed)%n" +
            "   7  unavailable (SERVICE_UNAVAILABLE, TARGET_BUSY, SHUTTING_DOWN, RATE_LIMITED,%n" +
            "      CONNECTION_LIMIT_REACHED)%n" +
            "   8  refused (FORBIDDEN, NAME_IN_USE)%n" +
            "   9  the service's own error (any other error code)%n" +
            "  10  cancelled (CANCELLED)%n" +
            "  11  INTERNAL_ERROR (a handler or the broker failed while serving the request)%n" +
            "  70  the tool itself failed (a bug)";

        private static final Map<String, Integer> BY_CODE = Map.ofEntries(
            Map.entry("ACTOR_NOT_FOUND", 4), Map.entry("UNKNOWN_MESSAGE_TYPE", 4),
            Map.entry("SERIALIZATION_ERROR", 5), Map.entry("INVALID_REQUEST", 5), Map.entry("PAYLOAD_TOO_LARGE", 5),
            Map.entry("TIMEOUT", TIMEOUT),
            Map.entry("SERVICE_UNAVAILABLE", 7), Map.entry("TARGET_BUSY", 7), Map.entry("SHUTTING_DOWN", 7),
            Map.entry("RATE_LIMITED", 7), Map.entry("CONNECTION_LIMIT_REACHED", 7),
            Map.entry("FORBIDDEN", 8), Map.entry("NAME_IN_USE", 8),
            Map.entry("CANCELLED", 10),
            Map.entry("PROTOCOL_ERROR", BROKER), Map.entry("UNSUPPORTED_PROTOCOL_VERSION", BROKER),
            Map.entry("INTERNAL_ERROR", INTERNAL));

        private ExitCodes()
        {
        }

        static int of(final String code)
        {
            return BY_CODE.getOrDefault(code, 9);
        }
    }
}
