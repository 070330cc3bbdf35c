package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.*;

class FrameBodiesTest
{
    private final PayloadCodec codec = new PayloadCodec();

    @Test
    void shouldOmitAbsentFieldsInsteadOfWritingNull()
    {
        assertEquals("{\"correlation_id\":\"c1\",\"success\":true}",
            FrameBodies.response("c1", null).toString());
        assertEquals("{\"correlation_id\":\"c1\",\"success\":true}",
            FrameBodies.response("c1", NullNode.instance).toString());
        assertEquals("{\"correlation_id\":\"\",\"success\":false,\"error\":\"bad\",\"error_code\":\"PROTOCOL_ERROR\"}",
            FrameBodies.error("", ErrorCode.PROTOCOL_ERROR, "bad").toString());
        assertEquals("{\"correlation_id\":\"s\",\"sequence\":3,\"is_final\":true}",
            FrameBodies.streamEnd("s", 3).toString());
        assertEquals("{\"correlation_id\":\"s\",\"sequence\":0,\"is_final\":false,\"payload\":\"x\"}",
            FrameBodies.streamData("s", 0, TextNode.valueOf("x")).toString());
        assertEquals("{\"correlation_id\":\"s\",\"sequence\":2,\"is_final\":true,\"error\":\"stop\","
            + "\"error_code\":\"CANCELLED\"}",
            FrameBodies.streamError("s", 2, "CANCELLED", "stop").toString());
        assertEquals("{\"notification_id\":\"n\",\"message_type\":\"prices.ACME\",\"payload\":null,"
            + "\"timestamp_ms\":5,\"sequence\":1}",
            FrameBodies.push("n", "prices.ACME", null, 5, null, 1).toString());
        assertEquals("{}", FrameBodies.heartbeat().toString());
    }

    @Test
    void shouldRoundTripBodiesThroughBothFormatsAndFrames()
    {
        final FrameEncoder encoder = new FrameEncoder(codec);
        for (final FrameFormat format : FrameFormat.values())
        {
            final JsonNode body = FrameBodies.push("n", "t", TextNode.valueOf("p"), 1, "svc", 7);
            final byte[] frame = encoder.encode(FrameType.PUSH, format, body);
            final RecordingHandler handler = new RecordingHandler();
            new FrameDecoder().decode(ByteBuffer.wrap(frame), handler);
            final byte[] payload = handler.frames.get(0).payload();
            assertEquals(format, handler.frames.get(0).format());
            assertEquals(body.toString(), codec.read(format, payload, 0, payload.length).toString());
        }
    }

    @Test
    void shouldReportUnparseablePayloadsAsSerializationErrors()
    {
        for (final String bad : new String[]{ "", "{", "{} x", "nul", "\"abc" })
        {
            final byte[] bytes = bad.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            final FrameException ex = assertThrows(FrameException.class,
                () -> codec.read(FrameFormat.JSON, bytes, 0, bytes.length));
            assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
        }
        final byte[] truncatedMap = { (byte)0x82, (byte)0xA1, 'a' };
        assertEquals(ErrorCode.SERIALIZATION_ERROR, assertThrows(FrameException.class,
            () -> codec.read(FrameFormat.MSGPACK, truncatedMap, 0, truncatedMap.length)).errorCode());
    }

    @Test
    void shouldRefuseToEncodePayloadOverTheMaximum()
    {
        final FrameEncoder encoder = new FrameEncoder(codec, 4);
        assertEquals(ErrorCode.PAYLOAD_TOO_LARGE, assertThrows(FrameException.class,
            () -> encoder.encode(FrameType.RESPONSE, FrameFormat.JSON, new byte[5])).errorCode());
    }

    @Test
    void shouldNameEveryErrorCodeOfTheProtocol()
    {
        final String[] spec = { "ACTOR_NOT_FOUND", "UNKNOWN_MESSAGE_TYPE", "SERIALIZATION_ERROR", "INVALID_REQUEST",
            "TARGET_BUSY", "TIMEOUT", "SERVICE_UNAVAILABLE", "CANCELLED", "RATE_LIMITED", "PAYLOAD_TOO_LARGE",
            "PROTOCOL_ERROR", "UNSUPPORTED_PROTOCOL_VERSION", "NAME_IN_USE", "FORBIDDEN", "SHUTTING_DOWN",
            "CONNECTION_LIMIT_REACHED", "INTERNAL_ERROR" };
        assertEquals(spec.length, ErrorCode.values().length);
        for (final String name : spec)
        {
            assertNotNull(ErrorCode.fromText(name), name);
        }
        assertNull(ErrorCode.fromText("MY_SERVICE_CODE"));
    }
}
