package io.switchboard.broker;

import io.switchboard.codec.wire.ConnectEncoder;
import io.switchboard.codec.wire.DeclareSchemaEncoder;
import io.switchboard.codec.wire.HeartbeatEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RegisterEncoder;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.codec.wire.SubscribeEncoder;
import io.switchboard.codec.wire.UnregisterEncoder;
import io.switchboard.codec.wire.UnsubscribeEncoder;
import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The broker's control adapter driven with encoded messages, no socket and no conductor: what each message becomes,
 * and which ones are protocol errors.
 */
class BrokerControlAdapterTest
{
    private static final int OFFSET = 8;

    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(1024);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final RecordingHandler handler = new RecordingHandler();
    private final BrokerControlAdapter adapter = new BrokerControlAdapter(handler);
    private final ClientSession session = new ClientSession(null, 0);

    @Test
    void shouldDecodeConnectWithVersionPidAndName()
    {
        final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .protocolVersion(7).pid(4242).clientName("orders-service");
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength());

        assertEquals(List.of("connect 7 4242 orders-service"), handler.calls);
    }

    @Test
    void shouldRefuseAnythingButConnectFirst()
    {
        final SubscribeEncoder subscribe = new SubscribeEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(5).pattern("prices.*");
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + subscribe.encodedLength());

        assertEquals(List.of("error expected Connect first, got templateId=" + SubscribeEncoder.TEMPLATE_ID),
            handler.calls);
    }

    @Test
    void shouldRefuseASecondConnect()
    {
        session.connected = true;
        final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .protocolVersion(1).pid(1).clientName("again");
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength());

        assertEquals(List.of("error second Connect on one connection"), handler.calls);
    }

    @Test
    void shouldDecodeRegisterWithItsTypesInOrderAndItsSchema()
    {
        session.connected = true;
        final RegisterEncoder register = new RegisterEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(11).mode(ServiceMode.SHARED);
        final RegisterEncoder.MessageTypesEncoder types = register.messageTypesCount(2);
        types.next().templateId(3).name("Multiply");
        types.next().templateId(-1).name("Add");
        register.service("calculator");
        register.putSchemaIr(new byte[]{1, 2, 3}, 0, 3);
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + register.encodedLength());

        assertEquals(List.of("register 11 calculator SHARED {Multiply=3, Add=-1} 3"), handler.calls);
    }

    @Test
    void shouldDecodeDeclareSchemaWithItsIrBytes()
    {
        session.connected = true;
        final DeclareSchemaEncoder declare = new DeclareSchemaEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(12)
            .putSchemaIr(new byte[]{9, 8, 7, 6}, 0, 4);
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + declare.encodedLength());

        assertEquals(List.of("declare 12 [9, 8, 7, 6]"), handler.calls);
    }

    @Test
    void shouldRefuseADeclareSchemaBeforeConnect()
    {
        final DeclareSchemaEncoder declare = new DeclareSchemaEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(12)
            .putSchemaIr(new byte[]{1}, 0, 1);
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + declare.encodedLength());

        assertEquals(List.of("error expected Connect first, got templateId=" + DeclareSchemaEncoder.TEMPLATE_ID),
            handler.calls);
    }

    @Test
    void shouldDecodeUnregisterSubscribeAndUnsubscribeAndReadAHeartbeatAsNothing()
    {
        session.connected = true;
        final UnregisterEncoder unregister = new UnregisterEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(1).service("calculator");
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + unregister.encodedLength());
        final SubscribeEncoder subscribe = new SubscribeEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(2).pattern("prices.>");
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + subscribe.encodedLength());
        final UnsubscribeEncoder unsubscribe = new UnsubscribeEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(3).pattern("prices.>");
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + unsubscribe.encodedLength());
        final HeartbeatEncoder heartbeat = new HeartbeatEncoder().wrapAndApplyHeader(buffer, OFFSET, header);
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH + heartbeat.encodedLength());

        assertEquals(List.of("unregister 1 calculator", "subscribe 2 prices.>", "unsubscribe 3 prices.>"),
            handler.calls);
    }

    @Test
    void shouldNameWhatWasExpectedForAShortMessageAForeignSchemaAndAnUnknownTemplate()
    {
        session.connected = true;
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH - 1);
        header.wrap(buffer, OFFSET).blockLength(0).templateId(1).schemaId(ConnectEncoder.SCHEMA_ID + 1).version(0);
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH);
        header.wrap(buffer, OFFSET).blockLength(0).templateId(999).schemaId(ConnectEncoder.SCHEMA_ID).version(0);
        adapter.onMessage(session, buffer, OFFSET, MessageHeaderEncoder.ENCODED_LENGTH);

        assertEquals(List.of(
            "error message of " + (MessageHeaderEncoder.ENCODED_LENGTH - 1) + " bytes is shorter than the SBE header",
            "error expected schemaId=" + ConnectEncoder.SCHEMA_ID + ", actual=" + (ConnectEncoder.SCHEMA_ID + 1),
            "error unknown control templateId=999"), handler.calls);
    }

    @Test
    void shouldTurnAFailureWhileHandlingIntoAProtocolErrorAndGoOn()
    {
        session.connected = true;
        handler.failNext = true;
        final SubscribeEncoder subscribe = new SubscribeEncoder().wrapAndApplyHeader(buffer, OFFSET, header)
            .correlationId(2).pattern("prices.>");
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + subscribe.encodedLength();
        adapter.onMessage(session, buffer, OFFSET, length);
        adapter.onMessage(session, buffer, OFFSET, length);

        assertEquals(List.of(
            "error malformed control message templateId=" + SubscribeEncoder.TEMPLATE_ID +
                ": java.lang.IllegalStateException: boom",
            "subscribe 2 prices.>"), handler.calls);
    }

    private static final class RecordingHandler implements BrokerControlHandler
    {
        final List<String> calls = new ArrayList<>();
        boolean failNext;

        public void onConnect(
            final ClientSession session, final int protocolVersion, final long pid, final String clientName)
        {
            calls.add("connect " + protocolVersion + " " + pid + " " + clientName);
        }

        public void onRegister(
            final ClientSession session,
            final long correlationId,
            final String service,
            final ServiceMode mode,
            final Map<String, Integer> messageTypes,
            final byte[] schemaIr)
        {
            calls.add("register " + correlationId + " " + service + " " + mode + " " +
                new LinkedHashMap<>(messageTypes) + " " + schemaIr.length);
        }

        public void onDeclareSchema(final ClientSession session, final long correlationId, final byte[] schemaIr)
        {
            calls.add("declare " + correlationId + " " + java.util.Arrays.toString(schemaIr));
        }

        public void onRetain(
            final ClientSession session,
            final long correlationId,
            final int publisherId,
            final String subject,
            final int payloadLength,
            final org.agrona.DirectBuffer buffer,
            final int offset,
            final int length)
        {
            calls.add("retain " + correlationId + " " + publisherId + " " + subject + " " + payloadLength + " " + length);
        }

        public void onUnregister(final ClientSession session, final long correlationId, final String service)
        {
            calls.add("unregister " + correlationId + " " + service);
        }

        public void onSubscribe(final ClientSession session, final long correlationId, final String pattern)
        {
            if (failNext)
            {
                failNext = false;
                throw new IllegalStateException("boom");
            }
            calls.add("subscribe " + correlationId + " " + pattern);
        }

        public void onUnsubscribe(final ClientSession session, final long correlationId, final String pattern)
        {
            calls.add("unsubscribe " + correlationId + " " + pattern);
        }

        public void onProtocolError(final ClientSession session, final String message)
        {
            calls.add("error " + message);
        }
    }
}
