package io.switchboard.broker;

import io.switchboard.codec.wire.ServiceMode;
import org.agrona.DirectBuffer;

import java.util.Map;

/**
 * What the broker does with each control message a peer sends, decoded by the {@link BrokerControlAdapter}. The
 * {@link BrokerConductor} is the one implementation; tests record the calls.
 * <p>
 * Not thread-safe: called on the broker's conductor thread only.
 */
interface BrokerControlHandler
{
    /**
     * A connection's first message: the peer introduces itself.
     *
     * @param session of the connection, not yet connected.
     * @param protocolVersion of the control protocol the peer speaks.
     * @param pid the peer claims as its own.
     * @param clientName the peer gives itself.
     */
    void onConnect(ClientSession session, int protocolVersion, long pid, String clientName);

    /**
     * The peer offers a service.
     *
     * @param session of the peer.
     * @param correlationId to answer with.
     * @param service name of the service, possibly empty.
     * @param mode of the service, {@link ServiceMode#NULL_VAL} if the peer sent none the broker knows.
     * @param messageTypes the service accepts: name to SBE template id, in the peer's order.
     * @param schemaIr the SBE IR of the service's schema, possibly empty.
     */
    void onRegister(
        ClientSession session,
        long correlationId,
        String service,
        ServiceMode mode,
        Map<String, Integer> messageTypes,
        byte[] schemaIr);

    /**
     * The peer declares the SBE schema of what it publishes.
     *
     * @param session of the peer.
     * @param correlationId to answer with.
     * @param schemaIr the schema as encoded IR, as the peer sent it, not yet checked.
     */
    void onDeclareSchema(ClientSession session, long correlationId, byte[] schemaIr);

    /**
     * The peer withdraws a service.
     *
     * @param session of the peer.
     * @param correlationId to answer with.
     * @param service name of the service.
     */
    void onUnregister(ClientSession session, long correlationId, String service);

    /**
     * The peer subscribes to a subject pattern.
     *
     * @param session of the peer.
     * @param correlationId to answer with.
     * @param pattern as the peer sent it, not yet checked.
     */
    void onSubscribe(ClientSession session, long correlationId, String pattern);

    /**
     * The peer drops a subject pattern.
     *
     * @param session of the peer.
     * @param correlationId to answer with.
     * @param pattern as the peer sent it.
     */
    void onUnsubscribe(ClientSession session, long correlationId, String pattern);

    /**
     * The peer sent something the protocol does not allow: answered with {@code PROTOCOL_ERROR}, the connection
     * goes on.
     *
     * @param session of the peer.
     * @param message naming what was expected and what was found.
     */
    void onProtocolError(ClientSession session, String message);

    /**
     * The peer publishes a retained value: kept as the subject's last (an empty payload clears it), then the peer
     * writes the publication on its log once acknowledged.
     *
     * @param session of the peer.
     * @param correlationId to answer with.
     * @param publisherId the message names, to be the peer's own.
     * @param subject as the peer sent it, not yet checked.
     * @param payloadLength of the publication, 0 to clear.
     * @param buffer holding the whole Retain message.
     * @param offset at which its SBE header begins.
     * @param length of the message, checked to hold every field.
     */
    void onRetain(
        ClientSession session,
        long correlationId,
        int publisherId,
        String subject,
        int payloadLength,
        DirectBuffer buffer,
        int offset,
        int length);
}
