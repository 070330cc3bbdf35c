package io.switchboard.transport;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The settings of a client, with defaults from {@link Configuration}: fields, fluent setters and getters, and the
 * validating {@link #conclude()}. {@link Switchboard.Context} is the public face; this base keeps them out of
 * {@link Switchboard} and returns the concrete type from every setter, so that a chain of calls on a
 * {@code new Switchboard.Context()} stays a {@code Switchboard.Context}.
 * <p>
 * Not thread-safe: set it up on one thread, then hand it to {@link Switchboard#connect(Switchboard.Context)}.
 *
 * @param <C> the concrete context type, returned by the fluent setters.
 */
abstract class ClientContext<C extends ClientContext<C>>
{
    private Path controlSocket;
    private String clientName;
    private boolean useConductorAgentInvoker;
    private AgentInvoker driverAgentInvoker;
    private IdleStrategy idleStrategy;
    private ErrorHandler errorHandler;
    private EpochClock epochClock = SystemEpochClock.INSTANCE;
    private NanoClock nanoClock = SystemNanoClock.INSTANCE;
    private long sendTimeoutNs = TimeUnit.MILLISECONDS.toNanos(200);
    private long backPressureTimeoutNs = -1;
    private boolean holdBackPressuredRequests;
    private long connectTimeoutNs = TimeUnit.SECONDS.toNanos(10);
    private long waitForBrokerNs;
    private long controlTimeoutNs = TimeUnit.SECONDS.toNanos(10);
    private int offerAttempts = 3;
    private boolean reconnect = true;
    private Consumer<String> logger;
    private long reconnectBackoffMinNs = TimeUnit.MILLISECONDS.toNanos(100);
    private long reconnectBackoffMaxNs = TimeUnit.SECONDS.toNanos(2);
    private long maxSchemaBytes;
    private int maxMessageLength = (int)Math.min(Integer.MAX_VALUE, Configuration.longProperty(
        Configuration.MAX_MESSAGE_LENGTH_PROP, Configuration.MAX_MESSAGE_LENGTH_DEFAULT));
    private long maxReassemblyBytes = Configuration.longProperty(
        Configuration.MAX_REASSEMBLY_BYTES_PROP, Configuration.MAX_REASSEMBLY_BYTES_DEFAULT);

    /**
     * The longest payload this peer sends or takes in a call, a reply, a stream frame or a publication; a longer one
     * is refused {@code PAYLOAD_TOO_LARGE} before anything is sent. Default {@link
     * Configuration#MAX_MESSAGE_LENGTH_DEFAULT}, or the {@link Configuration#MAX_MESSAGE_LENGTH_PROP} property; give
     * every peer and the broker the same value.
     *
     * @param maxMessageLength in bytes, 1 to {@link Configuration#MAX_MESSAGE_LENGTH_LIMIT}.
     * @return this for a fluent API.
     */
    public C maxMessageLength(final int maxMessageLength)
    {
        this.maxMessageLength = maxMessageLength;
        return self();
    }

    /**
     * How long a piece after the first of a message longer than one message of its log waits for the reader to make
     * room: the send timeout, but at least a second, since a reader may be busy a while with the message before.
     *
     * @return the bound in nanoseconds.
     */
    public long pieceTimeoutNs()
    {
        return Math.max(TimeUnit.SECONDS.toNanos(1), sendTimeoutNs);
    }

    /**
     * The longest payload this peer sends or takes.
     *
     * @return the length in bytes.
     */
    public int maxMessageLength()
    {
        return maxMessageLength;
    }

    /**
     * Bound on the bytes held for messages being joined from their fragments, every writer together; default
     * {@link Configuration#MAX_REASSEMBLY_BYTES_DEFAULT} or the {@link Configuration#MAX_REASSEMBLY_BYTES_PROP}
     * property. At least one whole message of the maximum length.
     *
     * @param maxReassemblyBytes in bytes.
     * @return this for a fluent API.
     */
    public C maxReassemblyBytes(final long maxReassemblyBytes)
    {
        this.maxReassemblyBytes = maxReassemblyBytes;
        return self();
    }

    /**
     * Bound on the bytes held for messages being joined from their fragments.
     *
     * @return the bound in bytes.
     */
    public long maxReassemblyBytes()
    {
        return maxReassemblyBytes;
    }

    /**
     * Ask the broker for every SBE schema it holds (declared by publishers or handed over with services), kept by
     * schema id and version in {@link RouteTable#schemaIr(int, int)} up to this many IR bytes; a schema past the bound
     * is not kept and reported to the error handler. 0 (the default) asks for none: a peer that only calls and
     * publishes SBE of its own needs none; the gateway, which transcodes for socket clients, does.
     *
     * @param maxSchemaBytes bound on the schema IR bytes kept, 0 for none asked.
     * @return this for a fluent API.
     */
    public C maxSchemaBytes(final long maxSchemaBytes)
    {
        if (maxSchemaBytes < 0)
        {
            throw new IllegalArgumentException("maxSchemaBytes: expected >= 0, actual=" + maxSchemaBytes);
        }
        this.maxSchemaBytes = maxSchemaBytes;
        return self();
    }

    /**
     * Bound on the schema IR bytes kept from the broker; 0 when none are asked for.
     *
     * @return the bound in bytes.
     */
    public long maxSchemaBytes()
    {
        return maxSchemaBytes;
    }

    /**
     * Where cold-path events go: losing the broker, reconnecting.
     *
     * @param logger to receive one line per event.
     * @return this for a fluent API.
     */
    public C logger(final Consumer<String> logger)
    {
        this.logger = logger;
        return self();
    }

    /**
     * Where cold-path events go.
     *
     * @return the logger.
     */
    public Consumer<String> logger()
    {
        return logger;
    }

    /**
     * Whether to reconnect on its own, with exponential backoff, when the broker goes away (default true).
     * After reconnecting, the client registers its services and subscriptions again.
     *
     * @param reconnect true to reconnect.
     * @return this for a fluent API.
     */
    public C reconnect(final boolean reconnect)
    {
        this.reconnect = reconnect;
        return self();
    }

    /**
     * Whether to reconnect on its own when the broker goes away.
     *
     * @return true to reconnect.
     */
    public boolean reconnect()
    {
        return reconnect;
    }

    /**
     * Backoff between reconnection attempts: starts at min, doubles up to max.
     *
     * @param minNs first delay.
     * @param maxNs longest delay.
     * @return this for a fluent API.
     */
    public C reconnectBackoffNs(final long minNs, final long maxNs)
    {
        this.reconnectBackoffMinNs = minNs;
        this.reconnectBackoffMaxNs = maxNs;
        return self();
    }

    /**
     * First delay before reconnecting.
     *
     * @return the delay in nanoseconds.
     */
    public long reconnectBackoffMinNs()
    {
        return reconnectBackoffMinNs;
    }

    /**
     * Longest delay between reconnection attempts.
     *
     * @return the delay in nanoseconds.
     */
    public long reconnectBackoffMaxNs()
    {
        return reconnectBackoffMaxNs;
    }

    /**
     * Fill in defaults and check the settings.
     *
     * @return this for a fluent API.
     */
    public C conclude()
    {
        TimerSlack.configuredNs(); // a bad value is refused at connect, not on the conductor's thread
        if (null != driverAgentInvoker && !useConductorAgentInvoker)
        {
            throw new IllegalStateException(
                "driverAgentInvoker needs useConductorAgentInvoker(true): the driver's invoker has one thread");
        }
        if (null == controlSocket)
        {
            controlSocket = Configuration.controlSocket();
        }
        if (null == clientName)
        {
            clientName = "pid-" + ProcessHandle.current().pid();
        }
        if (null == idleStrategy)
        {
            idleStrategy = new BackoffIdleStrategy(
                100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
        }
        if (null == logger)
        {
            final System.Logger log = Logging.logger("switchboard.peer." + clientName);
            logger = (msg) -> log.log(System.Logger.Level.INFO, msg);
        }
        if (null == errorHandler)
        {
            final System.Logger log = Logging.logger("switchboard.peer." + clientName);
            errorHandler = (ex) -> log.log(System.Logger.Level.ERROR, String.valueOf(ex), ex);
        }
        if (waitForBrokerNs < 0)
        {
            throw new IllegalArgumentException("waitForBrokerNs: expected >= 0, actual=" + waitForBrokerNs);
        }
        if (sendTimeoutNs <= 0 || connectTimeoutNs <= 0 || controlTimeoutNs <= 0 || offerAttempts <= 0 ||
            reconnectBackoffMinNs <= 0 || reconnectBackoffMaxNs < reconnectBackoffMinNs)
        {
            throw new IllegalArgumentException("timeouts and attempts must be positive");
        }
        if (maxMessageLength < 1 || maxMessageLength > Configuration.MAX_MESSAGE_LENGTH_LIMIT)
        {
            throw new IllegalArgumentException("maxMessageLength: expected 1 to " +
                Configuration.MAX_MESSAGE_LENGTH_LIMIT + ", actual=" + maxMessageLength);
        }
        if (maxReassemblyBytes < maxMessageLength)
        {
            throw new IllegalArgumentException("maxReassemblyBytes: expected at least maxMessageLength=" +
                maxMessageLength + ", actual=" + maxReassemblyBytes);
        }
        return self();
    }

    /**
     * Path of the broker's control socket.
     *
     * @param controlSocket path; default {@link Configuration#controlSocket()}.
     * @return this for a fluent API.
     */
    public C controlSocket(final Path controlSocket)
    {
        this.controlSocket = controlSocket;
        return self();
    }

    /**
     * Path of the broker's control socket.
     *
     * @return the path.
     */
    public Path controlSocket()
    {
        return controlSocket;
    }

    /**
     * A name for this peer, shown in discovery, statistics and counters.
     *
     * @param clientName of this peer.
     * @return this for a fluent API.
     */
    public C clientName(final String clientName)
    {
        this.clientName = clientName;
        return self();
    }

    /**
     * A name for this peer.
     *
     * @return the name.
     */
    public String clientName()
    {
        return clientName;
    }

    /**
     * Run with no thread of its own: the application calls {@link Switchboard#poll()} from its duty cycle.
     *
     * @param useConductorAgentInvoker true for no thread.
     * @return this for a fluent API.
     */
    public C useConductorAgentInvoker(final boolean useConductorAgentInvoker)
    {
        this.useConductorAgentInvoker = useConductorAgentInvoker;
        return self();
    }

    /**
     * Whether the client runs with no thread of its own.
     *
     * @return true for no thread.
     */
    public boolean useConductorAgentInvoker()
    {
        return useConductorAgentInvoker;
    }

    /**
     * The invoker of a media driver run in {@code ThreadingMode.INVOKER} by the thread that also polls this client (a
     * broker's link thread, say): wherever the client would wait on the driver (Aeron's synchronous calls, an offer
     * retried while its log is back-pressured or not yet linked, an answer from the broker) it runs the driver's duty
     * cycle instead, since nobody else will. Needs {@link #useConductorAgentInvoker(boolean)}; null (the default) for a
     * driver with threads of its own.
     *
     * @param driverAgentInvoker of the media driver, invoked only on the thread that polls this client.
     * @return this for a fluent API.
     */
    public C driverAgentInvoker(final AgentInvoker driverAgentInvoker)
    {
        this.driverAgentInvoker = driverAgentInvoker;
        return self();
    }

    /**
     * The invoker of a media driver this client's thread runs, or null.
     *
     * @return the invoker, or null.
     */
    public AgentInvoker driverAgentInvoker()
    {
        return driverAgentInvoker;
    }

    /**
     * Run the media driver's duty cycle where a loop of this client waits on the driver and this client's thread is the
     * one that runs it ({@link #driverAgentInvoker(AgentInvoker)}); nothing otherwise.
     *
     * @return work done.
     */
    int invokeDriver()
    {
        return null == driverAgentInvoker ? 0 : driverAgentInvoker.invoke();
    }

    /**
     * Idle strategy of the client's own thread; default backs off to 1 ms parks, never busy-spins.
     *
     * @param idleStrategy to use when a duty cycle found no work.
     * @return this for a fluent API.
     */
    public C idleStrategy(final IdleStrategy idleStrategy)
    {
        this.idleStrategy = idleStrategy;
        return self();
    }

    /**
     * Idle strategy of the client's own thread.
     *
     * @return the idle strategy.
     */
    public IdleStrategy idleStrategy()
    {
        return idleStrategy;
    }

    /**
     * Where errors that belong to no call go (a handler that threw, a malformed message).
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
     * Where errors that belong to no call go.
     *
     * @return the error handler.
     */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    /**
     * Clock for publication timestamps.
     *
     * @param epochClock to use.
     * @return this for a fluent API.
     */
    public C epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
        return self();
    }

    /**
     * Clock for publication timestamps.
     *
     * @return the clock.
     */
    public EpochClock epochClock()
    {
        return epochClock;
    }

    /**
     * Clock of the duty cycle: deadlines, heartbeats, reconnection backoff, send retries. Tests give a cached
     * clock they advance themselves.
     *
     * @param nanoClock to use.
     * @return this for a fluent API.
     */
    public C nanoClock(final NanoClock nanoClock)
    {
        this.nanoClock = nanoClock;
        return self();
    }

    /**
     * Clock of the duty cycle.
     *
     * @return the clock.
     */
    public NanoClock nanoClock()
    {
        return nanoClock;
    }

    /**
     * Longest time a send retries against a back-pressured or not-yet-connected peer inbox.
     *
     * @param sendTimeoutNs bound of the retry.
     * @return this for a fluent API.
     */
    public C sendTimeoutNs(final long sendTimeoutNs)
    {
        this.sendTimeoutNs = sendTimeoutNs;
        return self();
    }

    /**
     * Longest time a send retries.
     *
     * @return the bound in nanoseconds.
     */
    public long sendTimeoutNs()
    {
        return sendTimeoutNs;
    }

    /**
     * Longest time a send retries against a peer inbox that is connected but full (back-pressured), within the
     * send timeout. A thread that serves many callers (the gateway) sets 0: one attempt, so one slow service cannot
     * hold it; a not-yet-connected inbox still gets the whole send timeout to link.
     *
     * @param backPressureTimeoutNs bound of the retry while back-pressured; negative means the send timeout.
     * @return this for a fluent API.
     */
    public C backPressureTimeoutNs(final long backPressureTimeoutNs)
    {
        this.backPressureTimeoutNs = backPressureTimeoutNs;
        return self();
    }

    /**
     * Never wait for a peer inbox in {@code request}, {@code stream} or {@code send}: a request the inbox cannot take
     * yet (back-pressured, not yet linked, or a long message whose next piece has no room) is kept, copied, and
     * resumed on each duty cycle from where it stopped; its call fails {@code TARGET_BUSY} after the send timeout (no
     * piece taken) or the piece timeout (a later piece), and {@link Switchboard#isRequestHeld(long)} tells whether it
     * is still held. Kept requests hold at most {@link PeerInboxProxy#maxHeldBytes(int)} bytes; over that a request is
     * tried once. For a thread that serves many callers (the gateway); default false: a send retries in place.
     *
     * @param holdBackPressuredRequests true to keep and resume instead of waiting.
     * @return this for a fluent API.
     */
    public C holdBackPressuredRequests(final boolean holdBackPressuredRequests)
    {
        this.holdBackPressuredRequests = holdBackPressuredRequests;
        return self();
    }

    /**
     * See {@link #holdBackPressuredRequests(boolean)}.
     *
     * @return true if requests a peer inbox cannot take yet are kept and resumed.
     */
    public boolean holdBackPressuredRequests()
    {
        return holdBackPressuredRequests;
    }

    /**
     * Longest time a send retries against a back-pressured peer inbox.
     *
     * @return the bound in nanoseconds: the send timeout unless set lower.
     */
    public long backPressureTimeoutNs()
    {
        return backPressureTimeoutNs < 0 ? sendTimeoutNs : Math.min(backPressureTimeoutNs, sendTimeoutNs);
    }

    /**
     * Longest wait for the broker's answer to Connect.
     *
     * @param connectTimeoutNs bound of the wait.
     * @return this for a fluent API.
     */
    public C connectTimeoutNs(final long connectTimeoutNs)
    {
        this.connectTimeoutNs = connectTimeoutNs;
        return self();
    }

    /**
     * Longest wait for the broker's answer to Connect.
     *
     * @return the bound in nanoseconds.
     */
    public long connectTimeoutNs()
    {
        return connectTimeoutNs;
    }

    /**
     * How long the first connect waits for a broker that is not up yet (no control socket, or a stale one nobody
     * listens on), trying again with backoff (10 ms doubling to 500 ms), as Aeron's client waits for its media driver:
     * with it, a service and the broker may start in either order. Default 0: fail at once, as the Python
     * ({@code wait_for_broker}) and Node.js ({@code waitForBrokerMs}) clients do by default. After the wait
     * {@link Switchboard#connect(Switchboard.Context)} fails as without it, naming the wait; a broker that is up but
     * refuses this peer is not waited for. Reconnections after losing the broker have their own backoff
     * ({@link #reconnectBackoffNs(long, long)}).
     *
     * @param waitForBrokerNs bound of the wait, 0 for none.
     * @return this for a fluent API.
     */
    public C waitForBrokerNs(final long waitForBrokerNs)
    {
        this.waitForBrokerNs = waitForBrokerNs;
        return self();
    }

    /**
     * How long the first connect waits for a broker that is not up yet.
     *
     * @return the bound in nanoseconds, 0 for none.
     */
    public long waitForBrokerNs()
    {
        return waitForBrokerNs;
    }

    /**
     * Longest wait for the broker's answer to register, subscribe and the like.
     *
     * @param controlTimeoutNs bound of the wait.
     * @return this for a fluent API.
     */
    public C controlTimeoutNs(final long controlTimeoutNs)
    {
        this.controlTimeoutNs = controlTimeoutNs;
        return self();
    }

    /**
     * Longest wait for the broker's answer to a control request.
     *
     * @return the bound in nanoseconds.
     */
    public long controlTimeoutNs()
    {
        return controlTimeoutNs;
    }

    /**
     * How many times a publish is offered against back-pressure before it is reported as not published.
     *
     * @param offerAttempts at least 1.
     * @return this for a fluent API.
     */
    public C offerAttempts(final int offerAttempts)
    {
        this.offerAttempts = offerAttempts;
        return self();
    }

    /**
     * How many times a publish is offered against back-pressure.
     *
     * @return the number of attempts.
     */
    public int offerAttempts()
    {
        return offerAttempts;
    }

    /**
     * This context as its concrete type, for the fluent setters.
     *
     * @return this.
     */
    @SuppressWarnings("unchecked")
    private C self()
    {
        return (C)this;
    }
}
