package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
@Command(name = "switchboard", mixinStandardHelpOptions = true, versionProvider = SwitchboardCli.Version.class,
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

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_STDIN_BYTES = 16 * 1024 * 1024;

    @Option(names = "--socket", paramLabel = "PATH", scope = ScopeType.INHERIT,
        description = "the broker's gateway socket (default: $SWITCHBOARD_SOCKET, else " +
            "$XDG_RUNTIME_DIR/switchboard/broker.sock, else /tmp/switchboard-<uid>/broker.sock)")
    Path socket;

    @Option(names = "--json", scope = ScopeType.INHERIT,
        description = "machine-readable output: one JSON document per line (the shape of each command is in its --help)")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;
    private final InputStream in;
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
    private static final Class<?>[] COMMANDS = {
        Call.class, StreamCommand.class, Publish.class, Listen.class, Reply.class, Services.class, Describe.class,
        Stats.class, Completion.class, CompleteNames.class, Train.class};

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
        boolean added = false;
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
        commandLine.registerConverter(Seconds.class, Seconds::parse);
        commandLine.setParameterExceptionHandler((ex, given) ->
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
        });
        commandLine.setExecutionExceptionHandler((ex, failed, parseResult) ->
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
        });
        return commandLine;
    }

    /** The first argument that is neither an option nor the value of --socket: the command's name, or null. */
    private static String commandName(final String[] args)
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

    private static String oneLine(final String message)
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

    /** A duration given in seconds on the command line: a positive decimal number. */
    static final class Seconds
    {
        final long nanos;

        private Seconds(final long nanos)
        {
            this.nanos = nanos;
        }

        static Seconds parse(final String text)
        {
            final double value;
            try
            {
                value = Double.parseDouble(text.trim());
            }
            catch (final NumberFormatException ex)
            {
                throw new CommandLine.TypeConversionException("expected a number of seconds (e.g. 2 or 0.5), found '" +
                    text + "'");
            }
            if (!(value > 0) || value > 365L * 24 * 3600)
            {
                throw new CommandLine.TypeConversionException("expected a positive number of seconds up to a year, " +
                    "found '" + text + "'");
            }
            return new Seconds((long)(value * 1e9));
        }

        static Seconds ofSeconds(final long seconds)
        {
            return new Seconds(TimeUnit.SECONDS.toNanos(seconds));
        }

        long millis()
        {
            return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos));
        }

        String text()
        {
            return nanos % 1_000_000_000L == 0 ? (nanos / 1_000_000_000L) + " s" : millis() + " ms";
        }
    }

    /** The version of the build, from the properties Maven writes into the jar. */
    public static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[]{"switchboard " + version() + " (Java " + Runtime.version().feature() + ")"};
        }

        static String version()
        {
            try (InputStream stream = SwitchboardCli.class.getResourceAsStream("version.properties"))
            {
                if (null != stream)
                {
                    final Properties properties = new Properties();
                    properties.load(stream);
                    return properties.getProperty("version", "unknown");
                }
            }
            catch (final IOException ignore)
            {
                // the version is then unknown
            }
            return "unknown";
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
        try
        {
            out.println(JSON.writeValueAsString(node));
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException("cannot print a JSON tree", ex);
        }
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

    private static String readStdin(final InputStream in)
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
            return JSON.readTree(text);
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

    /** -h, --help on every command. */
    static final class HelpOption
    {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
        boolean help;
    }

    /** Options every command that waits for an answer takes. */
    abstract static class Base implements Callable<Integer>
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

    @Command(name = "call", usageHelpWidth = 110,
        description = "Request-response: send one request and print the reply's payload, one line of JSON.",
        footer = {"", "--json prints the whole RESPONSE frame instead: " +
            "{\"correlation_id\":\"cli-1\",\"success\":true,\"payload\":{...}}", "", ExitCodes.TABLE})
    static final class Call extends Base
    {
        @Parameters(index = "0", paramLabel = "SERVICE", description = "the service to call")
        String service;

        @Parameters(index = "1", paramLabel = "TYPE", description = "its message type")
        String type;

        @Parameters(index = "2..*", paramLabel = "PAYLOAD",
            description = "one JSON document, '-' (read from stdin), or key=value / key:=json pairs (none: null)")
        List<String> payload = new ArrayList<>();

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "how long the service has to answer (default: ${DEFAULT-VALUE}); then TIMEOUT, exit 6")
        Seconds timeout;

        private JsonNode body;

        @Override
        void check()
        {
            body = payload(payload, cli.in);
        }

        @Override
        int run(final GatewayConnection connection)
        {
            return cli.request(connection, service, type, body, false, timeout, null);
        }
    }

    @Command(name = "stream", usageHelpWidth = 110,
        description = "Request-stream: print each item's payload, one line of JSON each, until the stream ends.",
        footer = {"", "--json prints every STREAM frame whole, the final one included: " +
            "{\"correlation_id\":\"cli-1\",\"sequence\":0,\"is_final\":false,\"payload\":{...}}", "",
            ExitCodes.TABLE})
    static final class StreamCommand extends Base
    {
        @Parameters(index = "0", paramLabel = "SERVICE", description = "the service to ask")
        String service;

        @Parameters(index = "1", paramLabel = "TYPE", description = "its message type")
        String type;

        @Parameters(index = "2..*", paramLabel = "PAYLOAD",
            description = "one JSON document, '-' (read from stdin), or key=value / key:=json pairs (none: null)")
        List<String> payload = new ArrayList<>();

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "the longest wait for the next item (default: ${DEFAULT-VALUE}); the broker ends the " +
                "stream with TIMEOUT (exit 6) when the service is silent this long")
        Seconds timeout;

        @Option(names = "--deadline", paramLabel = "SECONDS",
            description = "cap on the whole stream (default: none): when it passes the stream is cancelled and " +
                "the tool exits 6 (TIMEOUT)")
        Seconds deadline;

        private JsonNode body;

        @Override
        void check()
        {
            body = payload(payload, cli.in);
        }

        @Override
        int run(final GatewayConnection connection)
        {
            return cli.request(connection, service, type, body, true, timeout, deadline);
        }
    }

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

    @Command(name = "publish", usageHelpWidth = 110,
        description = "Publish on a subject; each publication is acknowledged by the broker.",
        footer = {"", "Prints nothing by default; --json prints each acknowledgement: " +
            "{\"correlation_id\":\"cli-1\",\"success\":true,...}", "", ExitCodes.TABLE})
    static final class Publish extends Base
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

    @Command(name = "listen", usageHelpWidth = 110,
        description = "Print publications matching the patterns ('*' one token, '>' the rest) until Ctrl-C, " +
            "--count or --deadline.",
        footer = {"", "Prints 'SUBJECT PAYLOAD' per publication; --json prints each PUSH frame whole: " +
            "{\"notification_id\":...,\"message_type\":\"prices.ACME\",\"payload\":{...},\"timestamp_ms\":...," +
            "\"sequence\":1}", "", ExitCodes.TABLE})
    static final class Listen extends Base
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
                    try
                    {
                        cli.out.println(frame.body.path("message_type").asText() + " " +
                            JSON.writeValueAsString(frame.body.path("payload")));
                    }
                    catch (final JsonProcessingException ex)
                    {
                        throw new IllegalStateException("cannot print a JSON tree", ex);
                    }
                    cli.out.flush();
                }
            }
            return EXIT_OK;
        }
    }

    @Command(name = "reply", usageHelpWidth = 110,
        description = {
            "Serve SERVICE from the shell: register its message types and answer each request, one at a time,",
            "until Ctrl-C, --count or --deadline. The answer is, by default, the request's own payload (echo);",
            "with --payload a fixed payload; with --command the output of a shell command run per request:",
            "  sh -c CMD gets the request's payload (one line of JSON) on stdin and SWITCHBOARD_SERVICE,",
            "  SWITCHBOARD_MESSAGE_TYPE in its environment. Its stdout is the reply: one JSON document, or else",
            "  the text itself as a JSON string. For a stream request each non-empty line of stdout is one item.",
            "  A command exiting non-zero is answered with error code COMMAND_FAILED and its stderr's first line;",
            "  one still running when the caller's timeout passes is killed and answered TIMEOUT."},
        footer = {"", "Prints 'TYPE PAYLOAD' per request served; --json prints each REQUEST frame whole: " +
            "{\"correlation_id\":\"...\",\"target\":\"...\",\"message_type\":\"...\",\"payload\":...,...}", "",
            ExitCodes.TABLE})
    static final class Reply extends Base
    {
        @Parameters(index = "0", paramLabel = "SERVICE", description = "the service name to serve")
        String service;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "TYPE", description = "its message types")
        List<String> types;

        @CommandLine.ArgGroup(exclusive = true)
        Answer answer;

        static final class Answer
        {
            @Option(names = "--echo", description = "answer each request with its own payload (the default)")
            boolean echo;

            @Option(names = "--payload", paramLabel = "JSON", description = "answer every request with this JSON " +
                "document")
            String payload;

            @Option(names = "--command", paramLabel = "CMD", description = "answer with the output of sh -c CMD")
            String command;
        }

        @Option(names = "--shared", description = "join the name with other instances (mode shared; default " +
            "exclusive, where a second server is refused NAME_IN_USE)")
        boolean shared;

        @Option(names = "--count", paramLabel = "N", description = "stop (exit 0) after answering N requests")
        Long count;

        @Option(names = "--deadline", paramLabel = "SECONDS", description = "stop (exit 0) after this long")
        Seconds deadline;

        private JsonNode fixed;

        @Override
        void check()
        {
            if (null != count && count < 1)
            {
                throw new UsageException("--count must be at least 1, found " + count);
            }
            fixed = null != answer && null != answer.payload ? parse(answer.payload, "--payload") : null;
        }

        @Override
        int run(final GatewayConnection connection) throws Exception
        {
            final String id = cli.nextId();
            final ObjectNode register = NODES.objectNode().put("correlation_id", id).put("service", service)
                .put("mode", shared ? "shared" : "exclusive");
            final ArrayNode list = register.putArray("message_types");
            types.forEach(list::add);
            cli.send(connection, FrameType.REGISTER, register);
            final JsonNode registered = cli.awaitFrame(connection, id, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
            if (null == registered)
            {
                return cli.timedOut("the broker did not confirm the registration", Seconds.ofSeconds(30));
            }
            if (!registered.path("success").asBoolean(false))
            {
                return cli.failure(registered);
            }
            cli.err.println("switchboard: serving " + service + " " + types);

            final long endNs = null == deadline ? Long.MAX_VALUE : System.nanoTime() + deadline.nanos;
            long served = 0;
            while (null == count || served < count)
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
                if (FrameType.REQUEST != frame.type)
                {
                    continue; // heartbeats, cancels of requests already answered
                }
                served++;
                if (cli.json)
                {
                    cli.print(frame.body);
                }
                else
                {
                    cli.out.println(frame.body.path("message_type").asText() + " " +
                        JSON.writeValueAsString(frame.body.path("payload")));
                    cli.out.flush();
                }
                answer(connection, frame.body, fixed);
            }
            return EXIT_OK;
        }

        private void answer(final GatewayConnection connection, final JsonNode request, final JsonNode fixed)
            throws InterruptedException
        {
            final String correlationId = request.path("correlation_id").asText();
            final boolean stream = request.path("expects_stream").asBoolean(false);
            final List<JsonNode> items = new ArrayList<>();
            String errorCode = null;
            String error = null;
            if (null != answer && null != answer.command)
            {
                final CommandResult result = CommandResult.run(answer.command, service, request,
                    request.path("response_timeout_ms").asLong(30_000));
                errorCode = result.errorCode;
                error = result.error;
                if (stream)
                {
                    for (final String line : result.stdout.split("\n"))
                    {
                        if (!line.isBlank())
                        {
                            items.add(textOrJson(line));
                        }
                    }
                }
                else
                {
                    items.add(result.stdout.isBlank() ? NODES.nullNode() : textOrJson(result.stdout));
                }
            }
            else
            {
                items.add(null != fixed ? fixed : request.path("payload"));
            }

            if (stream)
            {
                long sequence = 0;
                if (null == errorCode)
                {
                    for (final JsonNode item : items)
                    {
                        final ObjectNode frame = NODES.objectNode().put("correlation_id", correlationId)
                            .put("sequence", sequence++).put("is_final", false);
                        frame.set("payload", item);
                        cli.send(connection, FrameType.STREAM, frame);
                    }
                }
                final ObjectNode last = NODES.objectNode().put("correlation_id", correlationId)
                    .put("sequence", sequence).put("is_final", true);
                if (null != errorCode)
                {
                    last.put("error", error).put("error_code", errorCode);
                }
                cli.send(connection, FrameType.STREAM, last);
            }
            else if (null != errorCode)
            {
                cli.send(connection, FrameType.ERROR, NODES.objectNode().put("correlation_id", correlationId)
                    .put("success", false).put("error", error).put("error_code", errorCode));
            }
            else if (request.path("expects_reply").asBoolean(false))
            {
                final ObjectNode frame = NODES.objectNode().put("correlation_id", correlationId).put("success", true);
                frame.set("payload", items.get(0));
                cli.send(connection, FrameType.RESPONSE, frame);
            }
        }

        private static JsonNode textOrJson(final String text)
        {
            try
            {
                return JSON.readTree(text);
            }
            catch (final JsonProcessingException ex)
            {
                return NODES.textNode(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
            }
        }
    }

    /** What a command run by {@code reply --command} produced. */
    static final class CommandResult
    {
        final String stdout;
        final String errorCode;
        final String error;

        private CommandResult(final String stdout, final String errorCode, final String error)
        {
            this.stdout = stdout;
            this.errorCode = errorCode;
            this.error = error;
        }

        static CommandResult run(final String command, final String service, final JsonNode request,
            final long timeoutMs) throws InterruptedException
        {
            final ProcessBuilder builder = new ProcessBuilder("sh", "-c", command);
            builder.environment().put("SWITCHBOARD_SERVICE", service);
            builder.environment().put("SWITCHBOARD_MESSAGE_TYPE", request.path("message_type").asText());
            final Process process;
            try
            {
                process = builder.start();
            }
            catch (final IOException ex)
            {
                return new CommandResult("", "COMMAND_FAILED", "cannot run sh: " + oneLine(ex.getMessage()));
            }
            final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
            final Thread outReader = drain(process.getInputStream(), stdout);
            final Thread errReader = drain(process.getErrorStream(), stderr);
            try (var stdin = process.getOutputStream())
            {
                stdin.write((JSON.writeValueAsString(request.path("payload")) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            catch (final IOException ignore)
            {
                // a command that does not read its stdin is fine
            }
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                process.waitFor();
                return new CommandResult("", "TIMEOUT", "the command was still running after " + timeoutMs + " ms");
            }
            outReader.join();
            errReader.join();
            final String out = stdout.toString(StandardCharsets.UTF_8);
            if (process.exitValue() != 0)
            {
                final String firstLine = oneLine(stderr.toString(StandardCharsets.UTF_8));
                return new CommandResult(out, "COMMAND_FAILED", "the command exited with status " +
                    process.exitValue() + (firstLine.isEmpty() ? "" : ": " + firstLine));
            }
            return new CommandResult(out, null, null);
        }

        private static Thread drain(final InputStream from, final ByteArrayOutputStream to)
        {
            final Thread thread = new Thread(() ->
            {
                try
                {
                    final byte[] chunk = new byte[8192];
                    int read;
                    while ((read = from.read(chunk)) >= 0)
                    {
                        if (to.size() < MAX_STDIN_BYTES)
                        {
                            to.write(chunk, 0, read);
                        }
                    }
                }
                catch (final IOException ignore)
                {
                    // the process is gone
                }
            }, "reply-command-output");
            thread.setDaemon(true);
            thread.start();
            return thread;
        }
    }

    @Command(name = "services", usageHelpWidth = 110,
        description = "List services: transport, mode, instances, message types, then one line per instance " +
            "(who serves it).",
        footer = {"", "--json prints the DISCOVER answer whole: {\"correlation_id\":...,\"success\":true," +
            "\"services\":[{\"name\":...,\"instances\":1,\"mode\":...,\"message_types\":[...],\"transport\":...," +
            "\"instances_detail\":[...]}],...}", "", ExitCodes.TABLE})
    static final class Services extends Base
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
                cli.out.printf("%-24s %-13s %-9s %2d instance(s)  %s%n", service.path("name").asText(),
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

    @Command(name = "describe", usageHelpWidth = 110,
        description = "A service's message types and their fields (from the schema's IR), as indented JSON.",
        footer = {"", "--json prints the same service object on one line: {\"name\":...,\"message_types\":[...],...}",
            "", ExitCodes.TABLE})
    static final class Describe extends Base
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
                        cli.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(found));
                    }
                    return EXIT_OK;
                }
            }
            cli.err.println("switchboard: ACTOR_NOT_FOUND: no service named '" + service + "'");
            return ExitCodes.of("ACTOR_NOT_FOUND");
        }
    }

    @Command(name = "stats", usageHelpWidth = 110,
        description = "The broker's counters (by error code, per service, per subject), as indented JSON.",
        footer = {"", "--json prints the STATS RESPONSE frame whole on one line: {\"correlation_id\":...," +
            "\"success\":true,\"payload\":{...counters...}}", "", ExitCodes.TABLE})
    static final class Stats extends Base
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
                cli.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer.path("payload")));
            }
            return EXIT_OK;
        }
    }

    @Command(name = "completion", usageHelpWidth = 110,
        description = {"Print a completion script for bash or zsh, generated from these commands and options.",
            "It also completes service names and message types, asked of the running broker at completion time",
            "(waiting at most 1 s for it; nothing is offered when no broker answers). Install:",
            "  bash: source <(switchboard completion bash)     (or save it in ~/.local/share/bash-completion/" +
                "completions/switchboard)",
            "  zsh:  source <(switchboard completion zsh)"})
    static final class Completion implements Callable<Integer>
    {
        @CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        SwitchboardCli cli;

        @Parameters(index = "0", paramLabel = "SHELL", description = "bash or zsh")
        String shell;

        @Override
        public Integer call()
        {
            if (!"bash".equals(shell) && !"zsh".equals(shell))
            {
                throw new UsageException("SHELL must be bash or zsh, found '" + shell + "'");
            }
            cli.out.print(CompletionScript.generate(commandLine(new SwitchboardCli(cli.out, cli.err, cli.in)),
                "zsh".equals(shell)));
            cli.out.flush();
            return EXIT_OK;
        }
    }

    /** The names the completion script offers, asked of the broker with a short timeout. Not for people. */
    @Command(name = "__complete", hidden = true)
    static final class CompleteNames implements Callable<Integer>
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

    /** The launcher's training run for the class-data sharing archive ({@link Training}). Not for people. */
    @Command(name = "__train", hidden = true)
    static final class Train implements Callable<Integer>
    {
        @Override
        public Integer call() throws Exception
        {
            Training.run();
            return EXIT_OK;
        }
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
