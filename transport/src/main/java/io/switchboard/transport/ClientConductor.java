package io.switchboard.transport;

import io.aeron.FragmentAssembler;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.codec.wire.RequestKind;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The agent at the heart of a Java peer. It owns the roles and runs their duty cycle: the {@link BrokerSession}
 * (control connection, heartbeat, reconnection) with its {@link ControlAdapter} and {@link ControlProxy}, the
 * {@link DataPlane} of the session, the {@link InboxAdapter}, the {@link PeerInboxProxy} to other peers' inboxes, the
 * {@link PendingCalls}, the {@link LocalServices} and their streams, the {@link PubSubAdapter}, the
 * {@link LocalSubscriptions} and the {@link PublicationProxy}; it holds the route table and the clock, read once per
 * duty cycle.
 * <p>
 * Single writer: every method runs with the client lock held, either from {@link #doWork()} (the client's own thread
 * or the caller's duty cycle) or from an API call on a user thread.
 */
final class ClientConductor implements Agent
{
    /** Answers and stream frames come in bursts too: more per poll spreads the duty cycle's fixed cost thinner. */
    private static final int FRAGMENT_LIMIT = 64;
    /** Publications are small and come in bursts: more per poll spreads the duty cycle's fixed cost thinner. */
    private static final int PUB_SUB_FRAGMENT_LIMIT = 64;
    private static final long TIMEOUT_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long CONTROL_POLL_INTERVAL_NS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long PUBLISHER_CLOSE_LINGER_NS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Switchboard.Context ctx;
    private final ReentrantLock lock;
    private final NanoClock clock;
    private final ErrorHandler errorHandler;
    private final DataPlane.Factory dataPlaneFactory;
    private DataPlane dataPlane;
    private DataPlane.Reader inbox;
    private DataPlane.Reader pubSubSubscription;
    private final FragmentAssembler inboxAssembler;
    private final FragmentAssembler pubSubAssembler;

    private final ClientCounters counters;
    private final RouteTable routes;
    private final BrokerSession session;
    private final ControlProxy controlProxy;
    private final ControlAdapter controlAdapter;
    private final PendingCalls calls;
    private final LogFactory logs;
    private final PeerInboxProxy peers;
    private final LocalServices services;
    private final InboxAdapter inboxAdapter;
    private final LocalSubscriptions subscriptions;
    private final PubSubAdapter pubSubAdapter;
    private final PublicationProxy publications;
    private final CallRouter callRouter;
    private final Reassembler reassembler;
    private final org.agrona.concurrent.ManyToOneConcurrentArrayQueue<Long> goneImages =
        new org.agrona.concurrent.ManyToOneConcurrentArrayQueue<>(256);
    private final java.util.function.Consumer<Long> imageGone = this::onImageGone;

    private long nowNs;
    private long nextControlPollNs;
    private long nextTimeoutCheckNs;
    private boolean closed;
    private boolean inDutyCycle;
    /** The pub/sub log is being polled on this stack: a push handler runs; never poll it again from inside. */
    private boolean inPubSubPoll;
    private volatile int sessionGeneration;

    ClientConductor(final Switchboard.Context ctx, final ReentrantLock lock) throws IOException
    {
        this(ctx, lock, AeronDataPlane::connect);
    }

    /**
     * A conductor connected to the broker the context names.
     *
     * @param ctx of the client; its nano clock is the conductor's.
     * @param lock shared with the API and the objects that act on the conductor from other threads.
     * @param dataPlaneFactory attaches each session to the media driver: Aeron's, or a test's fake.
     * @throws IOException if there is no broker or its media driver cannot be reached.
     */
    ClientConductor(final Switchboard.Context ctx, final ReentrantLock lock, final DataPlane.Factory dataPlaneFactory)
        throws IOException
    {
        this.ctx = ctx;
        this.lock = lock;
        this.clock = ctx.nanoClock();
        this.errorHandler = ctx.errorHandler();
        this.dataPlaneFactory = dataPlaneFactory;
        this.counters = new ClientCounters(ctx.clientName(), PeerCountersFile.directoryFor(ctx.controlSocket()));
        this.routes = new RouteTable(ctx.maxSchemaBytes());
        this.session = new BrokerSession(ctx, clock, this::onBrokerLost);
        this.controlProxy = new ControlProxy(session);
        this.calls = new PendingCalls(counters, errorHandler);
        this.logs = new LogFactory(clock);
        this.peers = new PeerInboxProxy(ctx, clock, logs, counters);
        this.subscriptions = new LocalSubscriptions(errorHandler);
        this.controlAdapter = new ControlAdapter(routes, peers, controlProxy, this::onPeerGone,
            new RetainedAdapter(subscriptions, counters), errorHandler);
        this.reassembler = new Reassembler(ctx.maxReassemblyBytes(), ctx.maxMessageLength(),
            2 * ctx.pieceTimeoutNs(), counters, errorHandler);
        this.pubSubAdapter = new PubSubAdapter(subscriptions, counters, reassembler);
        this.pubSubAssembler = new FragmentAssembler(pubSubAdapter);
        this.publications = new PublicationProxy(ctx, clock, logs, counters);
        this.publications.ownReader(this::pollOwnSubscriptions);
        this.services = new LocalServices(this, peers, counters, errorHandler);
        this.inboxAdapter = new InboxAdapter(calls, services, counters, errorHandler, reassembler);
        this.inboxAssembler = new FragmentAssembler(inboxAdapter);
        this.callRouter = new CallRouter(
            session, routes, calls, peers, logs, counters, clock, ctx.maxMessageLength());
        peers.heldRequestListener(callRouter::onHeldRequestFailed);

        try
        {
            connect(ctx.connectTimeoutNs());
        }
        catch (final IOException | RuntimeException ex)
        {
            counters.close(); // its file, which no one else would delete while this process lives
            throw ex;
        }
    }

    /**
     * Open a session with the broker: control connection, handshake, media driver, inbox. On failure nothing is
     * left open.
     */
    private void connect(final long handshakeTimeoutNs) throws IOException
    {
        session.connect(controlProxy, controlAdapter, handshakeTimeoutNs);
        final String aeronDirectory = session.aeronDirectory();
        try
        {
            dataPlane = dataPlaneFactory.connect(ctx, aeronDirectory);
            inbox = dataPlane.addReader(
                Configuration.inboxChannel(session.termLength()), session.inboxStreamId(), this::onInboxImageLost);
        }
        catch (final RuntimeException ex)
        {
            session.close();
            CloseHelper.quietClose(dataPlane);
            dataPlane = null;
            throw new IOException("cannot attach to the broker's media driver at " + aeronDirectory + ": " + ex, ex);
        }
        logs.onSession(dataPlane, aeronDirectory);
        peers.onSession(dataPlane, session.clientId(), session.inboxStreamId(), session.termLength());
        publications.onSession(dataPlane, session.clientId(), session.pubSubStreamId(), session.termLength());
        nowNs = clock.nanoTime();
        sessionGeneration++; // publishers open their logs again in this session
    }

    /**
     * After losing the broker: try to open a new session, then register the services and subscriptions again.
     */
    private int tryReconnect()
    {
        if (!session.isReconnectDue(nowNs))
        {
            return 0;
        }
        try
        {
            connect(ctx.connectTimeoutNs());
        }
        catch (final IOException ex)
        {
            session.onReconnectFailed();
            return 1;
        }

        session.onReconnected();
        if (!subscriptions.isEmpty())
        {
            openPubSubSubscription();
        }
        SessionRestore.announce(controlProxy, services, subscriptions, errorHandler);
        ctx.logger().accept("reconnected to the broker as peer " + session.clientId() + ", " + services.size() +
            " service(s) and " + subscriptions.size() + " subscription(s) restored");
        return 1;
    }

    public String roleName()
    {
        return "switchboard-client-" + ctx.clientName();
    }

    public int doWork()
    {
        if (closed)
        {
            return 0;
        }
        inDutyCycle = true;
        try
        {
            return dutyCycle();
        }
        finally
        {
            inDutyCycle = false;
        }
    }

    /**
     * Whether the duty cycle is running on this thread's stack: a handler is being called back from it.
     *
     * @return true inside a callback of the duty cycle.
     */
    boolean isInDutyCycle()
    {
        return inDutyCycle && lock.isHeldByCurrentThread();
    }

    private int dutyCycle()
    {
        nowNs = clock.nanoTime();
        if (session.isLost())
        {
            return ctx.reconnect() ? tryReconnect() : 0;
        }
        int work = dataPlane.invoke();
        if (dataPlane.isClosed())
        {
            // the media driver timed this client out, or the client found the driver silent or itself not run for
            // too long: the broker process was paused (SIGSTOP, a suspended machine) or restarted. Its logs are
            // gone; start again the way we do after losing the broker (new session, services and subscriptions
            // registered again). The closing happened inside invoke() on this thread with an invoker, or on the
            // Aeron client's own thread, which released the resources before unmapping them.
            session.markLost();
            onBrokerLost("the Aeron client closed: media driver timeout or a pause");
            return work + 1;
        }
        if (nowNs - nextControlPollNs >= 0 || subscriptions.hasPending() || controlProxy.hasPending())
        {
            // control traffic is rare: a read syscall per duty cycle would tax every call for nothing; but while a
            // request waits for the broker's answer (a retained publish, a subscription taking its retained values
            // while live publications it cannot take yet are read from the log) the answer is read as it comes
            nextControlPollNs = nowNs + CONTROL_POLL_INTERVAL_NS;
            work += session.poll(controlAdapter);
            if (session.isLost())
            {
                return work;
            }
        }
        inboxAdapter.nowNs(nowNs);
        work += inbox.poll(inboxAssembler, FRAGMENT_LIMIT);
        work += peers.drainLoopback(inboxAdapter);
        work += peers.retryOwed(nowNs);
        work += peers.resumeHeld(nowNs);
        if (null != pubSubSubscription)
        {
            pubSubAdapter.nowNs(nowNs);
            inPubSubPoll = true;
            try
            {
                work += pubSubSubscription.poll(pubSubAssembler, PUB_SUB_FRAGMENT_LIMIT);
            }
            finally
            {
                inPubSubPoll = false;
            }
            pubSubAdapter.countPushes();
        }
        if (!goneImages.isEmpty())
        {
            work += goneImages.drain(imageGone);
        }
        if (nowNs - nextTimeoutCheckNs >= 0)
        {
            nextTimeoutCheckNs = nowNs + TIMEOUT_CHECK_INTERVAL_NS;
            work += calls.expire(nowNs);
            work += reassembler.expire(nowNs);
        }
        if (session.isHeartbeatDue(nowNs))
        {
            controlProxy.heartbeat(session.clientId());
            work++;
        }

        return work;
    }

    public void onClose()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        calls.failAll(ErrorCodes.SERVICE_UNAVAILABLE, "client closed");
        services.cancelStreams();
        session.close();
        lingerForPublishers();
        publications.closePublishers(); // their logs close with the Aeron client
        CloseHelper.closeAll(counters, dataPlane);
        dataPlane = null;
    }

    int clientId()
    {
        return session.clientId();
    }

    int maxMessageLength()
    {
        return ctx.maxMessageLength();
    }

    void lock()
    {
        lock.lock();
    }

    void unlock()
    {
        lock.unlock();
    }

    ClientCounters counters()
    {
        return counters;
    }

    // ---------------------------------------------------------------------------------------------------- requests

    long request(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long timeoutNs,
        final ResponseListener listener,
        final StreamListener streamListener,
        final RequestKind kind)
    {
        return callRouter.send(
            service, messageType, buffer, offset, length, timeoutNs, listener, streamListener, kind);
    }

    boolean cancel(final long correlationId)
    {
        return callRouter.cancel(correlationId);
    }

    boolean abandon(final long correlationId)
    {
        return callRouter.abandon(correlationId);
    }

    boolean isRequestHeld(final long correlationId)
    {
        return peers.isHeld(correlationId);
    }

    /**
     * The proxy to other peers' inboxes, through which replies and stream frames go.
     *
     * @return the proxy; use with the client lock held.
     */
    PeerInboxProxy peers()
    {
        return peers;
    }

    void endStream(final StreamSession session, final String errorCode, final String errorMessage)
    {
        services.onStreamEnded(session);
        peers.sendStreamEnd(session.callerInboxStreamId(), session.correlationId(), session.sequence(), errorCode,
            errorMessage, session.timeoutMs(), true);
    }

    /**
     * A frame of the stream could not be written to its caller's inbox: end it there with the error, one attempt now
     * and then owed (its inbox is known to be full or gone).
     */
    void failStream(final StreamSession session, final String errorCode, final String errorMessage)
    {
        services.onStreamEnded(session);
        peers.sendStreamEnd(session.callerInboxStreamId(), session.correlationId(), session.sequence(), errorCode,
            errorMessage, session.timeoutMs(), false);
    }

    // ------------------------------------------------------------------------------------------------ publish/sub

    long publish(
        final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        return publications.publish(subject, messageType, templateId, buffer, offset, length);
    }

    void skipPublications(final long count)
    {
        publications.skip(count);
    }

    /**
     * Ask the broker to keep a publication as its subject's retained value (cold path: a control round trip).
     *
     * @return the reserved sequence and the broker's answer to come.
     */
    RetainedPublish retain(
        final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        if (session.isLost())
        {
            throw new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                "could not publish retained on '" + subject + "': lost the broker");
        }
        return publications.retain(controlProxy, subject, messageType, templateId, buffer, offset, length);
    }

    PublicationProxy publications()
    {
        return publications;
    }

    SubjectPublisher newPublisher(final String subject, final String messageType, final int templateId)
    {
        PublicationProxy.checkSubject(subject);
        final SubjectPublisher publisher = new SubjectPublisher(
            this, subject, messageType, templateId, ctx.epochClock(), ctx.sendTimeoutNs(), ctx.maxMessageLength());
        publications.addPublisher(publisher);
        return publisher;
    }

    int sessionGeneration()
    {
        return sessionGeneration;
    }

    /**
     * Open a publisher's own log in the current session and hand it over with this session's client id and
     * generation; called from the publisher's thread.
     *
     * @return false if the client is closed or has no broker.
     */
    boolean openPublisherLog(final SubjectPublisher publisher)
    {
        lock.lock();
        try
        {
            if (closed || session.isLost() || publisher.isClosed())
            {
                return false;
            }
            publications.openPublisherLog(publisher, sessionGeneration);
            return true;
        }
        finally
        {
            lock.unlock();
        }
    }

    void closePublisher(final SubjectPublisher publisher)
    {
        lock.lock();
        try
        {
            publications.removePublisher(publisher, !closed && !session.isLost());
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Subscribe: the subscription is pending, taking the retained values the broker sends, until the broker
     * acknowledges; then it takes live publications. Refused or unanswered, it goes.
     *
     * @return completed by the broker's answer.
     */
    CompletableFuture<Void> subscribe(final SubjectPattern pattern, final PushHandler handler)
    {
        if (null == pubSubSubscription && !session.isLost())
        {
            openPubSubSubscription();
        }
        return subscriptions.subscribe(controlProxy, pattern, handler);
    }

    /**
     * Read this peer's own subscriptions while one of its long publications waits for its readers (this peer may be
     * one): the handlers are called as from the duty cycle. Also from a handler of the duty cycle (a request handler
     * that publishes), except from a push handler: the pub/sub log is never polled from inside its own poll (Aeron
     * would deliver its fragments again). A long publication from a push handler is held by this peer's own
     * subscription at most the untethered window limit timeout ({@code switchboard.untethered.window.limit
     * .timeout.ms}, 200 ms by default): the driver then rests that subscription, which loses the message (a gap it
     * counts), and the publication goes on.
     */
    private void pollOwnSubscriptions()
    {
        if (null != pubSubSubscription && !inPubSubPoll)
        {
            final boolean wasInDutyCycle = inDutyCycle;
            inDutyCycle = true;
            inPubSubPoll = true;
            try
            {
                pubSubAdapter.nowNs(clock.nanoTime());
                pubSubSubscription.poll(pubSubAssembler, PUB_SUB_FRAGMENT_LIMIT);
                pubSubAdapter.countPushes();
            }
            finally
            {
                inPubSubPoll = false;
                inDutyCycle = wasInDutyCycle;
            }
        }
    }

    /**
     * For a {@link SubjectPublisher} on any thread whose long publication waits for its readers: read this peer's own
     * subscriptions if no other thread is running the duty cycle (which then reads them itself).
     */
    void pollOwnSubscriptionsWhileWaiting()
    {
        if (lock.tryLock())
        {
            try
            {
                if (!closed)
                {
                    pollOwnSubscriptions();
                    ctx.invokeDriver(); // the readers' positions reach the log only when the driver runs
                }
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    boolean holdsSubscription(final SubjectPattern pattern)
    {
        return subscriptions.holds(pattern);
    }

    private void openPubSubSubscription()
    {
        pubSubSubscription = dataPlane.addReader(
            Configuration.pubSubSubscriptionChannel(), session.pubSubStreamId(), this::onPubSubImageLost);
    }

    boolean unsubscribe(final SubjectPattern pattern, final PushHandler handler)
    {
        return subscriptions.remove(pattern, handler);
    }

    private void onPubSubImageLost(final io.aeron.Image image)
    {
        counters.imagesLost.incrementOrdered();
        onImageLost(Reassembler.PUB_SUB, image);
    }

    private void onInboxImageLost(final io.aeron.Image image)
    {
        onImageLost(Reassembler.INBOX, image);
    }

    /**
     * On the Aeron client's thread, or this one's when it has no thread: hand the image over to the duty cycle, which
     * lets go of the message in pieces it was writing (cold path; a full queue leaves it to the expiry).
     */
    private void onImageLost(final int log, final io.aeron.Image image)
    {
        goneImages.offer(Reassembler.key(log, image.sessionId()));
    }

    private void onImageGone(final Long key)
    {
        reassembler.onImageGone(key);
    }

    // -------------------------------------------------------------------------------------------------- control

    CompletableFuture<Void> register(final ServiceDefinition definition)
    {
        if (services.contains(definition.name()))
        {
            return CompletableFuture.failedFuture(new SwitchboardException(
                ErrorCodes.NAME_IN_USE, "this client already serves '" + definition.name() + "'"));
        }

        services.add(definition);
        // the returned stage completes after the removal, with the broker's answer (get() unwraps it)
        return controlProxy.register(definition).whenComplete((v, ex) ->
        {
            if (null != ex)
            {
                services.remove(definition.name());
            }
        });
    }

    CompletableFuture<Void> declareSchema(final MessageSchema schema)
    {
        final CompletableFuture<Void> future = controlProxy.declareSchema(schema.irBytes());
        // kept once accepted (the ack is read on this conductor's thread), to declare again in a new session
        return future.thenRun(() -> services.onSchemaDeclared(schema));
    }

    CompletableFuture<Void> unregister(final String service)
    {
        final CompletableFuture<Void> future = controlProxy.unregister(service);
        future.whenComplete((v, ex) -> services.remove(service));
        return future;
    }

    CompletableFuture<Void> announceSubscription(final String pattern, final boolean subscribe)
    {
        return controlProxy.subscription(pattern, subscribe);
    }

    private void onBrokerLost(final String reason)
    {
        ctx.logger().accept("lost the broker (" + reason + ")" + (ctx.reconnect() ? ", reconnecting" : ""));
        calls.failAll(ErrorCodes.SERVICE_UNAVAILABLE, "lost the broker: " + reason);
        controlProxy.failAll();
        services.cancelStreams();
        session.close();
        closeSession();
        session.scheduleReconnect();
    }

    private void closeSession()
    {
        peers.onSessionClosed();
        logs.onSession(null, null);
        routes.clear();
        pubSubAdapter.onSessionClosed();
        reassembler.clear();
        publications.onSessionClosed();
        lingerForPublishers();
        CloseHelper.quietClose(dataPlane);
        dataPlane = null;
        inbox = null;
        pubSubSubscription = null;
    }

    /**
     * A publisher offers without the lock: before the Aeron client closes, give an offer in progress time to see its
     * log closed before the log is unmapped, as Aeron lingers its own resources.
     */
    private void lingerForPublishers()
    {
        if (null != dataPlane && publications.hasPublishers())
        {
            dataPlane.lingerOnClose(PUBLISHER_CLOSE_LINGER_NS);
        }
    }

    boolean isBrokerLost()
    {
        return session.isLost();
    }

    private void onPeerGone(final int peerId)
    {
        routes.removeClient(peerId);
        calls.failTarget(peerId);
        services.onPeerGone(peerId);
        peers.onPeerGone(peerId);
        pubSubAdapter.forgetPublisher(peerId);
    }

    int pendingCount()
    {
        return calls.size();
    }

    RouteTable routes()
    {
        return routes;
    }
}
