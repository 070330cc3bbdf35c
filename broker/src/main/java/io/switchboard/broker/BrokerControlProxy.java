package io.switchboard.broker;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.ConnectAckEncoder;
import io.switchboard.codec.wire.ControlAckEncoder;
import io.switchboard.codec.wire.ControlErrorEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.PeerGoneEncoder;
import io.switchboard.codec.wire.RetainedPublicationEncoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.RouteUpdateEncoder;
import io.switchboard.codec.wire.SchemaUpdateEncoder;
import io.switchboard.codec.wire.Status;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.ControlConnection;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableDirectByteBuffer;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Encodes what the broker tells its peers on their control sockets: the answer to Connect, route updates, schema
 * updates (to the peers that asked for them), the ack
 * or typed error of each control request, and {@code PeerGone}. Every error sent is counted
 * ({@link BrokerCounters#CONTROL_ERRORS}). A peer whose socket fails, or who reads so little that its queue of
 * unsent bytes is full, is added to the list of sessions to close: one peer that stops reading cannot hold the
 * broker.
 * <p>
 * Not thread-safe: used on the broker's conductor thread only.
 */
final class BrokerControlProxy
{
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ConnectAckEncoder connectAckEncoder = new ConnectAckEncoder();
    private final RouteUpdateEncoder routeUpdateEncoder = new RouteUpdateEncoder();
    private final PeerGoneEncoder peerGoneEncoder = new PeerGoneEncoder();
    private final SchemaUpdateEncoder schemaUpdateEncoder = new SchemaUpdateEncoder();
    private final ControlAckEncoder ackEncoder = new ControlAckEncoder();
    private final ControlErrorEncoder errorEncoder = new ControlErrorEncoder();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(4096);
    private final BrokerCounters counters;
    private final ErrorHandler errorHandler;
    private final List<ClientSession> toClose;

    /**
     * A proxy that reports failed peers in the given list.
     *
     * @param counters in which errors sent are counted.
     * @param errorHandler told of a peer dropped for not reading its control socket.
     * @param toClose to which a peer whose control socket failed or is full is added.
     */
    BrokerControlProxy(final BrokerCounters counters, final ErrorHandler errorHandler, final List<ClientSession> toClose)
    {
        this.counters = counters;
        this.errorHandler = errorHandler;
        this.toClose = toClose;
    }

    /**
     * Answer a peer's Connect.
     *
     * @param session of the peer, with its client id and inbox stream id assigned.
     * @param heartbeatIntervalMs at which the peer is to send heartbeats.
     * @param termLength of the logs the peer creates.
     * @param aeronDirectory of the media driver.
     */
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

    /**
     * Tell one peer of a route.
     *
     * @param session of the peer to tell.
     * @param action whether the route is added or removed.
     * @param service the route belongs to.
     * @param instance the serving peer.
     * @param schemaKey of the service's IR ({@link PublishedSchemas#schemaKey}), -1 for none.
     */
    void routeUpdate(
        final ClientSession session,
        final RouteAction action,
        final ServiceRegistry.Service service,
        final ClientSession instance,
        final int schemaKey)
    {
        send(session, encodeRouteUpdate(action, service, instance, schemaKey));
    }

    /**
     * Tell every peer of a route.
     *
     * @param sessions of the connected peers.
     * @param action whether the route is added or removed.
     * @param service the route belongs to.
     * @param instance the serving peer.
     * @param schemaKey of the service's IR ({@link PublishedSchemas#schemaKey}), -1 for none.
     */
    void broadcastRouteUpdate(
        final Collection<ClientSession> sessions,
        final RouteAction action,
        final ServiceRegistry.Service service,
        final ClientSession instance,
        final int schemaKey)
    {
        broadcast(sessions, encodeRouteUpdate(action, service, instance, schemaKey));
    }

    /**
     * Tell one peer that asked for schemas that one came or went.
     *
     * @param session of the peer to tell; nothing is sent unless it asked for schemas at Connect.
     * @param action ADD with the IR, or REMOVE.
     * @param schemaKey of the schema ({@link PublishedSchemas#schemaKey}).
     * @param ir the encoded IR, empty for REMOVE.
     */
    void schemaUpdate(final ClientSession session, final RouteAction action, final int schemaKey, final byte[] ir)
    {
        if (session.wantsSchemas)
        {
            schemaUpdateEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
                .action(action)
                .schemaId(schemaKey >>> 16)
                .schemaVersion(schemaKey & 0xFFFF)
                .putSchemaIr(ir, 0, ir.length);
            send(session, MessageHeaderEncoder.ENCODED_LENGTH + schemaUpdateEncoder.encodedLength());
        }
    }

    /**
     * Tell every peer that one is gone.
     *
     * @param sessions of the connected peers.
     * @param clientId of the peer that is gone.
     */
    void broadcastPeerGone(final Collection<ClientSession> sessions, final int clientId)
    {
        peerGoneEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder).clientId(clientId);
        broadcast(sessions, MessageHeaderEncoder.ENCODED_LENGTH + peerGoneEncoder.encodedLength());
    }

    /**
     * Answer a control request: an ack, or a typed error.
     *
     * @param session of the peer that asked.
     * @param correlationId of the request.
     * @param status null for success, else the error's status.
     * @param message of the error, null for success.
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
            error(session, correlationId, status, message);
        }
    }

    /**
     * Send a typed error, and count it.
     *
     * @param session of the peer.
     * @param correlationId of the request it answers, 0 for none.
     * @param status of the error.
     * @param message naming what was expected and what was found.
     */
    void error(final ClientSession session, final long correlationId, final Status status, final String message)
    {
        counters.increment(BrokerCounters.CONTROL_ERRORS);
        errorEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .status(status)
            .message(message);
        send(session, MessageHeaderEncoder.ENCODED_LENGTH + errorEncoder.encodedLength());
    }

    /**
     * A connection-level ControlError (correlation id 0), framed as on the control socket (4-byte little-endian
     * length first), for a connection refused before it has a session: written once, then the connection lingers
     * ({@link io.switchboard.broker.access.LingeringRefusals}).
     *
     * @param status of the refusal, e.g. FORBIDDEN.
     * @param message saying why.
     * @return the whole frame, ready to write.
     */
    java.nio.ByteBuffer refusal(final Status status, final String message)
    {
        counters.increment(BrokerCounters.CONTROL_ERRORS);
        errorEncoder.wrapAndApplyHeader(sendBuffer, ControlConnection.FRAME_HEADER_LENGTH, headerEncoder)
            .correlationId(0)
            .status(status)
            .message(message);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + errorEncoder.encodedLength();
        sendBuffer.putInt(0, length, java.nio.ByteOrder.LITTLE_ENDIAN);
        final byte[] frame = new byte[ControlConnection.FRAME_HEADER_LENGTH + length];
        sendBuffer.getBytes(0, frame);
        return java.nio.ByteBuffer.wrap(frame);
    }

    /**
     * Send a subject's retained publication to a peer, as part of the answer to its Subscribe.
     *
     * @param session of the subscriber.
     * @param correlationId of its Subscribe.
     * @param message the encoded RetainedPublication as the store keeps it.
     */
    void retained(final ClientSession session, final long correlationId, final byte[] message)
    {
        sendBuffer.putBytes(0, message);
        sendBuffer.putLong(MessageHeaderEncoder.ENCODED_LENGTH + RetainedPublicationEncoder.correlationIdEncodingOffset(),
            correlationId, java.nio.ByteOrder.LITTLE_ENDIAN);
        send(session, message.length);
    }

    private int encodeRouteUpdate(
        final RouteAction action, final ServiceRegistry.Service service, final ClientSession instance,
        final int schemaKey)
    {
        routeUpdateEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .action(action)
            .clientId(instance.clientId)
            .inboxStreamId(instance.inboxStreamId)
            .mode(service.mode)
            .pid(instance.pid)
            .inProcess(instance.inProcess ? BooleanType.TRUE : BooleanType.FALSE)
            .schemaId(PublishedSchemas.NO_SCHEMA == schemaKey ? -1 : schemaKey >>> 16)
            .schemaVersion(PublishedSchemas.NO_SCHEMA == schemaKey ? -1 : schemaKey & 0xFFFF);
        final RouteUpdateEncoder.MessageTypesEncoder types =
            routeUpdateEncoder.messageTypesCount(service.messageTypes.size());
        for (final Map.Entry<String, Integer> e : service.messageTypes.entrySet())
        {
            types.next().templateId(e.getValue()).name(e.getKey());
        }
        routeUpdateEncoder.service(service.name);
        routeUpdateEncoder.peerName(instance.name);
        return MessageHeaderEncoder.ENCODED_LENGTH + routeUpdateEncoder.encodedLength();
    }

    private void broadcast(final Collection<ClientSession> sessions, final int length)
    {
        for (final ClientSession session : sessions)
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
