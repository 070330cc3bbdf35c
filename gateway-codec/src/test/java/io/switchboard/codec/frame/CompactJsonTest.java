package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CompactJson} takes only values whose bytes are what Jackson writes for them, so that the fast paths that copy
 * such a payload as it is ({@link RequestEnvelope}, {@link ResponseWriter}) give the tree path's bytes, for every
 * character, every escape and every shape; and what it leaves (or what is not JSON) still goes the slow way.
 */
class CompactJsonTest
{
    private final PayloadCodec codec = new PayloadCodec();
    private final RequestEnvelope envelope = new RequestEnvelope(codec);
    private final ResponseWriter writer = new ResponseWriter(codec);

    @Test
    void shouldTakeCompactValuesAndFindTheirEnd()
    {
        final String[] compact = {
            "{\"data\":\"xx\"}", "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\"", "[1,-2,0,true,false,null,{}]", "123456789012345678",
            "{\"a\":{\"b\":[[],[{}]]},\"\u00e9\u4e16\":\"\u00ff\uffff\"}", "\"\"", "0", "-7",
        };
        for (final String value : compact)
        {
            final byte[] bytes = (value + "}, more").getBytes(StandardCharsets.UTF_8);
            final int length = value.getBytes(StandardCharsets.UTF_8).length;
            assertEquals(length, CompactJson.end(bytes, 0, bytes.length), value);
        }
        final String[] notCompact = {
            "{ \"a\":1}", "[1, 2]", "{\"a\" :1}", "\"\\/\"", "\"\\u0041\"", "1.5", "1e3", "1E3", "-0", "00",
            "1234567890123456789", "\"\ud83d\ude00\"", "\"unterminated", "[1,2", "\n1", ",", "\"a\u0001\"",
        };
        for (final String value : notCompact)
        {
            final byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            assertEquals(-1, CompactJson.end(bytes, 0, bytes.length), value);
        }
    }

    @Test
    void shouldCopyEveryCharacterAsTheTreePathWritesIt()
    {
        int fast = 0;
        for (int c = 0; c <= 0x10FFFF; c += c < 0x10000 ? 1 : 0x3FF)
        {
            if (c >= 0xD800 && c <= 0xDFFF)
            {
                continue; // not a character: the UTF-8 check refuses its bytes
            }
            final String text = new String(Character.toChars(c));
            fast += assertSame("\"k" + text + "\"");
            fast += assertSame("{\"" + text + "\":[\"" + text + text + "\"]}");
        }
        for (final String escape : new String[]{ "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
            "\\u0000", "\\u001f", "\\u0041", "\\u00e9", "\\u2028", "\\uFFFF" })
        {
            fast += assertSame("\"a" + escape + "z\"");
            fast += assertSame("{\"k" + escape + "\":1}");
        }
        assertTrue(fast > 2 * 60_000, "most characters take the fast path: " + fast);
    }

    @Test
    void shouldCopyEveryNumberAsTheTreePathWritesIt()
    {
        for (final String number : new String[]{ "0", "-1", "7", "10", "2147483647", "2147483648", "-2147483649",
            "999999999999999999", "-999999999999999999", "1000000000000000000", "9223372036854775807",
            "-9223372036854775808", "18446744073709551616", "0.5", "-0.0", "1e2", "1E+2", "1.0", "100e-2" })
        {
            assertSame(number);
            assertSame("[" + number + "," + number + "]");
        }
    }

    @Test
    void shouldStillRefuseWhatIsNotJsonWhenItLooksCompact()
    {
        final String[] bad = {
            "[1}", "{\"a\":1,\"a\":2}", "{\"a\"}", "[tru]", "[nul]", "{\"a\":-}", "[1,,2]", "[" .repeat(300) +
            "]".repeat(300), "\"\\x\"", "[01]",
        };
        for (final String payload : bad)
        {
            final byte[] request = ("{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":" +
                payload + "}").getBytes(StandardCharsets.UTF_8);
            assertFalse(envelope.read(FrameFormat.JSON, request, 0, request.length), payload);
            final byte[] reply = payload.getBytes(StandardCharsets.UTF_8);
            final byte[] frame = writer.response(2, FrameFormat.JSON, "c", reply, 0, reply.length);
            // the tree path sends a reply that is not JSON as a string: the fast path leaves it to it
            assertTrue(null == frame || !Arrays.equals(reply, Arrays.copyOfRange(frame,
                FrameHeader.LENGTH_V2 + "{\"correlation_id\":\"c\",\"success\":true,\"payload\":".length(),
                frame.length - 1)), payload);
            assertEquals(null, frame, payload);
        }
    }

    @Test
    void shouldFindWhatTheScansLookForAtEveryPositionOfALongText()
    {
        for (int at = 0; at < 40; at++)
        {
            final byte[] text = "x".repeat(40).getBytes(StandardCharsets.UTF_8);
            assertEquals(-1, Utf8.firstInvalid(text, 0, text.length));
            assertFalse(Utf8.hasSurrogateEscape(text, 0, text.length));
            final byte[] invalid = text.clone();
            invalid[at] = (byte)0xFF;
            assertEquals(at, Utf8.firstInvalid(invalid, 0, invalid.length), "at " + at);
            if (at + 6 <= text.length)
            {
                final byte[] escaped = text.clone();
                System.arraycopy("\\uDC00".getBytes(StandardCharsets.US_ASCII), 0, escaped, at, 6);
                assertTrue(Utf8.hasSurrogateEscape(escaped, 0, escaped.length), "at " + at);
                assertFalse(Utf8.hasSurrogateEscape(escaped, at + 1, escaped.length - at - 1), "after " + at);
            }
            for (final byte b : new byte[]{ '"', '\\', 0x01, (byte)0xF0 })
            {
                final byte[] string = ("\"" + "x".repeat(40) + "\"").getBytes(StandardCharsets.UTF_8);
                string[1 + at] = b;
                final int end = CompactJson.end(string, 0, string.length);
                if ('"' == b)
                {
                    assertEquals(2 + at, end, "a quote at " + at);
                }
                else
                {
                    assertEquals(-1, end, "byte " + b + " at " + at);
                }
            }
        }
    }

    @Test
    void shouldCopyAOneMebibytePayloadAsItIs()
    {
        final String payload = "{\"data\":\"" + "x".repeat(1 << 20) + "\"}";
        assertEquals(1, assertSame(payload));
        // and it is read where it is, in the frame's own array, not copied
        final byte[] request = ("{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":" +
            payload + "}").getBytes(StandardCharsets.UTF_8);
        assertTrue(envelope.read(FrameFormat.JSON, request, 0, request.length));
        org.junit.jupiter.api.Assertions.assertSame(request, envelope.payloadJson());
        assertEquals(request.length - 1 - payload.length(), envelope.payloadJsonOffset());
        assertEquals(payload.length(), envelope.payloadJsonLength());
    }

    /**
     * The request and reply fast paths give the tree path's bytes for the payload, or leave it to the tree path.
     *
     * @return 1 if the request took the fast path, else 0.
     */
    private int assertSame(final String payload)
    {
        final byte[] request = ("{\"correlation_id\":\"1\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":" +
            payload + "}").getBytes(StandardCharsets.UTF_8);
        final boolean fast = envelope.read(FrameFormat.JSON, request, 0, request.length);
        final byte[] reply = payload.getBytes(StandardCharsets.UTF_8);
        final JsonNode tree;
        try
        {
            tree = codec.read(FrameFormat.JSON, request, 0, request.length);
        }
        catch (final FrameException ex)
        {
            // not JSON (a raw control character): both fast paths leave it to the tree path's typed error
            assertFalse(fast, payload);
            assertEquals(null, writer.response(2, FrameFormat.JSON, "c-1", reply, 0, reply.length), payload);
            return 0;
        }
        if (fast)
        {
            assertEquals(new String(codec.write(FrameFormat.JSON, tree.get("payload")), StandardCharsets.UTF_8),
                new String(envelope.payloadJson(), envelope.payloadJsonOffset(), envelope.payloadJsonLength(),
                    StandardCharsets.UTF_8), payload);
        }
        final byte[] frame = writer.response(2, FrameFormat.JSON, "c-1", reply, 0, reply.length);
        if (null != frame)
        {
            final byte[] body = codec.write(FrameFormat.JSON, FrameBodies.response("c-1", tree.get("payload")));
            assertArrayEquals(body, Arrays.copyOfRange(frame, FrameHeader.LENGTH_V2, frame.length), payload);
        }
        else
        {
            assertFalse(fast && !Utf8.hasSurrogateEscape(reply, 0, reply.length), "the reply of " + payload);
        }
        assertNotNull(tree);
        return fast ? 1 : 0;
    }
}
