package io.switchboard.codec.frame;

import java.nio.charset.StandardCharsets;

/**
 * Recovers the {@code correlation_id} and {@code expects_stream} of an envelope whose payload was refused (too deep,
 * ill-formed UTF-8 further on, a bad value), so that the refusal answers the request it belongs to instead of an
 * empty correlation id no caller is waiting on.
 * <p>
 * Only the top-level object is read: nested values are skipped with a counter, never recursion, in one pass over the
 * bytes, so the salvage costs what the frame holds and no input can exhaust the stack. A field whose own bytes are
 * ill-formed is not recovered. Stateless; thread-safe.
 */
public final class EnvelopeSalvage
{
    private static final byte[] CORRELATION_ID = "correlation_id".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EXPECTS_STREAM = "expects_stream".getBytes(StandardCharsets.US_ASCII);

    /** What could be read of a refused envelope. */
    public static final class Result
    {
        /** The request's correlation id, or "" if it could not be read. */
        public final String correlationId;
        /** Whether the request asked for a stream (false if that could not be read). */
        public final boolean expectsStream;

        Result(final String correlationId, final boolean expectsStream)
        {
            this.correlationId = correlationId;
            this.expectsStream = expectsStream;
        }
    }

    private static final Result NOTHING = new Result("", false);

    private EnvelopeSalvage()
    {
    }

    /**
     * Read what can be read of a refused envelope's correlation id and stream flag.
     *
     * @param format of the payload.
     * @param bytes  array holding the payload.
     * @param offset in {@code bytes} at which the payload begins.
     * @param length of the payload.
     * @return what was recovered; never null.
     */
    public static Result salvage(final FrameFormat format, final byte[] bytes, final int offset, final int length)
    {
        try
        {
            return format == FrameFormat.MSGPACK ?
                new MessagePackScan(bytes, offset, offset + length).scan() :
                new JsonScan(bytes, offset, offset + length).scan();
        }
        catch (final RuntimeException ex)
        {
            return NOTHING; // salvage is best effort: whatever it meets, the refusal still goes out
        }
    }

    private static boolean equalsAscii(final byte[] bytes, final int start, final int end, final byte[] name)
    {
        if (end - start != name.length)
        {
            return false;
        }
        for (int i = 0; i < name.length; i++)
        {
            if (bytes[start + i] != name[i])
            {
                return false;
            }
        }
        return true;
    }

    private static String strictString(final byte[] bytes, final int start, final int end)
    {
        return Utf8.firstInvalid(bytes, start, end - start) < 0 ?
            new String(bytes, start, end - start, StandardCharsets.UTF_8) : null;
    }

    private static final class JsonScan
    {
        private final byte[] b;
        private final int end;
        private int pos;

        JsonScan(final byte[] b, final int start, final int end)
        {
            this.b = b;
            this.pos = start;
            this.end = end;
        }

        Result scan()
        {
            String correlationId = null;
            boolean expectsStream = false;
            skipSpace();
            if (pos >= end || b[pos] != '{')
            {
                return NOTHING;
            }
            pos++;
            while (true)
            {
                skipSpace();
                if (pos >= end || b[pos] != '"')
                {
                    break;
                }
                final int keyStart = pos + 1;
                final int keyEnd = skipString();
                skipSpace();
                if (pos >= end || b[pos++] != ':')
                {
                    break;
                }
                skipSpace();
                if (pos >= end)
                {
                    break;
                }
                if (equalsAscii(b, keyStart, keyEnd, CORRELATION_ID) && b[pos] == '"')
                {
                    final int valueStart = pos + 1;
                    final int valueEnd = skipString();
                    if (null == correlationId && !hasEscape(valueStart, valueEnd))
                    {
                        correlationId = strictString(b, valueStart, valueEnd);
                    }
                }
                else if (equalsAscii(b, keyStart, keyEnd, EXPECTS_STREAM) && b[pos] == 't')
                {
                    expectsStream = true;
                    skipValue();
                }
                else
                {
                    skipValue();
                }
                skipSpace();
                if (pos >= end || b[pos++] != ',')
                {
                    break;
                }
            }
            return null == correlationId ? new Result("", expectsStream) : new Result(correlationId, expectsStream);
        }

        private boolean hasEscape(final int start, final int stop)
        {
            for (int i = start; i < stop; i++)
            {
                if (b[i] == '\\')
                {
                    return true;
                }
            }
            return false;
        }

        private void skipSpace()
        {
            while (pos < end && (b[pos] == ' ' || b[pos] == '\t' || b[pos] == '\n' || b[pos] == '\r'))
            {
                pos++;
            }
        }

        /** At an opening quote: moves past the closing one and returns the index of the closing quote. */
        private int skipString()
        {
            pos++;
            while (pos < end)
            {
                final byte c = b[pos];
                if (c == '\\')
                {
                    pos += 2;
                }
                else if (c == '"')
                {
                    return pos++;
                }
                else
                {
                    pos++;
                }
            }
            throw new IllegalStateException("unterminated string");
        }

        /** Skips one value of any depth with a bracket counter; stops before the ',' or '}' that follows it. */
        private void skipValue()
        {
            int depth = 0;
            while (true)
            {
                if (pos >= end)
                {
                    throw new IllegalStateException("truncated value");
                }
                final byte c = b[pos];
                if (c == '"')
                {
                    skipString();
                    if (0 == depth)
                    {
                        return;
                    }
                }
                else if (c == '{' || c == '[')
                {
                    depth++;
                    pos++;
                }
                else if (c == '}' || c == ']')
                {
                    if (0 == depth)
                    {
                        return; // the end of the enclosing object, after a scalar
                    }
                    pos++;
                    if (0 == --depth)
                    {
                        return;
                    }
                }
                else if (0 == depth && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'))
                {
                    return; // the end of a scalar
                }
                else
                {
                    pos++;
                }
            }
        }
    }

    private static final class MessagePackScan
    {
        private final byte[] b;
        private final int end;
        private int pos;

        MessagePackScan(final byte[] b, final int start, final int end)
        {
            this.b = b;
            this.pos = start;
            this.end = end;
        }

        Result scan()
        {
            final int first = u8();
            final long entries;
            if ((first & 0xF0) == 0x80)
            {
                entries = first & 0x0F;
            }
            else if (first == 0xDE)
            {
                entries = u16();
            }
            else if (first == 0xDF)
            {
                entries = u32();
            }
            else
            {
                return NOTHING;
            }
            String correlationId = null;
            boolean expectsStream = false;
            for (long i = 0; i < entries && pos < end; i++)
            {
                final int keyLength = strLength(u8());
                if (keyLength < 0)
                {
                    break;
                }
                final int keyStart = pos;
                advance(keyLength);
                if (equalsAscii(b, keyStart, pos, CORRELATION_ID))
                {
                    final int valueLength = strLength(u8());
                    if (valueLength < 0)
                    {
                        pos--;
                        skipValue();
                        continue;
                    }
                    final int valueStart = pos;
                    advance(valueLength);
                    if (null == correlationId)
                    {
                        correlationId = strictString(b, valueStart, pos);
                    }
                }
                else if (equalsAscii(b, keyStart, pos, EXPECTS_STREAM) && pos < end && (b[pos] & 0xFF) == 0xC3)
                {
                    expectsStream = true;
                    pos++;
                }
                else
                {
                    skipValue();
                }
            }
            return null == correlationId ? new Result("", expectsStream) : new Result(correlationId, expectsStream);
        }

        /** Length of a str whose header byte was just read, or -1 if it is not a str. */
        private int strLength(final int header)
        {
            if ((header & 0xE0) == 0xA0)
            {
                return header & 0x1F;
            }
            switch (header)
            {
                case 0xD9:
                    return u8();
                case 0xDA:
                    return u16();
                case 0xDB:
                    return lengthOf(u32());
                default:
                    return -1;
            }
        }

        /** Skips one value of any depth: a count of the values still to skip, never recursion. */
        private void skipValue()
        {
            long pending = 1;
            while (pending > 0)
            {
                pending--;
                final int h = u8();
                if (h <= 0x7F || h >= 0xE0 || h == 0xC0 || h == 0xC2 || h == 0xC3)
                {
                    continue; // fixint, nil, booleans
                }
                if ((h & 0xF0) == 0x80)
                {
                    pending += 2L * (h & 0x0F);
                }
                else if ((h & 0xF0) == 0x90)
                {
                    pending += h & 0x0F;
                }
                else if ((h & 0xE0) == 0xA0)
                {
                    advance(h & 0x1F);
                }
                else
                {
                    pending += skipHeader(h);
                }
                if (pending > (long)(end - pos) * 2 + 2)
                {
                    throw new IllegalStateException("promises more values than bytes remain");
                }
            }
        }

        /** Skips what follows a non-fix header; returns the values it opens. */
        private long skipHeader(final int h)
        {
            switch (h)
            {
                case 0xC4: case 0xD9: advance(u8()); return 0;
                case 0xC5: case 0xDA: advance(u16()); return 0;
                case 0xC6: case 0xDB: advance(lengthOf(u32())); return 0;
                case 0xC7: advance(u8() + 1); return 0;
                case 0xC8: advance(u16() + 1); return 0;
                case 0xC9: advance(lengthOf(u32()) + 1); return 0;
                case 0xCA: advance(4); return 0;
                case 0xCB: advance(8); return 0;
                case 0xCC: case 0xD0: advance(1); return 0;
                case 0xCD: case 0xD1: advance(2); return 0;
                case 0xCE: case 0xD2: advance(4); return 0;
                case 0xCF: case 0xD3: advance(8); return 0;
                case 0xD4: advance(2); return 0;
                case 0xD5: advance(3); return 0;
                case 0xD6: advance(5); return 0;
                case 0xD7: advance(9); return 0;
                case 0xD8: advance(17); return 0;
                case 0xDC: return u16();
                case 0xDD: return u32();
                case 0xDE: return 2L * u16();
                case 0xDF: return 2L * u32();
                default: throw new IllegalStateException("unknown header " + h);
            }
        }

        private int lengthOf(final long length)
        {
            if (length > end - pos)
            {
                throw new IllegalStateException("length past the end");
            }
            return (int)length;
        }

        private void advance(final int n)
        {
            if (n < 0 || n > end - pos)
            {
                throw new IllegalStateException("length past the end");
            }
            pos += n;
        }

        private int u8()
        {
            if (pos >= end)
            {
                throw new IllegalStateException("truncated");
            }
            return b[pos++] & 0xFF;
        }

        private int u16()
        {
            return (u8() << 8) | u8();
        }

        private long u32()
        {
            return ((long)u16() << 16) | u16();
        }
    }
}
