package io.switchboard.broker;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.ConnectDecoder;
import io.switchboard.codec.wire.DeclareSchemaDecoder;
import io.switchboard.codec.wire.HeartbeatDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.RegisterDecoder;
import io.switchboard.codec.wire.RetainDecoder;
import io.switchboard.codec.wire.SubscribeDecoder;
import io.switchboard.codec.wire.UnregisterDecoder;
import io.switchboard.codec.wire.UnsubscribeDecoder;
import io.switchboard.transport.ControlConnection;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes the control messages a peer sends on its control socket and calls the {@link BrokerControlHandler} for
 * each: it checks the SBE header (length, schema id), that Connect comes first and only once, and decodes with the
 * sender's block length and version. Anything else, and any exception while a message is handled, is a protocol
 * error for that connection, which goes on. A heartbeat is read and needs nothing more: reading anything is what
 * keeps a peer alive.
 * <p>
 * Not thread-safe: used on the broker's conductor thread only.
 */
final class BrokerControlAdapter implements ControlConnection.MessageHandler
{
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final ConnectDecoder connectDecoder = new ConnectDecoder();
    private final RegisterDecoder registerDecoder = new RegisterDecoder();
    private final UnregisterDecoder unregisterDecoder = new UnregisterDecoder();
    private final SubscribeDecoder subscribeDecoder = new SubscribeDecoder();
    private final UnsubscribeDecoder unsubscribeDecoder = new UnsubscribeDecoder();
    private final DeclareSchemaDecoder declareSchemaDecoder = new DeclareSchemaDecoder();
    private final RetainDecoder retainDecoder = new RetainDecoder();
    private final BrokerControlHandler handler;
    private ClientSession session;

    /**
     * An adapter that hands each decoded message to the handler.
     *
     * @param handler to call for each message.
     */
    BrokerControlAdapter(final BrokerControlHandler handler)
    {
        this.handler = handler;
    }

    /**
     * Read what the session's connection has and handle every whole message.
     *
     * @param session whose connection is readable.
     * @return number of messages handled, or -1 once the peer closed the connection.
     * @throws IOException on a read error; {@link ControlConnection.InvalidLengthException} for a frame announcing a
     * length outside 1 to the maximum, refused before any buffer grew for it.
     */
    int poll(final ClientSession session) throws IOException
    {
        this.session = session;
        try
        {
            return session.connection.poll(this);
        }
        finally
        {
            this.session = null;
        }
    }

    /**
     * Handle one message as if the session's connection had delivered it.
     *
     * @param session that sent the message.
     * @param buffer holding the message.
     * @param offset at which the SBE message header begins.
     * @param length of the message.
     */
    void onMessage(final ClientSession session, final DirectBuffer buffer, final int offset, final int length)
    {
        this.session = session;
        try
        {
            onMessage(buffer, offset, length);
        }
        finally
        {
            this.session = null;
        }
    }

    /**
     * {@inheritDoc}
     */
    public void onMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        final ClientSession session = this.session;
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            handler.onProtocolError(session, "message of " + length + " bytes is shorter than the SBE header");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != ConnectDecoder.SCHEMA_ID)
        {
            handler.onProtocolError(
                session, "expected schemaId=" + ConnectDecoder.SCHEMA_ID + ", actual=" + headerDecoder.schemaId());
            return;
        }
        final int templateId = headerDecoder.templateId();
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;

        if (!session.connected && templateId != ConnectDecoder.TEMPLATE_ID)
        {
            handler.onProtocolError(session, "expected Connect first, got templateId=" + templateId);
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
                    break; // the read itself is what keeps the peer alive
                case RegisterDecoder.TEMPLATE_ID:
                    onRegister(session, registerDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case UnregisterDecoder.TEMPLATE_ID:
                    unregisterDecoder.wrap(buffer, body, blockLength, version);
                    final long unregisterId = unregisterDecoder.correlationId();
                    handler.onUnregister(session, unregisterId, unregisterDecoder.service());
                    break;
                case SubscribeDecoder.TEMPLATE_ID:
                    subscribeDecoder.wrap(buffer, body, blockLength, version);
                    final long subscribeId = subscribeDecoder.correlationId();
                    handler.onSubscribe(session, subscribeId, subscribeDecoder.pattern());
                    break;
                case UnsubscribeDecoder.TEMPLATE_ID:
                    unsubscribeDecoder.wrap(buffer, body, blockLength, version);
                    final long unsubscribeId = unsubscribeDecoder.correlationId();
                    handler.onUnsubscribe(session, unsubscribeId, unsubscribeDecoder.pattern());
                    break;
                case DeclareSchemaDecoder.TEMPLATE_ID:
                    onDeclareSchema(session, declareSchemaDecoder.wrap(buffer, body, blockLength, version));
                    break;
                case RetainDecoder.TEMPLATE_ID:
                    onRetain(session, buffer, offset, length, retainDecoder.wrap(buffer, body, blockLength, version));
                    break;
                default:
                    handler.onProtocolError(session, "unknown control templateId=" + templateId);
            }
        }
        catch (final RuntimeException ex)
        {
            handler.onProtocolError(session, "malformed control message templateId=" + templateId + ": " + ex);
        }
    }

    private void onConnect(final ClientSession session, final ConnectDecoder decoder)
    {
        if (session.connected)
        {
            handler.onProtocolError(session, "second Connect on one connection");
            return;
        }
        final int protocolVersion = decoder.protocolVersion();
        final long pid = decoder.pid();
        session.wantsSchemas = BooleanType.TRUE == decoder.wantsSchemas();
        handler.onConnect(session, protocolVersion, pid, decoder.clientName());
    }

    private void onRegister(final ClientSession session, final RegisterDecoder decoder)
    {
        // cold path: a register allocates its map, names and IR, which the registry keeps
        final long correlationId = decoder.correlationId();
        final Map<String, Integer> types = new LinkedHashMap<>();
        for (final RegisterDecoder.MessageTypesDecoder t : decoder.messageTypes())
        {
            final int templateId = t.templateId();
            types.put(t.name(), templateId);
        }
        final String service = decoder.service();
        final byte[] ir = new byte[decoder.schemaIrLength()];
        decoder.getSchemaIr(ir, 0, ir.length);
        handler.onRegister(session, correlationId, service, decoder.mode(), types, ir);
    }

    private void onDeclareSchema(final ClientSession session, final DeclareSchemaDecoder decoder)
    {
        // cold path: the IR is copied out, the broker keeps it
        final long correlationId = decoder.correlationId();
        final byte[] ir = new byte[decoder.schemaIrLength()];
        decoder.getSchemaIr(ir, 0, ir.length);
        handler.onDeclareSchema(session, correlationId, ir);
    }

    private void onRetain(
        final ClientSession session,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final RetainDecoder decoder)
    {
        // cold path: the subject is read as a string, the message is checked whole before the broker copies it
        final long correlationId = decoder.correlationId();
        final int publisherId = decoder.publisherId();
        final String subject = decoder.subject();
        decoder.skipMessageType();
        final int payloadLength = decoder.payloadLength();
        decoder.skipPayload();
        final int messageLength = MessageHeaderDecoder.ENCODED_LENGTH + decoder.encodedLength();
        if (messageLength > length)
        {
            handler.onProtocolError(session, "Retain of " + messageLength + " bytes in a message of " + length);
            return;
        }
        handler.onRetain(session, correlationId, publisherId, subject, payloadLength, buffer, offset, messageLength);
    }
}
