package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile input for the one-pass validator ({@link CompactScan}) and the fast paths that use it
 * ({@link RequestEnvelope}, {@link ResponseWriter}): whatever they accept must be exactly what the tree path
 * ({@link PayloadCodec#read} then {@link PayloadCodec#write}) accepts and writes, read nothing outside its frame, and
 * throw nothing. Differential: the tree path is the judge; a decline (the fast path answering "slow path") is always
 * allowed, an acceptance must match it byte for byte.
 */
class CompactScanAttackTest
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long MARKER = 424242L;

    private final PayloadCodec codec = new PayloadCodec();
    private final RequestEnvelope envelope = new RequestEnvelope(codec);
    private final ResponseWriter writer = new ResponseWriter(codec);
    private final CompactScan scan = new CompactScan();

    private static final String[] SEEDS = {
        "{}", "[]", "0", "-1", "1", "true", "false", "null", "\"\"", "\"a\"", "[1,2,3]", "{\"a\":1}",
        "{\"a\":{\"b\":[true,false,null,\"x\\n\\t\\\"\\\\\\b\\f\\r\"]},\"c\":-123456789012345678}",
        "[{\"a\":[{\"b\":{}}]},[[[]]],\"h\u00e9llo \u4e16\u754c\"]", "{\"k\":\"\u00ff\u07ff\u0800\uffff\ud7ff\ue000\"}",
        "\"0123456789abcdef0123456789abcdef0123\"", "{\"a\":1,\"b\":2,\"c\":{\"a\":1,\"b\":2}}",
    };
    private static final byte[] SPICE = {
        '"', '\\', '{', '}', '[', ']', ',', ':', '0', '1', '-', '.', 'e', 'E', 'n', 't', 'f', 'u', '/', ' ', '\n', 0,
        0x1F, 0x7F, (byte)0x80, (byte)0xBF, (byte)0xC0, (byte)0xC1, (byte)0xC2, (byte)0xDF, (byte)0xE0, (byte)0xED,
        (byte)0xEF, (byte)0xF0, (byte)0xF4, (byte)0xF5, (byte)0xFF, (byte)0xA0, (byte)0x9F,
    };

    // ---- the oracle ----------------------------------------------------------------------------------------------

    /** The tree path's payload bytes for a value, or null if it refuses it. */
    private byte[] treeValue(final byte[] bytes, final int from, final int to)
    {
        try
        {
            return codec.write(FrameFormat.JSON, codec.read(FrameFormat.JSON, bytes, from, to - from));
        }
        catch (final FrameException ex)
        {
            return null;
        }
    }

    /**
     * Scan a value where it lies (inside random bytes beyond its limit) and alone in an exact array: both must agree
     * (nothing read past the limit), throw nothing, and an acceptance must be what the tree path writes.
     *
     * @return whether the scan accepted the value.
     */
    private boolean checkScan(final Random random, final byte[] value, final int maxDepth)
    {
        final int exact = scan.end(value, 0, value.length, maxDepth);
        final int before = random.nextInt(9);
        final byte[] padded = new byte[before + value.length + random.nextInt(9)];
        random.nextBytes(padded);
        System.arraycopy(value, 0, padded, before, value.length);
        final int inPlace = scan.end(padded, before, before + value.length, maxDepth);
        assertEquals(exact, inPlace < 0 ? -1 : inPlace - before, () -> "reads outside its limit: " + show(value));
        if (exact < 0)
        {
            return false;
        }
        assertTrue(exact <= value.length);
        final byte[] tree = treeValue(value, 0, exact);
        assertNotNull(tree, () -> "the scan accepts what the tree path refuses: " + show(value, exact));
        assertArrayEquals(tree, Arrays.copyOf(value, exact),
            () -> "the scan accepts bytes the tree path writes otherwise: " + show(value, exact));
        return true;
    }

    /** Read a REQUEST body with the envelope (at a random offset in a larger array) and compare with the tree path. */
    private boolean checkRequest(final Random random, final byte[] body)
    {
        final int before = null == random ? 0 : random.nextInt(9);
        final byte[] padded = new byte[before + body.length + (null == random ? 0 : random.nextInt(9))];
        if (null != random)
        {
            random.nextBytes(padded);
        }
        System.arraycopy(body, 0, padded, before, body.length);
        final boolean fast = envelope.read(FrameFormat.JSON, padded, before, body.length);
        if (!fast)
        {
            return false; // the tree path reads it: consistent by construction
        }
        final JsonNode tree;
        try
        {
            tree = codec.read(FrameFormat.JSON, body, 0, body.length);
        }
        catch (final FrameException ex)
        {
            fail("the envelope accepts a body the tree path refuses (" + ex.getMessage() + "): " + show(body));
            return true;
        }
        final String message = show(body);
        assertTrue(tree.isObject(), message);
        assertEquals(text(tree, "correlation_id"), envelope.correlationId(), message);
        assertEquals(text(tree, "target"), envelope.target(), message);
        assertEquals(text(tree, "message_type"), envelope.messageType(), message);
        assertEquals(tree.path("expects_reply").asBoolean(false), envelope.expectsReply(), message);
        assertEquals(tree.path("expects_stream").asBoolean(false), envelope.expectsStream(), message);
        assertEquals(tree.path("response_timeout_ms").asLong(MARKER),
            RequestEnvelope.NO_TIMEOUT == envelope.timeoutMs() ? MARKER : envelope.timeoutMs(), message);
        final byte[] payload = codec.write(FrameFormat.JSON, tree.has("payload") ? tree.get("payload") : NODES.nullNode());
        assertArrayEquals(payload, Arrays.copyOfRange(envelope.payloadJson(), envelope.payloadJsonOffset(),
            envelope.payloadJsonOffset() + envelope.payloadJsonLength()), message);
        return true;
    }

    /** A reply through both ResponseWriter entries, compared with the tree path's RESPONSE frame. */
    private boolean checkResponse(final Random random, final byte[] reply, final String correlationId)
    {
        final JsonNode decoded;
        JsonNode read;
        try
        {
            read = codec.read(FrameFormat.JSON, reply, 0, reply.length);
        }
        catch (final FrameException ex)
        {
            read = NODES.textNode(new String(reply, StandardCharsets.UTF_8));
        }
        decoded = read;
        final byte[] treeBody = codec.write(FrameFormat.JSON, FrameBodies.response(correlationId, decoded));

        final int before = random.nextInt(17);
        final byte[] padded = new byte[before + reply.length + random.nextInt(9)];
        random.nextBytes(padded);
        System.arraycopy(reply, 0, padded, before, reply.length);
        boolean fast = false;
        for (final int version : new int[] {1, 2})
        {
            final byte[] direct = writer.response(version, FrameFormat.JSON, correlationId, new UnsafeBuffer(padded),
                before, reply.length);
            final byte[] array = writer.response(version, FrameFormat.JSON, correlationId, padded, before, reply.length);
            for (final byte[] frame : new byte[][] {direct, array})
            {
                if (null != frame)
                {
                    fast = true;
                    final int header = 1 == version ? FrameHeader.LENGTH_V1 : FrameHeader.LENGTH_V2;
                    assertArrayEquals(treeBody, Arrays.copyOfRange(frame, header, frame.length),
                        () -> "a reply written otherwise than the tree path writes it: " + show(reply));
                }
            }
        }
        // a MessagePack connection (v2): the tree path writes the same tree as MessagePack, or refuses it
        byte[] treeMsgpack;
        try
        {
            treeMsgpack = codec.write(FrameFormat.MSGPACK, FrameBodies.response(correlationId, decoded));
        }
        catch (final FrameException ex)
        {
            treeMsgpack = null;
        }
        for (final byte[] frame : new byte[][] {
            writer.response(2, FrameFormat.MSGPACK, correlationId, new UnsafeBuffer(padded), before, reply.length),
            writer.response(2, FrameFormat.MSGPACK, correlationId, padded, before, reply.length)})
        {
            if (null != frame)
            {
                assertNotNull(treeMsgpack, () -> "a MessagePack reply the tree path cannot write: " + show(reply));
                assertArrayEquals(treeMsgpack, Arrays.copyOfRange(frame, FrameHeader.LENGTH_V2, frame.length),
                    () -> "a MessagePack reply written otherwise than the tree path writes it: " + show(reply));
            }
        }
        return fast;
    }

    private static String text(final JsonNode body, final String field)
    {
        final JsonNode node = body.get(field);
        return null != node && node.isTextual() ? node.asText() : null;
    }

    // ---- fuzzing ---------------------------------------------------------------------------------------------------

    private static byte[] mutate(final Random random, final byte[] seed)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(seed);
        byte[] bytes = out.toByteArray();
        for (int n = 1 + random.nextInt(3); n > 0; n--)
        {
            final int at = bytes.length == 0 ? 0 : random.nextInt(bytes.length + 1);
            final byte spice = SPICE[random.nextInt(SPICE.length)];
            switch (random.nextInt(5))
            {
                case 0: // replace
                    if (at < bytes.length)
                    {
                        bytes[at] = spice;
                    }
                    break;
                case 1: // insert
                {
                    final byte[] next = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, next, 0, at);
                    next[at] = spice;
                    System.arraycopy(bytes, at, next, at + 1, bytes.length - at);
                    bytes = next;
                    break;
                }
                case 2: // delete
                    if (at < bytes.length)
                    {
                        final byte[] next = new byte[bytes.length - 1];
                        System.arraycopy(bytes, 0, next, 0, at);
                        System.arraycopy(bytes, at + 1, next, at, bytes.length - at - 1);
                        bytes = next;
                    }
                    break;
                case 3: // truncate
                    bytes = Arrays.copyOf(bytes, at);
                    break;
                default: // duplicate a slice
                {
                    final int from = random.nextInt(bytes.length + 1);
                    final int to = from + random.nextInt(bytes.length - from + 1);
                    final byte[] next = new byte[bytes.length + to - from];
                    System.arraycopy(bytes, 0, next, 0, at);
                    System.arraycopy(bytes, from, next, at, to - from);
                    System.arraycopy(bytes, at, next, at + to - from, bytes.length - at);
                    bytes = next;
                    break;
                }
            }
        }
        return bytes;
    }

    @Test
    void shouldAcceptOnlyWhatTheTreePathWritesTheSameForMutatedValues()
    {
        final Random random = new Random(20261130);
        int accepted = 0;
        for (int i = 0; i < 15_000; i++)
        {
            final byte[] value = mutate(random, utf8(SEEDS[random.nextInt(SEEDS.length)]));
            if (value.length > 0 && checkScan(random, value, 1 + random.nextInt(4)))
            {
                accepted++;
            }
        }
        assertTrue(accepted > 1000, "the fuzzing reaches the acceptance path: " + accepted);
    }

    @Test
    void shouldReadMutatedRequestsAsTheTreePathDoes()
    {
        final Random random = new Random(7);
        final String[] fields = {
            "\"correlation_id\":\"c-1\"", "\"target\":\"svc\"", "\"message_type\":\"Echo\"", "\"expects_reply\":true",
            "\"expects_stream\":false", "\"response_timeout_ms\":2500", "\"payload\":",
        };
        int fast = 0;
        for (int i = 0; i < 4_000; i++)
        {
            final StringBuilder body = new StringBuilder("{");
            final int[] order = {0, 1, 2, 3, 4, 5, 6};
            for (int k = order.length - 1; k > 0; k--)
            {
                final int j = random.nextInt(k + 1);
                final int t = order[k];
                order[k] = order[j];
                order[j] = t;
            }
            final int count = 3 + random.nextInt(5);
            for (int k = 0; k < count; k++)
            {
                if (k > 0)
                {
                    body.append(',');
                }
                final int field = order[k % order.length];
                body.append(fields[field]);
                if (6 == field)
                {
                    body.append(SEEDS[random.nextInt(SEEDS.length)]);
                }
            }
            body.append('}');
            final byte[] bytes = 0 == random.nextInt(3) ? utf8(body.toString()) : mutate(random, utf8(body.toString()));
            if (bytes.length > 0 && checkRequest(random, bytes))
            {
                fast++;
            }
        }
        assertTrue(fast > 300, "the fuzzing reaches the fast path: " + fast);
    }

    @Test
    void shouldWriteMutatedRepliesAsTheTreePathDoes()
    {
        final Random random = new Random(99);
        int fast = 0;
        for (int i = 0; i < 3_000; i++)
        {
            final byte[] reply = mutate(random, utf8(SEEDS[random.nextInt(SEEDS.length)]));
            if (reply.length > 0 && checkResponse(random, reply, "c-" + i))
            {
                fast++;
            }
        }
        assertTrue(fast > 300, "the fuzzing reaches the fast path: " + fast);
    }

    private static final String[] NAME_POOL = {"a", "b", "a\\n", "a\\\"", "\u00e9", "e\u0301", "", "ab", "ba"};

    /** A random value of the grammar, its names from a small pool (so that some repeat, at some depth). */
    private static void generate(final Random random, final StringBuilder out, final int depth)
    {
        switch (depth > 5 ? 4 + random.nextInt(4) : random.nextInt(8))
        {
            case 0:
            case 1:
            {
                out.append('{');
                for (int k = 0, n = random.nextInt(5); k < n; k++)
                {
                    out.append(k > 0 ? "," : "").append('"').append(NAME_POOL[random.nextInt(NAME_POOL.length)])
                        .append("\":");
                    generate(random, out, depth + 1);
                }
                out.append('}');
                break;
            }
            case 2:
            case 3:
            {
                out.append('[');
                for (int k = 0, n = random.nextInt(5); k < n; k++)
                {
                    out.append(k > 0 ? "," : "");
                    generate(random, out, depth + 1);
                }
                out.append(']');
                break;
            }
            case 4:
                out.append(new String[] {"0", "-1", "17", "-123456789012345678", "true", "false", "null"}
                    [random.nextInt(7)]);
                break;
            default:
            {
                out.append('"');
                for (int k = 0, n = random.nextInt(12); k < n; k++)
                {
                    out.append(new String[] {"x", "\\n", "\\\\", "\\\"", "\u00e9", "\u4e16", "\uffff",
                        "01234567", "\\t", "/"}[random.nextInt(10)]);
                }
                out.append('"');
                break;
            }
        }
    }

    @Test
    void shouldJudgeGeneratedValuesWithRepeatedNamesAsTheTreePathDoes()
    {
        final Random random = new Random(31);
        int accepted = 0;
        int declined = 0;
        for (int i = 0; i < 4_000; i++)
        {
            final StringBuilder value = new StringBuilder();
            generate(random, value, 0);
            final byte[] bytes = 0 == random.nextInt(4) ? mutate(random, utf8(value.toString())) : utf8(value.toString());
            if (bytes.length == 0)
            {
                continue;
            }
            if (checkScan(random, bytes, 1 + random.nextInt(7)))
            {
                accepted++;
            }
            else
            {
                declined++;
            }
            final String[] ids = {"c", "", "a\"b", "\u00e9", "\u0000", "x".repeat(300)};
            checkResponse(random, bytes, ids[random.nextInt(ids.length)]);
        }
        assertTrue(accepted > 1000 && declined > 500, accepted + " accepted, " + declined + " declined");
    }

    // ---- targeted cases ------------------------------------------------------------------------------------------

    private static byte[] utf8(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(final Object... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final Object part : parts)
        {
            out.writeBytes(part instanceof byte[] ? (byte[])part : utf8(part.toString()));
        }
        return out.toByteArray();
    }

    private static byte[] bytes(final int... values)
    {
        final byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            bytes[i] = (byte)values[i];
        }
        return bytes;
    }

    private static String show(final byte[] bytes)
    {
        return show(bytes, bytes.length);
    }

    private static String show(final byte[] bytes, final int length)
    {
        final StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(length, 300); i++)
        {
            final int b = bytes[i] & 0xFF;
            text.append(b >= 0x20 && b < 0x7F ? String.valueOf((char)b) : String.format("<%02X>", b));
        }
        return text + (length > 300 ? "...(" + length + " bytes)" : "");
    }

    private static final byte[][] HOSTILE_STRINGS = {
        bytes(0x22, 0x00, 0x22), bytes(0x22, 0x1F, 0x22), bytes(0x22, 0x7F, 0x22), // NUL, US, DEL raw
        bytes(0x22, 0xC0, 0xAF, 0x22), bytes(0x22, 0xC1, 0xBF, 0x22), bytes(0x22, 0xE0, 0x80, 0xAF, 0x22), // overlong
        bytes(0x22, 0xE0, 0x9F, 0xBF, 0x22), bytes(0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22),
        bytes(0x22, 0xED, 0xA0, 0x80, 0x22), bytes(0x22, 0xED, 0xBF, 0xBF, 0x22), // surrogates in UTF-8
        bytes(0x22, 0xED, 0x9F, 0xBF, 0x22), bytes(0x22, 0xEE, 0x80, 0x80, 0x22), // U+D7FF, U+E000: fine
        bytes(0x22, 0xEF, 0xBF, 0xBF, 0x22), bytes(0x22, 0xEF, 0xBF, 0xBE, 0x22), // U+FFFF, U+FFFE
        bytes(0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22), bytes(0x22, 0xF4, 0x90, 0x80, 0x80, 0x22), // U+10FFFF, past it
        bytes(0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22), bytes(0x22, 0xF5, 0x80, 0x80, 0x80, 0x22),
        bytes(0x22, 0x80, 0x22), bytes(0x22, 0xC2, 0x22), bytes(0x22, 0xE2, 0x82, 0x22), bytes(0x22, 0xC2, 0xC2, 0xA9, 0x22),
        bytes(0x22, 0xFF, 0x22), bytes(0x22, 0xFE, 0x22), bytes(0x22, 0xC2, 0xA9, 0x22), bytes(0x22, 0xE2, 0x82, 0xAC, 0x22),
        utf8("\"\\u0000\""), utf8("\"\\ud800\""), utf8("\"\\ud83d\\ude00\""), utf8("\"\\/\""), utf8("\"\\x\""),
        utf8("\"\\\""), utf8("\"\\"), utf8("\"\\\\\""), utf8("\"a\\\"b\""), utf8("\"\\u00e9\""), utf8("\"\\U0041\""),
        utf8("\"\\b\\f\\n\\r\\t\""), utf8("\"\u2028\u2029\""), utf8("\"</script>\""), utf8("\"'\""),
        utf8("\"0123456\\\"89abcdef\""), utf8("\"01234567\u00e9abcdef0123456789\""), utf8("\"0123456\""),
        utf8("\"01234567\""), utf8("\"012345678\""), utf8("\"0123456789abcde\\\\\""),
    };

    private static final String[] HOSTILE_VALUES = {
        "0", "-0", "00", "01", "-01", "-", "--1", "+1", "1.", ".1", "1.0", "-0.0", "0.0", "1e5", "1E5", "1e400", "-1e400",
        "123456789012345678", "-123456789012345678", "1234567890123456789", "-1234567890123456789",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "18446744073709551616",
        "999999999999999999", "1000000000000000000", "NaN", "Infinity", "-Infinity", "0x10", "1_000",
        "true", "false", "null", "tru", "fals", "nul", "truex", "falsee", "nulll", "TRUE", "True", "t", "f", "n",
        "[", "]", "{", "}", "[1,]", "[,1]", "[1,,2]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,\"a\":1}", "{\"a\" :1}",
        "{a:1}", "{'a':1}", "{\"a\":1\"b\":2}", "[1 2]", "[1]]", "[[1]", "{\"a\":1}}", "{1:1}", "{\"\":1}",
        "{\"\":1,\"\":2}", "{\"a\":1,\"a\":1}", "{\"a\":{\"a\":1},\"b\":{\"a\":1}}", "{\"a\":[{\"a\":1}],\"a\":2}",
        "{\"a\\n\":1,\"a\\n\":2}", "{\"a\\\"\":1,\"a\\\\\":2}", "{\"\\u0061\":1,\"a\":2}", "[]]", "{}}", "\"\"\"",
        "[true,false,null]", "[true,fals]", "{\"a\":true}", "{\"a\":nul}", "1 ", " 1", "[1] ", "\t[]", "[]\n",
    };

    @Test
    void shouldJudgeHostileValuesAndEveryPrefixOfThemAsTheTreePathDoes()
    {
        final Random random = new Random(1);
        int accepted = 0;
        int total = 0;
        for (final byte[] string : HOSTILE_STRINGS)
        {
            for (final byte[] value : new byte[][] {
                string, concat("[", string, "]"), concat("{", string, ":1}"), concat("{\"k\":", string, "}"),
                concat("[1,", string, ",2]"), concat("{\"0123456789\":", string, ",\"z\":[", string, "]}")})
            {
                for (int length = 1; length <= value.length; length++)
                {
                    total++;
                    if (checkScan(random, Arrays.copyOf(value, length), 127))
                    {
                        accepted++;
                    }
                }
            }
        }
        for (final String text : HOSTILE_VALUES)
        {
            for (final byte[] value : new byte[][] {utf8(text), concat("[", text, "]"), concat("{\"v\":", text, "}")})
            {
                for (int length = 1; length <= value.length; length++)
                {
                    total++;
                    if (checkScan(random, Arrays.copyOf(value, length), 127))
                    {
                        accepted++;
                    }
                }
            }
        }
        assertTrue(accepted > 50 && accepted < total, accepted + " of " + total);
    }

    @Test
    void shouldPutEveryHostileValueInEverySlotOfTheEnvelope()
    {
        final Random random = new Random(2);
        final String[] names = {
            "correlation_id", "target", "message_type", "expects_reply", "expects_stream", "response_timeout_ms",
            "payload",
        };
        final String[] plain = {"\"c\"", "\"t\"", "\"m\"", "true", "false", "1000", "{}"};
        int fast = 0;
        int total = 0;
        for (int slot = 0; slot < names.length; slot++)
        {
            final byte[][] values = new byte[HOSTILE_STRINGS.length + HOSTILE_VALUES.length][];
            for (int k = 0; k < HOSTILE_STRINGS.length; k++)
            {
                values[k] = HOSTILE_STRINGS[k];
            }
            for (int k = 0; k < HOSTILE_VALUES.length; k++)
            {
                values[HOSTILE_STRINGS.length + k] = utf8(HOSTILE_VALUES[k]);
            }
            for (final byte[] value : values)
            {
                for (final boolean last : new boolean[] {true, false})
                {
                    final ByteArrayOutputStream body = new ByteArrayOutputStream();
                    body.write('{');
                    boolean first = true;
                    for (int k = 0; k < names.length; k++)
                    {
                        if (k == slot && !last)
                        {
                            continue;
                        }
                        if (!first)
                        {
                            body.write(',');
                        }
                        first = false;
                        body.writeBytes(concat("\"", names[k], "\":", k == slot ? value : utf8(plain[k])));
                    }
                    if (!last)
                    {
                        body.writeBytes(concat(",\"", names[slot], "\":", value));
                    }
                    body.write('}');
                    final byte[] bytes = body.toByteArray();
                    for (int length = 1; length <= bytes.length; length += (length < bytes.length - 12 ? 7 : 1))
                    {
                        total++;
                        if (checkRequest(random, Arrays.copyOf(bytes, length)))
                        {
                            fast++;
                        }
                    }
                }
            }
        }
        assertTrue(fast > 50 && fast < total, fast + " of " + total);
    }

    @Test
    void shouldReadHostileEnvelopeShapesAsTheTreePathDoes()
    {
        final String base = "\"target\":\"t\",\"message_type\":\"m\"";
        final String[] bodies = {
            "{\"correlation_id\":\"a\",\"correlation_id\":\"b\"," + base + "}",
            "{\"correlation_id\":\"a\"," + base + ",\"target\":\"u\"}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":1,\"payload\":2}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":1,\"expects_reply\":true}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":{\"x\":1},\"payload\":null}",
            "{\"correlation_id\":\"a\"," + base + ",\"expects_reply\":true,\"expects_reply\":false}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":1,\"response_timeout_ms\":2}",
            "{\"correlation_id\":\"a\"," + base + "}",
            "{\"correlation_id\":\"a\",\"target\":\"t\"}",
            "{\"correlation_id\":1," + base + "}",
            "{\"correlation_id\":null," + base + "}",
            "{\"correlation_id\":\"\"," + base + "}",
            "{\"correlation_id\":\"a\\\"b\"," + base + "}",
            "{\"correlation_id\":\"a\\u0062\"," + base + "}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":-0}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":-0.0}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":1e400}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":1e3}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":01}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":999999999999999999}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":-999999999999999999}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":9223372036854775807}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":9223372036854775808}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":-9223372036854775808}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":\"5\"}",
            "{\"correlation_id\":\"a\"," + base + ",\"response_timeout_ms\":true}",
            "{\"correlation_id\":\"a\"," + base + ",\"expects_reply\":\"true\"}",
            "{\"correlation_id\":\"a\"," + base + ",\"expects_reply\":1}",
            "{\"correlation_id\":\"a\"," + base + ",\"expects_replies\":true}",
            "{\"correlation_id\":\"a\"," + base + ",\"expects_\":true}",
            "{\"correlation_id\":\"a\"," + base + ",\"expects\":true}",
            "{\"correlation_id\":\"a\"," + base + ",\"e\":true}",
            "{\"correlation_id\":\"a\"," + base + ",\"p\":1}",
            "{\"correlation_id\":\"a\"," + base + ",\"payloads\":1}",
            "{\"correlation_idx\":\"a\"," + base + "}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\"}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":1",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":1}x",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":1} ",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":1}}",
            "{\"correlation_id\":\"a\"," + base + ",}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":\"\\",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":\"\\\"}",
            "{\"correlation_id\":\"a\",\"target\":\"t\u00e9\u4e16\",\"message_type\":\"\u0800\"}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":-0}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":[-0.0,1e400,01]}",
            "{\"correlation_id\":\"a\"," + base + ",\"payload\":\"\u0000\"}",
            "{}", "[]", "1", "\"x\"", "{", "{\"", "{\"c", "{\"correlation_id\"", "{\"correlation_id\":",
        };
        for (final String body : bodies)
        {
            final byte[] bytes = utf8(body);
            for (int length = 1; length <= bytes.length; length++)
            {
                checkRequest(new Random(length), Arrays.copyOf(bytes, length));
            }
        }
        // a huge correlation_id, and one holding every non-ASCII length
        final String huge = "x".repeat(1 << 20);
        assertTrue(checkRequest(new Random(3), utf8("{\"correlation_id\":\"" + huge + "\"," + base + "}")));
        assertEquals(huge, envelope.correlationId());
        assertTrue(checkRequest(new Random(4), utf8("{\"correlation_id\":\"\u00e9\u0800\uffff\"," + base + "}")));
        assertTrue(checkRequest(null, utf8("{\"correlation_id\":\"a\"," + base + ",\"payload\":1}")));
    }

    private static String nested(final int depth, final String inner)
    {
        return "[".repeat(depth) + inner + "]".repeat(depth);
    }

    private static String nestedObjects(final int depth)
    {
        return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    @Test
    void shouldJudgeNestingAtAndPastTheDepthLimitAsTheTreePathDoes()
    {
        final Random random = new Random(5);
        final String head = "{\"correlation_id\":\"a\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":";
        for (final int depth : new int[] {1, 2, 63, 64, 65, 125, 126, 127, 128, 129, 1000, 20_000})
        {
            for (final String payload : new String[] {nested(depth, ""), nested(depth, "1"), nestedObjects(depth)})
            {
                checkRequest(random, utf8(head + payload + "}"));
                checkRequest(random, utf8(head + payload)); // unclosed envelope
                checkRequest(random, utf8(head + payload.substring(0, payload.length() / 2)));
                checkScan(random, utf8(payload), PayloadCodec.DEFAULT_MAX_DEPTH);
                checkResponse(random, utf8(payload), "c");
            }
        }
        // deep, unclosed: the scan declines at the limit without reading on
        final byte[] open = utf8("[".repeat(1_000_000));
        assertEquals(-1, scan.end(open, 0, open.length, 126));
        assertTrue(checkRequest(random, utf8(head + nested(126, "") + "}")), "the deepest payload the fast path takes");
    }

    @Test
    void shouldNeverTakeNestingItCannotBoundWhateverTheCodecsDepth()
    {
        final Random random = new Random(6);
        for (final int maxDepth : new int[] {1, 2, 3, 4})
        {
            final PayloadCodec shallow = new PayloadCodec(maxDepth);
            final RequestEnvelope reader = new RequestEnvelope(shallow);
            final ResponseWriter replies = new ResponseWriter(shallow);
            for (int depth = 0; depth <= 6; depth++)
            {
                final String payload = nested(depth, "1");
                final byte[] body = utf8(
                    "{\"correlation_id\":\"a\",\"target\":\"t\",\"message_type\":\"m\",\"payload\":" + payload + "}");
                boolean refused;
                try
                {
                    shallow.read(FrameFormat.JSON, body, 0, body.length);
                    refused = false;
                }
                catch (final FrameException ex)
                {
                    refused = true;
                }
                if (refused)
                {
                    assertFalse(reader.read(FrameFormat.JSON, body, 0, body.length),
                        "codec depth " + maxDepth + ": the envelope takes a payload the tree path refuses: " + payload);
                }
                final byte[] reply = utf8(payload);
                boolean replyRefused;
                try
                {
                    shallow.read(FrameFormat.JSON, reply, 0, reply.length);
                    replyRefused = false;
                }
                catch (final FrameException ex)
                {
                    replyRefused = true;
                }
                if (replyRefused)
                {
                    assertNull(replies.response(2, FrameFormat.JSON, "c", new UnsafeBuffer(reply), 0, reply.length),
                        "codec depth " + maxDepth + ": a reply the tree path sends as a string: " + payload);
                }
            }
        }
    }

    @Test
    void shouldCheckNamesAtTheLimitOfTheTableAsTheTreePathDoes()
    {
        final Random random = new Random(8);
        for (final int count : new int[] {1, 63, 64, 65, 200})
        {
            for (final boolean duplicateLast : new boolean[] {false, true})
            {
                final StringBuilder object = new StringBuilder("{");
                for (int k = 0; k < count; k++)
                {
                    object.append(k > 0 ? "," : "").append("\"n").append(duplicateLast && k == count - 1 ? 0 : k)
                        .append("\":").append(k);
                }
                object.append('}');
                final boolean taken = checkScan(random, utf8(object.toString()), 127);
                assertEquals(count <= 64 && !(duplicateLast && count > 1), taken, count + " names, " + duplicateLast);
                checkRequest(random, utf8("{\"correlation_id\":\"a\",\"target\":\"t\",\"message_type\":\"m\"," +
                    "\"payload\":" + object + "}"));
                checkResponse(random, utf8(object.toString()), "c");
            }
        }
        // many objects, each of 64 names, nested in each other and side by side: names of an inner object do not
        // count against the outer one's, and a closed object's names are forgotten
        final StringBuilder many = new StringBuilder("[");
        for (int o = 0; o < 2000; o++)
        {
            many.append(o > 0 ? "," : "").append('{');
            for (int k = 0; k < 64; k++)
            {
                many.append(k > 0 ? "," : "").append("\"n").append(k).append("\":").append(k);
            }
            many.append('}');
        }
        many.append(']');
        assertTrue(checkScan(random, utf8(many.toString()), 127));
        final StringBuilder deep = new StringBuilder();
        for (int d = 0; d < 100; d++)
        {
            deep.append('{');
            for (int k = 0; k < 63; k++)
            {
                deep.append("\"n").append(k).append("\":").append(k).append(',');
            }
            deep.append("\"n63\":");
        }
        deep.append("1").append("}".repeat(100));
        assertTrue(checkScan(random, utf8(deep.toString()), 127));
        // names equal in length and hash (Java's 31-hash: "Aa" and "BB" collide), long and sharing a prefix
        final String prefix = "p".repeat(4096);
        final StringBuilder colliding = new StringBuilder("{");
        for (int k = 0; k < 64; k++)
        {
            final StringBuilder suffix = new StringBuilder();
            for (int bit = 0; bit < 6; bit++)
            {
                suffix.append(0 != (k & (1 << bit)) ? "Aa" : "BB");
            }
            colliding.append(k > 0 ? "," : "").append('"').append(prefix).append(suffix).append("\":").append(k);
        }
        colliding.append('}');
        assertTrue(checkScan(random, utf8(colliding.toString()), 127));
        final String duplicated = colliding.substring(0, colliding.length() - 1) + ",\"" + prefix + "BBBBBBBBBBBB\":1}";
        assertFalse(checkScan(random, utf8(duplicated), 127), "a colliding name given twice is declined");
    }
}
