package io.switchboard.broker;

import io.aeron.Aeron;
import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.LogBufferDescriptor;
import io.switchboard.broker.gateway.GatewayConductor;
import io.switchboard.broker.gateway.GatewayConfiguration;
import io.switchboard.broker.gateway.GatewayContext;
import io.switchboard.broker.gateway.GatewayIdleStrategy;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.TimerSlack;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
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
    /** How long the links may take to start on the driver's thread (their clients' connects, each bounded). */
    private static final long LINKS_START_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    /** How long the links may take to close on the driver's thread. */
    private static final long LINKS_CLOSE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final MediaDriver driver;
    private final BrokerConductor conductor;
    private final AgentRunner runner;
    private final AgentRunner gatewayRunner;
    private final AgentRunner linkRunner;
    private final AgentRunner driverRunner;
    private final DriverAndLinks driverAndLinks;
    private final RuntimeDirectory files;
    private final ErrorHandler agentErrorHandler;
    private final ErrorLogFile errorLog;
    private GatewayConductor gateway;
    private volatile boolean closing;

    private Broker(final Context ctx)
    {
        this.ctx = ctx;
        final RuntimeDirectory files = RuntimeDirectory.claim(ctx); // folders owned (lstat), 0700 and locked, first
        this.files = files;
        this.errorLog = openErrorLog(ctx, files);
        this.agentErrorHandler = this::onAgentError;
        // a link secret others can read refuses the start before anything runs
        final io.switchboard.broker.link.LinkSecret linkSecret = ctx.linkContext().enabled() ?
            readLinkSecret(ctx, files) : null;
        MediaDriver launched = null;
        BrokerConductor created = null;
        AgentRunner startedDriverRunner = null;
        DriverAndLinks startedDriverAndLinks = null;
        // with links, the embedded driver runs on the links' thread (see DriverAndLinks)
        final boolean linksOnDriverThread = ctx.embeddedDriver() && null != linkSecret;
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
                // the driver's own thread's, or with links the thread that runs both (one of them, never both)
                final DriverIdleStrategy driverIdle = new DriverIdleStrategy(
                    TimeUnit.MICROSECONDS.toNanos(ctx.driverYieldUs()),
                    DriverIdleStrategy.minParkNs(ctx.timerSlackNs(), linksOnDriverThread), SystemNanoClock.INSTANCE);
                launched = files.launchDriver(new MediaDriver.Context()
                    .aeronDirectoryName(ctx.aeronDirectoryName())
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .threadingMode(linksOnDriverThread ? ThreadingMode.INVOKER : ThreadingMode.SHARED)
                    .sharedIdleStrategy(driverIdle)
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
                if (linksOnDriverThread)
                {
                    startedDriverAndLinks = new DriverAndLinks(launched.sharedAgentInvoker());
                    startedDriverRunner = new AgentRunner(driverIdle, agentErrorHandler, null, startedDriverAndLinks);
                    AgentRunner.startOnThread(startedDriverRunner, agentThreadFactory("media driver and links"));
                }
            }
            // the broker's own client is driven by the conductor thread (no thread of its own): see BrokerConductor
            final Supplier<Aeron> aeronFactory = () -> Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(ctx.aeronDirectoryName())
                .clientName("switchboard-broker")
                .useConductorAgentInvoker(true)
                .errorHandler(ctx.errorHandler()));
            created = new BrokerConductor(ctx, aeronFactory);
            final io.switchboard.broker.link.LinkInterest linkInterest = null == linkSecret ? null :
                new io.switchboard.broker.link.LinkInterest();
            created.subjects().interestListener(linkInterest); // before the conductor runs: it sees every pattern
            this.driver = launched;
            this.driverRunner = startedDriverRunner;
            this.driverAndLinks = startedDriverAndLinks;
            this.conductor = created;
            this.runner = new AgentRunner(ctx.idleStrategy(), agentErrorHandler, null, created);
            AgentRunner.startOnThread(runner, agentThreadFactory("conductor"));
            this.gatewayRunner = ctx.gateway() ? startGateway(ctx, created) : null;
            this.linkRunner = null == linkSecret ? null : startLinks(ctx, linkSecret, linkInterest);
        }
        catch (final IOException ex)
        {
            closing = true;
            closeOnFailure(created, startedDriverRunner, launched);
            CloseHelper.quietClose(files);
            throw new UncheckedIOException(ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            closing = true;
            closeOnFailure(created, startedDriverRunner, launched);
            CloseHelper.quietClose(files);
            throw ex;
        }
    }

    /**
     * The distinct error log in the socket directory (kept after exit), in front of the context's error handler;
     * {@code broker.info} for the tools; and the counters folder of the peers, whose dead owners' files are reclaimed
     * now.
     */
    private static ErrorLogFile openErrorLog(final Context ctx, final RuntimeDirectory files)
    {
        final java.nio.file.Path socketDir = ctx.socketDir().toAbsolutePath().normalize();
        io.switchboard.transport.PeerCountersFile.reclaim(socketDir.resolve(
            io.switchboard.transport.PeerCountersFile.DIRECTORY_NAME));
        try
        {
            final ErrorLogFile log = ErrorLogFile.create(socketDir, ctx.errorHandler());
            ctx.errorHandler(log);
            BrokerInfo.write(socketDir, ctx);
            return log;
        }
        catch (final IOException ex)
        {
            ctx.errorHandler().onError(new IOException("no error log or broker.info in " + socketDir +
                " (switchboard errors and stat cannot read them): " + ex.getMessage(), ex));
            return null;
        }
    }

    private void closeOnFailure(final BrokerConductor created, final AgentRunner driverRunner, final MediaDriver launched)
    {
        if (null != runner)
        {
            CloseHelper.quietClose(runner); // its onClose closes the conductor and its Aeron client
        }
        else if (null != created)
        {
            created.onClose();
        }
        CloseHelper.quietCloseAll(driverRunner, launched);
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
                // off by default: see TimerSlack for why
                final String slackFailure = ctx.timerSlackNs() > 0 ?
                    TimerSlack.applyToCurrentThread(ctx.timerSlackNs()) : null;
                if (null != slackFailure)
                {
                    ctx.log(slackFailure);
                }
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
                // and no wait for a full inbox at all: a request it cannot take yet is kept and resumed each duty cycle
                // (its connection not read meanwhile), failing TARGET_BUSY after the send or piece timeout
                .holdBackPressuredRequests(true)
                .reconnect(true)
                .reconnectBackoffNs(TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(500))
                // every schema the broker holds, to transcode: bounded as the broker bounds them
                .maxSchemaBytes(Math.max(1, ctx.maxSchemaBytes()))
                .errorHandler(ctx.errorHandler()));
            final GatewayContext gatewayContext = ctx.gatewayContext()
                .socketPath(ctx.gatewaySocket())
                .allowedPeers(ctx.allowedPeers());
            if (null == gatewayContext.errorHandler())
            {
                gatewayContext.errorHandler(ctx.errorHandler());
            }
            gateway = new GatewayConductor(gatewayContext.conclude(), client);
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

    private static io.switchboard.broker.link.LinkSecret readLinkSecret(
        final Context ctx, final RuntimeDirectory files)
    {
        try
        {
            return io.switchboard.broker.link.LinkSecret.read(ctx.linkContext().secretFile());
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(files);
            throw ex;
        }
    }

    /** The links to brokers on other hosts, on their own thread (backing off to parking when idle). */
    private AgentRunner startLinks(
        final Context ctx,
        final io.switchboard.broker.link.LinkSecret secret,
        final io.switchboard.broker.link.LinkInterest interest)
    {
        final io.switchboard.broker.link.LinkConductor links;
        try
        {
            final DriverAndLinks onDriverThread = driverAndLinks;
            if (null != onDriverThread)
            {
                // made on the driver's thread: its clients run the driver there while they wait on it
                onDriverThread.call(() ->
                {
                    final io.switchboard.broker.link.LinkConductor made = new io.switchboard.broker.link.LinkConductor(
                        ctx.linkContext(), secret, ctx.aeronDirectoryName(), ctx.controlSocket(), ctx.maxSchemaBytes(),
                        interest, ctx::log, ctx.errorHandler(), onDriverThread.driver());
                    onDriverThread.links(made);
                    return made;
                }, LINKS_START_TIMEOUT_NS);
                return null;
            }
            links = new io.switchboard.broker.link.LinkConductor(ctx.linkContext(), secret,
                ctx.aeronDirectoryName(), ctx.controlSocket(), ctx.maxSchemaBytes(), interest, ctx::log,
                ctx.errorHandler(), null);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(gatewayRunner, runner);
            throw ex;
        }
        final AgentRunner linkRunner = new AgentRunner(
            io.switchboard.broker.link.LinkContext.idleStrategy(), agentErrorHandler, null, links);
        AgentRunner.startOnThread(linkRunner, agentThreadFactory("link"));
        return linkRunner;
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_ONLY =
        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");

    private static void restrictDirectory(final Path dir) throws IOException
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
        if (null != driverAndLinks)
        {
            try
            {
                driverAndLinks.closeLinks(LINKS_CLOSE_TIMEOUT_NS); // first, as a link thread would be, driver still running
            }
            catch (final RuntimeException ex)
            {
                ctx.errorHandler().onError(ex);
            }
        }
        // the conductor closes its Aeron client on its own thread as it stops; the lock goes last
        CloseHelper.closeAll(linkRunner, gatewayRunner, runner, driverRunner, driver, files);
    }

    /**
     * Settings of a broker, with defaults from {@link Configuration}. Fluent (every setter returns this
     * {@code Context}); validated by {@link #conclude()}. Each setting is described on its setter.
     */
    public static final class Context extends BrokerContext<Context>
    {
    }
}
