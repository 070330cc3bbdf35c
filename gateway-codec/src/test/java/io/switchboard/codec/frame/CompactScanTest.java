package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CompactScan} accepts exactly what the passes it replaces accepted together ({@link CompactJson#end} for the
 * shape, {@link Utf8#firstInvalid} and {@link Utf8#hasSurrogateEscape} for the text, Jackson with strict duplicate
 * detection for the syntax), at every position of its eight-byte words.
 */
class CompactScanTest
{
    private static final int DEPTH = 50;
    private final PayloadCodec codec = new PayloadCodec();
    private final JsonFactory factory = codec.mapper(FrameFormat.JSON).getFactory();
    private final CompactScan scan = new CompactScan();

    @Test
    void shouldFindEachSpecialSequenceAtEveryPositionOfItsWords()
    {
        // sequence, and whether a string holding it is compact, strict UTF-8 JSON (true) or is declined (false)
        final Object[][] specials = {
            { bytes('\\', '"'), true }, { bytes('\\', '\\'), true }, { bytes('\\', 'n'), true },
            { bytes('\\', 't'), true }, { bytes('\\', 'b'), true }, { bytes('\\', 'f'), true },
            { bytes('\\', 'r'), true }, { bytes(0x7F), true }, { bytes(0xC2, 0x80), true }, { bytes(0xC3, 0xA9), true },
            { bytes(0xDF, 0xBF), true }, { bytes(0xE0, 0xA0, 0x80), true }, { bytes(0xE4, 0xB8, 0x96), true },
            { bytes(0xED, 0x9F, 0xBF), true }, { bytes(0xEE, 0x80, 0x80), true }, { bytes(0xEF, 0xBF, 0xBF), true },
            // JSON, but not as Jackson writes it: the slow path copies it
            { bytes('\\', '/'), false }, { bytes('\\', 'u', '0', '0', '4', '1'), false },
            { bytes(0xF0, 0x9F, 0x98, 0x80), false }, { bytes(0xF4, 0x8F, 0xBF, 0xBF), false },
            // not JSON or not strict UTF-8: every class
            { bytes(0x00), false }, { bytes(0x1F), false }, { bytes(0x0A), false }, { bytes('\\', 'x'), false },
            { bytes('\\', 'u', 'd', '8', '0', '0'), false }, { bytes(0x80), false }, { bytes(0xBF), false },
            { bytes(0xC0, 0xAF), false }, { bytes(0xC1, 0xBF), false }, { bytes(0xC3), false },
            { bytes(0xC3, 0x41), false }, { bytes(0xC3, 0xC3), false }, { bytes(0xE0, 0x80, 0x80), false },
            { bytes(0xE0, 0x9F, 0xBF), false }, { bytes(0xED, 0xA0, 0x80), false }, { bytes(0xED, 0xBF, 0xBF), false },
            { bytes(0xE4, 0xB8), false }, { bytes(0xE4, 0x41, 0x96), false }, { bytes(0xE4, 0xB8, 0x41), false },
            { bytes(0xF0, 0x80, 0x80, 0x80), false }, { bytes(0xF4, 0x90, 0x80, 0x80), false },
            { bytes(0xF5, 0x80, 0x80, 0x80), false }, { bytes(0xF8), false }, { bytes(0xFE), false },
            { bytes(0xFF), false },
        };
        int checked = 0;
        for (final Object[] special : specials)
        {
            final byte[] sequence = (byte[])special[0];
            final boolean compact = (Boolean)special[1];
            for (int before = 0; before <= 17; before++)
            {
                for (int after = 0; after <= 17; after++)
                {
                    for (final int offset : new int[]{ 0, 3 })
                    {
                        final byte[] text = new byte[offset + 2 + before + sequence.length + after];
                        Arrays.fill(text, (byte)'a');
                        text[offset] = '"';
                        System.arraycopy(sequence, 0, text, offset + 1 + before, sequence.length);
                        text[text.length - 1] = '"';
                        final String what = hex(sequence) + " after " + before + " bytes, before " + after;
                        final int end = scan.end(text, offset, text.length, DEPTH);
                        assertEquals(compact ? text.length : -1, end, what);
                        assertEquals(compact, oldPassesAccept(text, offset, text.length), "the old passes: " + what);
                        // the same string cut short, its closing quote missing: never accepted
                        assertEquals(-1, scan.end(text, offset, text.length - 1, DEPTH), "unterminated " + what);
                        checked++;
                    }
                }
            }
        }
        assertEquals(specials.length * 18 * 18 * 2, checked);
    }

    @Test
    void shouldAcceptExactlyWhatTheOldPassesAcceptOnRandomText()
    {
        final Random random = new Random(2026);
        int accepted = 0;
        int declined = 0;
        for (int i = 0; i < 40_000; i++)
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            randomValue(random, out, 0);
            byte[] text = out.toByteArray();
            if (random.nextInt(3) == 0 && text.length > 0) // a mutation: most are not JSON any more
            {
                text = mutate(random, text);
            }
            final boolean old = oldPassesAccept(text, 0, text.length);
            final int end = scan.end(text, 0, text.length, DEPTH);
            final String what = new String(text, StandardCharsets.ISO_8859_1) + " " + hex(text);
            assertEquals(old, end == text.length, what);
            if (old)
            {
                accepted++;
            }
            else
            {
                declined++;
            }
        }
        assertTrue(accepted > 10_000 && declined > 5_000, "both outcomes tried: " + accepted + " / " + declined);
    }

    @Test
    void shouldFindTheEndOfAValueFollowedByMore()
    {
        final byte[] text = "{\"a\":[1,\"x\\\"y\",{\"b\":true}],\"c\":null},\"next\"".getBytes(StandardCharsets.UTF_8);
        assertEquals(text.length - 7, scan.end(text, 0, text.length, DEPTH));
        assertEquals(-1, scan.end(text, 0, 10, DEPTH), "cut short");
    }

    @Test
    void shouldRefuseANameGivenTwiceAtItsOwnDepthOnly()
    {
        assertEquals(-1, end("{\"a\":1,\"b\":2,\"a\":3}"));
        assertEquals(-1, end("{\"a\":{\"x\":1,\"x\":2}}"));
        assertEquals(-1, end("{\"a\\n\":1,\"a\\n\":2}"));
        final String distinct = "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}],\"ab\":1,\"ba\":2,\"\":3}";
        assertEquals(distinct.length(), end(distinct));
        final StringBuilder many = new StringBuilder("{");
        for (int i = 0; i < CompactScan.MAX_NAMES; i++)
        {
            many.append(i > 0 ? "," : "").append("\"n").append(i).append("\":").append(i);
        }
        assertEquals(many.length() + 1, end(many + "}"), "as many names as it compares");
        assertEquals(-1, end(many + ",\"more\":0}"), "one more: the slow path judges");
    }

    @Test
    void shouldLeaveNestingDeeperThanItsLimitToTheSlowPath()
    {
        assertEquals(6, scan.end("[[[]]]".getBytes(StandardCharsets.US_ASCII), 0, 6, 3));
        assertEquals(-1, scan.end("[[[[]]]]".getBytes(StandardCharsets.US_ASCII), 0, 8, 3));
        assertEquals(-1, scan.end("[{\"a\":[{}]}]".getBytes(StandardCharsets.US_ASCII), 0, 12, 3));
    }

    @Test
    void shouldCrossAMebibyteStringAndFindAByteWrongAnywhereInIt()
    {
        final byte[] text = new byte[(1 << 20) + 2];
        Arrays.fill(text, (byte)'x');
        text[0] = '"';
        text[text.length - 1] = '"';
        assertEquals(text.length, scan.end(text, 0, text.length, DEPTH));
        final Random random = new Random(7);
        for (int i = 0; i < 64; i++)
        {
            final int at = 1 + random.nextInt(text.length - 2);
            final byte[] bad = random.nextBoolean() ? bytes(0x01) : random.nextBoolean() ? bytes(0x80) : bytes('"');
            text[at] = bad[0];
            // a quote ends the string (and the value) early; a control character or a stray continuation byte fails it
            assertEquals('"' == bad[0] ? at + 1 : -1, scan.end(text, 0, text.length, DEPTH), "at " + at);
            text[at] = 'x';
        }
    }

    private int end(final String json)
    {
        final byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return scan.end(bytes, 0, bytes.length, DEPTH);
    }

    /** What the slow path's passes, together, accepted as a compact value to copy as it is. */
    private boolean oldPassesAccept(final byte[] bytes, final int offset, final int limit)
    {
        if (offset >= limit || CompactJson.end(bytes, offset, limit) != limit ||
            Utf8.firstInvalid(bytes, offset, limit - offset) >= 0 ||
            Utf8.hasSurrogateEscape(bytes, offset, limit - offset))
        {
            return false;
        }
        try (JsonParser parser = factory.createParser(bytes, offset, limit - offset))
        {
            parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            final JsonToken first = parser.nextToken();
            if (null == first)
            {
                return false;
            }
            parser.skipChildren();
            return null == parser.nextToken();
        }
        catch (final Exception ex)
        {
            return false;
        }
    }

    private static void randomValue(final Random random, final ByteArrayOutputStream out, final int depth)
    {
        switch (random.nextInt(depth > 3 ? 5 : 7))
        {
            case 0:
                write(out, new String[]{ "true", "false", "null", "tru", "nul", "falsey" }[random.nextInt(6)]);
                break;
            case 1:
                write(out, new String[]{ "0", "-1", "12", "-0", "01", "1.5", "1e3", "123456789012345678",
                    "1234567890123456789", "-", "-9" }[random.nextInt(11)]);
                break;
            case 2:
            case 3:
            case 4:
                randomString(random, out);
                break;
            case 5:
            {
                out.write('[');
                for (int i = random.nextInt(4); i > 0; i--)
                {
                    randomValue(random, out, depth + 1);
                    if (i > 1)
                    {
                        out.write(',');
                    }
                }
                out.write(']');
                break;
            }
            default:
            {
                out.write('{');
                for (int i = random.nextInt(4); i > 0; i--)
                {
                    write(out, new String[]{ "\"a\"", "\"b\"", "\"\"", "\"a\\n\"", "\"\u00e9\"" }[random.nextInt(5)]);
                    out.write(':');
                    randomValue(random, out, depth + 1);
                    if (i > 1)
                    {
                        out.write(',');
                    }
                }
                out.write('}');
                break;
            }
        }
    }

    private static void randomString(final Random random, final ByteArrayOutputStream out)
    {
        out.write('"');
        for (int i = random.nextInt(random.nextBoolean() ? 6 : 40); i > 0; i--)
        {
            final int kind = random.nextInt(20);
            if (kind < 12)
            {
                out.write(0x20 + random.nextInt(95) == '"' ? 'q' : 'a' + random.nextInt(26));
            }
            else if (kind == 12)
            {
                write(out, new String[]{ "\\\"", "\\\\", "\\n", "\\t", "\\/", "\\u0041", "\\ud800", "\\x" }
                    [random.nextInt(8)]);
            }
            else if (kind == 13)
            {
                out.write(random.nextInt(0x20));
            }
            else if (kind == 14)
            {
                out.write(0x80 + random.nextInt(0x80)); // any byte with its high bit: mostly ill-formed here
            }
            else
            {
                final int codePoint = kind == 15 ? 0x80 + random.nextInt(0x780) : kind == 16 ?
                    0x800 + random.nextInt(0xF800) : kind == 17 ? 0x10000 + random.nextInt(0x100000) :
                    0xE000 + random.nextInt(0x2000);
                if (codePoint < 0xD800 || codePoint > 0xDFFF)
                {
                    write(out, new String(Character.toChars(codePoint)));
                }
            }
        }
        out.write('"');
    }

    private static byte[] mutate(final Random random, final byte[] text)
    {
        final int at = random.nextInt(text.length);
        switch (random.nextInt(3))
        {
            case 0:
            {
                final byte[] changed = text.clone();
                changed[at] = (byte)new int[]{ '"', '\\', ',', ':', '}', ']', ' ', 0x80, 0xC3, 0xE4, 0x00 }
                    [random.nextInt(11)];
                return changed;
            }
            case 1:
            {
                final byte[] cut = new byte[text.length - 1];
                System.arraycopy(text, 0, cut, 0, at);
                System.arraycopy(text, at + 1, cut, at, text.length - at - 1);
                return cut;
            }
            default:
            {
                final byte[] longer = Arrays.copyOf(text, text.length + 1);
                System.arraycopy(text, at, longer, at + 1, text.length - at);
                longer[at] = text[random.nextInt(text.length)];
                return longer;
            }
        }
    }

    private static void write(final ByteArrayOutputStream out, final String text)
    {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
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

    private static String hex(final byte[] bytes)
    {
        final StringBuilder text = new StringBuilder();
        for (final byte b : bytes)
        {
            text.append(String.format("%02X", b & 0xFF));
        }
        return text.toString();
    }
}
