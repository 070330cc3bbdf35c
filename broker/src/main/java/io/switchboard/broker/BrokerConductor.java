package io.switchboard.broker;

import io.aeron.Aeron;
import io.switchboard.broker.access.LingeringRefusals;
import io.switchboard.broker.access.SocketFiles;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.codec.wire.Status;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.ControlConnection;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The broker's single writer: it owns the service registry, the subject table, inbox stream-id allocation, peer
 * liveness and the counters, and speaks the control protocol to every Java peer over its Unix socket.
 * <p>
 * A peer's death is learnt from the kernel: its control socket reaches end of file the moment the process dies,
 * SIGKILL included. A peer that hangs while alive stops heartbeating and is dropped after the liveness timeout.
 * Either way its services and subscriptions are removed and every peer is told ({@code PeerGone}), so callers fail
 * what they had in flight on it with {@code SERVICE_UNAVAILABLE}.
 * <p>
 * Its roles: the {@link BrokerControlAdapter} decodes what peers send and calls back here; the
 * {@link BrokerControlProxy} encodes what the broker tells them; {@link PeerLiveness} decides who is silent or
 * late to connect, and tells a pause of the broker from silence of the peers; the {@link CountersClient} drives
 * the broker's own Aeron client (which holds only the {@link BrokerCounters}) on this thread and reopens it when a
 * pause closed it under us. The conductor owns the registry, the subject table and the sessions, and alone
 * changes them.
 * <p>
 * <b>Pauses.</b> A duty cycle that comes more than half the liveness timeout after the previous one means that
 * <i>we</i> were not running: the silence of the peers is then ours, so every peer's last-heard time starts again
 * instead of the peers being dropped. Peers in the broker's own process (the gateway's client) are never dropped
 * for silence: they pause when the broker pauses, and a dead agent thread ends the whole process ({@link Broker}).
 * <p>
 * <b>Abuse.</b> A connection must send Connect within the connect timeout; a frame announcing more than the
 * maximum control message length is refused with {@code PAYLOAD_TOO_LARGE} before any buffer grows, and the
 * connection closed; read buffers grow only as bytes arrive; a connection's protocol errors are each counted and
 * answered, but logged once. One peer may hold a bounded number of services, schema bytes and patterns, so that
 * it cannot exhaust the limits every peer shares.
 * <p>
 * Not thread-safe: runs on the broker's conductor thread only.
 */
public final class BrokerConductor implements Agent
{
    private final Broker.Context ctx;
    private final ErrorHandler errorHandler;
    private final NanoClock clock = SystemNanoClock.INSTANCE;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final LingeringRefusals refusals;
    private final Int2ObjectHashMap<ClientSession> sessionById = new Int2ObjectHashMap<>();
    private final List<ClientSession> toClose = new ArrayList<>();
    private final List<ClientSession> expired = new ArrayList<>();
    private final ServiceRegistry registry;
    private final PublishedSchemas publishedSchemas;
    private final SubjectTable subjects;
    private final RetainedDeliveries retained;
    private final long ownPid = ProcessHandle.current().pid();
    private final BrokerCounters counters = new BrokerCounters();
    private final BrokerControlAdapter controlAdapter = new BrokerControlAdapter(new ControlRequests());
    private final BrokerControlProxy controlProxy;
    private final PeerLiveness liveness;
    private final CountersClient countersClient;

    private int nextClientId = 1;
    private long nowNs;

    /**
     * Bind the control socket and open the broker's Aeron client.
     *
     * @param ctx the broker's settings.
     * @param aeronFactory opens an Aeron client that uses a conductor agent invoker (no thread of its own); called
     * again, from the conductor thread, whenever the previous one was found closed.
     * @throws IOException if the control socket cannot be bound.
     */
    BrokerConductor(final Broker.Context ctx, final Supplier<Aeron> aeronFactory) throws IOException
    {
        this.ctx = ctx;
        this.errorHandler = ctx.errorHandler();
        this.controlProxy = new BrokerControlProxy(counters, errorHandler, toClose);
        this.registry = new ServiceRegistry(
            ctx.maxServices(), ctx.maxSchemaBytes(), ctx.maxServicesPerPeer(), ctx.maxSchemaBytesPerPeer());
        this.publishedSchemas = new PublishedSchemas(registry);
        this.subjects = new SubjectTable(ctx.maxPatternsPerPeer());
        this.retained = new RetainedDeliveries(
            new RetainedMessages(ctx.maxRetainedSubjects(), ctx.maxRetainedBytes()), controlProxy, counters,
            ctx.maxControlMessageLength());
        this.server = bindControlSocket(ctx.controlSocket());
        try
        {
            this.selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            this.refusals = new LingeringRefusals(selector);
            this.countersClient = new CountersClient(aeronFactory, counters, ctx::log);
        }
        catch (final IOException | RuntimeException ex)
        {
            CloseHelper.quietClose(server);
            SocketFiles.deleteSocket(ctx.controlSocket());
            throw ex;
        }
        this.liveness = new PeerLiveness(
            TimeUnit.MILLISECONDS.toNanos(ctx.livenessTimeoutMs()),
            TimeUnit.MILLISECONDS.toNanos(ctx.controlConnectTimeoutMs()),
            clock.nanoTime());
    }

    private static ServerSocketChannel bindControlSocket(final Path path) throws IOException
    {
        SocketFiles.prepareForBind(path);
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        SocketFiles.restrictToOwner(path);
        server.configureBlocking(false);
        return server;
    }

    /**
     * {@inheritDoc}
     */
    public String roleName()
    {
        return "switchboard-broker-conductor";
    }

    /**
     * {@inheritDoc}
     */
    public int doWork() throws IOException
    {
        nowNs = clock.nanoTime();
        final long pauseNs = liveness.onDutyCycleStart(nowNs, sessionById.values());
        if (0 != pauseNs)
        {
            counters.increment(BrokerCounters.PAUSES);
            ctx.log("the broker did not run for " + TimeUnit.NANOSECONDS.toMillis(pauseNs) + " ms (paused or " +
                "starved): every peer's liveness starts again instead of peers being dropped for our own silence");
        }
        int work = countersClient.doWork(nowNs, clock);
        if (selector.selectNow() > 0)
        {
            final Iterator<SelectionKey> it = selector.selectedKeys().iterator();
            while (it.hasNext())
            {
                final SelectionKey key = it.next();
                it.remove();
                if (!key.isValid())
                {
                    continue;
                }
                if (key.isAcceptable())
                {
                    work += accept();
                }
                else if (LingeringRefusals.isRefused(key))
                {
                    work += refusals.onReadable(key);
                }
                else if (key.isReadable())
                {
                    work += read((ClientSession)key.attachment());
                }
            }
        }
        for (final ClientSession session : sessionById.values())
        {
            flush(session);
        }
        work += retained.deliver(sessionById);
        work += dropSilent();
        work += dropLateToConnect();
        closeDead();
        work += refusals.expire(nowNs);
        // opening a new Aeron client may have blocked: the time it took is not a pause of the process
        liveness.onDutyCycleEnd(clock.nanoTime());
        return work;
    }

    private int dropSilent()
    {
        final int silent = liveness.collectSilent(nowNs, sessionById.values(), expired);
        for (int i = 0; i < silent; i++)
        {
            final ClientSession session = expired.get(i);
            counters.increment(BrokerCounters.LIVENESS_TIMEOUTS);
            errorHandler.onError(new IllegalStateException(session + " silent for more than " +
                ctx.livenessTimeoutMs() + " ms: dropped"));
            toClose.add(session);
        }
        expired.clear();
        return silent;
    }

    private int dropLateToConnect()
    {
        final int late = liveness.collectConnectTimeouts(nowNs, expired);
        for (int i = 0; i < late; i++)
        {
            final ClientSession session = expired.get(i);
            counters.increment(BrokerCounters.CONNECT_TIMEOUTS);
            controlProxy.error(session, 0, Status.TIMEOUT,
                "expected Connect within " + ctx.controlConnectTimeoutMs() + " ms of connecting");
            toClose.add(session);
        }
        expired.clear();
        return late;
    }

    /**
     * Counters of this broker, for tests on the conductor thread or once it stopped.
     *
     * @return the counters.
     */
    BrokerCounters counters()
    {
        return counters;
    }

    /**
     * {@inheritDoc}
     */
    public void onClose()
    {
        for (final ClientSession session : sessionById.values())
        {
            session.connection.close();
        }
        sessionById.clear();
        liveness.closeUnconnected();
        refusals.closeAll();
        CloseHelper.quietCloseAll(selector, server);
        SocketFiles.deleteSocket(ctx.controlSocket());
        countersClient.close(); // on this thread, which drove it
    }

    /**
     * After a change of the registry or of the declared schemas: tell the peers that asked for schemas what came and
     * went, before any route update that names a new one.
     */
    private void onSchemasChanged()
    {
        publishedSchemas.sync(sessionById.values(), controlProxy);
    }

    /**
     * The service registry, for tests on the conductor thread.
     *
     * @return the registry.
     */
    public ServiceRegistry registry()
    {
        return registry;
    }

    /**
     * The subject table.
     *
     * @return the subject table.
     */
    public SubjectTable subjects()
    {
        return subjects;
    }

    private int accept() throws IOException
    {
        int accepted = 0;
        SocketChannel channel;
        while (null != (channel = server.accept()))
        {
            if (!SocketFiles.isSameUser(channel))
            {
                // told why (counted as a control error), then held open until the peer has read it: a Java client
                // reports FORBIDDEN instead of a closed connection
                channel.configureBlocking(false);
                refusals.refuse(channel, controlProxy.refusal(Status.FORBIDDEN,
                    "peer runs as another user than the broker's; the control socket serves its own user only"), nowNs);
                continue;
            }
            final ClientSession session = new ClientSession(
                new ControlConnection(channel, ctx.maxControlMessageLength()), nowNs);
            channel.register(selector, SelectionKey.OP_READ, session);
            liveness.onAccepted(session);
            accepted++;
        }
        return accepted;
    }

    private int read(final ClientSession session)
    {
        try
        {
            final int messages = controlAdapter.poll(session);
            if (messages < 0)
            {
                toClose.add(session);
                return 1;
            }
            if (messages > 0)
            {
                session.lastSeenNs = nowNs;
            }
            return messages;
        }
        catch (final ControlConnection.InvalidLengthException ex)
        {
            // refused on the 4-byte header, before any buffer grew for it; typed, then closed: the stream is lost
            counters.increment(BrokerCounters.OVERSIZE_CONTROL_MESSAGES);
            controlProxy.error(
                session, 0, ex.length() > 0 ? Status.PAYLOAD_TOO_LARGE : Status.PROTOCOL_ERROR, ex.getMessage());
            ctx.log(session + ": " + ex.getMessage() + "; connection closed");
            toClose.add(session);
            return 1;
        }
        catch (final IOException ex)
        {
            ctx.log(session + ": control connection failed: " + ex.getMessage());
            toClose.add(session);
            return 1;
        }
    }

    private void flush(final ClientSession session)
    {
        try
        {
            session.connection.flush();
        }
        catch (final IOException ex)
        {
            toClose.add(session);
        }
    }

    private void closeDead()
    {
        if (toClose.isEmpty())
        {
            return;
        }
        // index loop: telling the others may find more dead sessions, appended while we go
        for (int i = 0; i < toClose.size(); i++)
        {
            final ClientSession session = toClose.get(i);
            session.connection.close();
            if (session.connected && null != sessionById.remove(session.clientId))
            {
                counters.increment(BrokerCounters.PEERS_GONE);
                counters.add(BrokerCounters.PEERS_CONNECTED, -1);
                subjects.removeClient(session.clientId);
                final List<String> services = registry.removeClient(session.clientId);
                publishedSchemas.removeClient(session.clientId);
                counters.set(BrokerCounters.SERVICES, registry.services().size());
                onSchemasChanged();
                controlProxy.broadcastPeerGone(sessionById.values(), session.clientId);
                ctx.log("peer " + session.clientId + " (" + session.name + ", pid " + session.pid + ") gone" +
                    (services.isEmpty() ? "" : ", its services removed: " + services));
            }
        }
        toClose.clear();
    }

    private void onPeerLimit(final ClientSession session, final String message)
    {
        counters.increment(BrokerCounters.PEER_LIMIT_REFUSALS);
        if (!session.abuseLogged)
        {
            session.abuseLogged = true;
            ctx.log(session + ": " + message + " (further refusals on this connection are counted, not logged)");
        }
    }

    /**
     * What the conductor does with each control message, called by the {@link BrokerControlAdapter} on this thread.
     */
    private final class ControlRequests implements BrokerControlHandler
    {
        public void onConnect(
            final ClientSession session, final int protocolVersion, final long pid, final String clientName)
        {
            session.pid = pid;
            session.name = clientName;
            if (protocolVersion != Configuration.CONTROL_PROTOCOL_VERSION)
            {
                controlProxy.error(session, 0, Status.UNSUPPORTED_PROTOCOL_VERSION, "expected control protocol " +
                    "version " + Configuration.CONTROL_PROTOCOL_VERSION + ", actual=" + protocolVersion);
                toClose.add(session);
                return;
            }

            session.clientId = nextClientId++;
            session.inboxStreamId = Configuration.FIRST_INBOX_STREAM_ID + session.clientId;
            session.connected = true;
            // the pid is the peer's own word, not the kernel's (the JDK gives no SO_PEERCRED pid); the control
            // socket admits only our own user, who could as well attach a debugger, so this is no privilege: it
            // only spares a peer that claims our pid the liveness check and the per-peer limits
            session.inProcess = session.pid == ownPid;
            sessionById.put(session.clientId, session);
            counters.increment(BrokerCounters.PEERS_CONNECTED);

            publishedSchemas.tellAll(session, controlProxy); // before the routes that name them
            for (final ServiceRegistry.Service service : registry.services())
            {
                final int schemaKey = publishedSchemas.serviceKey(service.schemaIr());
                for (final ServiceRegistry.Instance instance : service.instances)
                {
                    final ClientSession peer = sessionById.get(instance.clientId);
                    if (null != peer)
                    {
                        controlProxy.routeUpdate(session, RouteAction.ADD, service, peer, schemaKey);
                    }
                }
            }
            controlProxy.connectAck(session, ctx.heartbeatIntervalMs(), ctx.termLength(), ctx.aeronDirectoryName());
            ctx.log("peer " + session.clientId + " connected (" + session.name + ", pid " + session.pid + ")");
        }

        public void onRegister(
            final ClientSession session,
            final long correlationId,
            final String service,
            final ServiceMode mode,
            final Map<String, Integer> types,
            final byte[] ir)
        {
            if (ServiceMode.NULL_VAL == mode || types.isEmpty() || service.isEmpty())
            {
                controlProxy.reply(session, correlationId, Status.INVALID_REQUEST,
                    "register needs a service name, a mode and at least one message type");
                return;
            }

            final ServiceRegistry.Outcome outcome = registry.register(
                service, mode, types, ir, session.clientId, session.inboxStreamId, !session.inProcess);
            if (!outcome.isOk())
            {
                if (outcome.isPeerLimit())
                {
                    onPeerLimit(session, outcome.message());
                }
                controlProxy.reply(session, correlationId, outcome.status(), outcome.message());
                return;
            }
            counters.set(BrokerCounters.SERVICES, registry.services().size());
            onSchemasChanged();
            // the route goes out before the ack: a peer that serves for another (the gateway for a socket client)
            // has the route in its table by the time its register returns, so a call right after it is routed
            final ServiceRegistry.Service registered = registry.get(service);
            controlProxy.broadcastRouteUpdate(sessionById.values(), RouteAction.ADD, registered, session,
                publishedSchemas.serviceKey(registered.schemaIr()));
            controlProxy.reply(session, correlationId, null, null);
            ctx.log("peer " + session.clientId + " serves '" + service + "' (" + mode + ", " + types.keySet() + ")");
        }

        public void onDeclareSchema(final ClientSession session, final long correlationId, final byte[] ir)
        {
            final ServiceRegistry.Outcome outcome = publishedSchemas.declare(session.clientId, ir, !session.inProcess);
            if (outcome.isPeerLimit())
            {
                onPeerLimit(session, outcome.message());
            }
            if (outcome.isOk())
            {
                onSchemasChanged(); // before the ack: the gateway has it by the time the publisher goes on
            }
            controlProxy.reply(session, correlationId, outcome.status(), outcome.message());
        }

        public void onUnregister(final ClientSession session, final long correlationId, final String name)
        {
            final ServiceRegistry.Service service = registry.get(name);
            if (null == service || !registry.unregister(name, session.clientId))
            {
                controlProxy.reply(
                    session, correlationId, Status.ACTOR_NOT_FOUND, "this peer does not serve '" + name + "'");
                return;
            }
            counters.set(BrokerCounters.SERVICES, registry.services().size());
            controlProxy.broadcastRouteUpdate(sessionById.values(), RouteAction.REMOVE, service, session,
                publishedSchemas.serviceKey(service.schemaIr()));
            onSchemasChanged(); // after the route: no route names a schema gone
            controlProxy.reply(session, correlationId, null, null); // after the route, as for register
        }

        public void onSubscribe(final ClientSession session, final long correlationId, final String pattern)
        {
            final String problem = subjects.subscribe(session.clientId, pattern,
                session.inProcess ? Integer.MAX_VALUE : ctx.maxPatternsPerPeer());
            if (null != problem && problem.startsWith(SubjectTable.PER_PEER_LIMIT))
            {
                onPeerLimit(session, problem);
            }
            if (null == problem && retained.onSubscribe(session, correlationId, pattern))
            {
                return; // the retained values of the matching subjects go first, then the ack
            }
            controlProxy.reply(session, correlationId, null == problem ? null : Status.INVALID_REQUEST, problem);
        }

        public void onRetain(
            final ClientSession session,
            final long correlationId,
            final int publisherId,
            final String subject,
            final int payloadLength,
            final DirectBuffer buffer,
            final int offset,
            final int length)
        {
            if (publisherId != session.clientId)
            {
                controlProxy.reply(session, correlationId, Status.INVALID_REQUEST, "retain: expected publisherId=" +
                    session.clientId + " (this peer), actual=" + publisherId);
                return;
            }
            final Status refused = retained.retain(session, subject, payloadLength, buffer, offset, length);
            if (null != refused)
            {
                if (Status.PAYLOAD_TOO_LARGE == refused && !session.abuseLogged)
                {
                    session.abuseLogged = true;
                    ctx.log(session + ": " + retained.refusal() + " (further refusals on this connection are " +
                        "counted, not logged)");
                }
                controlProxy.reply(session, correlationId, refused, retained.refusal());
                return;
            }
            controlProxy.reply(session, correlationId, null, null);
        }

        public void onUnsubscribe(final ClientSession session, final long correlationId, final String pattern)
        {
            subjects.unsubscribe(session.clientId, pattern);
            controlProxy.reply(session, correlationId, null, null);
        }

        public void onProtocolError(final ClientSession session, final String message)
        {
            if (!session.abuseLogged)
            {
                session.abuseLogged = true;
                errorHandler.onError(new IllegalStateException(session + ": " + message +
                    " (further errors on this connection are counted, not logged)"));
            }
            controlProxy.error(session, 0, Status.PROTOCOL_ERROR, message);
        }
    }
}
