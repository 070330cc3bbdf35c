package io.switchboard.transport;

import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.codec.wire.RequestKind;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Java peer of a Switchboard broker: it calls services, serves them, publishes and subscribes, with the data going
 * directly to the other peers over Aeron IPC.
 * <p>
 * Two ways to run it, chosen in the {@link Context}:
 * <ul>
 *     <li>with its own thread (the default): callbacks run on that thread, and the {@code *Async} methods return
 *     futures;</li>
 *     <li>with no thread ({@link Context#useConductorAgentInvoker(boolean)}): the application calls {@link #poll()}
 *     from its own duty cycle, and callbacks run inside that call.</li>
 * </ul>
 * Thread-safe: API calls and the duty cycle share one lock, uncontended when the application drives the duty cycle
 * itself.
 */
public final class Switchboard implements AutoCloseable
{
    private final Context ctx;
    private final ReentrantLock lock;
    private final ClientConductor conductor;
    private final AgentRunner runner;
    private final FireAndForgetOutcome fireAndForget = new FireAndForgetOutcome();
    private volatile boolean closed;

    private Switchboard(final Context ctx) throws IOException
    {
        this(ctx, new ReentrantLock(), null);
    }

    private Switchboard(final Context ctx, final ReentrantLock lock, final ClientConductor conductor)
        throws IOException
    {
        this.ctx = ctx;
        this.lock = lock;
        this.conductor = null == conductor ? new ClientConductor(ctx, lock) : conductor;
        if (ctx.useConductorAgentInvoker())
        {
            runner = null;
        }
        else
        {
            runner = new AgentRunner(ctx.idleStrategy(), ctx.errorHandler(), null, new LockedAgent());
            AgentRunner.startOnThread(runner);
        }
    }

    /**
     * Connect to the broker at the default location.
     *
     * @return a connected client.
     */
    public static Switchboard connect()
    {
        return connect(new Context());
    }

    /**
     * Connect to the broker the context names.
     *
     * @param ctx settings of the client.
     * @return a connected client.
     * @throws UncheckedIOException if there is no broker or its media driver cannot be reached.
     */
    public static Switchboard connect(final Context ctx)
    {
        ctx.conclude();
        try
        {
            return new Switchboard(ctx);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex.getMessage(), ex);
        }
    }

    /**
     * A client around a conductor a test built (on a fake data plane); no thread of its own.
     *
     * @param ctx of the conductor, with useConductorAgentInvoker set.
     * @param conductor built by the test.
     * @param lock the conductor was built with.
     * @return the client.
     */
    static Switchboard connectForTest(final Context ctx, final ClientConductor conductor, final ReentrantLock lock)
        throws IOException
    {
        return new Switchboard(ctx, lock, conductor);
    }

    /**
     * Run one duty cycle: read the control connection, the inbox and subscriptions, expire timed-out calls.
     * Only for a client with no thread of its own.
     *
     * @return amount of work done, 0 when idle.
     */
    public int poll()
    {
        if (null != runner)
        {
            throw new IllegalStateException("this client runs its own thread; poll() is for useConductorAgentInvoker");
        }
        lock.lock();
        try
        {
            checkNotInHandler("poll()");
            return conductor.doWork();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Call a service; the outcome goes to the listener, exactly once.
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the request payload (an SBE message with its header, or JSON bytes for opaque types).
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param timeoutNs after which the call fails with {@code TIMEOUT}.
     * @param listener to receive the outcome.
     * @return the correlation id of the call.
     */
    public long request(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long timeoutNs,
        final ResponseListener listener)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.request(
                service, messageType, buffer, offset, length, timeoutNs, listener, null, RequestKind.REQUEST);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Call a service and get the reply as a future (copies the reply; use {@link #request} on hot paths).
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the request payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param timeout after which the call fails with {@code TIMEOUT}.
     * @return a future completed with the reply, or exceptionally with a {@link SwitchboardException}.
     */
    public CompletableFuture<Reply> requestAsync(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final Duration timeout)
    {
        final CompletableFuture<Reply> future = new CompletableFuture<>();
        request(service, messageType, buffer, offset, length, timeout.toNanos(), new ResponseListener()
        {
            public void onResponse(final long correlationId, final DirectBuffer b, final int o, final int l)
            {
                future.complete(new Reply(correlationId, b, o, l));
            }

            public void onError(final long correlationId, final String errorCode, final String message)
            {
                future.completeExceptionally(new SwitchboardException(errorCode, message));
            }
        });
        return future;
    }

    /**
     * Ask a service for a stream of items.
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the request payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param idleTimeoutNs longest wait for the next frame before the stream fails with {@code TIMEOUT}.
     * @param listener to receive the frames and the end.
     * @return the correlation id of the stream, for {@link #cancel(long)}.
     */
    public long stream(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long idleTimeoutNs,
        final StreamListener listener)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.request(
                service, messageType, buffer, offset, length, idleTimeoutNs, null, listener, RequestKind.STREAM);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Cancel a stream in flight: the service is told, and the listener gets {@code CANCELLED} at once.
     *
     * @param correlationId of the stream.
     * @return true if the stream was in flight.
     */
    public boolean cancel(final long correlationId)
    {
        lock.lock();
        try
        {
            return conductor.cancel(correlationId);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Stop waiting for a request or stream whose answer nobody wants any more (its caller went away): the listener
     * is not called, and an answer that arrives later is counted as late. A stream is also cancelled at the
     * service.
     *
     * @param correlationId of the request or stream.
     * @return true if it was in flight.
     */
    public boolean abandon(final long correlationId)
    {
        lock.lock();
        try
        {
            return conductor.abandon(correlationId);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Send a message to a service with no reply (fire-and-forget).
     *
     * @param service name of the service.
     * @param messageType name of the message type.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @throws SwitchboardException if the message could not be handed to the service.
     */
    public void send(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        lock.lock();
        try
        {
            checkOpen();
            fireAndForget.errorCode = null;
            conductor.request(service, messageType, buffer, offset, length, 0, fireAndForget, null,
                RequestKind.FIRE_AND_FORGET);
            if (null != fireAndForget.errorCode)
            {
                throw new SwitchboardException(fireAndForget.errorCode, fireAndForget.message);
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Offer a service and wait until the broker has registered it.
     *
     * @param definition of the service.
     * @throws SwitchboardException with {@code NAME_IN_USE} if the name is held, or another code on failure.
     */
    public void serve(final ServiceDefinition definition)
    {
        final CompletableFuture<Void> future;
        lock.lock();
        try
        {
            checkOpen();
            checkNotInHandler("serve('" + definition.name() + "')");
            future = conductor.register(definition);
        }
        finally
        {
            lock.unlock();
        }
        await(future, "register '" + definition.name() + "'");
    }

    /**
     * Withdraw a service; requests in flight to it are still answered by its handlers if they arrive.
     *
     * @param service name of the service.
     */
    public void unserve(final String service)
    {
        final CompletableFuture<Void> future;
        lock.lock();
        try
        {
            checkOpen();
            checkNotInHandler("unserve('" + service + "')");
            future = conductor.unregister(service);
        }
        finally
        {
            lock.unlock();
        }
        await(future, "unregister '" + service + "'");
    }

    /**
     * Receive every publication whose subject matches the pattern.
     *
     * @param pattern such as {@code prices.*} or {@code orders.>}.
     * @param handler to receive matching publications.
     */
    public void subscribe(final String pattern, final PushHandler handler)
    {
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        final CompletableFuture<Void> future;
        lock.lock();
        try
        {
            checkOpen();
            checkNotInHandler("subscribe('" + pattern + "')");
            conductor.subscribe(compiled, handler);
            future = conductor.announceSubscription(pattern, true);
        }
        finally
        {
            lock.unlock();
        }
        await(future, "subscribe '" + pattern + "'");
    }

    /**
     * Drop the subscriptions held with this pattern.
     *
     * @param pattern as given to {@link #subscribe}.
     */
    public void unsubscribe(final String pattern)
    {
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        final CompletableFuture<Void> future;
        lock.lock();
        try
        {
            checkOpen();
            checkNotInHandler("unsubscribe('" + pattern + "')");
            conductor.unsubscribe(compiled, null);
            future = conductor.announceSubscription(pattern, false);
        }
        finally
        {
            lock.unlock();
        }
        await(future, "unsubscribe '" + pattern + "'");
    }

    /**
     * Publish on a subject; every subscriber with a matching pattern reads it from one shared log.
     *
     * @param subject such as {@code prices.ACME} (no wildcards).
     * @param messageType name of the payload's message type.
     * @param templateId SBE template id of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return the publication's sequence number (from 1) if written, else a negative Aeron publication result
     * (e.g. {@code Publication.BACK_PRESSURED}) meaning it was not published.
     * @throws SwitchboardException with {@code SERVICE_UNAVAILABLE} if this client's publication log had to be
     * created (its first publish, or the first after a reconnection) and the media driver could not create it, most
     * likely for want of space in its directory; nothing was published, and a later publish asks again.
     */
    public long publish(
        final String subject,
        final String messageType,
        final int templateId,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.publish(subject, messageType, templateId, buffer, offset, length);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * A publisher for one subject and message type, for a thread that publishes often: its {@link
     * SubjectPublisher#offer} skips the client's lock and the subject check, and writes to a log of its own.
     *
     * @param subject such as {@code prices.ACME} (no wildcards).
     * @param messageType name of the payload's message type.
     * @param templateId SBE template id of the payload, or -1 for opaque JSON.
     * @return the publisher, open until it or this client is closed.
     * @throws IllegalArgumentException if the subject is not a valid subject.
     */
    public SubjectPublisher publisher(final String subject, final String messageType, final int templateId)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.newPublisher(subject, messageType, templateId);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * This peer's id, assigned by the broker.
     *
     * @return the client id.
     */
    public int clientId()
    {
        return conductor.clientId();
    }

    /**
     * This peer's counters.
     *
     * @return the counters.
     */
    public ClientCounters counters()
    {
        return conductor.counters();
    }

    /**
     * Whether the route table knows the service (route updates arrive asynchronously).
     *
     * @param service name of the service.
     * @return true if at least one instance is known.
     */
    public boolean hasService(final String service)
    {
        lock.lock();
        try
        {
            return conductor.hasRoute(service);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Whether the connection to the broker is down (lost and, if reconnecting, not yet back).
     *
     * @return true while there is no broker connection.
     */
    public boolean isBrokerLost()
    {
        lock.lock();
        try
        {
            return conductor.isBrokerLost();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Fail every call in flight with {@code SERVICE_UNAVAILABLE}, stop the thread, and release the connection.
     */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (null != runner)
        {
            CloseHelper.close(runner);
        }
        else
        {
            lock.lock();
            try
            {
                conductor.onClose();
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    /**
     * The settings this client was built with.
     *
     * @return the context.
     */
    public Context context()
    {
        return ctx;
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("client is closed");
        }
    }

    /**
     * A handler runs inside the duty cycle: calling back into the client from it would run the duty cycle inside
     * itself (a fragment being handled delivered again) or wait for an answer only that duty cycle can read.
     */
    private void checkNotInHandler(final String what)
    {
        if (conductor.isInDutyCycle() || (null != runner && Thread.currentThread() == runner.thread()))
        {
            throw new IllegalStateException(what + " called from a handler, inside the client's duty cycle, where " +
                "it would run the duty cycle inside itself or wait for itself; call it from outside the handler");
        }
    }

    private void await(final CompletableFuture<Void> future, final String what)
    {
        if (null != runner && Thread.currentThread() == runner.thread())
        {
            throw new IllegalStateException(what + ": called from the client's own thread (a handler), where it " +
                "would wait for itself; call it from another thread");
        }
        final long deadlineNs = ctx.nanoClock().nanoTime() + ctx.controlTimeoutNs();
        try
        {
            if (null == runner)
            {
                while (!future.isDone())
                {
                    if (ctx.nanoClock().nanoTime() - deadlineNs > 0)
                    {
                        throw new SwitchboardException(ErrorCodes.TIMEOUT, what + ": no answer from the broker");
                    }
                    if (0 == poll())
                    {
                        Thread.yield();
                    }
                }
                future.join();
            }
            else
            {
                future.get(ctx.controlTimeoutNs(), TimeUnit.NANOSECONDS);
            }
        }
        catch (final ExecutionException | java.util.concurrent.CompletionException ex)
        {
            final Throwable cause = ex.getCause();
            if (cause instanceof SwitchboardException)
            {
                throw (SwitchboardException)cause;
            }
            throw new SwitchboardException(ErrorCodes.INTERNAL_ERROR, what + ": " + cause);
        }
        catch (final TimeoutException ex)
        {
            throw new SwitchboardException(ErrorCodes.TIMEOUT, what + ": no answer from the broker");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new SwitchboardException(ErrorCodes.INTERNAL_ERROR, what + ": interrupted");
        }
    }

    private final class LockedAgent implements Agent
    {
        public int doWork()
        {
            if (!lock.tryLock())
            {
                return 0;
            }
            try
            {
                return conductor.doWork();
            }
            finally
            {
                lock.unlock();
            }
        }

        public void onClose()
        {
            lock.lock();
            try
            {
                conductor.onClose();
            }
            finally
            {
                lock.unlock();
            }
        }

        public String roleName()
        {
            return conductor.roleName();
        }
    }

    private static final class FireAndForgetOutcome implements ResponseListener
    {
        String errorCode;
        String message;

        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            this.errorCode = errorCode;
            this.message = message;
        }
    }

    /**
     * Settings of a client, with defaults from {@link Configuration}. Fluent; validated by {@link #conclude()}.
     */
    public static final class Context
    {
        private Path controlSocket;
        private String clientName;
        private boolean useConductorAgentInvoker;
        private IdleStrategy idleStrategy;
        private ErrorHandler errorHandler;
        private EpochClock epochClock = SystemEpochClock.INSTANCE;
        private NanoClock nanoClock = SystemNanoClock.INSTANCE;
        private long sendTimeoutNs = TimeUnit.MILLISECONDS.toNanos(200);
        private long backPressureTimeoutNs = -1;
        private long connectTimeoutNs = TimeUnit.SECONDS.toNanos(10);
        private long controlTimeoutNs = TimeUnit.SECONDS.toNanos(10);
        private int offerAttempts = 3;
        private boolean reconnect = true;
        private java.util.function.Consumer<String> logger;
        private long reconnectBackoffMinNs = TimeUnit.MILLISECONDS.toNanos(100);
        private long reconnectBackoffMaxNs = TimeUnit.SECONDS.toNanos(2);

        /**
         * Where cold-path events go: losing the broker, reconnecting.
         *
         * @param logger to receive one line per event.
         * @return this for a fluent API.
         */
        public Context logger(final java.util.function.Consumer<String> logger)
        {
            this.logger = logger;
            return this;
        }

        /**
         * Where cold-path events go.
         *
         * @return the logger.
         */
        public java.util.function.Consumer<String> logger()
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
        public Context reconnect(final boolean reconnect)
        {
            this.reconnect = reconnect;
            return this;
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
        public Context reconnectBackoffNs(final long minNs, final long maxNs)
        {
            this.reconnectBackoffMinNs = minNs;
            this.reconnectBackoffMaxNs = maxNs;
            return this;
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
        public Context conclude()
        {
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
                logger = (msg) -> System.err.println("switchboard[" + clientName + "]: " + msg);
            }
            if (null == errorHandler)
            {
                errorHandler = (ex) -> System.err.println("switchboard[" + clientName + "]: " + ex);
            }
            if (sendTimeoutNs <= 0 || connectTimeoutNs <= 0 || controlTimeoutNs <= 0 || offerAttempts <= 0 ||
                reconnectBackoffMinNs <= 0 || reconnectBackoffMaxNs < reconnectBackoffMinNs)
            {
                throw new IllegalArgumentException("timeouts and attempts must be positive");
            }
            return this;
        }

        /**
         * Path of the broker's control socket.
         *
         * @param controlSocket path; default {@link Configuration#controlSocket()}.
         * @return this for a fluent API.
         */
        public Context controlSocket(final Path controlSocket)
        {
            this.controlSocket = controlSocket;
            return this;
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
        public Context clientName(final String clientName)
        {
            this.clientName = clientName;
            return this;
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
        public Context useConductorAgentInvoker(final boolean useConductorAgentInvoker)
        {
            this.useConductorAgentInvoker = useConductorAgentInvoker;
            return this;
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
         * Idle strategy of the client's own thread; default backs off to 1 ms parks, never busy-spins.
         *
         * @param idleStrategy to use when a duty cycle found no work.
         * @return this for a fluent API.
         */
        public Context idleStrategy(final IdleStrategy idleStrategy)
        {
            this.idleStrategy = idleStrategy;
            return this;
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
        public Context errorHandler(final ErrorHandler errorHandler)
        {
            this.errorHandler = errorHandler;
            return this;
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
        public Context epochClock(final EpochClock epochClock)
        {
            this.epochClock = epochClock;
            return this;
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
        public Context nanoClock(final NanoClock nanoClock)
        {
            this.nanoClock = nanoClock;
            return this;
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
        public Context sendTimeoutNs(final long sendTimeoutNs)
        {
            this.sendTimeoutNs = sendTimeoutNs;
            return this;
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
        public Context backPressureTimeoutNs(final long backPressureTimeoutNs)
        {
            this.backPressureTimeoutNs = backPressureTimeoutNs;
            return this;
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
        public Context connectTimeoutNs(final long connectTimeoutNs)
        {
            this.connectTimeoutNs = connectTimeoutNs;
            return this;
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
         * Longest wait for the broker's answer to register, subscribe and the like.
         *
         * @param controlTimeoutNs bound of the wait.
         * @return this for a fluent API.
         */
        public Context controlTimeoutNs(final long controlTimeoutNs)
        {
            this.controlTimeoutNs = controlTimeoutNs;
            return this;
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
        public Context offerAttempts(final int offerAttempts)
        {
            this.offerAttempts = offerAttempts;
            return this;
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
    }
}
