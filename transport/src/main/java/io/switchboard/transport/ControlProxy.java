package io.switchboard.transport;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.ConnectEncoder;
import io.switchboard.codec.wire.DeclareSchemaEncoder;
import io.switchboard.codec.wire.HeartbeatEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RegisterEncoder;
import io.switchboard.codec.wire.RetainEncoder;
import io.switchboard.codec.wire.Status;
import io.switchboard.codec.wire.SubscribeEncoder;
import io.switchboard.codec.wire.UnregisterEncoder;
import io.switchboard.codec.wire.UnsubscribeEncoder;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Encodes this peer's control messages to the broker (connect, heartbeat, register, unregister, subscribe,
 * unsubscribe, declare a schema) and keeps the future of each that the broker answers, until its ack or error arrives or the broker is
 * lost.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class ControlProxy
{
    /**
     * Where encoded messages go: the session's control connection.
     */
    @FunctionalInterface
    interface Sender
    {
        /**
         * Send what is in the buffer.
         *
         * @param buffer holding the message.
         * @param length of the message.
         * @return false if there is no connection to send on (the broker is lost).
         */
        boolean send(ExpandableDirectByteBuffer buffer, int length);
    }

    private final Sender sender;
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ConnectEncoder connectEncoder = new ConnectEncoder();
    private final HeartbeatEncoder heartbeatEncoder = new HeartbeatEncoder();
    private final RegisterEncoder registerEncoder = new RegisterEncoder();
    private final UnregisterEncoder unregisterEncoder = new UnregisterEncoder();
    private final DeclareSchemaEncoder declareSchemaEncoder = new DeclareSchemaEncoder();
    private final SubscribeEncoder subscribeEncoder = new SubscribeEncoder();
    private final UnsubscribeEncoder unsubscribeEncoder = new UnsubscribeEncoder();
    private final RetainEncoder retainEncoder = new RetainEncoder();
    private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(4 * 1024);
    private final Long2ObjectHashMap<CompletableFuture<Void>> pending = new Long2ObjectHashMap<>();
    private long nextCorrelationId = 1;

    ControlProxy(final Sender sender)
    {
        this.sender = sender;
    }

    void connect(final String clientName, final boolean wantsSchemas)
    {
        connectEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .protocolVersion(Configuration.CONTROL_PROTOCOL_VERSION)
            .pid(ProcessHandle.current().pid())
            .wantsSchemas(wantsSchemas ? BooleanType.TRUE : BooleanType.FALSE)
            .clientName(clientName);
        sender.send(buffer, MessageHeaderEncoder.ENCODED_LENGTH + connectEncoder.encodedLength());
    }

    void heartbeat(final int clientId)
    {
        heartbeatEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder).clientId(clientId);
        sender.send(buffer, MessageHeaderEncoder.ENCODED_LENGTH + heartbeatEncoder.encodedLength());
    }

    CompletableFuture<Void> register(final ServiceDefinition definition)
    {
        final long correlationId = nextCorrelationId++;
        registerEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
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
        return send(correlationId, MessageHeaderEncoder.ENCODED_LENGTH + registerEncoder.encodedLength());
    }

    CompletableFuture<Void> declareSchema(final byte[] ir)
    {
        final long correlationId = nextCorrelationId++;
        declareSchemaEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .putSchemaIr(ir, 0, ir.length);
        return send(correlationId, MessageHeaderEncoder.ENCODED_LENGTH + declareSchemaEncoder.encodedLength());
    }

    CompletableFuture<Void> unregister(final String service)
    {
        final long correlationId = nextCorrelationId++;
        unregisterEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .service(service);
        return send(correlationId, MessageHeaderEncoder.ENCODED_LENGTH + unregisterEncoder.encodedLength());
    }

    CompletableFuture<Void> subscription(final String pattern, final boolean subscribe)
    {
        final long correlationId = nextCorrelationId++;
        final int length;
        if (subscribe)
        {
            subscribeEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
                .correlationId(correlationId).pattern(pattern);
            length = MessageHeaderEncoder.ENCODED_LENGTH + subscribeEncoder.encodedLength();
        }
        else
        {
            unsubscribeEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
                .correlationId(correlationId).pattern(pattern);
            length = MessageHeaderEncoder.ENCODED_LENGTH + unsubscribeEncoder.encodedLength();
        }
        return send(correlationId, length);
    }

    /**
     * The correlation id of the request last sent, to tie what the broker sends before its answer to it.
     *
     * @return the correlation id.
     */
    long lastCorrelationId()
    {
        return nextCorrelationId - 1;
    }

    /**
     * Ask the broker to keep a publication as its subject's retained value (an empty payload clears it); the peer
     * writes the publication on its log once acknowledged.
     *
     * @param publisherId this peer's client id.
     * @param logSessionId of the log the publication will be written on.
     * @param sequence the publication will carry.
     * @param timestampMs of the publication.
     * @param templateId of the payload, or -1 for opaque.
     * @param subject of the publication.
     * @param messageType of the payload.
     * @param payload buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return completed by the broker's answer.
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} if the message would pass the longest control
     * message: nothing is sent.
     */
    CompletableFuture<Void> retain(
        final int publisherId,
        final int logSessionId,
        final long sequence,
        final long timestampMs,
        final int templateId,
        final String subject,
        final String messageType,
        final org.agrona.DirectBuffer payload,
        final int offset,
        final int length)
    {
        final long messageLength = MessageHeaderEncoder.ENCODED_LENGTH + RetainEncoder.BLOCK_LENGTH +
            RetainEncoder.subjectHeaderLength() + subject.length() + RetainEncoder.messageTypeHeaderLength() +
            messageType.length() + RetainEncoder.payloadHeaderLength() + (long)length;
        if (messageLength > Configuration.MAX_CONTROL_MESSAGE_LENGTH)
        {
            throw new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, "a retained publication travels to the " +
                "broker in one control message: expected at most " + Configuration.MAX_CONTROL_MESSAGE_LENGTH +
                " bytes, actual=" + messageLength + " ('" + subject + "', payload of " + length + " bytes)");
        }
        final long correlationId = nextCorrelationId++;
        retainEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .publisherId(publisherId)
            .sequence(sequence)
            .timestampMs(timestampMs)
            .templateId(templateId)
            .correlationId(correlationId)
            .logSessionId(logSessionId)
            .subject(subject)
            .messageType(messageType)
            .putPayload(payload, offset, length);
        return send(correlationId, MessageHeaderEncoder.ENCODED_LENGTH + retainEncoder.encodedLength());
    }

    private CompletableFuture<Void> send(final long correlationId, final int length)
    {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        pending.put(correlationId, future);
        if (!sender.send(buffer, length))
        {
            pending.remove(correlationId);
            future.completeExceptionally(
                new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE, "no broker connection"));
        }
        return future;
    }

    /**
     * The broker acknowledged a control request.
     *
     * @param correlationId of the request.
     */
    void onAck(final long correlationId)
    {
        final CompletableFuture<Void> f = pending.remove(correlationId);
        if (null != f)
        {
            f.complete(null);
        }
    }

    /**
     * The broker refused a control request.
     *
     * @param correlationId of the request.
     * @param status the broker's code.
     * @param message the broker's reason.
     * @return false if no request of this peer had that correlation id.
     */
    boolean onError(final long correlationId, final Status status, final String message)
    {
        final CompletableFuture<Void> f = pending.remove(correlationId);
        if (null == f)
        {
            return false;
        }
        f.completeExceptionally(new SwitchboardException(status.name(), message));
        return true;
    }

    /**
     * Whether a request waits for the broker's answer (the control connection is then read every duty cycle).
     *
     * @return true if one waits.
     */
    boolean hasPending()
    {
        return !pending.isEmpty();
    }

    /**
     * The broker is lost: every request waiting for its answer fails.
     */
    void failAll()
    {
        for (final CompletableFuture<Void> f : pending.values())
        {
            f.completeExceptionally(new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE, "lost the broker"));
        }
        pending.clear();
    }
}
