package io.switchboard.codec.frame;

/**
 * Finds whether a JSON value's bytes are already exactly what Jackson's generator writes for it (compact: no
 * whitespace; strings with no escape other than {@code \" \\ \b \f \n \r \t} and no character past U+FFFF;
 * integers in canonical form), so that a
 * fast path can copy them as they are instead of decoding every string into chars and encoding it back.
 * <p>
 * It is a shape test, never a judge: it says nothing of syntax (a caller still runs a parser over the value, which
 * skips strings without decoding them, to refuse what is not JSON, a name given twice or nesting too deep), and it
 * answers {@code -1} (copy it the slow way) for anything it is not certain of: whitespace, a {@code \/} or
 * backslash-u escape, a fraction or exponent, {@code -0}, an integer of more than 18 digits, a byte it does not
 * expect. The bytes are expected to be strict UTF-8 already ({@link Utf8#firstInvalid}).
 */
public final class CompactJson
{

    private CompactJson()
    {
    }

    /**
     * The end of the compact value that begins at {@code start}.
     *
     * @param bytes holding the value.
     * @param start index of its first byte.
     * @param limit index past which nothing is read.
     * @return the index just past the value, or -1 if it is not certainly compact as Jackson writes it.
     */
    public static int end(final byte[] bytes, final int start, final int limit)
    {
        int depth = 0;
        int i = start;
        while (i < limit)
        {
            final int b = bytes[i];
            switch (b)
            {
                case '"':
                    i = stringEnd(bytes, i + 1, limit);
                    if (i < 0)
                    {
                        return -1;
                    }
                    break;
                case '{':
                case '[':
                    depth++;
                    i++;
                    break;
                case '}':
                case ']':
                    if (--depth < 0)
                    {
                        return -1;
                    }
                    i++;
                    break;
                case ':':
                case ',':
                    if (0 == depth)
                    {
                        return -1;
                    }
                    i++;
                    continue; // a value follows: not the end
                case 't':
                case 'f':
                case 'n':
                    i++;
                    while (i < limit && bytes[i] >= 'a' && bytes[i] <= 'z')
                    {
                        i++;
                    }
                    break;
                default:
                    if ('-' == b || (b >= '0' && b <= '9'))
                    {
                        i = CompactScan.integerEnd(bytes, i, limit);
                        if (i < 0)
                        {
                            return -1;
                        }
                        break;
                    }
                    return -1; // whitespace, or a byte no JSON value has here
            }
            if (0 == depth)
            {
                return i;
            }
        }
        return -1;
    }

    private static int stringEnd(final byte[] bytes, final int from, final int limit)
    {
        int i = from;
        while (i < limit)
        {
            if (i + 8 <= limit)
            {
                final long word = (long)Swar.LONGS.get(bytes, i);
                if (0 == (word & Swar.HIGH_BITS) && !Swar.hasByte(word, Swar.QUOTES) &&
                    !Swar.hasByte(word, Swar.BACKSLASHES) && !Swar.hasByteBelow(word, 0x20))
                {
                    i += 8; // eight plain ASCII characters
                    continue;
                }
            }
            final int b = bytes[i++];
            if ('"' == b)
            {
                return i;
            }
            if ('\\' == b)
            {
                if (i >= limit)
                {
                    return -1;
                }
                if (!CompactScan.isCompactEscape(bytes[i++]))
                {
                    return -1;
                }
            }
            else if (b < 0x20)
            {
                if (b >= 0 || 0xF0 == (b & 0xF8))
                {
                    // a control character (not JSON: the slow path refuses it), or the lead byte of a character past
                    // U+FFFF, which Jackson writes as an escaped surrogate pair
                    return -1;
                }
            }
        }
        return -1;
    }
}
