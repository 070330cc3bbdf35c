package io.switchboard.broker;

import io.aeron.Aeron;
import io.aeron.Counter;
import io.switchboard.codec.wire.*;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.ControlConnection;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableDirectByteBuffer;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker's single writer: it owns the service registry, the subject table, inbox stream-id allocation, peer
 * liveness and the counters, and speaks the control protocol to every Java peer over its Unix socket.
 * <p>
 * A peer's death is learnt from the kernel: its control socket reaches end of file the moment the process dies,
 * SIGKILL included. A peer that hangs while alive stops heartbeating and is dropped after the liveness timeout.
 * Either way its services and subscriptions are removed and every peer is told ({@code PeerGone}), so callers fail
 * what they had in flight on it with {@code SERVICE_UNAVAILABLE}.
 * <p>
 * Not thread-safe: runs on the broker's conductor thread only.
 */
public final class BrokerConductor implements Agent
{
    private static final int MAX_SERVICES = 10_000;
    private static final int MAX_PATTERNS_PER_CLIENT = 10_000;

    private final Broker.Context ctx;
    private final ErrorHandler errorHandler;
    private final NanoClock clock = SystemNanoClock.INSTANCE;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Int2ObjectHashMap<ClientSession> sessionById = new Int2ObjectHashMap<>();
    private final List<ClientSession> toClose = new ArrayList<>();
    private final ServiceRegistry registry = new ServiceRegistry(MAX_SERVICES);
    private final SubjectTable subjects = new SubjectTable(MAX_PATTERNS_PER_CLIENT);
    private final long livenessTimeoutNs;

    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ConnectDecoder connectDecoder = new ConnectDecoder();
    private final ConnectAckEncoder connectAckEncoder = new ConnectAckEncoder();
    private final RegisterDecoder registerDecoder = new RegisterDecoder();
    private final UnregisterDecoder unregisterDecoder = new UnregisterDecoder();
    private final SubscribeDecoder subscribeDecoder = new SubscribeDecoder();
    private final UnsubscribeDecoder unsubscribeDecoder = new UnsubscribeDecoder();
    private final RouteUpdateEncoder routeUpdateEncoder = new RouteUpdateEncoder();
    private final PeerGoneEncoder peerGoneEncoder = new PeerGoneEncoder();
    private final ControlAckEncoder ackEncoder = new ControlAckEncoder();
    private final ControlErrorEncoder errorEncoder = new ControlErrorEncoder();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(4096);

    private final Counter peersConnected;
    private final Counter peersGone;
    private final Counter livenessTimeouts;
    private final Counter servicesRegistered;
    private final Counter controlErrors;

    private volatile RegistrySnapshot registrySnapshot = RegistrySnapshot.EMPTY;
    private long registryVersion;
    private int nextClientId = 1;
    private long nowNs;
    private ClientSession current;

    BrokerConductor(final Broker.Context ctx, final Aeron aeron) throws IOException
    {
        this.ctx = ctx;
        this.errorHandler = ctx.errorHandler();
        this.livenessTimeoutNs = TimeUnit.MILLISECONDS.toNanos(ctx.livenessTimeoutMs());
        this.server = bindControlSocket(ctx.controlSocket());
        this.selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);

        peersConnected = aeron.addCounter(BrokerCounters.PEERS_CONNECTED, "sb-broker peers connected");
        peersGone = aeron.addCounter(BrokerCounters.PEERS_GONE, "sb-broker peers gone");
        livenessTimeouts = aeron.addCounter(BrokerCounters.LIVENESS_TIMEOUTS, "sb-broker liveness timeouts");
        servicesRegistered = aeron.addCounter(BrokerCounters.SERVICES, "sb-broker services");
        controlErrors = aeron.addCounter(BrokerCounters.CONTROL_ERRORS, "sb-broker control errors");
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
        int work = 0;
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
        closeDead();
        return work;
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
        CloseHelper.quietCloseAll(selector, server);
        SocketFiles.deleteSocket(ctx.controlSocket());
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
        registrySnapshot = RegistrySnapshot.of(registry, ++registryVersion);
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
                controlErrors.incrementOrdered();
                continue;
            }
            final ClientSession session = new ClientSession(
                new ControlConnection(channel, Configuration.MAX_CONTROL_MESSAGE_LENGTH), nowNs);
            channel.register(selector, SelectionKey.OP_READ, session);
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
            if (nowNs - session.lastSeenNs > livenessTimeoutNs)
            {
                livenessTimeouts.incrementOrdered();
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
                peersGone.incrementOrdered();
                peersConnected.getAndAddOrdered(-1);
                subjects.removeClient(session.clientId);
                final List<String> services = registry.removeClient(session.clientId);
                servicesRegistered.setOrdered(registry.services().size());
                publishRegistrySnapshot();
                peerGoneEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder).clientId(session.clientId);
                broadcast(MessageHeaderEncoder.ENCODED_LENGTH + peerGoneEncoder.encodedLength());
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
            protocolError(session, "message of " + length + " bytes is shorter than the SBE header");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != ConnectDecoder.SCHEMA_ID)
        {
            protocolError(session, "expected schemaId=" + ConnectDecoder.SCHEMA_ID + ", actual=" + headerDecoder.schemaId());
            return;
        }
        final int templateId = headerDecoder.templateId();
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;

        if (!session.connected && templateId != ConnectDecoder.TEMPLATE_ID)
        {
            protocolError(session, "expected Connect first, got templateId=" + templateId);
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
                    final String problem = subjects.subscribe(session.clientId, subscribeDecoder.pattern());
                    reply(session, correlationId, null == problem ? null : Status.INVALID_REQUEST, problem);
                    break;
                }
                case UnsubscribeDecoder.TEMPLATE_ID:
                {
                    unsubscribeDecoder.wrap(buffer, body, blockLength, version);
                    final long correlationId = unsubscribeDecoder.correlationId();
                    subjects.unsubscribe(session.clientId, unsubscribeDecoder.pattern());
                    reply(session, correlationId, null, null);
                    break;
                }
                default:
                    protocolError(session, "unknown control templateId=" + templateId);
            }
        }
        catch (final RuntimeException ex)
        {
            protocolError(session, "malformed control message templateId=" + templateId + ": " + ex);
        }
    }

    private void onConnect(final ClientSession session, final ConnectDecoder decoder)
    {
        if (session.connected)
        {
            protocolError(session, "second Connect on one connection");
            return;
        }
        final int protocolVersion = decoder.protocolVersion();
        session.pid = decoder.pid();
        session.name = decoder.clientName();
        if (protocolVersion != Configuration.CONTROL_PROTOCOL_VERSION)
        {
            sendError(session, 0, Status.UNSUPPORTED_PROTOCOL_VERSION, "expected control protocol version " +
                Configuration.CONTROL_PROTOCOL_VERSION + ", actual=" + protocolVersion);
            toClose.add(session);
            return;
        }

        session.clientId = nextClientId++;
        session.inboxStreamId = Configuration.FIRST_INBOX_STREAM_ID + session.clientId;
        session.connected = true;
        sessionById.put(session.clientId, session);
        peersConnected.incrementOrdered();

        for (final ServiceRegistry.Service service : registry.services())
        {
            for (final ServiceRegistry.Instance instance : service.instances)
            {
                encodeRouteUpdate(RouteAction.ADD, service, instance.clientId, instance.inboxStreamId);
                send(session, MessageHeaderEncoder.ENCODED_LENGTH + routeUpdateEncoder.encodedLength());
            }
        }

        connectAckEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .clientId(session.clientId)
            .inboxStreamId(session.inboxStreamId)
            .pubSubStreamId(Configuration.PUB_SUB_STREAM_ID)
            .heartbeatIntervalMs(ctx.heartbeatIntervalMs())
            .termLength(ctx.termLength())
            .aeronDirectory(ctx.aeronDirectoryName());
        send(session, MessageHeaderEncoder.ENCODED_LENGTH + connectAckEncoder.encodedLength());
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
            reply(session, correlationId, Status.INVALID_REQUEST,
                "register needs a service name, a mode and at least one message type");
            return;
        }

        final ServiceRegistry.Outcome outcome = registry.register(
            service, mode, types, ir, session.clientId, session.inboxStreamId);
        if (!outcome.isOk())
        {
            reply(session, correlationId, outcome.status(), outcome.message());
            return;
        }
        servicesRegistered.setOrdered(registry.services().size());
        publishRegistrySnapshot();
        // the route goes out before the ack: a peer that serves for another (the gateway for a socket client)
        // has the route in its table by the time its register returns, so a call right after it is routed
        encodeRouteUpdate(RouteAction.ADD, registry.get(service), session.clientId, session.inboxStreamId);
        broadcast(MessageHeaderEncoder.ENCODED_LENGTH + routeUpdateEncoder.encodedLength());
        reply(session, correlationId, null, null);
        ctx.log("peer " + session.clientId + " serves '" + service + "' (" + mode + ", " + types.keySet() + ")");
    }

    private void onUnregister(final ClientSession session, final UnregisterDecoder decoder)
    {
        final long correlationId = decoder.correlationId();
        final String name = decoder.service();
        final ServiceRegistry.Service service = registry.get(name);
        if (null == service || !registry.unregister(name, session.clientId))
        {
            reply(session, correlationId, Status.ACTOR_NOT_FOUND, "this peer does not serve '" + name + "'");
            return;
        }
        servicesRegistered.setOrdered(registry.services().size());
        publishRegistrySnapshot();
        encodeRouteUpdate(RouteAction.REMOVE, service, session.clientId, session.inboxStreamId);
        broadcast(MessageHeaderEncoder.ENCODED_LENGTH + routeUpdateEncoder.encodedLength());
        reply(session, correlationId, null, null); // after the route, as for register
    }

    private void encodeRouteUpdate(
        final RouteAction action, final ServiceRegistry.Service service, final int clientId, final int inboxStreamId)
    {
        routeUpdateEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .action(action)
            .clientId(clientId)
            .inboxStreamId(inboxStreamId)
            .mode(service.mode);
        final RouteUpdateEncoder.MessageTypesEncoder types =
            routeUpdateEncoder.messageTypesCount(service.messageTypes.size());
        for (final Map.Entry<String, Integer> e : service.messageTypes.entrySet())
        {
            types.next().templateId(e.getValue()).name(e.getKey());
        }
        routeUpdateEncoder.service(service.name);
    }

    private void reply(final ClientSession session, final long correlationId, final Status status, final String message)
    {
        if (null == status)
        {
            ackEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder).correlationId(correlationId);
            send(session, MessageHeaderEncoder.ENCODED_LENGTH + ackEncoder.encodedLength());
        }
        else
        {
            sendError(session, correlationId, status, message);
        }
    }

    private void sendError(final ClientSession session, final long correlationId, final Status status, final String msg)
    {
        controlErrors.incrementOrdered();
        errorEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .status(status)
            .message(msg);
        send(session, MessageHeaderEncoder.ENCODED_LENGTH + errorEncoder.encodedLength());
    }

    private void protocolError(final ClientSession session, final String message)
    {
        errorHandler.onError(new IllegalStateException(session + ": " + message));
        sendError(session, 0, Status.PROTOCOL_ERROR, message);
    }

    private void broadcast(final int length)
    {
        for (final ClientSession session : sessionById.values())
        {
            send(session, length);
        }
    }

    private void send(final ClientSession session, final int length)
    {
        try
        {
            if (!session.connection.send(sendBuffer, 0, length))
            {
                errorHandler.onError(new IllegalStateException(session + " is not reading its control socket: dropped"));
                toClose.add(session);
            }
        }
        catch (final IOException ex)
        {
            toClose.add(session);
        }
    }
}
