package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The streaming fast paths ({@link RequestEnvelope}, {@link ResponseWriter}) read and write exactly what the tree path
 * reads and writes, and leave to it every body they are not sure of, so that hostile input keeps its typed errors.
 */
class StreamingFastPathTest
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String[] PAYLOADS = {
        "{\"data\":\"0123456789abcdef0123456789abcdef\"}",
        "null", "true", "0", "-1", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
        "123456789012345678901234567890", "0.1", "-0.0", "1e10", "1.5E-300", "1e400", "3.141592653589793",
        "\"h\u00e9llo \u4e16\u754c \ud83d\ude00\"", "\"\\u0041\\u00e9\\n\"", "\"tab\\tquote\\\"slash\\/back\\\\\"", "[]", "{}",
        "[1,[2,[3,{\"a\":[]}]]]", "{ \"spaced\" : [ 1 , 2 ] ,\n \"x\" : { } }", "{\"a\":1,\"a\":2}",
    };

    private final PayloadCodec codec = new PayloadCodec();
    private final RequestEnvelope envelope = new RequestEnvelope(codec);
    private final ResponseWriter writer = new ResponseWriter(codec);

    @Test
    void shouldReadEveryOrdinaryRequestAsTheTreePathDoes() throws Exception
    {
        int fast = 0;
        for (final String payload : PAYLOADS)
        {
            final String json = "{\"target\":\"bench\",\"message_type\":\"Echo\",\"payload\":" + payload +
                ",\"expects_reply\":true,\"expects_stream\":false,\"response_timeout_ms\":2500,\"correlation_id\":\"c-7\"," +
                "\"extra\":{\"ignored\":[1,2,{\"deep\":null}]}}";
            final byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            fast += assertSameAsTree(FrameFormat.JSON, bytes);
            final JsonNode tree = codec.read(FrameFormat.JSON, bytes, 0, bytes.length);
            if (!payload.startsWith("123456789012")) // past 2^64: MessagePack cannot carry it
            {
                fast += assertSameAsTree(FrameFormat.MSGPACK, codec.write(FrameFormat.MSGPACK, tree));
            }
        }
        // all but the JSON payload with a duplicate name (the tree keeps the last value: the tree path reads it)
        assertEquals(2 * PAYLOADS.length - 2, fast, "every ordinary request takes the fast path");

        // no payload, no flags, no timeout: the defaults
        final byte[] bare = "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\"}"
            .getBytes(StandardCharsets.UTF_8);
        assertTrue(envelope.read(FrameFormat.JSON, bare, 0, bare.length));
        assertEquals("null", new String(envelope.payloadJson(), envelope.payloadJsonOffset(),
            envelope.payloadJsonLength(), StandardCharsets.UTF_8));
        assertEquals(RequestEnvelope.NO_TIMEOUT, envelope.timeoutMs());
        assertFalse(envelope.expectsReply());
        assertFalse(envelope.expectsStream());
    }

    @Test
    void shouldReadRandomPayloadsAsTheTreePathDoes() throws Exception
    {
        final Random random = new Random(12);
        int fast = 0;
        for (int i = 0; i < 2000; i++)
        {
            final ObjectNode body = NODES.objectNode();
            body.put("correlation_id", "r" + i).put("target", "svc").put("message_type", "Type");
            body.set("payload", randomNode(random, 0));
            body.put("expects_reply", random.nextBoolean());
            body.put("response_timeout_ms", random.nextInt(100_000) + 1);
            final byte[] json = codec.write(FrameFormat.JSON, body);
            // Jackson writes a character past U+FFFF as an escaped surrogate pair: the tree path reads those
            final int expected = Utf8.hasSurrogateEscape(json, 0, json.length) ? 0 : 1;
            assertEquals(expected, assertSameAsTree(FrameFormat.JSON, json), body::toString);
            assertEquals(1, assertSameAsTree(FrameFormat.MSGPACK, codec.write(FrameFormat.MSGPACK, body)),
                body::toString);
            fast += expected;
        }
        assertTrue(fast > 1000, "most random requests take the fast path: " + fast);
    }

    @Test
    void shouldReadEnvelopesWhoseNamesAreSpelledOtherwiseAsTheTreePathDoes() throws Exception
    {
        // the one-pass reader tells the envelope's names by their bytes: an escaped spelling, a longer or shorter
        // name, a name cut by the end of the body, each goes to the Jackson path, which reads it as the tree does
        final String[] bodies = {
            "{\"targe\\u0074\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\"}",
            "{\"target2\":\"x\",\"target\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\"}",
            "{\"targ\":\"x\",\"target\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\"}",
            "{\"expects_\":true,\"target\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\"}",
            "{\"expects_stream\":true,\"expects_reply\":false,\"target\":\"t\",\"correlation_id\":\"1\"," +
                "\"message_type\":\"m\",\"response_timeout_ms\":-5}",
            "{\"target\":\"t\\n\",\"correlation_id\":\"\u00e9\",\"message_type\":\"m\",\"payload\":\"x\"}",
            "{\"target\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\",\"payload\":{\"a\":[true,false,null]}}",
            "{\"target\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\",\"payload\":1} ",
            "{\"target\":\"t\",\"correlation_id\":\"1\",\"message_type\":\"m\",\"target\":\"u\"}",
        };
        int fast = 0;
        for (final String body : bodies)
        {
            final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            fast += assertSameAsTree(FrameFormat.JSON, bytes);
        }
        final byte[] cut = "{\"target".getBytes(StandardCharsets.UTF_8);
        assertFalse(envelope.read(FrameFormat.JSON, cut, 0, cut.length));
        assertEquals(bodies.length - 1, fast, "all but the name given twice take a fast path");
    }

    @Test
    void shouldLeaveEveryDoubtfulRequestToTheTreePath()
    {
        final String[] doubtful = {
            "", "[]", "\"text\"", "{", "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\"} {}",
            "{\"correlation_id\":1,\"target\":\"t\",\"message_type\":\"m\"}",
            "{\"target\":\"t\",\"message_type\":\"m\"}",
            "{\"correlation_id\":\"1\",\"message_type\":\"m\"}",
            "{\"correlation_id\":\"1\",\"target\":\"t\"}",
            "{\"correlation_id\":\"1\",\"correlation_id\":\"2\",\"target\":\"t\",\"message_type\":\"m\"}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"expects_reply\":\"true\"}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"expects_stream\":1}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"response_timeout_ms\":\"5\"}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"response_timeout_ms\":1.5}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\"," +
                "\"response_timeout_ms\":99999999999999999999}",
            "{\"correlation_id\":\"\\ud83d\\ude00\",\"target\":\"t\",\"message_type\":\"m\"}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":\"\\ud800\"}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":" + "[".repeat(200) +
                "]".repeat(200) + "}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":NaN}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":[1,]}",
            "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":{\"a\":1,\"a\":2}}",
        };
        for (final String json : doubtful)
        {
            final byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            assertFalse(envelope.read(FrameFormat.JSON, bytes, 0, bytes.length), json);
        }
        final byte[] overlong = { '{', '"', 'a', '"', ':', '"', (byte)0xC0, (byte)0xAF, '"', '}' };
        assertFalse(envelope.read(FrameFormat.JSON, overlong, 0, overlong.length));
        final byte[] truncatedMsgpack = { (byte)0x83, (byte)0xAE, 'c' };
        assertFalse(envelope.read(FrameFormat.MSGPACK, truncatedMsgpack, 0, truncatedMsgpack.length));
        final byte[] extension = { (byte)0x81, (byte)0xA1, 'a', (byte)0xD4, 0x01, 0x00 };
        // {"correlation_id":"1","target":"t","message_type":"m","payload":{"a":1,"a":2}}: the tree keeps a=2
        final byte[] distinct = ("{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\"," +
            "\"payload\":{\"a\":1,\"b\":2}}").getBytes(StandardCharsets.UTF_8);
        final byte[] twice = codec.write(FrameFormat.MSGPACK, codec.read(FrameFormat.JSON, distinct, 0, distinct.length));
        assertTrue(envelope.read(FrameFormat.MSGPACK, twice, 0, twice.length));
        twice[twice.length - 2] = 'a';
        assertEquals("{\"a\":2}", codec.read(FrameFormat.MSGPACK, twice, 0, twice.length).get("payload").toString());
        assertFalse(envelope.read(FrameFormat.MSGPACK, twice, 0, twice.length));
        assertFalse(envelope.read(FrameFormat.MSGPACK, extension, 0, extension.length));

        // and the fast path still works after each refusal
        final byte[] good = "{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":[1]}"
            .getBytes(StandardCharsets.UTF_8);
        assertTrue(envelope.read(FrameFormat.JSON, good, 0, good.length));
        assertEquals("[1]", new String(envelope.payloadJson(), envelope.payloadJsonOffset(),
            envelope.payloadJsonLength(), StandardCharsets.UTF_8));
    }

    @Test
    void shouldWriteEveryOrdinaryResponseAsTheTreePathDoes()
    {
        int fast = 0;
        for (final String payload : PAYLOADS)
        {
            if ("null".equals(payload) || payload.startsWith("{\"a\":1,\"a\""))
            {
                continue;
            }
            fast += assertSameResponse(payload, "c-" + fast);
        }
        assertEquals(3 * (PAYLOADS.length - 2) - 1, fast,
            "every ordinary reply takes the fast path in both formats and versions, but the 2^64-1 < integer " +
            "MessagePack cannot carry");
        final Random random = new Random(34);
        for (int i = 0; i < 2000; i++)
        {
            final JsonNode payload = randomNode(random, 0);
            final byte[] json = codec.write(FrameFormat.JSON, payload);
            if (!payload.isNull() && !Utf8.hasSurrogateEscape(json, 0, json.length))
            {
                assertSameResponse(new String(json, StandardCharsets.UTF_8), "r" + i);
            }
            else
            {
                assertNull(writer.response(2, FrameFormat.JSON, "r" + i, json, 0, json.length));
            }
        }
    }

    @Test
    void shouldLeaveEveryDoubtfulResponseToTheTreePath()
    {
        final String[] doubtful = { "null", "not json", "{\"a\":1} trailing", "[1,", "\"\\ud800\"", "\"\\uD83D\\uDE00\"",
            "[".repeat(200) + "]".repeat(200), "{\"a\":1,\"a\":2}" };
        for (final String text : doubtful)
        {
            final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            assertNull(writer.response(2, FrameFormat.JSON, "c", bytes, 0, bytes.length), text);
            assertNull(writer.response(2, FrameFormat.JSON, "c", new UnsafeBuffer(bytes), 0, bytes.length), text);
        }
        final byte[] huge = "123456789012345678901234567890".getBytes(StandardCharsets.UTF_8);
        assertNull(writer.response(2, FrameFormat.MSGPACK, "c", huge, 0, huge.length), "MessagePack cannot carry it");
        final byte[] good = "[1]".getBytes(StandardCharsets.UTF_8);
        assertNotNull(writer.response(2, FrameFormat.MSGPACK, "c", good, 0, good.length), "works after a refusal");
        assertNotNull(writer.response(2, FrameFormat.JSON, "c", good, 0, good.length), "works after a refusal");
    }

    @Test
    void shouldWriteEveryOrdinaryPushAsTheTreePathDoes()
    {
        final PushWriter pushes = new PushWriter(codec);
        final Random random = new Random(56);
        final List<String> payloads = new ArrayList<>(Arrays.asList(PAYLOADS));
        payloads.remove("{\"a\":1,\"a\":2}"); // a name given twice: the tree path's (below)
        payloads.add("");
        for (int i = 0; i < 2000; i++)
        {
            final byte[] json = codec.write(FrameFormat.JSON, randomNode(random, 0));
            if (!Utf8.hasSurrogateEscape(json, 0, json.length))
            {
                payloads.add(new String(json, StandardCharsets.UTF_8));
            }
        }
        long sequence = 0;
        for (final String payload : payloads)
        {
            final byte[] json = payload.getBytes(StandardCharsets.UTF_8);
            assertTrue(pushes.payload(json, 0, json.length), payload);
            // what the tree path pushes: PushPayloads reads the payload, an empty one is JSON null
            final JsonNode tree = json.length == 0 ? null : codec.read(FrameFormat.JSON, json, 0, json.length);
            for (final int version : new int[]{ 1, 2 })
            {
                for (final String source : new String[]{ null, "pub\u00e9\"lisher" })
                {
                    sequence++;
                    final byte[] frame = pushes.frame(version, "n-" + sequence, "prices.ACME", 1_700_000_000_123L + sequence,
                        source, sequence);
                    final byte[] body = codec.write(FrameFormat.JSON, FrameBodies.push(
                        "n-" + sequence, "prices.ACME", tree, 1_700_000_000_123L + sequence, source, sequence));
                    final int header = 1 == version ? FrameHeader.LENGTH_V1 : FrameHeader.LENGTH_V2;
                    assertArrayEquals(body, Arrays.copyOfRange(frame, header, frame.length), payload);
                    assertEquals(body.length, ((frame[0] & 0xFF) << 24) | ((frame[1] & 0xFF) << 16) |
                        ((frame[2] & 0xFF) << 8) | (frame[3] & 0xFF));
                    assertEquals(version, frame[FrameHeader.VERSION_OFFSET]);
                    assertEquals(FrameType.PUSH.code(), frame[FrameHeader.TYPE_OFFSET]);
                }
            }
        }
        for (final String doubtful : new String[]{ "not json", "{\"a\":1,\"a\":2}", "[1] 2", "\"\\ud800\"",
            "[".repeat(200) + "]".repeat(200), "{" })
        {
            final byte[] json = doubtful.getBytes(StandardCharsets.UTF_8);
            assertFalse(pushes.payload(json, 0, json.length), doubtful);
            assertThrows(IllegalStateException.class, () -> pushes.frame(2, "n", "s", 0, null, 1), "nothing taken");
        }
    }

    private int assertSameAsTree(final FrameFormat format, final byte[] bytes)
    {
        if (!envelope.read(format, bytes, 0, bytes.length))
        {
            return 0; // the tree path reads it: counted by the callers, which know what must be fast
        }
        final JsonNode tree = codec.read(format, bytes, 0, bytes.length);
        assertEquals(tree.get("correlation_id").asText(), envelope.correlationId());
        assertEquals(tree.get("target").asText(), envelope.target());
        assertEquals(tree.get("message_type").asText(), envelope.messageType());
        assertEquals(tree.path("expects_reply").asBoolean(false), envelope.expectsReply());
        assertEquals(tree.path("expects_stream").asBoolean(false), envelope.expectsStream());
        assertEquals(tree.path("response_timeout_ms").asLong(RequestEnvelope.NO_TIMEOUT), envelope.timeoutMs());
        final byte[] expected = codec.write(FrameFormat.JSON, tree.has("payload") ? tree.get("payload") :
            NODES.nullNode());
        assertEquals(new String(expected, StandardCharsets.UTF_8),
            new String(envelope.payloadJson(), envelope.payloadJsonOffset(),
            envelope.payloadJsonLength(), StandardCharsets.UTF_8));
        assertEquals(tree.path("payload"), envelope.payloadTree().isNull() && !tree.has("payload") ?
            tree.path("payload") : envelope.payloadTree());
        return 1;
    }

    private int assertSameResponse(final String payload, final String correlationId)
    {
        final byte[] json = payload.getBytes(StandardCharsets.UTF_8);
        final JsonNode tree = codec.read(FrameFormat.JSON, json, 0, json.length);
        int fast = 0;
        for (final int version : new int[]{ 1, 2 })
        {
            for (final FrameFormat format : FrameFormat.values())
            {
                if (1 == version && FrameFormat.MSGPACK == format)
                {
                    continue;
                }
                final byte[] frame = writer.response(version, format, correlationId, json, 0, json.length);
                // the same reply read where it arrived (at an offset of a larger buffer): the same frame
                final byte[] arrived = new byte[json.length + 11];
                System.arraycopy(json, 0, arrived, 5, json.length);
                final byte[] inPlace = writer.response(
                    version, format, correlationId, new UnsafeBuffer(arrived), 5, json.length);
                assertArrayEquals(frame, inPlace, payload + " " + format + " v" + version + " from a buffer");
                byte[] body;
                try
                {
                    body = codec.write(format, FrameBodies.response(correlationId, tree));
                }
                catch (final FrameException ex)
                {
                    assertNull(frame, "the tree path cannot write it: " + payload);
                    continue;
                }
                assertNotNull(frame, payload);
                final int header = 1 == version ? FrameHeader.LENGTH_V1 : FrameHeader.LENGTH_V2;
                assertArrayEquals(body, Arrays.copyOfRange(frame, header, frame.length), payload + " " + format);
                assertEquals(body.length, ((frame[0] & 0xFF) << 24) | ((frame[1] & 0xFF) << 16) |
                    ((frame[2] & 0xFF) << 8) | (frame[3] & 0xFF));
                assertEquals(version, frame[FrameHeader.VERSION_OFFSET]);
                assertEquals(FrameType.RESPONSE.code(), frame[FrameHeader.TYPE_OFFSET]);
                if (2 == version)
                {
                    assertEquals(format.code(), frame[FrameHeader.FORMAT_OFFSET]);
                }
                fast++;
            }
        }
        return fast;
    }

    private static JsonNode randomNode(final Random random, final int depth)
    {
        switch (random.nextInt(depth > 4 ? 7 : 9))
        {
            case 0: return NODES.nullNode();
            case 1: return NODES.booleanNode(random.nextBoolean());
            case 2: return NODES.numberNode(random.nextInt());
            case 3: return NODES.numberNode(random.nextLong());
            case 4: return NODES.numberNode(random.nextDouble() * Math.pow(10, random.nextInt(40) - 20));
            case 5: return NODES.numberNode(new BigInteger(64, random));
            case 6:
            {
                final StringBuilder text = new StringBuilder();
                for (int i = random.nextInt(12); i > 0; i--)
                {
                    final int kind = random.nextInt(4);
                    text.appendCodePoint(0 == kind ? 0x20 + random.nextInt(95) : 1 == kind ? random.nextInt(0x20) :
                        2 == kind ? 0xA0 + random.nextInt(0xD000) : 0x10000 + random.nextInt(0x1000));
                }
                return NODES.textNode(text.toString());
            }
            case 7:
            {
                final ArrayNode array = NODES.arrayNode();
                for (int i = random.nextInt(4); i > 0; i--)
                {
                    array.add(randomNode(random, depth + 1));
                }
                return array;
            }
            default:
            {
                final ObjectNode object = NODES.objectNode();
                final List<String> names = new ArrayList<>(List.of("a", "b\u00e9", "c d", "", "e\n"));
                for (int i = random.nextInt(4); i > 0; i--)
                {
                    object.set(names.remove(random.nextInt(names.size())), randomNode(random, depth + 1));
                }
                return object;
            }
        }
    }
}
