package io.switchboard.broker;

import io.switchboard.codec.wire.ConnectAckEncoder;
import io.switchboard.codec.wire.ControlAckEncoder;
import io.switchboard.codec.wire.ControlErrorEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.PeerGoneEncoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.RouteUpdateEncoder;
import io.switchboard.codec.wire.Status;
import io.switchboard.transport.Configuration;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.collections.Int2ObjectHashMap;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every control message the broker sends to its peers: encoded into one reused buffer with reused encoders and
 * written to one peer's control connection, or to every connected peer. A peer that does not read its control socket
 * (its connection refuses the bytes) or whose socket failed is put on the list to close.
 * <p>
 * Not thread-safe: runs on the broker's conductor thread only.
 */
final class ControlProxy
{
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ConnectAckEncoder connectAckEncoder = new ConnectAckEncoder();
    private final RouteUpdateEncoder routeUpdateEncoder = new RouteUpdateEncoder();
    private final PeerGoneEncoder peerGoneEncoder = new PeerGoneEncoder();
    private final ControlAckEncoder ackEncoder = new ControlAckEncoder();
    private final ControlErrorEncoder errorEncoder = new ControlErrorEncoder();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(4096);
    private final Int2ObjectHashMap<ClientSession> sessionById;
    private final List<ClientSession> toClose;
    private final BrokerCounters counters;
    private final ErrorHandler errorHandler;
    private final Consumer<String> log;

    /**
     * @param sessionById the connected peers, for broadcasts.
     * @param toClose peers to close, appended to when a send fails.
     * @param counters of the broker (control errors).
     * @param errorHandler for a peer that does not read, and a connection's first protocol error.
     * @param log for a connection's first refusal over a per-peer limit.
     */
    ControlProxy(
        final Int2ObjectHashMap<ClientSession> sessionById,
        final List<ClientSession> toClose,
        final BrokerCounters counters,
        final ErrorHandler errorHandler,
        final Consumer<String> log)
    {
        this.sessionById = sessionById;
        this.toClose = toClose;
        this.counters = counters;
        this.errorHandler = errorHandler;
        this.log = log;
    }

    void connectAck(
        final ClientSession session, final long heartbeatIntervalMs, final int termLength, final String aeronDirectory)
    {
        connectAckEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .clientId(session.clientId)
            .inboxStreamId(session.inboxStreamId)
            .pubSubStreamId(Configuration.PUB_SUB_STREAM_ID)
            .heartbeatIntervalMs(heartbeatIntervalMs)
            .termLength(termLength)
            .aeronDirectory(aeronDirectory);
        send(session, MessageHeaderEncoder.ENCODED_LENGTH + connectAckEncoder.encodedLength());
    }

    void routeUpdate(
        final ClientSession session,
        final RouteAction action,
        final ServiceRegistry.Service service,
        final int clientId,
        final int inboxStreamId)
    {
        encodeRouteUpdate(action, service, clientId, inboxStreamId);
        send(session, MessageHeaderEncoder.ENCODED_LENGTH + routeUpdateEncoder.encodedLength());
    }

    void broadcastRouteUpdate(
        final RouteAction action, final ServiceRegistry.Service service, final int clientId, final int inboxStreamId)
    {
        encodeRouteUpdate(action, service, clientId, inboxStreamId);
        broadcast(MessageHeaderEncoder.ENCODED_LENGTH + routeUpdateEncoder.encodedLength());
    }

    void broadcastPeerGone(final int clientId)
    {
        peerGoneEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder).clientId(clientId);
        broadcast(MessageHeaderEncoder.ENCODED_LENGTH + peerGoneEncoder.encodedLength());
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

    /**
     * Answer a control request: an ack when status is null, else an error.
     */
    void reply(final ClientSession session, final long correlationId, final Status status, final String message)
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

    void sendError(final ClientSession session, final long correlationId, final Status status, final String msg)
    {
        counters.increment(BrokerCounters.CONTROL_ERRORS);
        errorEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .status(status)
            .message(msg);
        send(session, MessageHeaderEncoder.ENCODED_LENGTH + errorEncoder.encodedLength());
    }

    /**
     * Answer PROTOCOL_ERROR; logged once per connection, counted always.
     */
    void protocolError(final ClientSession session, final String message)
    {
        if (!session.abuseLogged)
        {
            session.abuseLogged = true;
            errorHandler.onError(new IllegalStateException(session + ": " + message +
                " (further errors on this connection are counted, not logged)"));
        }
        sendError(session, 0, Status.PROTOCOL_ERROR, message);
    }

    /**
     * Count a refusal over a per-peer limit; logged once per connection (the refusal itself is answered by the
     * caller).
     */
    void onPeerLimit(final ClientSession session, final String message)
    {
        counters.increment(BrokerCounters.PEER_LIMIT_REFUSALS);
        if (!session.abuseLogged)
        {
            session.abuseLogged = true;
            log.accept(session + ": " + message + " (further refusals on this connection are counted, not logged)");
        }
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
