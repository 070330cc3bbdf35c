package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PayloadCodecTest
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final PayloadCodec codec = new PayloadCodec();

    @Test
    void shouldRefuseMessagePackExtensionTypesAsASerializationError()
    {
        // {"a": ext(type 1, one byte)}: found by the million-case fuzz, it used to escape as IllegalStateException
        final byte[] payload = { (byte)0x81, (byte)0xA1, 'a', (byte)0xD4, 0x01, 0x00 };
        final FrameException ex = refused(FrameFormat.MSGPACK, payload);
        assertTrue(ex.getMessage().contains("extension"), ex.getMessage());
    }

    @Test
    void shouldReadPlainMessagePackValues()
    {
        // {"a": [1, true, nil]}
        final byte[] payload = { (byte)0x81, (byte)0xA1, 'a', (byte)0x93, 0x01, (byte)0xC3, (byte)0xC0 };
        assertEquals("{\"a\":[1,true,null]}", codec.read(FrameFormat.MSGPACK, payload, 0, payload.length).toString());
    }

    @Test
    void shouldRefuseTenThousandNestedMessagePackArraysWithoutOverflowingTheStack()
    {
        // the 10,001-byte frame of the issue: 0x91 x 10,000 then nil
        final byte[] payload = new byte[10_001];
        Arrays.fill(payload, (byte)0x91);
        payload[10_000] = (byte)0xC0;
        final FrameException ex = refused(FrameFormat.MSGPACK, payload);
        assertTrue(ex.getMessage().contains("deeper than the maximum depth " + PayloadCodec.DEFAULT_MAX_DEPTH),
            ex.getMessage());
        assertTrue(ex.getMessage().contains("at byte " + PayloadCodec.DEFAULT_MAX_DEPTH), ex.getMessage());
    }

    @Test
    void shouldRefuseTenThousandNestedJsonArraysAndObjects()
    {
        refused(FrameFormat.JSON, ("[".repeat(10_000) + "]".repeat(10_000)).getBytes(StandardCharsets.US_ASCII));
        refused(FrameFormat.JSON, ("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000))
            .getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void shouldAcceptExactlyTheMaximumDepthInBothFormats()
    {
        final int max = PayloadCodec.DEFAULT_MAX_DEPTH;
        assertEquals(max, depth(codec.read(FrameFormat.JSON, jsonArrays(max), 0, jsonArrays(max).length)));
        refused(FrameFormat.JSON, jsonArrays(max + 1));
        assertEquals(max, depth(codec.read(FrameFormat.MSGPACK, msgpackArrays(max), 0, msgpackArrays(max).length)));
        refused(FrameFormat.MSGPACK, msgpackArrays(max + 1));

        final PayloadCodec shallow = new PayloadCodec(3);
        assertEquals(3, shallow.maxDepth());
        assertEquals(3, depth(shallow.read(FrameFormat.MSGPACK, msgpackArrays(3), 0, msgpackArrays(3).length)));
        assertThrows(FrameException.class, () -> shallow.read(FrameFormat.MSGPACK, msgpackArrays(4), 0, 4));
        assertThrows(FrameException.class, () -> shallow.read(FrameFormat.JSON, jsonArrays(4), 0, 8));
        // empty containers count as a level too; maps as well as arrays
        final byte[] maps = { (byte)0x81, (byte)0xA1, 'a', (byte)0x81, (byte)0xA1, 'b', (byte)0x81, (byte)0xA1, 'c',
            (byte)0x80 };
        assertThrows(FrameException.class, () -> shallow.read(FrameFormat.MSGPACK, maps, 0, maps.length));
        assertThrows(IllegalArgumentException.class, () -> new PayloadCodec(0));
        assertThrows(IllegalArgumentException.class, () -> new PayloadCodec(PayloadCodec.MAX_DEPTH_LIMIT + 1));
    }

    @Test
    void shouldRefuseMessagePackHeadersThatPromiseMoreThanThePayloadHolds()
    {
        // map32 of 4,294,967,295 entries, array32 likewise, str32 and bin32 of 4 GiB: refused before any allocation
        final byte[][] cases = {
            { (byte)0xDF, (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF },
            { (byte)0xDD, (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF, 0x01 },
            { (byte)0xDB, (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF, 'a' },
            { (byte)0xC6, (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF, 'a' },
            { (byte)0xDE, 0x00, 0x02, (byte)0xA1, 'a', 0x01 },
            { (byte)0xDC, 0x00 },
            { (byte)0x92, 0x01 },
            { (byte)0xCB, 0x00, 0x00 },
        };
        for (final byte[] payload : cases)
        {
            final FrameException ex = refused(FrameFormat.MSGPACK, payload);
            assertTrue(ex.getMessage().contains("promised") || ex.getMessage().contains("truncated"),
                ex.getMessage());
        }
        assertTrue(refused(FrameFormat.MSGPACK, new byte[]{ (byte)0xDF, (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF })
            .getMessage().contains("map of 4294967295 entries promised, only 0 bytes left"));
        assertTrue(refused(FrameFormat.MSGPACK, new byte[]{ 0x01, 0x02 }).getMessage().contains("trailing"));
        assertTrue(refused(FrameFormat.MSGPACK, new byte[]{ (byte)0xC1 }).getMessage().contains("0xC1"));
    }

    @Test
    void shouldRefuseIllFormedUtf8InEveryString()
    {
        final byte[][] illFormed = {
            { (byte)0xC0, (byte)0xAF },                         // overlong '/'
            { (byte)0xE0, (byte)0x80, (byte)0xAF },             // overlong '/', three bytes
            { (byte)0xF0, (byte)0x80, (byte)0x80, (byte)0xAF }, // overlong '/', four bytes
            { (byte)0xED, (byte)0xA0, (byte)0x80 },             // surrogate U+D800
            { (byte)0xED, (byte)0xBF, (byte)0xBF },             // surrogate U+DFFF
            { (byte)0xF4, (byte)0x90, (byte)0x80, (byte)0x80 }, // U+110000
            { (byte)0xF8, (byte)0x88, (byte)0x80, (byte)0x80, (byte)0x80 },
            { (byte)0xE2, (byte)0x82 },                         // truncated euro sign
            { (byte)0x80 },                                     // stray continuation byte
            { (byte)0xC3, 'a' },                                // lead byte without its continuation
        };
        for (final byte[] bad : illFormed)
        {
            final String shown = Utf8.showBytes(bad, 0, bad.length);
            // as a JSON value, as a JSON field name, as a MessagePack str value and as a MessagePack map key
            assertTrue(refused(FrameFormat.JSON, concat(bytes("{\"s\":\"x"), bad, bytes("\"}")))
                .getMessage().contains("UTF-8"), shown);
            refused(FrameFormat.JSON, concat(bytes("{\""), bad, bytes("\":1}")));
            refused(FrameFormat.MSGPACK, concat(new byte[]{ (byte)0x81, (byte)0xA1, 's', (byte)(0xA0 | bad.length) },
                bad, new byte[0]));
            refused(FrameFormat.MSGPACK, concat(new byte[]{ (byte)0x81, (byte)(0xA0 | bad.length) }, bad,
                new byte[]{ 0x01 }));
            assertTrue(Utf8.firstInvalid(bad, 0, bad.length) >= 0, shown);
        }
    }

    @Test
    void shouldRefuseJsonEscapesOfLoneSurrogatesButKeepPairs()
    {
        refused(FrameFormat.JSON, bytes("{\"s\":\"\\ud800\"}"));
        refused(FrameFormat.JSON, bytes("{\"s\":\"a\\udc00b\"}"));
        refused(FrameFormat.JSON, bytes("{\"\\ud800\":1}"));
        refused(FrameFormat.JSON, bytes("[[\"\\ud83d x\"]]"));
        final byte[] pair = bytes("{\"s\":\"\\ud83d\\ude00\"}");
        assertEquals("\uD83D\uDE00", codec.read(FrameFormat.JSON, pair, 0, pair.length).get("s").textValue());
    }

    @Test
    void shouldAcceptWellFormedUtf8OfEveryLength()
    {
        final String text = "/é€😀\u07FF\uFFFD\uD800\uDC00\uDBFF\uDFFF"; // 1-, 2-, 3- and 4-byte forms and the edges
        final byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(-1, Utf8.firstInvalid(utf8, 0, utf8.length));
        final byte[] json = concat(bytes("{\"s\":\""), utf8, bytes("\"}"));
        assertEquals(text, codec.read(FrameFormat.JSON, json, 0, json.length).get("s").textValue());
        final byte[] msgpack = codec.write(FrameFormat.MSGPACK, NODES.objectNode().put("s", text));
        assertEquals(text, codec.read(FrameFormat.MSGPACK, msgpack, 0, msgpack.length).get("s").textValue());
    }

    @Test
    void shouldRefuseToWriteAnIntegerMessagePackCannotCarryWithASerializationError()
    {
        final BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        final ObjectNode fits = NODES.objectNode();
        fits.putObject("payload").put("big", max).put("small", Long.MIN_VALUE);
        final byte[] written = codec.write(FrameFormat.MSGPACK, fits);
        assertEquals(max, codec.read(FrameFormat.MSGPACK, written, 0, written.length).at("/payload/big")
            .bigIntegerValue());

        for (final BigInteger tooBig : new BigInteger[]{ max.add(BigInteger.ONE),
            BigInteger.valueOf(Long.MIN_VALUE).subtract(BigInteger.ONE), BigInteger.TEN.pow(100) })
        {
            final ObjectNode body = NODES.objectNode().put("correlation_id", "c1");
            body.putObject("payload").putArray("values").add(1).add(tooBig);
            final FrameException ex = assertThrows(FrameException.class, () -> codec.write(FrameFormat.MSGPACK, body));
            assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
            assertTrue(ex.getMessage().contains("payload.values[1]"), ex.getMessage());
            assertTrue(ex.getMessage().contains("MessagePack"), ex.getMessage());
            // JSON carries it faithfully
            final byte[] json = codec.write(FrameFormat.JSON, body);
            assertEquals(tooBig, codec.read(FrameFormat.JSON, json, 0, json.length).at("/payload/values/1")
                .bigIntegerValue());
        }
        final ObjectNode decimal = NODES.objectNode().put("d", new java.math.BigDecimal("0.1000000000000000000001"));
        assertTrue(assertThrows(FrameException.class, () -> codec.write(FrameFormat.MSGPACK, decimal)).getMessage()
            .contains("at 'd'"));
        // as a JSON reply from a socket-served service would bring it
        final byte[] reply = bytes("{\"n\":123456789012345678901234567890}");
        final JsonNode parsed = codec.read(FrameFormat.JSON, reply, 0, reply.length);
        assertEquals(ErrorCode.SERIALIZATION_ERROR,
            assertThrows(FrameException.class, () -> codec.write(FrameFormat.MSGPACK, parsed)).errorCode());
    }

    @Test
    void shouldOnlyThrowFrameExceptionForRandomAndMutatedPayloads()
    {
        final Random random = new Random(0x5EED);
        final ObjectNode sample = NODES.objectNode().put("correlation_id", "c-1").put("target", "calc")
            .put("n", -5).put("big", new BigInteger("18446744073709551615")).put("f", 1.5).put("t", "é€😀");
        sample.putArray("a").add(true).addNull().addObject().put("k", "v");
        final byte[][] valid = { codec.write(FrameFormat.MSGPACK, sample), codec.write(FrameFormat.JSON, sample) };
        int refused = 0;
        for (int i = 0; i < 40_000; i++)
        {
            final FrameFormat format = (i & 1) == 0 ? FrameFormat.MSGPACK : FrameFormat.JSON;
            final byte[] bytes;
            if (i % 5 == 0)
            {
                bytes = new byte[1 + random.nextInt(40)];
                random.nextBytes(bytes);
            }
            else
            {
                bytes = valid[i & 1].clone();
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--)
                {
                    bytes[random.nextInt(bytes.length)] = (byte)random.nextInt(256);
                }
            }
            try
            {
                final JsonNode node = codec.read(format, bytes, 0, bytes.length);
                for (final FrameFormat out : FrameFormat.values())
                {
                    try
                    {
                        codec.write(out, node);
                    }
                    catch (final FrameException ex)
                    {
                        assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode(), ex.getMessage());
                    }
                }
            }
            catch (final FrameException ex)
            {
                assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
                refused++;
            }
        }
        assertTrue(refused > 10_000, "most mutations should be refused: " + refused);
    }

    private FrameException refused(final FrameFormat format, final byte[] payload)
    {
        final FrameException ex = assertThrows(FrameException.class,
            () -> codec.read(format, payload, 0, payload.length), () -> format + " " + Arrays.toString(payload));
        assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
        return ex;
    }

    private static int depth(final JsonNode node)
    {
        int depth = 0;
        JsonNode at = node;
        while (at.isContainerNode())
        {
            depth++;
            at = at.size() > 0 ? at.get(0) : NODES.nullNode();
        }
        return depth;
    }

    private static byte[] jsonArrays(final int depth)
    {
        return ("[".repeat(depth) + "]".repeat(depth)).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] msgpackArrays(final int depth)
    {
        final byte[] bytes = new byte[depth];
        Arrays.fill(bytes, 0, depth - 1, (byte)0x91);
        bytes[depth - 1] = (byte)0x90;
        return bytes;
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
