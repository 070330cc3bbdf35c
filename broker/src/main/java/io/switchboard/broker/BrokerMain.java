package io.switchboard.broker;

import io.switchboard.broker.access.StartRefusedException;
import io.switchboard.broker.gateway.GatewayConfiguration;
import io.switchboard.transport.Configuration;
import org.agrona.CloseHelper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;

/**
 * {@code switchboard broker}: run the broker until Ctrl-C or SIGTERM, then shut down cleanly. Options come from the
 * command line and from a config file ({@code --config FILE}, Java properties), the command line winning.
 */
@Command(name = "switchboard broker", mixinStandardHelpOptions = true, usageHelpWidth = 116, usageHelpAutoWidth = false,
    versionProvider = BrokerMain.Version.class, sortOptions = false,
    description = {
        "Run the Switchboard broker: an embedded Aeron media driver plus the conductor that Java peers register",
        "with, and the Unix-socket gateway for every other language. Runs until Ctrl-C (or SIGTERM), then removes",
        "its sockets and driver directory."})
public final class BrokerMain implements java.util.concurrent.Callable<Integer>
{
    /** Exit status of a usage error (options or config file). */
    static final int EXIT_USAGE = 2;

    /** The properties the broker reads (-Dname=value or in the config file), with defaults, for --help. */
    static final String[][] PROPERTIES = {
        {Configuration.TERM_LENGTH_PROP, String.valueOf(Configuration.TERM_LENGTH_DEFAULT),
            "term length of the IPC logs, bytes (a power of two, 64 KiB to 8 MiB)"},
        {Configuration.MAX_MESSAGE_LENGTH_PROP, bytes(Configuration.MAX_MESSAGE_LENGTH_DEFAULT),
            "largest call, reply, stream frame or publication on every path (PAYLOAD_TOO_LARGE; at most 256 MiB)"},
        {Configuration.MAX_REASSEMBLY_BYTES_PROP, bytes(Configuration.MAX_REASSEMBLY_BYTES_DEFAULT),
            "a peer's memory for messages arriving in pieces (longer than an eighth of the term)"},
        {Configuration.HEARTBEAT_INTERVAL_PROP, String.valueOf(Configuration.HEARTBEAT_INTERVAL_DEFAULT_MS),
            "interval of a peer's heartbeats on its control connection"},
        {Configuration.LIVENESS_TIMEOUT_PROP, String.valueOf(Configuration.LIVENESS_TIMEOUT_DEFAULT_MS),
            "a silent peer is dropped after this long (= --liveness-timeout-ms)"},
        {Configuration.UNTETHERED_WINDOW_LIMIT_TIMEOUT_PROP,
            String.valueOf(Configuration.UNTETHERED_WINDOW_LIMIT_TIMEOUT_DEFAULT_MS),
            "a subscriber that stopped reading holds publishers back at most this long"},
        {Configuration.UNTETHERED_RESTING_TIMEOUT_PROP, String.valueOf(Configuration.UNTETHERED_RESTING_TIMEOUT_DEFAULT_MS),
            "then rests this long before it rejoins the log at its tail"},
        {BrokerContext.DRIVER_YIELD_PROP, String.valueOf(BrokerContext.DRIVER_YIELD_DEFAULT_US),
            "microseconds the media driver's thread yields after its last work before it parks (0 to 10000)"},
        {io.switchboard.transport.TimerSlack.PROP, String.valueOf(io.switchboard.transport.TimerSlack.DEFAULT_NS),
            "timer slack of the broker's threads, ns (Linux; 0: the kernel's 50 us); the driver's parks start at it"},
        {Configuration.SOCKET_DIR_PROP, "see --socket-dir", "directory of the sockets (= --socket-dir)"},
        {Configuration.AERON_DIR_PROP, "see --aeron-dir", "media driver directory (= --aeron-dir)"},
        {GatewayConfiguration.MAX_QUEUED_PUSH_BYTES_PROP, bytes(GatewayConfiguration.MAX_QUEUED_PUSH_BYTES_DEFAULT),
            "pushes queued per connection (then dropped, counted)"},
        {GatewayConfiguration.MAX_QUEUED_PUSHES_PROP, String.valueOf(GatewayConfiguration.MAX_QUEUED_PUSHES_DEFAULT),
            "pushes queued per connection"},
        {GatewayConfiguration.MAX_QUEUED_BYTES_PROP, bytes(GatewayConfiguration.MAX_QUEUED_BYTES_DEFAULT),
            "replies+pushes per connection (a reply over it closes the connection, counted)"},
        {GatewayConfiguration.MAX_TOTAL_QUEUED_BYTES_PROP, bytes(GatewayConfiguration.MAX_TOTAL_QUEUED_BYTES_DEFAULT),
            "all connections' queues"},
        {GatewayConfiguration.MAX_REQUESTS_IN_FLIGHT_PROP,
            String.valueOf(GatewayConfiguration.MAX_REQUESTS_IN_FLIGHT_DEFAULT), "per connection (RATE_LIMITED)"},
        {GatewayConfiguration.MAX_TOTAL_REQUESTS_IN_FLIGHT_PROP,
            String.valueOf(GatewayConfiguration.MAX_TOTAL_REQUESTS_IN_FLIGHT_DEFAULT), "all connections (RATE_LIMITED)"},
        {GatewayConfiguration.MAX_PATTERNS_PROP, String.valueOf(GatewayConfiguration.MAX_PATTERNS_DEFAULT),
            "patterns per connection (INVALID_REQUEST)"},
        {GatewayConfiguration.MAX_TOTAL_READ_BUFFER_BYTES_PROP,
            bytes(GatewayConfiguration.MAX_TOTAL_READ_BUFFER_BYTES_DEFAULT),
            "unfinished frames, all connections (PAYLOAD_TOO_LARGE)"},
        {GatewayConfiguration.ANSWER_YIELD_PROP, String.valueOf(GatewayConfiguration.ANSWER_YIELD_DEFAULT_US),
            "microseconds the idle gateway yields while a Java answer is awaited before it parks (0 to 10000)"},
        {BrokerLimits.CONTROL_CONNECT_TIMEOUT_PROP, String.valueOf(BrokerLimits.CONTROL_CONNECT_TIMEOUT_DEFAULT_MS),
            "a Java peer's time to send Connect"},
        {BrokerLimits.MAX_CONTROL_MESSAGE_LENGTH_PROP, bytes(Configuration.MAX_CONTROL_MESSAGE_LENGTH),
            "control message (PAYLOAD_TOO_LARGE)"},
        {BrokerLimits.MAX_SERVICES_PROP, String.valueOf(BrokerLimits.MAX_SERVICES_DEFAULT), "service names"},
        {BrokerLimits.MAX_SERVICES_PER_PEER_PROP, String.valueOf(BrokerLimits.MAX_SERVICES_PER_PEER_DEFAULT),
            "service names one peer registers"},
        {BrokerLimits.MAX_SCHEMA_BYTES_PROP, bytes(BrokerLimits.MAX_SCHEMA_BYTES_DEFAULT), "schema IR kept"},
        {BrokerLimits.MAX_SCHEMA_BYTES_PER_PEER_PROP, bytes(BrokerLimits.MAX_SCHEMA_BYTES_PER_PEER_DEFAULT),
            "schema IR kept per peer"},
        {BrokerLimits.MAX_PATTERNS_PER_PEER_PROP, String.valueOf(BrokerLimits.MAX_PATTERNS_PER_PEER_DEFAULT),
            "a Java peer's patterns"},
        {BrokerLimits.MAX_RETAINED_SUBJECTS_PROP, String.valueOf(BrokerLimits.MAX_RETAINED_SUBJECTS_DEFAULT),
            "subjects with a retained value (PAYLOAD_TOO_LARGE)"},
        {BrokerLimits.MAX_RETAINED_BYTES_PROP, bytes(BrokerLimits.MAX_RETAINED_BYTES_DEFAULT),
            "retained values, all subjects; one value at most a control message (PAYLOAD_TOO_LARGE)"},
        {io.switchboard.broker.link.LinkContext.LIVENESS_TIMEOUT_PROP,
            String.valueOf(io.switchboard.broker.link.LinkContext.LIVENESS_TIMEOUT_DEFAULT_MS),
            "a silent link is down after this long (= --link-liveness-timeout-ms)"},
        {io.switchboard.broker.link.LinkContext.TERM_LENGTH_PROP,
            bytes(io.switchboard.broker.link.LinkContext.TERM_LENGTH_DEFAULT),
            "term length of a link's UDP publication; a call crosses in one piece up to an eighth of it"},
        {io.switchboard.broker.link.LinkContext.IDLE_YIELDS_PROP,
            String.valueOf(io.switchboard.broker.link.LinkContext.IDLE_YIELDS_DEFAULT),
            "yields of the idle link thread before it parks: more answer sooner and take more CPU"},
        {io.switchboard.broker.link.LinkContext.IN_FLIGHT_YIELD_US_PROP,
            String.valueOf(io.switchboard.broker.link.LinkContext.IN_FLIGHT_YIELD_US_DEFAULT),
            "microseconds the link thread yields instead of parking while calls are in flight (0: never)"},
        {io.switchboard.broker.link.LinkContext.MAX_REMOTE_PATTERNS_PROP,
            String.valueOf(io.switchboard.broker.link.LinkContext.MAX_REMOTE_PATTERNS_DEFAULT),
            "patterns one linked peer's interest may make this broker hold; more are refused and counted"},
        {io.switchboard.broker.link.LinkContext.MAX_REMOTE_PATTERN_BYTES_PROP,
            bytes(io.switchboard.broker.link.LinkContext.MAX_REMOTE_PATTERN_BYTES_DEFAULT),
            "bytes of patterns one linked peer's interest may make this broker hold"},
    };

    @Option(names = "--config", paramLabel = "FILE", order = 0,
        description = "read options from FILE (Java properties): each key is an option's name without its dashes " +
            "(demo=true, socket-dir=/run/sb, allow-user=alice,bob) or one of the properties below; options given " +
            "on the command line, and -D properties, win over the file; an unknown key is refused.")
    Path config;

    @Option(names = "--demo", order = 1,
        description = "also start the demo services (calculator, countdown, kv_store, price_feed)")
    boolean demo;

    @Option(names = "--socket-dir", paramLabel = "DIR", order = 2,
        description = "directory of the broker's sockets (default: $XDG_RUNTIME_DIR/switchboard, else " +
            "/tmp/switchboard-<uid>; SWITCHBOARD_SOCKET's directory if set)")
    Path socketDir;

    @Option(names = "--socket", paramLabel = "PATH", order = 3,
        description = "gateway socket path, exactly; its directory also holds control.sock")
    Path socket;

    @Option(names = "--aeron-dir", paramLabel = "DIR", order = 4,
        description = "media driver directory (default: $XDG_RUNTIME_DIR/switchboard/aeron, else " +
            "/dev/shm/switchboard-<user>/aeron)")
    String aeronDir;

    @Option(names = "--external-driver", order = 5,
        description = "attach to a media driver already running in --aeron-dir instead of embedding one")
    boolean externalDriver;

    @Option(names = "--liveness-timeout-ms", paramLabel = "N", order = 6,
        description = "drop a peer silent for this long (default " + Configuration.LIVENESS_TIMEOUT_DEFAULT_MS + ")")
    Long livenessTimeoutMs;

    @Option(names = "--rate-limit", paramLabel = "N", order = 7,
        description = "per gateway connection, at most N REQUEST/PUBLISH/SUBSCRIBE frames a second; more are " +
            "answered RATE_LIMITED and the connection stays open (default: off)")
    Integer rateLimit;

    @Option(names = "--rate-limit-burst", paramLabel = "N", order = 8,
        description = "frames a connection may send at once after being idle (default: N of --rate-limit)")
    Integer rateLimitBurst;

    @Option(names = "--frame-timeout-ms", paramLabel = "N", order = 9,
        description = "close a socket connection that leaves a frame unfinished this long (default " +
            GatewayConfiguration.INCOMPLETE_FRAME_TIMEOUT_DEFAULT_MS + ")")
    Long frameTimeoutMs;

    @Option(names = "--drain-timeout-ms", paramLabel = "N", order = 10,
        description = "on shutdown, time in-flight gateway calls get to finish before they are answered " +
            "SHUTTING_DOWN (default " + GatewayConfiguration.SHUTDOWN_DRAIN_TIMEOUT_DEFAULT_MS + "); new requests " +
            "get SHUTTING_DOWN at once")
    Long drainTimeoutMs;

    @Option(names = "--max-connections", paramLabel = "N", order = 11,
        description = "gateway connections at once; one more is answered CONNECTION_LIMIT_REACHED and closed " +
            "(default " + GatewayConfiguration.MAX_CONNECTIONS_DEFAULT + ")")
    Integer maxConnections;

    @Option(names = "--max-payload-bytes", paramLabel = "N", order = 12,
        description = "largest frame payload the gateway accepts, at most " +
            io.switchboard.codec.frame.FrameHeader.MAX_PAYLOAD_LENGTH_LIMIT + " (default " +
            io.switchboard.codec.frame.FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH + ": the largest message, " +
            "switchboard.max.message.length, and 64 KiB of envelope)")
    Integer maxPayloadBytes;

    @Option(names = "--allow-user", paramLabel = "NAME|UID", order = 13, split = ",",
        description = "also accept gateway peers running as this user (repeatable); checked with SO_PEERCRED. Any " +
            "--allow-* makes the socket directory 0711 and the socket 0666")
    List<String> allowUsers = new ArrayList<>();

    @Option(names = "--allow-group", paramLabel = "NAME|GID", order = 14, split = ",",
        description = "also accept gateway peers whose primary group is this one (repeatable) (by default only " +
            "the broker's own user: directory 0700, socket 0600)")
    List<String> allowGroups = new ArrayList<>();

    @Option(names = "--link", paramLabel = "HOST:PORT", order = 15,
        description = "link to brokers on other hosts (docs/LINKS.md): listen for them on aeron:udp?endpoint=" +
            "HOST:PORT; needs --peer and --link-secret (default: no links)")
    String link;

    @Option(names = "--peer", paramLabel = "HOST:PORT", order = 16, split = ",",
        description = "a peer broker's --link endpoint, spelt as it gives it (repeatable); only these are accepted")
    List<String> peers = new ArrayList<>();

    @Option(names = "--link-secret", paramLabel = "FILE", order = 17,
        description = "the secret every linked broker shares (at least 16 bytes), in a file of mode 0600 owned by " +
            "the broker's user, else the broker refuses to start; it proves peers, it does not encrypt")
    Path linkSecret;

    @Option(names = "--link-liveness-timeout-ms", paramLabel = "N", order = 18,
        description = "a link silent this long is down: its calls in flight get SERVICE_UNAVAILABLE, its routes " +
            "and interest are withdrawn until it comes back (default " +
            io.switchboard.broker.link.LinkContext.LIVENESS_TIMEOUT_DEFAULT_MS + ")")
    Long linkLivenessTimeoutMs;

    private BrokerMain()
    {
    }

    private static String bytes(final long value)
    {
        return value % (1 << 20) == 0 ? value + " (" + (value >> 20) + " MiB)" : String.valueOf(value);
    }

    /** The footer of {@code --help}: every property with its default, the limits, the exit statuses. */
    private static String[] footer()
    {
        final List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add("properties (-Dname=value in JAVA_OPTS, or name=value in the config file; over a bound a typed " +
            "error,");
        lines.add("counted in stats, logged once per connection; times in ms, sizes in bytes):");
        for (final String[] property : PROPERTIES)
        {
            lines.add(String.format("  %-48s default %s", property[0], property[1]));
            lines.add("      " + property[2]);
        }
        lines.addAll(List.of(
            "",
            "Every folder it uses (socket directory, media driver directory's parent) must be a directory of its",
            "user's, not a link, writable by no one else; a missing one is created 0700. It holds broker.lock in the",
            "socket directory (and <aeron-dir>.lock beside the driver directory) for its life.",
            "The launcher runs the broker with -Xmx1g -XX:MaxDirectMemorySize=512m -XX:+ExitOnOutOfMemoryError.",
            "",
            "exit status: 0 stopped cleanly (Ctrl-C, SIGTERM), 1 failed to start, 2 usage error (options or config",
            "file), 3 refused to start (a folder not its own, another broker holding the folders, not enough space",
            "for the media driver; also the JVM's own status when -XX:+ExitOnOutOfMemoryError ends it, after",
            "\"Terminating due to java.lang.OutOfMemoryError\"), 70 an agent thread died or raised an Error: the",
            "process ends at once so that a supervisor can restart it."));
        return lines.toArray(new String[0]);
    }

    /** The version of the build, from the properties Maven writes into the jar (beside the CLI's classes). */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion() throws java.io.IOException
        {
            final java.util.Properties properties = new java.util.Properties();
            try (java.io.InputStream in = BrokerMain.class.getResourceAsStream(
                "/io/switchboard/broker/cli/version.properties"))
            {
                if (null != in)
                {
                    properties.load(in);
                }
            }
            return new String[]{"switchboard " + properties.getProperty("version", "unknown") +
                " (Java " + Runtime.version().feature() + ")"};
        }
    }

    /**
     * The long option names of {@code switchboard broker}, for the completion script.
     *
     * @return the names.
     */
    public static List<String> optionNames()
    {
        final List<String> names = new ArrayList<>();
        for (final CommandLine.Model.OptionSpec option : new CommandLine(new BrokerMain()).getCommandSpec().options())
        {
            names.add(option.longestName());
        }
        return names;
    }

    /**
     * The long option names of {@code switchboard broker} that take a value, for the completion script.
     *
     * @return the names.
     */
    public static List<String> valuedOptionNames()
    {
        final List<String> names = new ArrayList<>();
        for (final CommandLine.Model.OptionSpec option : new CommandLine(new BrokerMain()).getCommandSpec().options())
        {
            if (option.arity().max() > 0)
            {
                names.add(option.longestName());
            }
        }
        return names;
    }

    /**
     * Entry point.
     *
     * @param args command-line arguments.
     */
    public static void main(final String[] args)
    {
        io.switchboard.transport.Logging.configure();
        final int status = run(args);
        if (status >= 0)
        {
            System.out.flush();
            System.exit(status);
        }
    }

    /**
     * Parse, then run until stopped.
     *
     * @return the exit status, or -1 when the broker ran and stopped cleanly (the shutdown hook exits).
     */
    static int run(final String[] args)
    {
        final BrokerMain main = new BrokerMain();
        final CommandLine commandLine = new CommandLine(main);
        commandLine.setOverwrittenOptionsAllowed(true); // the command line overrides the config file
        commandLine.getCommandSpec().usageMessage().footer(footer());
        commandLine.setParameterExceptionHandler((ex, given) ->
        {
            System.err.println("switchboard broker: " + ex.getMessage());
            System.err.println("Try 'switchboard broker --help' for more information.");
            return EXIT_USAGE;
        });
        commandLine.setExecutionExceptionHandler((ex, failed, parseResult) ->
        {
            if (ex instanceof IllegalArgumentException) // a value the context refuses
            {
                System.err.println("switchboard broker: " + ex.getMessage());
                System.err.println("Try 'switchboard broker --help' for more information.");
                return EXIT_USAGE;
            }
            System.err.println("switchboard broker: cannot start: " + ex);
            return 1;
        });
        final List<String> all;
        try
        {
            all = withConfigFile(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("switchboard broker: " + ex.getMessage());
            System.err.println("Try 'switchboard broker --help' for more information.");
            return EXIT_USAGE;
        }
        return commandLine.execute(all.toArray(new String[0]));
    }

    /**
     * The arguments with the config file's options in front (so the command line wins); its properties become
     * system properties unless already set (so -D wins).
     */
    static List<String> withConfigFile(final String[] args)
    {
        Path file = null;
        for (int i = 0; i < args.length; i++)
        {
            if ("--config".equals(args[i]) && i + 1 < args.length)
            {
                file = Paths.get(args[i + 1]);
            }
            else if (args[i].startsWith("--config="))
            {
                file = Paths.get(args[i].substring("--config=".length()));
            }
        }
        final List<String> all = new ArrayList<>();
        if (null != file)
        {
            final Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8))
            {
                properties.load(reader);
            }
            catch (final IOException | IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("cannot read the config file " + file + ": " +
                    (ex instanceof java.nio.file.NoSuchFileException ? "no such file" : ex.getMessage()));
            }
            final CommandLine.Model.CommandSpec spec = new CommandLine(new BrokerMain()).getCommandSpec();
            final TreeSet<String> propertyNames = new TreeSet<>();
            for (final String[] property : PROPERTIES)
            {
                propertyNames.add(property[0]);
            }
            for (final String key : new TreeSet<>(properties.stringPropertyNames()))
            {
                final String value = properties.getProperty(key).trim();
                if (propertyNames.contains(key))
                {
                    if (null == System.getProperty(key))
                    {
                        System.setProperty(key, value);
                        checkConfigKey(file, key, value, null);
                    }
                    continue;
                }
                final CommandLine.Model.OptionSpec option = spec.findOption("--" + key);
                if (null == option || "config".equals(key) || "help".equals(key) || "version".equals(key))
                {
                    throw new IllegalArgumentException("config file " + file + ": unknown key '" + key + "' (keys " +
                        "are option names without dashes, or the properties `switchboard broker --help` lists)");
                }
                if (option.arity().max() == 0)
                {
                    if ("true".equalsIgnoreCase(value))
                    {
                        all.add("--" + key);
                        checkConfigKey(file, key, value, "--" + key);
                    }
                    else if (!"false".equalsIgnoreCase(value))
                    {
                        throw new IllegalArgumentException("config file " + file + ", key " + key +
                            ": takes true or false, found '" + value + "'");
                    }
                }
                else
                {
                    all.add("--" + key + "=" + value);
                    checkConfigKey(file, key, value, "--" + key + "=" + value);
                }
            }
        }
        all.addAll(List.of(args));
        return all;
    }

    @Override
    public Integer call()
    {
        final Broker.Context ctx = new Broker.Context();
        configure(ctx);
        checkGatewayLimits(ctx); // an IllegalArgumentException: a usage error (exit 2), before anything starts
        return runBroker(ctx, demo);
    }

    /** Put the options given into the context. */
    private void configure(final Broker.Context ctx)
    {
        if (null != socketDir)
        {
            ctx.socketDir(socketDir);
        }
        if (null != socket)
        {
            final Path absolute = socket.toAbsolutePath();
            ctx.socketDir(absolute.getParent()).gatewaySocket(absolute);
        }
        if (null != aeronDir)
        {
            ctx.aeronDirectoryName(aeronDir);
        }
        if (externalDriver)
        {
            ctx.embeddedDriver(false);
        }
        if (null != livenessTimeoutMs)
        {
            ctx.livenessTimeoutMs(livenessTimeoutMs);
        }
        if (null != rateLimit)
        {
            ctx.gatewayContext().rateLimit(rateLimit);
        }
        if (null != rateLimitBurst)
        {
            ctx.gatewayContext().rateLimitBurst(rateLimitBurst);
        }
        if (null != frameTimeoutMs)
        {
            ctx.gatewayContext().incompleteFrameTimeoutMs(frameTimeoutMs);
        }
        if (null != drainTimeoutMs)
        {
            ctx.gatewayContext().shutdownDrainTimeoutMs(drainTimeoutMs);
        }
        if (null != maxConnections)
        {
            ctx.gatewayContext().maxConnections(maxConnections);
        }
        if (null != maxPayloadBytes)
        {
            ctx.gatewayContext().maxPayloadLength(maxPayloadBytes);
        }
        allowUsers.forEach(ctx::allowUser);
        allowGroups.forEach(ctx::allowGroup);
        if (null != link)
        {
            ctx.linkContext().endpoint(link);
        }
        peers.forEach(ctx.linkContext()::peer);
        if (null != linkSecret)
        {
            ctx.linkContext().secretFile(linkSecret);
        }
        if (null != linkLivenessTimeoutMs)
        {
            ctx.linkContext().livenessTimeoutMs(linkLivenessTimeoutMs);
        }
    }

    /**
     * The gateway's limits (--max-connections and the gateway properties) as the gateway will check them when it
     * starts, on a copy: the gateway starts on the conductor's thread, where a bad limit stopped the broker with
     * status 70 instead of a usage error.
     */
    private static void checkGatewayLimits(final Broker.Context ctx)
    {
        final io.switchboard.broker.gateway.GatewayContext gateway = ctx.gatewayContext();
        final io.switchboard.broker.gateway.GatewayContext probe = new io.switchboard.broker.gateway.GatewayContext()
            .socketPath(Paths.get("/nonexistent/probe.sock"))
            .maxConnections(gateway.maxConnections())
            .maxPayloadLength(gateway.maxPayloadLength())
            .rateLimit(gateway.rateLimit())
            .rateLimitBurst(gateway.rateLimitBurst())
            .incompleteFrameTimeoutMs(gateway.incompleteFrameTimeoutMs())
            .shutdownDrainTimeoutMs(gateway.shutdownDrainTimeoutMs());
        probe.conclude();
    }

    /**
     * Check one key of the config file as the broker would take it, alone (with the keys before it), so that a bad
     * value is reported with the file and the key instead of as a command-line option or a bare property.
     */
    private static final Set<String> LINK_KEYS = Set.of("link", "peer", "link-secret", "link-liveness-timeout-ms");

    private static void checkConfigKey(final Path file, final String key, final String value, final String option)
    {
        try
        {
            final BrokerMain probe = new BrokerMain();
            if (null != option)
            {
                new CommandLine(probe).parseArgs(option);
            }
            if (LINK_KEYS.contains(key))
            {
                return; // the link options need each other (--link, --peer, --link-secret): checked together at start
            }
            final Broker.Context ctx = new Broker.Context(); // reads the properties set so far
            probe.configure(ctx);
            ctx.conclude();
            checkGatewayLimits(ctx);
        }
        catch (final CommandLine.ParameterException ex)
        {
            final String message = String.valueOf(ex.getMessage());
            final int detail = message.indexOf("': ");
            throw new IllegalArgumentException("config file " + file + ", key " + key + ": " +
                (message.startsWith("Invalid value") && detail > 0 ? message.substring(detail + 3) : message));
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("config file " + file + ", key " + key + " (" + value + "): " +
                ex.getMessage());
        }
    }

    private static int runBroker(final Broker.Context ctx, final boolean demo)
    {
        final Broker broker;
        try
        {
            broker = Broker.launch(ctx);
        }
        catch (final StartRefusedException ex)
        {
            System.err.println("switchboard broker: refused to start: " + ex.getMessage());
            return StartRefusedException.EXIT_CODE;
        }
        catch (final RuntimeException ex)
        {
            System.err.println("switchboard broker: cannot start: " + ex.getMessage());
            return 1;
        }

        final List<AutoCloseable> plugins = new ArrayList<>();
        if (demo)
        {
            for (final BrokerPlugin plugin : ServiceLoader.load(BrokerPlugin.class))
            {
                if ("demo".equals(plugin.name()))
                {
                    plugins.add(plugin.start(broker));
                }
            }
            if (plugins.isEmpty())
            {
                System.err.println("switchboard broker: --demo given but the demo services are not on the class path");
                broker.close();
                return 1;
            }
        }

        final CountDownLatch stopped = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stopped.countDown();
            try
            {
                closed.await();
            }
            catch (final InterruptedException ignore)
            {
                Thread.currentThread().interrupt();
                return;
            }
            // a clean stop on SIGTERM or Ctrl-C is a success: status 0, not the JVM's 128+signal, so that a
            // supervisor tells it from a crash (a dead agent exits with Broker.FATAL_EXIT_STATUS)
            Runtime.getRuntime().halt(0);
        }, "switchboard-shutdown"));

        System.out.println("switchboard: broker ready");
        System.out.println("switchboard:   gateway socket " + ctx.gatewaySocket() + " (PROTOCOL.md, any language)");
        System.out.println("switchboard:   control socket " + ctx.controlSocket() + " (Java peers)");
        System.out.println("switchboard:   media driver   " + ctx.aeronDirectoryName() +
            (ctx.embeddedDriver() ? " (embedded)" : " (external)"));
        if (demo)
        {
            System.out.println("switchboard:   demo services  calculator, countdown, kv_store, price_feed");
        }
        System.out.println("switchboard: press Ctrl-C to stop");
        System.out.flush();

        try
        {
            stopped.await();
        }
        catch (final InterruptedException ignore)
        {
            Thread.currentThread().interrupt();
        }
        System.out.println("switchboard: shutting down");
        for (int i = plugins.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(plugins.get(i));
        }
        broker.close();
        System.out.println("switchboard: stopped");
        System.out.flush();
        closed.countDown();
        return -1; // the shutdown hook ends the process with status 0
    }
}
