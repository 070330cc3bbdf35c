package io.switchboard.broker;

import io.aeron.Aeron;
import io.switchboard.broker.access.SocketFiles;
import io.switchboard.broker.view.RegistrySnapshot;
import io.switchboard.codec.wire.*;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.ControlConnection;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
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
import java.util.LinkedHashMap;
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
 * <b>Pauses.</b> The broker's own Aeron client (which holds only the counters) is driven from this duty cycle with
 * an {@link AgentInvoker}, not by a thread of its own ({@link CountersClient}): when a pause longer than the driver's
 * timeouts (SIGSTOP, a suspended machine) makes that client close itself, it closes on this thread, inside
 * {@code invoke()}, and is replaced, the counters carried over ({@link BrokerCounters}). With a thread of its own the
 * client could unmap the counters file between a check and a write, which is what crashed the broker (SIGSEGV).
 * <p>
 * A duty cycle that comes more than half the liveness timeout after the previous one means that <i>we</i> were not
 * running: the silence of the peers is then ours, so every peer's last-heard time starts again instead of the
 * peers being dropped. Peers in the broker's own process (the gateway's client) are never dropped for silence:
 * they pause when the broker pauses, and a dead agent thread ends the whole process ({@link Broker}).
 * <p>
 * <b>Abuse.</b> A connection must send Connect within the connect timeout; a frame announcing more than the
 * maximum control message length is refused with {@code PAYLOAD_TOO_LARGE} before any buffer grows, and the
 * connection closed; read buffers grow only as bytes arrive; a connection's protocol errors are each counted and
 * answered, but logged once. One peer may hold a bounded number of services, schema bytes and patterns, so that
 * it cannot exhaust the limits every peer shares.
 * <p>
 * Every control message out goes through a {@link ControlProxy}.
 * <p>
 * Not thread-safe: runs on the broker's conductor thread only.
 */
public final class BrokerConductor implements Agent
{
    private static final long CONNECT_TIMEOUT_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Broker.Context ctx;
    private final ErrorHandler errorHandler;
    private final NanoClock clock = SystemNanoClock.INSTANCE;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Int2ObjectHashMap<ClientSession> sessionById = new Int2ObjectHashMap<>();
    private final List<ClientSession> toClose = new ArrayList<>();
    private final List<ClientSession> unconnected = new ArrayList<>();
    private final ServiceRegistry registry;
    private final SubjectTable subjects;
    private final long livenessTimeoutNs;
    private final long pauseThresholdNs;
    private final long connectTimeoutNs;
    private final long ownPid = ProcessHandle.current().pid();
    private final CountersClient countersClient;
    private final BrokerCounters counters = new BrokerCounters();
    private final ControlProxy proxy;
    private long lastDutyCycleNs;
    private long nextConnectTimeoutCheckNs;

    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final ConnectDecoder connectDecoder = new ConnectDecoder();
    private final RegisterDecoder registerDecoder = new RegisterDecoder();
    private final UnregisterDecoder unregisterDecoder = new UnregisterDecoder();
    private final SubscribeDecoder subscribeDecoder = new SubscribeDecoder();
    private final UnsubscribeDecoder unsubscribeDecoder = new UnsubscribeDecoder();

    private volatile RegistrySnapshot registrySnapshot = RegistrySnapshot.EMPTY;
    private long registryVersion;
    private int nextClientId = 1;
    private long nowNs;
    private ClientSession current;

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
        this.countersClient = new CountersClient(aeronFactory, counters, clock, ctx::log);
        this.livenessTimeoutNs = TimeUnit.MILLISECONDS.toNanos(ctx.livenessTimeoutMs());
        // a gap of half the liveness timeout is far beyond any duty cycle (the idle strategy parks for 1 ms at most)
        // and still leaves the other half for a peer's heartbeat to arrive before anyone is judged
        this.pauseThresholdNs = livenessTimeoutNs / 2;
        this.connectTimeoutNs = TimeUnit.MILLISECONDS.toNanos(ctx.controlConnectTimeoutMs());
        this.registry = new ServiceRegistry(
            ctx.maxServices(), ctx.maxSchemaBytes(), ctx.maxServicesPerPeer(), ctx.maxSchemaBytesPerPeer());
        this.subjects = new SubjectTable(ctx.maxPatternsPerPeer());
        this.proxy = new ControlProxy(sessionById, toClose, counters, errorHandler, ctx::log);
        this.server = bindControlSocket(ctx.controlSocket());
        try
        {
            this.selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            countersClient.open();
        }
        catch (final IOException | RuntimeException ex)
        {
            CloseHelper.quietClose(server);
            SocketFiles.deleteSocket(ctx.controlSocket());
            throw ex;
        }
        lastDutyCycleNs = clock.nanoTime();
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
        if (nowNs - lastDutyCycleNs > pauseThresholdNs)
        {
            onPause(nowNs - lastDutyCycleNs);
        }
        lastDutyCycleNs = nowNs;
        int work = countersClient.drive(nowNs);
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
        work += checkLiveness();
        if (nowNs - nextConnectTimeoutCheckNs >= 0)
        {
            nextConnectTimeoutCheckNs = nowNs + CONNECT_TIMEOUT_CHECK_INTERVAL_NS;
            work += checkConnectTimeouts();
        }
        closeDead();
        // opening a new Aeron client may have blocked: the time it took is not a pause of the process
        lastDutyCycleNs = clock.nanoTime();
        return work;
    }

    /**
     * The conductor did not run for a while: the process was stopped (SIGSTOP, a suspended machine, a VM pause) or
     * starved. The peers' silence over that time is ours, not theirs: give every one a fresh liveness period.
     */
    private void onPause(final long gapNs)
    {
        counters.increment(BrokerCounters.PAUSES);
        for (final ClientSession session : sessionById.values())
        {
            session.lastSeenNs = nowNs;
        }
        for (final ClientSession session : unconnected)
        {
            session.acceptedNs = nowNs;
        }
        ctx.log("the broker did not run for " + TimeUnit.NANOSECONDS.toMillis(gapNs) + " ms (paused or starved): " +
            "every peer's liveness starts again instead of peers being dropped for our own silence");
    }

    private int checkConnectTimeouts()
    {
        int work = 0;
        for (int i = unconnected.size() - 1; i >= 0; i--)
        {
            final ClientSession session = unconnected.get(i);
            if (session.connected || session.connection.isClosed())
            {
                removeUnconnected(i);
            }
            else if (nowNs - session.acceptedNs > connectTimeoutNs)
            {
                removeUnconnected(i);
                counters.increment(BrokerCounters.CONNECT_TIMEOUTS);
                proxy.sendError(session, 0, Status.TIMEOUT,
                    "expected Connect within " + ctx.controlConnectTimeoutMs() + " ms of connecting");
                toClose.add(session);
                work++;
            }
        }
        return work;
    }

    private void removeUnconnected(final int index)
    {
        final int last = unconnected.size() - 1;
        unconnected.set(index, unconnected.get(last));
        unconnected.remove(last);
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
        for (final ClientSession session : unconnected)
        {
            session.connection.close();
        }
        unconnected.clear();
        CloseHelper.quietCloseAll(selector, server);
        SocketFiles.deleteSocket(ctx.controlSocket());
        countersClient.close(); // on this thread, which drove it
    }

    /**
     * An immutable copy of the service registry, republished after each change; safe to read from any thread.
     *
     * @return the latest snapshot.
     */
    public RegistrySnapshot registrySnapshot()
    {
        return registrySnapshot;
    }

    private void publishRegistrySnapshot()
    {
        registrySnapshot = registry.snapshot(++registryVersion);
    }

    /**
     * The service registry, for the gateway and tests on the conductor thread.
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
                CloseHelper.quietClose(channel);
                counters.increment(BrokerCounters.CONTROL_ERRORS);
                continue;
            }
            final ClientSession session = new ClientSession(
                new ControlConnection(channel, ctx.maxControlMessageLength()), nowNs);
            channel.register(selector, SelectionKey.OP_READ, session);
            unconnected.add(session);
            accepted++;
        }
        return accepted;
    }

    private int read(final ClientSession session)
    {
        current = session;
        try
        {
            final int messages = session.connection.poll(this::onMessage);
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
            proxy.sendError(session, 0, ex.length() > 0 ? Status.PAYLOAD_TOO_LARGE : Status.PROTOCOL_ERROR, ex.getMessage());
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
        finally
        {
            current = null;
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

    private int checkLiveness()
    {
        int work = 0;
        for (final ClientSession session : sessionById.values())
        {
            if (!session.inProcess && nowNs - session.lastSeenNs > livenessTimeoutNs)
            {
                counters.increment(BrokerCounters.LIVENESS_TIMEOUTS);
                errorHandler.onError(new IllegalStateException(session + " silent for more than " +
                    ctx.livenessTimeoutMs() + " ms: dropped"));
                toClose.add(session);
                work++;
            }
        }
        return work;
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
                counters.set(BrokerCounters.SERVICES, registry.services().size());
                publishRegistrySnapshot();
                proxy.broadcastPeerGone(session.clientId);
                ctx.log("peer " + session.clientId + " (" + session.name + ", pid " + session.pid + ") gone" +
                    (services.isEmpty() ? "" : ", its services removed: " + services));
            }
        }
        toClose.clear();
    }

    private void onMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        final ClientSession session = current;
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            proxy.protocolError(session, "message of " + length + " bytes is shorter than the SBE header");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != ConnectDecoder.SCHEMA_ID)
        {
            proxy.protocolError(session, "expected schemaId=" + ConnectDecoder.SCHEMA_ID + ", actual=" + headerDecoder.schemaId());
            return;
        }
        final int templateId = headerDecoder.templateId();
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;

        if (!session.connected && templateId != ConnectDecoder.TEMPLATE_ID)
        {
            proxy.protocolError(session, "expected Connect first, got templateId=" + templateId);
            return;
        }

        try
        {
            switch (templateId)
            {
                case ConnectDecoder.TEMPLATE_ID:
                    onConnect(session, connectDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case HeartbeatDecoder.TEMPLATE_ID:
                    break; // lastSeenNs already updated
                case RegisterDecoder.TEMPLATE_ID:
                    onRegister(session, registerDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case UnregisterDecoder.TEMPLATE_ID:
                    onUnregister(session, unregisterDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case SubscribeDecoder.TEMPLATE_ID:
                {
                    subscribeDecoder.wrap(buffer, body, blockLength, version);
                    final long correlationId = subscribeDecoder.correlationId();
                    final String problem = subjects.subscribe(session.clientId, subscribeDecoder.pattern(),
                        session.inProcess ? Integer.MAX_VALUE : ctx.maxPatternsPerPeer());
                    if (null != problem && problem.startsWith(SubjectTable.PER_PEER_LIMIT))
                    {
                        proxy.onPeerLimit(session, problem);
                    }
                    proxy.reply(session, correlationId, null == problem ? null : Status.INVALID_REQUEST, problem);
                    break;
                }
                case UnsubscribeDecoder.TEMPLATE_ID:
                {
                    unsubscribeDecoder.wrap(buffer, body, blockLength, version);
                    final long correlationId = unsubscribeDecoder.correlationId();
                    subjects.unsubscribe(session.clientId, unsubscribeDecoder.pattern());
                    proxy.reply(session, correlationId, null, null);
                    break;
                }
                default:
                    proxy.protocolError(session, "unknown control templateId=" + templateId);
            }
        }
        catch (final RuntimeException ex)
        {
            proxy.protocolError(session, "malformed control message templateId=" + templateId + ": " + ex);
        }
    }

    private void onConnect(final ClientSession session, final ConnectDecoder decoder)
    {
        if (session.connected)
        {
            proxy.protocolError(session, "second Connect on one connection");
            return;
        }
        final int protocolVersion = decoder.protocolVersion();
        session.pid = decoder.pid();
        session.name = decoder.clientName();
        if (protocolVersion != Configuration.CONTROL_PROTOCOL_VERSION)
        {
            proxy.sendError(session, 0, Status.UNSUPPORTED_PROTOCOL_VERSION, "expected control protocol version " +
                Configuration.CONTROL_PROTOCOL_VERSION + ", actual=" + protocolVersion);
            toClose.add(session);
            return;
        }

        session.clientId = nextClientId++;
        session.inboxStreamId = Configuration.FIRST_INBOX_STREAM_ID + session.clientId;
        session.connected = true;
        // the pid is the peer's own word, not the kernel's (the JDK gives no SO_PEERCRED pid); the control socket
        // admits only our own user, who could as well attach a debugger, so this is no privilege: it only spares
        // a peer that claims our pid the liveness check and the per-peer limits
        session.inProcess = session.pid == ownPid;
        sessionById.put(session.clientId, session);
        counters.increment(BrokerCounters.PEERS_CONNECTED);

        for (final ServiceRegistry.Service service : registry.services())
        {
            for (final ServiceRegistry.Instance instance : service.instances)
            {
                proxy.routeUpdate(session, RouteAction.ADD, service, instance.clientId, instance.inboxStreamId);
            }
        }

        proxy.connectAck(session, ctx.heartbeatIntervalMs(), ctx.termLength(), ctx.aeronDirectoryName());
        ctx.log("peer " + session.clientId + " connected (" + session.name + ", pid " + session.pid + ")");
    }

    private void onRegister(final ClientSession session, final RegisterDecoder decoder)
    {
        final long correlationId = decoder.correlationId();
        final ServiceMode mode = decoder.mode();
        final Map<String, Integer> types = new LinkedHashMap<>();
        for (final RegisterDecoder.MessageTypesDecoder t : decoder.messageTypes())
        {
            final int templateId = t.templateId();
            types.put(t.name(), templateId);
        }
        final String service = decoder.service();
        final byte[] ir = new byte[decoder.schemaIrLength()];
        decoder.getSchemaIr(ir, 0, ir.length);

        if (ServiceMode.NULL_VAL == mode || types.isEmpty() || service.isEmpty())
        {
            proxy.reply(session, correlationId, Status.INVALID_REQUEST,
                "register needs a service name, a mode and at least one message type");
            return;
        }

        final ServiceRegistry.Outcome outcome = registry.register(
            service, mode, types, ir, session.clientId, session.inboxStreamId, !session.inProcess);
        if (!outcome.isOk())
        {
            if (outcome.isPeerLimit())
            {
                proxy.onPeerLimit(session, outcome.message());
            }
            proxy.reply(session, correlationId, outcome.status(), outcome.message());
            return;
        }
        counters.set(BrokerCounters.SERVICES, registry.services().size());
        publishRegistrySnapshot();
        // the route goes out before the ack: a peer that serves for another (the gateway for a socket client)
        // has the route in its table by the time its register returns, so a call right after it is routed
        proxy.broadcastRouteUpdate(RouteAction.ADD, registry.get(service), session.clientId, session.inboxStreamId);
        proxy.reply(session, correlationId, null, null);
        ctx.log("peer " + session.clientId + " serves '" + service + "' (" + mode + ", " + types.keySet() + ")");
    }

    private void onUnregister(final ClientSession session, final UnregisterDecoder decoder)
    {
        final long correlationId = decoder.correlationId();
        final String name = decoder.service();
        final ServiceRegistry.Service service = registry.get(name);
        if (null == service || !registry.unregister(name, session.clientId))
        {
            proxy.reply(session, correlationId, Status.ACTOR_NOT_FOUND, "this peer does not serve '" + name + "'");
            return;
        }
        counters.set(BrokerCounters.SERVICES, registry.services().size());
        publishRegistrySnapshot();
        proxy.broadcastRouteUpdate(RouteAction.REMOVE, service, session.clientId, session.inboxStreamId);
        proxy.reply(session, correlationId, null, null); // after the route, as for register
    }
}
