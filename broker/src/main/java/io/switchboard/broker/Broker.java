package io.switchboard.broker;

import io.aeron.Aeron;
import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.LogBufferDescriptor;
import io.switchboard.broker.access.AllowedPeers;
import io.switchboard.broker.gateway.GatewayConductor;
import io.switchboard.broker.gateway.GatewayConfiguration;
import io.switchboard.broker.gateway.GatewayContext;
import io.switchboard.broker.gateway.GatewayIdleStrategy;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The broker process: an embedded media driver (or an external one) and the {@link BrokerConductor} on its own
 * thread. No thread of the broker busy-spins: driver and conductor back off to parking when idle.
 * <p>
 * <b>Supervision.</b> Every agent (the conductor, the gateway, the driver's shared agent) runs on an
 * {@link AgentRunner}, which catches what its work throws, hands it to the error handler and goes on. What it cannot
 * go on from ends the process at once with status {@link #FATAL_EXIT_STATUS}, after printing why, so that a
 * supervisor restarts the broker instead of it staying up deaf: an {@link Error} (OutOfMemoryError,
 * StackOverflowError, InternalError: the runner rethrows it and its thread would die), an agent that terminated,
 * or an agent thread that ended while the broker was not closing. {@link Runtime#halt(int)} is used, not
 * {@code exit}: the shutdown hooks wait for a close that a dead agent cannot finish. Off with
 * {@link Context#haltOnFatalError(boolean)} for an embedding program that supervises the broker itself.
 */
public final class Broker implements AutoCloseable
{
    /** Exit status when an agent died (EX_SOFTWARE). */
    public static final int FATAL_EXIT_STATUS = 70;

    private static final long SHUTDOWN_MARGIN_MS = 2_000;

    private final Context ctx;
    private final MediaDriver driver;
    private final BrokerConductor conductor;
    private final AgentRunner runner;
    private final AgentRunner gatewayRunner;
    private final RuntimeDirectory files;
    private final ErrorHandler agentErrorHandler;
    private GatewayConductor gateway;
    private volatile boolean closing;

    private Broker(final Context ctx)
    {
        this.ctx = ctx;
        final RuntimeDirectory files = RuntimeDirectory.claim(ctx); // folders owned (lstat), 0700 and locked, first
        this.files = files;
        this.agentErrorHandler = this::onAgentError;
        MediaDriver launched = null;
        BrokerConductor created = null;
        try
        {
            if (ctx.embeddedDriver())
            {
                final File dir = new File(ctx.aeronDirectoryName());
                if (isDriverAlive(dir))
                {
                    throw new IllegalStateException("a media driver is already active in " + dir +
                        " (another broker?); stop it or give --aeron-dir");
                }
                launched = files.launchDriver(new MediaDriver.Context()
                    .aeronDirectoryName(ctx.aeronDirectoryName())
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .threadingMode(ThreadingMode.SHARED)
                    .sharedIdleStrategy(new BackoffIdleStrategy(
                        10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1)))
                    .ipcTermBufferLength(ctx.termLength())
                    // every page of a log is allocated when the log is made: on a full disk the driver then refuses a
                    // new log (storage check, ENOSPC) with an error its client is told, instead of a sparse log whose
                    // next untouched page faults (SIGBUS) in whichever process writes it, the broker's gateway included
                    .termBufferSparseFile(false)
                    .performStorageChecks(true)
                    // warn when fewer logs than the start-up check makes room for would still fit, not at Aeron's
                    // 160 MiB, which a small driver directory is below from the start (a warning per new log)
                    .lowStorageWarningThreshold(RuntimeDirectory.MIN_IPC_LOGS *
                        LogBufferDescriptor.computeLogLength(ctx.termLength(), io.aeron.driver.Configuration.filePageSize()))
                    // the driver checks untethered subscribers on its timer: it must tick faster than their timeout
                    .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(50))
                    .untetheredWindowLimitTimeoutNs(TimeUnit.MILLISECONDS.toNanos(ctx.untetheredWindowLimitTimeoutMs()))
                    .untetheredRestingTimeoutNs(TimeUnit.MILLISECONDS.toNanos(ctx.untetheredRestingTimeoutMs()))
                    // an Error or a dead thread in the driver ends the process: clients of a dead driver only learn
                    // of it after their driver timeout, and the broker would sit there deaf
                    .sharedThreadFactory(agentThreadFactory("media driver"))
                    .asyncExecutorThreadFactory(agentThreadFactory("media driver async executor"))
                    .errorHandler(agentErrorHandler));
                restrictDirectory(dir.toPath()); // the logs hold every peer's messages: owner only
            }
            // the broker's own client is driven by the conductor thread (no thread of its own): see BrokerConductor
            final Supplier<Aeron> aeronFactory = () -> Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(ctx.aeronDirectoryName())
                .clientName("switchboard-broker")
                .useConductorAgentInvoker(true)
                .errorHandler(ctx.errorHandler()));
            created = new BrokerConductor(ctx, aeronFactory);
            this.driver = launched;
            this.conductor = created;
            this.runner = new AgentRunner(ctx.idleStrategy(), agentErrorHandler, null, created);
            AgentRunner.startOnThread(runner, agentThreadFactory("conductor"));
            this.gatewayRunner = ctx.gateway() ? startGateway(ctx, created) : null;
        }
        catch (final IOException ex)
        {
            closing = true;
            closeOnFailure(created, launched);
            CloseHelper.quietClose(files);
            throw new UncheckedIOException(ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            closing = true;
            closeOnFailure(created, launched);
            CloseHelper.quietClose(files);
            throw ex;
        }
    }

    private void closeOnFailure(final BrokerConductor created, final MediaDriver launched)
    {
        if (null != runner)
        {
            CloseHelper.quietClose(runner); // its onClose closes the conductor and its Aeron client
        }
        else if (null != created)
        {
            created.onClose();
        }
        CloseHelper.quietClose(launched);
    }

    /**
     * Errors of the agents and of the embedded driver: passed on to the context's handler; what no agent can go on
     * from ends the process.
     */
    private void onAgentError(final Throwable ex)
    {
        ctx.errorHandler().onError(ex);
        if (ex instanceof Error)
        {
            fatal("an agent thread raised " + ex, ex);
        }
        else if (ex instanceof AgentTerminationException && !closing)
        {
            fatal("an agent terminated: " + ex.getMessage(), ex);
        }
    }

    /**
     * Threads for the agents: one whose run ends while the broker is not closing, or that dies of an uncaught
     * throwable, ends the process.
     */
    private ThreadFactory agentThreadFactory(final String role)
    {
        return (runnable) ->
        {
            final Thread thread = new Thread(() ->
            {
                runnable.run();
                if (!closing)
                {
                    fatal("the " + role + " thread stopped while the broker was running", null);
                }
            });
            thread.setUncaughtExceptionHandler((t, ex) -> fatal("the " + role + " thread died of " + ex, ex));
            return thread;
        };
    }

    private void fatal(final String message, final Throwable cause)
    {
        if (!ctx.haltOnFatalError())
        {
            ctx.log("fatal: " + message + " (halt on fatal error is off: the broker stays up but may not answer)");
            return;
        }
        try
        {
            System.err.println("switchboard: fatal: " + message + "; exiting with status " + FATAL_EXIT_STATUS +
                " so that a supervisor can restart the broker");
            if (null != cause)
            {
                cause.printStackTrace(System.err);
            }
            System.err.flush();
            System.out.flush();
        }
        finally
        {
            Runtime.getRuntime().halt(FATAL_EXIT_STATUS);
        }
    }

    private AgentRunner startGateway(final Context ctx, final BrokerConductor conductor) throws IOException
    {
        Switchboard client = null;
        final GatewayConductor gateway;
        try
        {
            // polled by the gateway's thread; after a pause longer than the driver's timeouts its Aeron client closes
            // and it reconnects the way a Java peer does after a broker restart (ClientConductor), its services and
            // subscriptions registered again; it runs in this process, so the conductor never drops it for silence
            client = Switchboard.connect(new Switchboard.Context()
                .controlSocket(ctx.controlSocket())
                .clientName("switchboard-gateway")
                .useConductorAgentInvoker(true)
                // one attempt at a full inbox: a slow Java service gets TARGET_BUSY instead of holding every other
                // socket client while the gateway retries (a new inbox still gets the send timeout to link)
                .backPressureTimeoutNs(0)
                .reconnect(true)
                .reconnectBackoffNs(TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(500))
                .errorHandler(ctx.errorHandler()));
            final GatewayContext gatewayContext = ctx.gatewayContext()
                .socketPath(ctx.gatewaySocket())
                .allowedPeers(ctx.allowedPeers());
            if (null == gatewayContext.errorHandler())
            {
                gatewayContext.errorHandler(ctx.errorHandler());
            }
            gateway = new GatewayConductor(gatewayContext.conclude(), conductor::registrySnapshot, client);
        }
        catch (final IOException | RuntimeException ex)
        {
            CloseHelper.quietCloseAll(client, runner);
            throw ex;
        }
        final AgentRunner gatewayRunner = new AgentRunner(
            new GatewayIdleStrategy(gateway), agentErrorHandler, null, gateway);
        AgentRunner.startOnThread(gatewayRunner, agentThreadFactory("gateway"));
        this.gateway = gateway;
        ctx.log("gateway listening on " + ctx.gatewaySocket());
        if (ctx.allowedPeers().allowsOthers())
        {
            ctx.log("gateway open to other users: directory " + ctx.gatewaySocket().getParent() +
                " made 0711 and the socket 0666; peers are checked with SO_PEERCRED, allowed besides the owner: " +
                ctx.allowedPeers().describe());
        }
        if (ctx.gatewayContext().rateLimit() > 0)
        {
            ctx.log("gateway rate limit: " + ctx.gatewayContext().rateLimit() + " requests/s per connection");
        }
        return gatewayRunner;
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_ONLY =
        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");

    private static void restrictDirectory(final java.nio.file.Path dir) throws IOException
    {
        java.nio.file.Files.setPosixFilePermissions(dir, OWNER_ONLY);
    }

    /**
     * Whether a live media driver owns the directory. A driver killed a moment ago still shows a fresh heartbeat,
     * so a driver only counts as alive if its heartbeat stays fresh for longer than any driver's timer interval.
     */
    private static boolean isDriverAlive(final File dir)
    {
        final long freshMs = 1_100;
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * freshMs);
        while (System.nanoTime() - deadlineNs < 0)
        {
            if (!CommonContext.isDriverActive(dir, freshMs, (msg) -> {}))
            {
                return false; // absent, or its heartbeat went stale: left behind by a crash
            }
            Thread.onSpinWait();
            try
            {
                Thread.sleep(50); // polling a heartbeat written by another process: nothing to await on
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        return true;
    }

    /**
     * Start a broker.
     *
     * @param ctx its settings.
     * @return the running broker.
     */
    public static Broker launch(final Context ctx)
    {
        return new Broker(ctx.conclude());
    }

    /**
     * The settings the broker runs with.
     *
     * @return the context.
     */
    public Context context()
    {
        return ctx;
    }

    /**
     * Shut the gateway down gracefully (new requests answered SHUTTING_DOWN, in-flight calls given the drain period,
     * then answered SHUTTING_DOWN, queues flushed, socket removed), then stop the conductor and the driver; remove
     * the control socket and the driver directory. Blocks for at most the drain and flush periods plus a margin.
     */
    public void close()
    {
        closing = true;
        if (null != gateway)
        {
            gateway.beginShutdown();
            try
            {
                if (!gateway.awaitShutdown(ctx.gatewayContext().shutdownDrainTimeoutMs() +
                    GatewayConfiguration.SHUTDOWN_FLUSH_TIMEOUT_DEFAULT_MS + SHUTDOWN_MARGIN_MS))
                {
                    ctx.log("gateway did not finish its shutdown in time; closing it anyway");
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        // the conductor closes its Aeron client on its own thread as it stops; the lock goes last
        CloseHelper.closeAll(gatewayRunner, runner, driver, files);
    }

    /**
     * Settings of a broker, with defaults from {@link Configuration}. Fluent; validated by {@link #conclude()}.
     */
    public static final class Context
    {
        /** Property: how long a control connection may stay open without sending Connect, in milliseconds. */
        public static final String CONTROL_CONNECT_TIMEOUT_PROP = "switchboard.control.connect.timeout.ms";
        /** Default: a peer sends Connect as its first message, at once. */
        public static final long CONTROL_CONNECT_TIMEOUT_DEFAULT_MS = 5_000;
        /** Property: longest control message the broker accepts, in bytes (a registration carries schema IR). */
        public static final String MAX_CONTROL_MESSAGE_LENGTH_PROP = "switchboard.control.max.message.length";
        /** Smallest maximum control message length allowed: the broker's own route updates must fit. */
        public static final int MIN_CONTROL_MESSAGE_LENGTH = 64 * 1024;
        /** Property: service names registered at once, all peers together. */
        public static final String MAX_SERVICES_PROP = "switchboard.max.services";
        /** Default bound on service names. */
        public static final int MAX_SERVICES_DEFAULT = 10_000;
        /** Property: schema IR bytes the registry keeps, all services together. */
        public static final String MAX_SCHEMA_BYTES_PROP = "switchboard.max.schema.bytes";
        /** Default bound on kept schema IR. */
        public static final long MAX_SCHEMA_BYTES_DEFAULT = 64L * 1024 * 1024;
        /** Property: service instances one peer may hold. */
        public static final String MAX_SERVICES_PER_PEER_PROP = "switchboard.max.services.per.peer";
        /** Default bound on one peer's service instances. */
        public static final int MAX_SERVICES_PER_PEER_DEFAULT = 1_000;
        /** Property: schema IR bytes one peer may have handed over, counted for every instance it holds. */
        public static final String MAX_SCHEMA_BYTES_PER_PEER_PROP = "switchboard.max.schema.bytes.per.peer";
        /** Default bound on one peer's schema IR. */
        public static final long MAX_SCHEMA_BYTES_PER_PEER_DEFAULT = 16L * 1024 * 1024;
        /** Property: subscription patterns one peer may hold. */
        public static final String MAX_PATTERNS_PER_PEER_PROP = "switchboard.max.patterns.per.peer";
        /** Default bound on one peer's patterns (each at most 255 characters). */
        public static final int MAX_PATTERNS_PER_PEER_DEFAULT = 10_000;

        private Path socketDir;
        private String aeronDirectoryName;
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
        private boolean gateway = true;
        private final GatewayContext gatewayContext = new GatewayContext();
        private AllowedPeers allowedPeers;
        private long controlConnectTimeoutMs =
            Configuration.longProperty(CONTROL_CONNECT_TIMEOUT_PROP, CONTROL_CONNECT_TIMEOUT_DEFAULT_MS);
        private int maxControlMessageLength = (int)Configuration.longProperty(
            MAX_CONTROL_MESSAGE_LENGTH_PROP, Configuration.MAX_CONTROL_MESSAGE_LENGTH);
        private int maxServices = (int)Configuration.longProperty(MAX_SERVICES_PROP, MAX_SERVICES_DEFAULT);
        private long maxSchemaBytes = Configuration.longProperty(MAX_SCHEMA_BYTES_PROP, MAX_SCHEMA_BYTES_DEFAULT);
        private int maxServicesPerPeer =
            (int)Configuration.longProperty(MAX_SERVICES_PER_PEER_PROP, MAX_SERVICES_PER_PEER_DEFAULT);
        private long maxSchemaBytesPerPeer =
            Configuration.longProperty(MAX_SCHEMA_BYTES_PER_PEER_PROP, MAX_SCHEMA_BYTES_PER_PEER_DEFAULT);
        private int maxPatternsPerPeer =
            (int)Configuration.longProperty(MAX_PATTERNS_PER_PEER_PROP, MAX_PATTERNS_PER_PEER_DEFAULT);
        private boolean haltOnFatalError = true;
        private IdleStrategy idleStrategy;
        private ErrorHandler errorHandler;
        private Consumer<String> logger;

        /**
         * Fill in defaults and check the settings.
         *
         * @return this for a fluent API.
         */
        public Context conclude()
        {
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
            if (controlConnectTimeoutMs <= 0)
            {
                throw new IllegalArgumentException("control connect timeout: expected > 0 ms, actual=" +
                    controlConnectTimeoutMs);
            }
            if (maxControlMessageLength < MIN_CONTROL_MESSAGE_LENGTH ||
                maxControlMessageLength > Configuration.MAX_CONTROL_MESSAGE_LENGTH)
            {
                throw new IllegalArgumentException("max control message length: expected " +
                    MIN_CONTROL_MESSAGE_LENGTH + ".." + Configuration.MAX_CONTROL_MESSAGE_LENGTH + " bytes, actual=" +
                    maxControlMessageLength);
            }
            if (maxServices <= 0 || maxServicesPerPeer <= 0 || maxPatternsPerPeer <= 0 || maxSchemaBytes < 0 ||
                maxSchemaBytesPerPeer < 0)
            {
                throw new IllegalArgumentException("registry limits: expected services, services per peer and " +
                    "patterns per peer > 0 and schema bytes >= 0, actual=" + maxServices + ", " + maxServicesPerPeer +
                    ", " + maxPatternsPerPeer + ", " + maxSchemaBytes + ", " + maxSchemaBytesPerPeer);
            }
            if (null == idleStrategy)
            {
                idleStrategy = new BackoffIdleStrategy(
                    10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
            }
            if (null == logger)
            {
                logger = (msg) -> System.out.println("switchboard: " + msg);
            }
            if (null == errorHandler)
            {
                errorHandler = (ex) -> System.err.println("switchboard: error: " + ex);
            }
            return this;
        }

        /**
         * Directory of the broker's sockets (created 0700).
         *
         * @param socketDir the directory.
         * @return this for a fluent API.
         */
        public Context socketDir(final Path socketDir)
        {
            this.socketDir = socketDir;
            return this;
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
        public Context gatewaySocket(final Path gatewaySocket)
        {
            gatewayContext.socketPath(gatewaySocket);
            return this;
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
         * Whether to start the Unix-socket gateway (default true).
         *
         * @param gateway true to start it.
         * @return this for a fluent API.
         */
        public Context gateway(final boolean gateway)
        {
            this.gateway = gateway;
            return this;
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
        public Context allowUser(final String nameOrUid)
        {
            allowedPeers().allowUser(nameOrUid);
            return this;
        }

        /**
         * Allow gateway peers whose primary group is this one (SO_PEERCRED); repeatable. Makes the socket directory
         * 0711 and the gateway socket 0666.
         *
         * @param nameOrGid a group name or numeric gid.
         * @return this for a fluent API.
         */
        public Context allowGroup(final String nameOrGid)
        {
            allowedPeers().allowGroup(nameOrGid);
            return this;
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
        public Context aeronDirectoryName(final String aeronDirectoryName)
        {
            this.aeronDirectoryName = aeronDirectoryName;
            return this;
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
        public Context embeddedDriver(final boolean embeddedDriver)
        {
            this.embeddedDriver = embeddedDriver;
            return this;
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
        public Context heartbeatIntervalMs(final long heartbeatIntervalMs)
        {
            this.heartbeatIntervalMs = heartbeatIntervalMs;
            return this;
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
        public Context livenessTimeoutMs(final long livenessTimeoutMs)
        {
            this.livenessTimeoutMs = livenessTimeoutMs;
            return this;
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
        public Context termLength(final int termLength)
        {
            this.termLength = termLength;
            return this;
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
         * How long a cut-loose subscriber rests before it rejoins.
         *
         * @return the timeout in milliseconds.
         */
        public long untetheredRestingTimeoutMs()
        {
            return untetheredRestingTimeoutMs;
        }

        /**
         * How long a control connection may stay open without sending Connect; then it is answered
         * {@code TIMEOUT} and closed.
         *
         * @param controlConnectTimeoutMs the time in milliseconds (default 5000).
         * @return this for a fluent API.
         */
        public Context controlConnectTimeoutMs(final long controlConnectTimeoutMs)
        {
            this.controlConnectTimeoutMs = controlConnectTimeoutMs;
            return this;
        }

        /**
         * How long a control connection may stay open without sending Connect.
         *
         * @return the time in milliseconds.
         */
        public long controlConnectTimeoutMs()
        {
            return controlConnectTimeoutMs;
        }

        /**
         * Longest control message accepted; a frame announcing more is answered {@code PAYLOAD_TOO_LARGE} before
         * any buffer grows, and the connection closed.
         *
         * @param maxControlMessageLength in bytes, 64 KiB to 4 MiB (the default).
         * @return this for a fluent API.
         */
        public Context maxControlMessageLength(final int maxControlMessageLength)
        {
            this.maxControlMessageLength = maxControlMessageLength;
            return this;
        }

        /**
         * Longest control message accepted.
         *
         * @return the length in bytes.
         */
        public int maxControlMessageLength()
        {
            return maxControlMessageLength;
        }

        /**
         * Bound on service names, all peers together.
         *
         * @param maxServices the bound (default 10,000).
         * @return this for a fluent API.
         */
        public Context maxServices(final int maxServices)
        {
            this.maxServices = maxServices;
            return this;
        }

        /**
         * Bound on service names, all peers together.
         *
         * @return the bound.
         */
        public int maxServices()
        {
            return maxServices;
        }

        /**
         * Bound on the schema IR bytes the registry keeps, all services together.
         *
         * @param maxSchemaBytes the bound (default 64 MiB).
         * @return this for a fluent API.
         */
        public Context maxSchemaBytes(final long maxSchemaBytes)
        {
            this.maxSchemaBytes = maxSchemaBytes;
            return this;
        }

        /**
         * Bound on the schema IR bytes the registry keeps.
         *
         * @return the bound in bytes.
         */
        public long maxSchemaBytes()
        {
            return maxSchemaBytes;
        }

        /**
         * Bound on the service instances one peer may hold (not the in-process gateway, which holds them for many
         * socket connections that the gateway bounds one by one); over it {@code INVALID_REQUEST}.
         *
         * @param maxServicesPerPeer the bound (default 1,000).
         * @return this for a fluent API.
         */
        public Context maxServicesPerPeer(final int maxServicesPerPeer)
        {
            this.maxServicesPerPeer = maxServicesPerPeer;
            return this;
        }

        /**
         * Bound on the service instances one peer may hold.
         *
         * @return the bound.
         */
        public int maxServicesPerPeer()
        {
            return maxServicesPerPeer;
        }

        /**
         * Bound on the schema IR bytes charged to one peer (each instance is charged its service's IR); over it
         * {@code PAYLOAD_TOO_LARGE}.
         *
         * @param maxSchemaBytesPerPeer the bound (default 16 MiB).
         * @return this for a fluent API.
         */
        public Context maxSchemaBytesPerPeer(final long maxSchemaBytesPerPeer)
        {
            this.maxSchemaBytesPerPeer = maxSchemaBytesPerPeer;
            return this;
        }

        /**
         * Bound on the schema IR bytes charged to one peer.
         *
         * @return the bound in bytes.
         */
        public long maxSchemaBytesPerPeer()
        {
            return maxSchemaBytesPerPeer;
        }

        /**
         * Bound on the subscription patterns one peer may hold; over it {@code INVALID_REQUEST}.
         *
         * @param maxPatternsPerPeer the bound (default 10,000).
         * @return this for a fluent API.
         */
        public Context maxPatternsPerPeer(final int maxPatternsPerPeer)
        {
            this.maxPatternsPerPeer = maxPatternsPerPeer;
            return this;
        }

        /**
         * Bound on the subscription patterns one peer may hold.
         *
         * @return the bound.
         */
        public int maxPatternsPerPeer()
        {
            return maxPatternsPerPeer;
        }

        /**
         * Whether an Error in an agent, or an agent that stops while the broker runs, ends the process at once
         * (status {@link Broker#FATAL_EXIT_STATUS}) so that a supervisor restarts it (default true).
         *
         * @param haltOnFatalError false only for a program that embeds the broker and supervises it itself.
         * @return this for a fluent API.
         */
        public Context haltOnFatalError(final boolean haltOnFatalError)
        {
            this.haltOnFatalError = haltOnFatalError;
            return this;
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
        public Context idleStrategy(final IdleStrategy idleStrategy)
        {
            this.idleStrategy = idleStrategy;
            return this;
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
        public Context errorHandler(final ErrorHandler errorHandler)
        {
            this.errorHandler = errorHandler;
            return this;
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
        public Context logger(final Consumer<String> logger)
        {
            this.logger = logger;
            return this;
        }

        void log(final String message)
        {
            logger.accept(message);
        }
    }
}
