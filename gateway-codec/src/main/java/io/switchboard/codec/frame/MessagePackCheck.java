package io.switchboard.codec.frame;

/**
 * Checks that bytes are exactly one MessagePack value this protocol accepts, before any parser sees them, without
 * recursion and without allocating for what a header promises:
 * <ul>
 *     <li>every length or count in a str, bin, array or map header is compared with the bytes that are left (each
 *     element takes at least one byte), so {@code 0xdf ffffffff} (a map of 4 billion entries) is refused at once;</li>
 *     <li>arrays and maps nest at most {@code maxDepth} deep (a walk with one counter per level, no call stack);</li>
 *     <li>every str (map keys included) is strict UTF-8 ({@link Utf8});</li>
 *     <li>extension types (and the never-used byte 0xc1) are refused: nothing downstream can render them;</li>
 *     <li>no byte follows the value.</li>
 * </ul>
 * Stateless; thread-safe.
 */
final class MessagePackCheck
{
    private MessagePackCheck()
    {
    }

    /**
     * Check one payload.
     *
     * @param bytes    array holding the payload.
     * @param offset   in {@code bytes} at which the payload begins.
     * @param length   of the payload; at least 1.
     * @param maxDepth deepest nesting of arrays and maps allowed.
     * @throws FrameException with {@link ErrorCode#SERIALIZATION_ERROR} naming the byte offset and the fault.
     */
    static void check(final byte[] bytes, final int offset, final int length, final int maxDepth)
    {
        final int end = offset + length;
        final long[] remaining = new long[maxDepth + 1]; // values still to read at each open level; [0] the root
        remaining[0] = 1;
        int depth = 0;
        int pos = offset;
        while (true)
        {
            while (depth > 0 && remaining[depth] == 0)
            {
                depth--;
            }
            if (remaining[depth] == 0)
            {
                break;
            }
            remaining[depth]--;
            if (pos >= end)
            {
                throw fail(pos - offset, "truncated: a value expected, no bytes left");
            }
            final int at = pos;
            final int b = bytes[pos++] & 0xFF;
            long count = -1; // elements of an array, or keys plus values of a map
            long skip = 0;
            boolean text = false;
            if (b <= 0x7F || b >= 0xE0)
            {
                continue; // fixint
            }
            else if (b <= 0x8F)
            {
                count = 2L * (b & 0x0F);
            }
            else if (b <= 0x9F)
            {
                count = b & 0x0F;
            }
            else if (b <= 0xBF)
            {
                skip = b & 0x1F;
                text = true;
            }
            else
            {
                switch (b)
                {
                    case 0xC0: case 0xC2: case 0xC3:
                        continue;
                    case 0xCC: case 0xD0:
                        skip = 1;
                        break;
                    case 0xCD: case 0xD1:
                        skip = 2;
                        break;
                    case 0xCA: case 0xCE: case 0xD2:
                        skip = 4;
                        break;
                    case 0xCB: case 0xCF: case 0xD3:
                        skip = 8;
                        break;
                    case 0xC4: case 0xD9:
                        skip = unsigned(bytes, pos, 1, end, offset);
                        pos += 1;
                        text = b == 0xD9;
                        break;
                    case 0xC5: case 0xDA:
                        skip = unsigned(bytes, pos, 2, end, offset);
                        pos += 2;
                        text = b == 0xDA;
                        break;
                    case 0xC6: case 0xDB:
                        skip = unsigned(bytes, pos, 4, end, offset);
                        pos += 4;
                        text = b == 0xDB;
                        break;
                    case 0xDC:
                        count = unsigned(bytes, pos, 2, end, offset);
                        pos += 2;
                        break;
                    case 0xDD:
                        count = unsigned(bytes, pos, 4, end, offset);
                        pos += 4;
                        break;
                    case 0xDE:
                        count = 2 * unsigned(bytes, pos, 2, end, offset);
                        pos += 2;
                        break;
                    case 0xDF:
                        count = 2 * unsigned(bytes, pos, 4, end, offset);
                        pos += 4;
                        break;
                    case 0xC1:
                        throw fail(at - offset, "byte 0xC1 is never used in MessagePack");
                    default: // 0xC7..0xC9, 0xD4..0xD8
                        throw fail(at - offset, String.format(
                            "extension type 0x%02X: MessagePack extension types are not supported (maps, arrays, " +
                            "strings, numbers, booleans, nil, bin)", b));
                }
            }

            if (count >= 0)
            {
                if (depth == maxDepth)
                {
                    throw fail(at - offset, "arrays and maps nested deeper than the maximum depth " + maxDepth);
                }
                if (count > end - pos)
                {
                    throw fail(at - offset, (b >= 0xDE || b <= 0x8F ? "map of " + count / 2 + " entries" :
                        "array of " + count + " elements") + " promised, only " + (end - pos) + " bytes left");
                }
                remaining[++depth] = count;
            }
            else
            {
                if (skip > end - pos)
                {
                    throw fail(at - offset, skip + " bytes promised, only " + (end - pos) + " bytes left");
                }
                if (text)
                {
                    final int bad = Utf8.firstInvalid(bytes, pos, (int)skip);
                    if (bad >= 0)
                    {
                        throw fail(bad - offset, "string is not valid UTF-8: " +
                            Utf8.showBytes(bytes, bad, pos + (int)skip));
                    }
                }
                pos += (int)skip;
            }
        }
        if (pos != end)
        {
            throw fail(pos - offset, "trailing bytes after the value: " + (end - pos));
        }
    }

    private static long unsigned(final byte[] bytes, final int pos, final int size, final int end, final int offset)
    {
        if (end - pos < size)
        {
            throw fail(pos - offset, "truncated header: " + size + " length bytes expected, " + (end - pos) + " left");
        }
        long value = 0;
        for (int i = 0; i < size; i++)
        {
            value = (value << 8) | (bytes[pos + i] & 0xFF);
        }
        return value;
    }

    private static FrameException fail(final int index, final String problem)
    {
        return new FrameException(ErrorCode.SERIALIZATION_ERROR,
            "invalid MSGPACK payload at byte " + index + ": " + problem, null);
    }
}
