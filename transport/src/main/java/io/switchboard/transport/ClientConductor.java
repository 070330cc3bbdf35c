package io.switchboard.transport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.ErrorCode;
import io.aeron.Subscription;
import io.aeron.exceptions.AeronException;
import io.aeron.exceptions.RegistrationException;
import io.aeron.logbuffer.Header;
import io.switchboard.codec.subject.AsciiBytes;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.codec.wire.*;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * The agent at the heart of a Java peer: it owns the control connection to the broker, the peer's inbox, its
 * publications to other peers' inboxes, the route table, the calls in flight and the subscriptions.
 * <p>
 * Single writer: every method runs with the client lock held, either from {@link #doWork()} (the client's own thread
 * or the caller's duty cycle) or from an API call on a user thread.
 */
final class ClientConductor implements Agent
{
    private static final int FRAGMENT_LIMIT = 16;
    /** Publications are small and come in bursts: more per poll spreads the duty cycle's fixed cost thinner. */
    private static final int PUB_SUB_FRAGMENT_LIMIT = 64;
    private static final long TIMEOUT_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long CONTROL_POLL_INTERVAL_NS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long PUBLISHER_CLOSE_LINGER_NS = TimeUnit.MILLISECONDS.toNanos(20);
    private final Switchboard.Context ctx;
    private final ReentrantLock lock;
    private final NanoClock clock = SystemNanoClock.INSTANCE;
    private final ErrorHandler errorHandler;
    private ControlConnection control;
    private final DataPlane.Factory dataPlaneFactory;
    private DataPlane dataPlane;
    private DataPlane.Reader inbox;
    private final FragmentAssembler inboxAssembler;
    private DataPlane.Reader pubSubSubscription;
    private final FragmentAssembler pubSubAssembler;

    private int clientId;
    private int inboxStreamId;
    private int pubSubStreamId;
    private int termLength;
    private long heartbeatIntervalNs;
    private String aeronDirectory;

    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final RequestDecoder requestDecoder = new RequestDecoder();
    private final ResponseDecoder responseDecoder = new ResponseDecoder();
    private final StreamFrameDecoder streamFrameDecoder = new StreamFrameDecoder();
    private final StreamEndDecoder streamEndDecoder = new StreamEndDecoder();
    private final CancelDecoder cancelDecoder = new CancelDecoder();
    private final PublicationEncoder publicationEncoder = new PublicationEncoder();
    private final HeartbeatEncoder heartbeatEncoder = new HeartbeatEncoder();
    private final RegisterEncoder registerEncoder = new RegisterEncoder();
    private final UnregisterEncoder unregisterEncoder = new UnregisterEncoder();
    private final SubscribeEncoder subscribeEncoder = new SubscribeEncoder();
    private final UnsubscribeEncoder unsubscribeEncoder = new UnsubscribeEncoder();
    private final RouteUpdateDecoder routeUpdateDecoder = new RouteUpdateDecoder();
    private final PeerGoneDecoder peerGoneDecoder = new PeerGoneDecoder();
    private final ControlAckDecoder controlAckDecoder = new ControlAckDecoder();
    private final ControlErrorDecoder controlErrorDecoder = new ControlErrorDecoder();

    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(64 * 1024);
    private final ExpandableDirectByteBuffer controlBuffer = new ExpandableDirectByteBuffer(4 * 1024);

    private final RouteTable routes = new RouteTable();
    private final Long2ObjectHashMap<CompletableFuture<Void>> pendingControl = new Long2ObjectHashMap<>();
    private final LocalServices services;
    private final InboxAdapter inboxAdapter;
    private final LocalSubscriptions subscriptions;
    private final PubSubAdapter pubSubAdapter;
    private final PublicationProxy publications;

    private final ControlConnection.MessageHandler controlHandler = this::onControlMessage;
    private long nextControlPollNs;

    private long nextReconnectNs;
    private long reconnectBackoffNs;
    private long nextControlCorrelationId = 1;
    private long nowNs;
    private long nextTimeoutCheckNs;
    private long nextHeartbeatNs;
    private boolean brokerLost;
    private boolean closed;
    private volatile int sessionGeneration;
    private final ClientCounters counters;
    private final PendingCalls calls;
    private final LogFactory logs;
    private final PeerInboxProxy peers;

    ClientConductor(final Switchboard.Context ctx, final ReentrantLock lock) throws IOException
    {
        this(ctx, lock, AeronDataPlane::connect);
    }

    ClientConductor(final Switchboard.Context ctx, final ReentrantLock lock, final DataPlane.Factory dataPlaneFactory)
        throws IOException
    {
        this.ctx = ctx;
        this.dataPlaneFactory = dataPlaneFactory;
        this.lock = lock;
        this.errorHandler = ctx.errorHandler();
        this.counters = new ClientCounters(ctx.clientName());
        this.calls = new PendingCalls(counters, errorHandler);
        this.logs = new LogFactory(clock);
        this.peers = new PeerInboxProxy(ctx, clock, logs, counters);
        this.subscriptions = new LocalSubscriptions(errorHandler);
        this.pubSubAdapter = new PubSubAdapter(subscriptions, counters);
        this.pubSubAssembler = new FragmentAssembler(pubSubAdapter);
        this.publications = new PublicationProxy(ctx, clock, logs, counters);
        this.services = new LocalServices(this, peers, counters, errorHandler);
        this.inboxAdapter = new InboxAdapter(calls, services, counters, errorHandler);
        this.inboxAssembler = new FragmentAssembler(inboxAdapter);

        connect(ctx.connectTimeoutNs());
    }

    /**
     * Open a session with the broker: control connection, handshake, media driver, inbox. On failure nothing is
     * left open.
     */
    private void connect(final long handshakeTimeoutNs) throws IOException
    {
        TrustedDirectory.checkSocketDirectory(ctx.controlSocket()); // an impostor's directory is never connected to
        final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try
        {
            channel.connect(UnixDomainSocketAddress.of(ctx.controlSocket()));
        }
        catch (final IOException ex)
        {
            CloseHelper.quietClose(channel);
            throw new IOException("no Switchboard broker at " + ctx.controlSocket() +
                " (start one with: scripts/switchboard broker): " + ex.getMessage(), ex);
        }
        control = new ControlConnection(channel, Configuration.MAX_CONTROL_MESSAGE_LENGTH);
        brokerLost = false;

        final ConnectAckDecoder ack;
        try
        {
            ack = handshake(handshakeTimeoutNs);
        }
        catch (final IOException ex)
        {
            brokerLost = true;
            control.close();
            throw ex;
        }
        clientId = ack.clientId();
        inboxStreamId = ack.inboxStreamId();
        pubSubStreamId = ack.pubSubStreamId();
        heartbeatIntervalNs = TimeUnit.MILLISECONDS.toNanos(ack.heartbeatIntervalMs());
        termLength = ack.termLength();
        aeronDirectory = ack.aeronDirectory();

        try
        {
            dataPlane = dataPlaneFactory.connect(ctx, aeronDirectory);
            inbox = dataPlane.addReader(Configuration.inboxChannel(termLength), inboxStreamId, null);
        }
        catch (final RuntimeException ex)
        {
            brokerLost = true;
            control.close();
            CloseHelper.quietClose(dataPlane);
            dataPlane = null;
            throw new IOException("cannot attach to the broker's media driver at " + aeronDirectory + ": " + ex, ex);
        }
        logs.onSession(dataPlane, aeronDirectory);
        peers.onSession(dataPlane, clientId, inboxStreamId, termLength);
        publications.onSession(dataPlane, clientId, pubSubStreamId, termLength);
        nowNs = clock.nanoTime();
        nextHeartbeatNs = nowNs + heartbeatIntervalNs;
        sessionGeneration++; // publishers open their logs again in this session
    }

    /**
     * After losing the broker: try to open a new session, then register the services and subscriptions again.
     */
    private int tryReconnect()
    {
        if (nowNs - nextReconnectNs < 0)
        {
            return 0;
        }
        try
        {
            connect(ctx.connectTimeoutNs());
        }
        catch (final IOException ex)
        {
            reconnectBackoffNs = Math.min(reconnectBackoffNs * 2, ctx.reconnectBackoffMaxNs());
            nextReconnectNs = clock.nanoTime() + reconnectBackoffNs;
            return 1;
        }

        reconnectBackoffNs = ctx.reconnectBackoffMinNs();
        for (final ServiceDefinition definition : services.definitions())
        {
            final CompletableFuture<Void> future = sendRegister(definition);
            final String name = definition.name();
            future.whenComplete((v, ex) ->
            {
                if (null != ex)
                {
                    errorHandler.onError(new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                        "could not register '" + name + "' again after reconnecting: " + ex.getMessage()));
                }
            });
        }
        if (!subscriptions.isEmpty())
        {
            openPubSubSubscription();
            for (final String pattern : subscriptions.patterns())
            {
                announceSubscription(pattern, true);
            }
        }
        ctx.logger().accept("reconnected to the broker as peer " + clientId + ", " + services.size() +
            " service(s) and " + subscriptions.size() + " subscription(s) restored");
        return 1;
    }

    private ConnectAckDecoder handshake(final long timeoutNs) throws IOException
    {
        final ConnectEncoder connect = new ConnectEncoder();
        connect.wrapAndApplyHeader(controlBuffer, 0, headerEncoder)
            .protocolVersion(Configuration.CONTROL_PROTOCOL_VERSION)
            .pid(ProcessHandle.current().pid())
            .clientName(ctx.clientName());
        sendControl(MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength());

        final ConnectAckDecoder ack = new ConnectAckDecoder();
        final boolean[] acked = new boolean[1];
        final long deadlineNs = clock.nanoTime() + timeoutNs;
        while (!acked[0])
        {
            final int read = control.poll((buffer, offset, length) ->
            {
                headerDecoder.wrap(buffer, offset);
                if (headerDecoder.templateId() == ConnectAckDecoder.TEMPLATE_ID)
                {
                    final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
                    copy.putBytes(0, buffer, offset, length);
                    headerDecoder.wrap(copy, 0);
                    ack.wrapAndApplyHeader(copy, 0, headerDecoder);
                    acked[0] = true;
                }
                else
                {
                    onControlMessage(buffer, offset, length);
                }
            });
            if (read < 0)
            {
                control.close();
                throw new IOException("broker closed the control connection during the handshake");
            }
            if (clock.nanoTime() - deadlineNs > 0)
            {
                control.close();
                throw new IOException("broker did not answer Connect within " +
                    TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
            }
            if (read == 0)
            {
                Thread.onSpinWait();
                Thread.yield();
            }
        }
        return ack;
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

        nowNs = clock.nanoTime();
        if (brokerLost)
        {
            return ctx.reconnect() ? tryReconnect() : 0;
        }
        int work = 0;
        work += dataPlane.invoke();
        if (dataPlane.isClosed())
        {
            // the media driver timed this client out, or the client found the driver silent or itself not run for
            // too long: the broker process was paused (SIGSTOP, a suspended machine) or restarted. Its logs are
            // gone; start again the way we do after losing the broker (new session, services and subscriptions
            // registered again). The closing happened inside invoke() on this thread with an invoker, or on the
            // Aeron client's own thread, which released the resources before unmapping them.
            onBrokerLost("the Aeron client closed: media driver timeout or a pause");
            return work + 1;
        }
        if (nowNs - nextControlPollNs >= 0)
        {
            // control traffic is rare: a read syscall per duty cycle would tax every call for nothing
            nextControlPollNs = nowNs + CONTROL_POLL_INTERVAL_NS;
            work += pollControl();
            if (brokerLost)
            {
                return work;
            }
        }
        inboxAdapter.nowNs(nowNs);
        work += inbox.poll(inboxAssembler, FRAGMENT_LIMIT);
        if (null != pubSubSubscription)
        {
            work += pubSubSubscription.poll(pubSubAssembler, PUB_SUB_FRAGMENT_LIMIT);
            pubSubAdapter.countPushes();
        }
        if (nowNs - nextTimeoutCheckNs >= 0)
        {
            nextTimeoutCheckNs = nowNs + TIMEOUT_CHECK_INTERVAL_NS;
            work += calls.expire(nowNs);
        }
        if (nowNs - nextHeartbeatNs >= 0 && !brokerLost)
        {
            nextHeartbeatNs = nowNs + heartbeatIntervalNs;
            heartbeatEncoder.wrapAndApplyHeader(controlBuffer, 0, headerEncoder).clientId(clientId);
            sendControl(MessageHeaderEncoder.ENCODED_LENGTH + heartbeatEncoder.encodedLength());
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
        control.close();
        lingerForPublishers();
        publications.closePublishers(); // their logs close with the Aeron client
        CloseHelper.closeAll(counters, dataPlane);
        dataPlane = null;
    }

    int clientId()
    {
        return clientId;
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
        final long correlationId = calls.nextCorrelationId();
        counters.requests.incrementOrdered();

        final RouteTable.Route route = routes.get(service);
        if (brokerLost)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.SERVICE_UNAVAILABLE, "lost the broker");
            return correlationId;
        }
        if (null == route)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.ACTOR_NOT_FOUND, "no service named '" + service + "'");
            return correlationId;
        }
        final int templateId = route.templateId(messageType);
        if (RouteTable.UNKNOWN_TYPE == templateId)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.UNKNOWN_MESSAGE_TYPE,
                "service '" + service + "' does not take message type '" + messageType + "'");
            return correlationId;
        }
        final RouteTable.Instance instance = route.next();

        final long result = peers.sendRequest(
            instance, correlationId, kind, templateId, timeoutNs, service, messageType, buffer, offset, length);
        if (PeerInboxProxy.LOG_REFUSED == result)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.SERVICE_UNAVAILABLE,
                "could not send to service '" + service + "' (peer " + instance.clientId + "): " + logs.refusal());
            return correlationId;
        }
        if (result < 0)
        {
            calls.fail(correlationId, listener, streamListener, PeerInboxProxy.offerErrorCode(result),
                "could not send to service '" + service + "' (peer " + instance.clientId + "): " +
                Publication.errorString(result));
            return correlationId;
        }

        if (RequestKind.FIRE_AND_FORGET != kind)
        {
            calls.add(correlationId, instance.clientId, timeoutNs, nowNs(), listener, streamListener);
        }

        return correlationId;
    }

    boolean cancel(final long correlationId)
    {
        final PendingCall call = calls.get(correlationId);
        if (null == call || null == call.streamListener)
        {
            return false;
        }
        peers.sendCancel(call.targetClientId, call.correlationId);
        calls.complete(call, ErrorCodes.CANCELLED, "cancelled by the caller");
        return true;
    }

    boolean abandon(final long correlationId)
    {
        final PendingCall call = calls.get(correlationId);
        if (null == call)
        {
            return false;
        }
        if (null != call.streamListener)
        {
            peers.sendCancel(call.targetClientId, call.correlationId);
        }
        calls.forget(call);
        return true;
    }

    boolean sendResponse(
        final int callerId,
        final int callerInboxStreamId,
        final long correlationId,
        final String errorCode,
        final String errorMessage,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        return peers.sendResponse(callerInboxStreamId, correlationId, errorCode, errorMessage, buffer, offset, length);
    }

    boolean sendStreamFrame(
        final int callerId,
        final int callerInboxStreamId,
        final long correlationId,
        final long sequence,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        return peers.sendStreamFrame(callerInboxStreamId, correlationId, sequence, buffer, offset, length);
    }

    void endStream(final StreamSession session, final String errorCode, final String errorMessage)
    {
        services.onStreamEnded(session);
        peers.sendStreamEnd(
            session.callerInboxStreamId(), session.correlationId(), session.sequence(), errorCode, errorMessage);
    }

    // ------------------------------------------------------------------------------------------------ publish/sub

    long publish(
        final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        return publications.publish(subject, messageType, templateId, buffer, offset, length);
    }

    SubjectPublisher newPublisher(final String subject, final String messageType, final int templateId)
    {
        PublicationProxy.checkSubject(subject);
        final SubjectPublisher publisher = new SubjectPublisher(
            this, subject, messageType, templateId, ctx.epochClock(), ctx.sendTimeoutNs());
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
            if (closed || brokerLost || publisher.isClosed())
            {
                return false;
            }
            final ExclusivePublication log =
                logs.newPublisherLog(Configuration.pubSubPublicationChannel(termLength), pubSubStreamId);
            if (null == log)
            {
                counters.publishFailures.increment();
                throw new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                    "could not open a log for publishing on '" + publisher.subject() + "': " + logs.refusal());
            }
            publisher.onOpened(log, clientId, sessionGeneration);
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
            publications.removePublisher(publisher, !closed && !brokerLost);
        }
        finally
        {
            lock.unlock();
        }
    }

    void subscribe(final SubjectPattern pattern, final PushHandler handler)
    {
        if (null == pubSubSubscription && !brokerLost)
        {
            openPubSubSubscription();
        }
        subscriptions.add(pattern, handler);
    }

    private void openPubSubSubscription()
    {
        pubSubSubscription = dataPlane.addReader(
            Configuration.pubSubSubscriptionChannel(), pubSubStreamId, this::onPubSubImageLost);
    }

    boolean unsubscribe(final SubjectPattern pattern, final PushHandler handler)
    {
        return subscriptions.remove(pattern, handler);
    }

    private void onPubSubImageLost(final io.aeron.Image image)
    {
        counters.imagesLost.incrementOrdered();
    }

    // -------------------------------------------------------------------------------------------------- control

    CompletableFuture<Void> register(final ServiceDefinition definition)
    {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        if (services.contains(definition.name()))
        {
            future.completeExceptionally(new SwitchboardException(
                ErrorCodes.NAME_IN_USE, "this client already serves '" + definition.name() + "'"));
            return future;
        }

        services.add(definition);
        final CompletableFuture<Void> registered = sendRegister(definition);
        registered.whenComplete((v, ex) ->
        {
            if (null != ex)
            {
                services.remove(definition.name());
            }
        });
        registered.whenComplete((v, ex) ->
        {
            if (null == ex)
            {
                future.complete(null);
            }
            else
            {
                future.completeExceptionally(ex);
            }
        });
        return future;
    }

    private CompletableFuture<Void> sendRegister(final ServiceDefinition definition)
    {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        if (brokerLost)
        {
            future.completeExceptionally(new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE, "no broker connection"));
            return future;
        }
        final long correlationId = nextControlCorrelationId++;
        registerEncoder.wrapAndApplyHeader(controlBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .mode(definition.mode());
        final Map<String, ServiceDefinition.Handler> handlers = definition.handlers();
        final RegisterEncoder.MessageTypesEncoder types = registerEncoder.messageTypesCount(handlers.size());
        for (final ServiceDefinition.Handler h : handlers.values())
        {
            types.next().templateId(h.templateId).name(h.messageType);
        }
        registerEncoder.service(definition.name());
        final byte[] ir = null == definition.schema() ? new byte[0] : definition.schema().irBytes();
        registerEncoder.putSchemaIr(ir, 0, ir.length);
        pendingControl.put(correlationId, future);
        sendControl(MessageHeaderEncoder.ENCODED_LENGTH + registerEncoder.encodedLength());
        return future;
    }

    CompletableFuture<Void> unregister(final String service)
    {
        final long correlationId = nextControlCorrelationId++;
        unregisterEncoder.wrapAndApplyHeader(controlBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .service(service);
        final CompletableFuture<Void> future = new CompletableFuture<>();
        future.whenComplete((v, ex) ->
        {
            services.remove(service);
        });
        pendingControl.put(correlationId, future);
        sendControl(MessageHeaderEncoder.ENCODED_LENGTH + unregisterEncoder.encodedLength());
        return future;
    }

    CompletableFuture<Void> announceSubscription(final String pattern, final boolean subscribe)
    {
        final long correlationId = nextControlCorrelationId++;
        final int length;
        if (subscribe)
        {
            subscribeEncoder.wrapAndApplyHeader(controlBuffer, 0, headerEncoder)
                .correlationId(correlationId).pattern(pattern);
            length = MessageHeaderEncoder.ENCODED_LENGTH + subscribeEncoder.encodedLength();
        }
        else
        {
            unsubscribeEncoder.wrapAndApplyHeader(controlBuffer, 0, headerEncoder)
                .correlationId(correlationId).pattern(pattern);
            length = MessageHeaderEncoder.ENCODED_LENGTH + unsubscribeEncoder.encodedLength();
        }
        final CompletableFuture<Void> future = new CompletableFuture<>();
        if (brokerLost)
        {
            future.completeExceptionally(new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE, "no broker connection"));
            return future;
        }
        pendingControl.put(correlationId, future);
        sendControl(length);
        return future;
    }

    private void sendControl(final int length)
    {
        if (brokerLost)
        {
            return;
        }
        try
        {
            if (!control.send(controlBuffer, 0, length))
            {
                onBrokerLost("control connection not draining");
            }
        }
        catch (final IOException ex)
        {
            onBrokerLost(ex.toString());
        }
    }

    private int pollControl()
    {
        if (brokerLost)
        {
            return 0;
        }
        try
        {
            control.flush();
            final int messages = control.poll(controlHandler);
            if (messages < 0)
            {
                onBrokerLost("broker closed the control connection");
                return 1;
            }
            return messages;
        }
        catch (final IOException ex)
        {
            onBrokerLost(ex.toString());
            return 1;
        }
    }

    private void onBrokerLost(final String reason)
    {
        if (!brokerLost)
        {
            brokerLost = true;
            ctx.logger().accept("lost the broker (" + reason + ")" + (ctx.reconnect() ? ", reconnecting" : ""));
            calls.failAll(ErrorCodes.SERVICE_UNAVAILABLE, "lost the broker: " + reason);
            for (final CompletableFuture<Void> f : pendingControl.values())
            {
                f.completeExceptionally(new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE, "lost the broker"));
            }
            pendingControl.clear();
            services.cancelStreams();
            control.close();
            closeSession();
            reconnectBackoffNs = ctx.reconnectBackoffMinNs();
            nextReconnectNs = clock.nanoTime() + reconnectBackoffNs;
        }
    }

    private void closeSession()
    {
        peers.onSessionClosed();
        logs.onSession(null, null);
        routes.clear();
        pubSubAdapter.onSessionClosed();
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
        return brokerLost;
    }

    private void onControlMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != RouteUpdateDecoder.SCHEMA_ID)
        {
            errorHandler.onError(new IllegalStateException(
                "control message: expected schemaId=" + RouteUpdateDecoder.SCHEMA_ID + ", actual=" + headerDecoder.schemaId()));
            return;
        }
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (headerDecoder.templateId())
        {
            case RouteUpdateDecoder.TEMPLATE_ID:
                onRouteUpdate(routeUpdateDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case PeerGoneDecoder.TEMPLATE_ID:
                onPeerGone(peerGoneDecoder.wrap(buffer, bodyOffset, blockLength, version).clientId());
                break;
            case ControlAckDecoder.TEMPLATE_ID:
            {
                final CompletableFuture<Void> f = pendingControl.remove(
                    controlAckDecoder.wrap(buffer, bodyOffset, blockLength, version).correlationId());
                if (null != f)
                {
                    f.complete(null);
                }
                break;
            }
            case ControlErrorDecoder.TEMPLATE_ID:
            {
                controlErrorDecoder.wrap(buffer, bodyOffset, blockLength, version);
                final CompletableFuture<Void> f = pendingControl.remove(controlErrorDecoder.correlationId());
                final Status status = controlErrorDecoder.status();
                final String message = controlErrorDecoder.message();
                if (null != f)
                {
                    f.completeExceptionally(new SwitchboardException(status.name(), message));
                }
                else
                {
                    errorHandler.onError(new SwitchboardException(status.name(), message));
                }
                break;
            }
            default:
                errorHandler.onError(new IllegalStateException("unknown control templateId=" + headerDecoder.templateId()));
        }
    }

    private void onRouteUpdate(final RouteUpdateDecoder decoder)
    {
        final RouteAction action = decoder.action();
        final int peerId = decoder.clientId();
        final int peerInboxStreamId = decoder.inboxStreamId();
        final ServiceMode mode = decoder.mode();
        final Map<String, Integer> types = new LinkedHashMap<>();
        for (final RouteUpdateDecoder.MessageTypesDecoder t : decoder.messageTypes())
        {
            final int templateId = t.templateId();
            types.put(t.name(), templateId);
        }
        final String service = decoder.service();
        if (RouteAction.ADD == action)
        {
            routes.add(service, mode, peerId, peerInboxStreamId, types);
            peers.onPeerInbox(peerId, peerInboxStreamId);
        }
        else
        {
            routes.remove(service, peerId);
        }
    }

    private void onPeerGone(final int peerId)
    {
        routes.removeClient(peerId);

        calls.failTarget(peerId);

        services.onPeerGone(peerId);

        peers.onPeerGone(peerId);
        pubSubAdapter.forgetPublisher(peerId);
    }

    // ---------------------------------------------------------------------------------------------- data inbound

    // ------------------------------------------------------------------------------------------------- internals

    private void safely(final Runnable action)
    {
        try
        {
            action.run();
        }
        catch (final Throwable ex)
        {
            errorHandler.onError(ex);
        }
    }

    private long nowNs()
    {
        return clock.nanoTime();
    }

    int pendingCount()
    {
        return calls.size();
    }

    boolean hasRoute(final String service)
    {
        return null != routes.get(service);
    }
}
