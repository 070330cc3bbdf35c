package io.switchboard.broker;

import io.switchboard.broker.access.AllowedPeers;
import io.switchboard.broker.gateway.GatewayConfiguration;
import io.switchboard.broker.gateway.GatewayContext;
import io.switchboard.transport.Configuration;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The settings of a broker, with defaults from {@link Configuration} and system properties: fields, fluent setters
 * and getters, and the validating {@link #conclude()}; the bounds on peers' control traffic and registrations are
 * in {@link BrokerLimits}. {@link Broker.Context} is the public face; this base keeps the settings out of
 * {@link Broker} and returns the concrete type from every setter, so that a chain of calls on a
 * {@code new Broker.Context()} stays a {@code Broker.Context}.
 * <p>
 * Not thread-safe: set it up on one thread, then hand it to {@link Broker#launch(Broker.Context)}.
 *
 * @param <C> the concrete context type, returned by the fluent setters.
 */
abstract class BrokerContext<C extends BrokerContext<C>> extends BrokerLimits<C>
{
    private Path socketDir;
    private String aeronDirectoryName;
    /**
     * Property: how long, in microseconds, the embedded media driver's thread keeps yielding after its last work before
     * it parks (see {@link #DRIVER_YIELD_DEFAULT_US}).
     */
    public static final String DRIVER_YIELD_PROP = "switchboard.driver.yield.us";

    /**
     * Default driver yield: 0, the fixed 10 spins and 20 yields before parking (1 µs doubling to 1 ms) the driver always
     * had. An IPC publisher's limit moves only when the driver runs, so a message larger than the publication window
     * (half the term) waits for it, and a parked driver answers after its park (at least the kernel's timer slack, 65
     * µs measured here, up to 1 ms). With, say, 1000 the driver yields for 1 ms after its last work instead; its
     * periodic work (a 50 ms timer, keepalives) then costs idle CPU too: the driver thread of an idle broker took 0.8%
     * of a core with 0 and 2.0% with 1000 (30 s, loaded machine). Not on by default until a quiet benchmark shows the
     * gain.
     */
    public static final long DRIVER_YIELD_DEFAULT_US = 0;

    private boolean embeddedDriver = true;
    private long heartbeatIntervalMs =
        Configuration.longProperty(Configuration.HEARTBEAT_INTERVAL_PROP, Configuration.HEARTBEAT_INTERVAL_DEFAULT_MS);
    private long livenessTimeoutMs =
        Configuration.longProperty(Configuration.LIVENESS_TIMEOUT_PROP, Configuration.LIVENESS_TIMEOUT_DEFAULT_MS);
    private int termLength = (int)Configuration.longProperty(
        Configuration.TERM_LENGTH_PROP, Configuration.TERM_LENGTH_DEFAULT);
    private long untetheredWindowLimitTimeoutMs = Configuration.longProperty(
        Configuration.UNTETHERED_WINDOW_LIMIT_TIMEOUT_PROP, Configuration.UNTETHERED_WINDOW_LIMIT_TIMEOUT_DEFAULT_MS);
    private long untetheredRestingTimeoutMs = Configuration.longProperty(
        Configuration.UNTETHERED_RESTING_TIMEOUT_PROP, Configuration.UNTETHERED_RESTING_TIMEOUT_DEFAULT_MS);
    private long driverYieldUs = Configuration.longProperty(DRIVER_YIELD_PROP, DRIVER_YIELD_DEFAULT_US);
    private long timerSlackNs = io.switchboard.transport.TimerSlack.configuredNs(); // refused here if not a number
    private boolean gateway = true;
    private final GatewayContext gatewayContext = new GatewayContext();
    private final io.switchboard.broker.link.LinkContext linkContext = new io.switchboard.broker.link.LinkContext();
    private AllowedPeers allowedPeers;
    private boolean haltOnFatalError = true;
    private IdleStrategy idleStrategy;
    private ErrorHandler errorHandler;
    private Consumer<String> logger;

    /**
     * Fill in defaults and check the settings.
     *
     * @return this for a fluent API.
     */
    public C conclude()
    {
        linkContext.conclude();
        if (null == socketDir)
        {
            socketDir = Configuration.socketDir();
            final String env = System.getenv(Configuration.SOCKET_ENV);
            if (null == gatewayContext.socketPath() && null != env && !env.isEmpty())
            {
                // PROTOCOL.md: the path, exactly
                gatewayContext.socketPath(java.nio.file.Paths.get(env).toAbsolutePath());
            }
        }
        if (null == aeronDirectoryName)
        {
            aeronDirectoryName = Configuration.aeronDir().toString();
        }
        if (Integer.bitCount(termLength) != 1 || termLength < 64 * 1024 || termLength > 8 * 1024 * 1024)
        {
            throw new IllegalArgumentException("term length: expected a power of two from 64 KiB to 8 MiB, actual=" +
                termLength);
        }
        if (driverYieldUs < 0 || driverYieldUs > 10_000)
        {
            throw new IllegalArgumentException("driver yield: expected 0 to 10000 us, actual=" + driverYieldUs);
        }
        if (heartbeatIntervalMs <= 0 || livenessTimeoutMs <= heartbeatIntervalMs)
        {
            throw new IllegalArgumentException("liveness timeout (" + livenessTimeoutMs +
                " ms) must exceed the heartbeat interval (" + heartbeatIntervalMs + " ms)");
        }
        if (untetheredWindowLimitTimeoutMs <= 50 || untetheredRestingTimeoutMs <= 0)
        {
            throw new IllegalArgumentException("untethered window limit timeout must exceed the driver's 50 ms timer, " +
                "actual=" + untetheredWindowLimitTimeoutMs + " ms");
        }
        if (gatewayContext.shutdownDrainTimeoutMs() < 0)
        {
            throw new IllegalArgumentException("gateway drain timeout: expected >= 0 ms, actual=" +
                gatewayContext.shutdownDrainTimeoutMs());
        }
        final int rateLimit = gatewayContext.rateLimit();
        if (rateLimit < 0 || rateLimit > GatewayConfiguration.MAX_RATE_LIMIT || gatewayContext.rateLimitBurst() < 0)
        {
            throw new IllegalArgumentException("gateway rate limit: expected 0 (off) to " +
                GatewayConfiguration.MAX_RATE_LIMIT + " per second and a burst >= 0, actual=" + rateLimit +
                "/s burst " + gatewayContext.rateLimitBurst());
        }
        if (null == allowedPeers)
        {
            allowedPeers = AllowedPeers.ownerOnly();
        }
        concludeLimits();
        if (null == idleStrategy)
        {
            idleStrategy = new BackoffIdleStrategy(
                10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
        }
        if (null == logger)
        {
            final System.Logger log = io.switchboard.transport.Logging.logger("switchboard.broker");
            logger = (msg) -> log.log(System.Logger.Level.INFO, msg);
        }
        if (null == errorHandler)
        {
            final System.Logger log = io.switchboard.transport.Logging.logger("switchboard.broker");
            errorHandler = (ex) -> log.log(System.Logger.Level.ERROR, String.valueOf(ex), ex);
        }
        return self();
    }

    /**
     * Directory of the broker's sockets (created 0700).
     *
     * @param socketDir the directory.
     * @return this for a fluent API.
     */
    public C socketDir(final Path socketDir)
    {
        this.socketDir = socketDir;
        return self();
    }

    /**
     * Directory of the broker's sockets.
     *
     * @return the directory.
     */
    public Path socketDir()
    {
        return socketDir;
    }

    /**
     * Path of the control socket Java peers connect to.
     *
     * @return the path.
     */
    public Path controlSocket()
    {
        return socketDir.resolve(Configuration.CONTROL_SOCKET_NAME);
    }

    /**
     * Path of the gateway socket: set exactly, or {@code broker.sock} in the socket directory.
     *
     * @param gatewaySocket path of the socket.
     * @return this for a fluent API.
     */
    public C gatewaySocket(final Path gatewaySocket)
    {
        gatewayContext.socketPath(gatewaySocket);
        return self();
    }

    /**
     * Path of the gateway socket that programs in other languages connect to.
     *
     * @return the path.
     */
    public Path gatewaySocket()
    {
        final Path gatewaySocket = gatewayContext.socketPath();
        return null != gatewaySocket ? gatewaySocket : socketDir.resolve(Configuration.GATEWAY_SOCKET_NAME);
    }

    /**
     * Settings of the gateway (its bounds, timeouts, rate limit, clocks), held here and handed to it as they are;
     * its socket path, allowed peers and error handler are filled in from this context when the broker starts.
     *
     * @return the gateway's context.
     */
    public GatewayContext gatewayContext()
    {
        return gatewayContext;
    }

    /**
     * Settings of the links to brokers on other hosts (docs/LINKS.md); none unless an endpoint is set.
     *
     * @return the link settings, to change in place.
     */
    public io.switchboard.broker.link.LinkContext linkContext()
    {
        return linkContext;
    }

    /**
     * Whether to start the Unix-socket gateway (default true).
     *
     * @param gateway true to start it.
     * @return this for a fluent API.
     */
    public C gateway(final boolean gateway)
    {
        this.gateway = gateway;
        return self();
    }

    /**
     * Whether the Unix-socket gateway runs.
     *
     * @return true if it runs.
     */
    public boolean gateway()
    {
        return gateway;
    }

    /**
     * Allow gateway peers of another user (SO_PEERCRED); repeatable. Makes the socket directory 0711 and the
     * gateway socket 0666.
     *
     * @param nameOrUid a user name or numeric uid.
     * @return this for a fluent API.
     */
    public C allowUser(final String nameOrUid)
    {
        allowedPeers().allowUser(nameOrUid);
        return self();
    }

    /**
     * Allow gateway peers whose primary group is this one (SO_PEERCRED); repeatable. Makes the socket directory
     * 0711 and the gateway socket 0666.
     *
     * @param nameOrGid a group name or numeric gid.
     * @return this for a fluent API.
     */
    public C allowGroup(final String nameOrGid)
    {
        allowedPeers().allowGroup(nameOrGid);
        return self();
    }

    /**
     * Peers of other users allowed on the gateway socket besides the owner.
     *
     * @return the allowances.
     */
    public AllowedPeers allowedPeers()
    {
        if (null == allowedPeers)
        {
            allowedPeers = AllowedPeers.ownerOnly();
        }
        return allowedPeers;
    }

    /**
     * Media driver directory.
     *
     * @param aeronDirectoryName the directory.
     * @return this for a fluent API.
     */
    public C aeronDirectoryName(final String aeronDirectoryName)
    {
        this.aeronDirectoryName = aeronDirectoryName;
        return self();
    }

    /**
     * Media driver directory.
     *
     * @return the directory.
     */
    public String aeronDirectoryName()
    {
        return aeronDirectoryName;
    }

    /**
     * Run the media driver inside the broker (default), or attach to an external one.
     *
     * @param embeddedDriver true to embed.
     * @return this for a fluent API.
     */
    public C embeddedDriver(final boolean embeddedDriver)
    {
        this.embeddedDriver = embeddedDriver;
        return self();
    }

    /**
     * Whether the media driver runs inside the broker.
     *
     * @return true if embedded.
     */
    public boolean embeddedDriver()
    {
        return embeddedDriver;
    }

    /**
     * Interval at which peers heartbeat.
     *
     * @param heartbeatIntervalMs the interval.
     * @return this for a fluent API.
     */
    public C heartbeatIntervalMs(final long heartbeatIntervalMs)
    {
        this.heartbeatIntervalMs = heartbeatIntervalMs;
        return self();
    }

    /**
     * Interval at which peers heartbeat.
     *
     * @return the interval in milliseconds.
     */
    public long heartbeatIntervalMs()
    {
        return heartbeatIntervalMs;
    }

    /**
     * Silence after which a peer whose socket is still open is dropped.
     *
     * @param livenessTimeoutMs the timeout.
     * @return this for a fluent API.
     */
    public C livenessTimeoutMs(final long livenessTimeoutMs)
    {
        this.livenessTimeoutMs = livenessTimeoutMs;
        return self();
    }

    /**
     * Silence after which a peer is dropped.
     *
     * @return the timeout in milliseconds.
     */
    public long livenessTimeoutMs()
    {
        return livenessTimeoutMs;
    }

    /**
     * Term length of the IPC logs.
     *
     * @param termLength a power of two from 64 KiB to 8 MiB.
     * @return this for a fluent API.
     */
    public C termLength(final int termLength)
    {
        this.termLength = termLength;
        return self();
    }

    /**
     * Term length of the IPC logs.
     *
     * @return the term length in bytes.
     */
    public int termLength()
    {
        return termLength;
    }

    /**
     * How long a subscriber that stopped reading may hold a publisher back before it is cut loose.
     *
     * @return the timeout in milliseconds.
     */
    public long untetheredWindowLimitTimeoutMs()
    {
        return untetheredWindowLimitTimeoutMs;
    }

    /**
     * How long the embedded media driver's thread keeps yielding after its last work before it parks.
     *
     * @param driverYieldUs 0 to 10,000 microseconds (default 0, or {@code switchboard.driver.yield.us}).
     * @return this for a fluent API.
     */
    public C driverYieldUs(final long driverYieldUs)
    {
        this.driverYieldUs = driverYieldUs;
        return self();
    }

    /**
     * How long the embedded media driver's thread keeps yielding after its last work before it parks.
     *
     * @return the time in microseconds.
     */
    public long driverYieldUs()
    {
        return driverYieldUs;
    }

    /**
     * The timer slack of the broker's agent threads.
     *
     * @param timerSlackNs nanoseconds; 0 or less leaves the kernel's (default: {@code switchboard.timer.slack.ns}).
     * @return this for a fluent API.
     */
    public C timerSlackNs(final long timerSlackNs)
    {
        this.timerSlackNs = timerSlackNs;
        return self();
    }

    /**
     * The timer slack of the broker's agent threads ({@link io.switchboard.transport.TimerSlack}).
     *
     * @return nanoseconds; 0 or less for the kernel's.
     */
    public long timerSlackNs()
    {
        return timerSlackNs;
    }

    /**
     * How long a cut-loose subscriber rests before it rejoins.
     *
     * @return the timeout in milliseconds.
     */
    public long untetheredRestingTimeoutMs()
    {
        return untetheredRestingTimeoutMs;
    }

    /**
     * Whether an Error in an agent, or an agent that stops while the broker runs, ends the process at once
     * (status {@link Broker#FATAL_EXIT_STATUS}) so that a supervisor restarts it (default true).
     *
     * @param haltOnFatalError false only for a program that embeds the broker and supervises it itself.
     * @return this for a fluent API.
     */
    public C haltOnFatalError(final boolean haltOnFatalError)
    {
        this.haltOnFatalError = haltOnFatalError;
        return self();
    }

    /**
     * Whether a dead agent ends the process.
     *
     * @return true if it does.
     */
    public boolean haltOnFatalError()
    {
        return haltOnFatalError;
    }

    /**
     * Idle strategy of the conductor thread.
     *
     * @param idleStrategy to use.
     * @return this for a fluent API.
     */
    public C idleStrategy(final IdleStrategy idleStrategy)
    {
        this.idleStrategy = idleStrategy;
        return self();
    }

    /**
     * Idle strategy of the conductor thread.
     *
     * @return the idle strategy.
     */
    public IdleStrategy idleStrategy()
    {
        return idleStrategy;
    }

    /**
     * Where errors go.
     *
     * @param errorHandler to receive them.
     * @return this for a fluent API.
     */
    public C errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return self();
    }

    /**
     * Where errors go.
     *
     * @return the error handler.
     */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    /**
     * Where cold-path log lines go (start, stop, peers coming and going).
     *
     * @param logger to receive them.
     * @return this for a fluent API.
     */
    public C logger(final Consumer<String> logger)
    {
        this.logger = logger;
        return self();
    }

    void log(final String message)
    {
        logger.accept(message);
    }
}
