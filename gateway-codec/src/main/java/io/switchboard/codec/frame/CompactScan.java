package io.switchboard.codec.frame;

import java.util.Arrays;

/**
 * One pass over a compact JSON value that does at once what the slow path did in three or four: finds its end,
 * checks its syntax (exactly the grammar of RFC 8259, no whitespace), strict UTF-8 (as {@link Utf8#firstInvalid}),
 * control characters and escapes, names given twice in an object, its depth, and that it is already written as
 * Jackson's generator writes it (as {@link CompactJson#end}). A string is crossed eight bytes at a time while they are
 * plain ASCII with no quote, backslash or control character, so a megabyte of text is read once.
 * <p>
 * Like {@link CompactJson} it is a fast path, never a judge: {@link #end} answers -1 for anything it is not certain
 * to accept exactly as Jackson (with strict duplicate detection and the codec's depth limit) accepts it, and the caller
 * then takes the slow path, which gives the typed errors it always gave. It answers -1 for: whitespace, a {@code \/}
 * or backslash-u escape, a character past U+FFFF, a fraction or exponent, {@code -0}, an integer of more than 18
 * digits or with a leading zero, nesting deeper than the depth given, an object of more than {@value #MAX_NAMES} names,
 * and of course anything that is not JSON or not strict UTF-8.
 * <p>
 * Allocates nothing once its name table has grown to the deepest nesting seen; not thread-safe (one per duty cycle).
 */
public final class CompactScan
{
    /** An object with more names than this is left to the slow path (its names are compared pairwise). */
    static final int MAX_NAMES = 64;

    private static final long ONES = Swar.ONES;
    private static final long HIGH = Swar.HIGH_BITS;
    private static final long QUOTES = Swar.QUOTES;
    private static final long BACKSLASHES = Swar.BACKSLASHES;
    private static final long BELOW_SPACE = ONES * 0x20;
    private static final int MAX_INTEGER_DIGITS = 18;

    // per open container: 1 for an object, 0 for an array; and where its names begin in the name table
    private boolean[] isObject = new boolean[16];
    private int[] namesFrom = new int[16];
    // the names of the open objects, innermost last: start index, end index (exclusive), hash
    private int[] nameStart = new int[64];
    private int[] nameEnd = new int[64];
    private int[] nameHash = new int[64];
    private int names;
    private boolean sawEscape;

    /**
     * Where the compact JSON value that begins at {@code start} ends, having checked it whole.
     *
     * @param bytes    holding the value.
     * @param start    index of its first byte.
     * @param limit    index past which nothing is read, at most {@code bytes.length}.
     * @param maxDepth deepest nesting of arrays and objects accepted within the value; deeper answers -1.
     * @return the index just past the value, or -1 if the slow path must judge it.
     */
    public int end(final byte[] bytes, final int start, final int limit, final int maxDepth)
    {
        if (start < 0 || limit > bytes.length || start >= limit)
        {
            return -1;
        }
        names = 0;
        int depth = 0;
        int i = start;
        while (true)
        {
            // a value begins at i
            if (i >= limit)
            {
                return -1;
            }
            final int b = bytes[i];
            boolean done = true;
            switch (b)
            {
                case '"':
                    i = stringEnd(bytes, i + 1, limit);
                    break;
                case '{':
                case '[':
                    if (depth >= maxDepth) // >=: a caller's limit below 0 (a codec of depth 1) bounds it too
                    {
                        return -1;
                    }
                    push(depth++, '{' == b);
                    i++;
                    if (i < limit && bytes[i] == ('{' == b ? '}' : ']'))
                    {
                        i++;
                        depth--;
                    }
                    else if ('{' == b)
                    {
                        i = name(bytes, i, limit, depth);
                        done = false;
                    }
                    else
                    {
                        done = false;
                    }
                    break;
                case 't':
                    i = literal(bytes, i, limit, 't', 'r', 'u', 'e', 4);
                    break;
                case 'f':
                    i = i + 5 <= limit && 'e' == bytes[i + 4] ? literal(bytes, i, limit, 'f', 'a', 'l', 's', 5) : -1;
                    break;
                case 'n':
                    i = literal(bytes, i, limit, 'n', 'u', 'l', 'l', 4);
                    break;
                default:
                    i = '-' == b || (b >= '0' && b <= '9') ? integerEnd(bytes, i, limit) : -1;
                    break;
            }
            if (i < 0)
            {
                return -1;
            }
            // a value (or a container's opening and first name) ends at i: close what closes, find the next value
            while (done)
            {
                if (0 == depth)
                {
                    return i;
                }
                if (i >= limit)
                {
                    return -1;
                }
                final int c = bytes[i];
                final boolean object = isObject[depth - 1];
                if (',' == c)
                {
                    i = object ? name(bytes, i + 1, limit, depth) : i + 1;
                    if (i < 0)
                    {
                        return -1;
                    }
                    done = false;
                }
                else if ((object ? '}' : ']') == c)
                {
                    i++;
                    names = namesFrom[--depth];
                }
                else
                {
                    return -1;
                }
            }
        }
    }

    /**
     * Whether the last string crossed by {@link #stringEnd} held an escape.
     *
     * @return whether it held a backslash.
     */
    boolean sawEscape()
    {
        return sawEscape;
    }

    /**
     * The end of a compact JSON string whose opening quote is just before {@code from}: strict UTF-8 with no
     * character past U+FFFF, no control character, no escape but {@code \" \\ \b \f \n \r \t}.
     *
     * @param bytes holding the string, at least {@code limit} long.
     * @param from  index just past the opening quote.
     * @param limit index past which nothing is read.
     * @return the index just past the closing quote, or -1.
     */
    int stringEnd(final byte[] bytes, final int from, final int limit)
    {
        sawEscape = false;
        int i = from;
        while (true)
        {
            i = plainEnd(bytes, i, limit);
            if (i >= limit)
            {
                return -1;
            }
            final int b = bytes[i];
            if (b >= 0x20)
            {
                if ('"' == b)
                {
                    return i + 1;
                }
                if ('\\' == b)
                {
                    if (i + 1 >= limit)
                    {
                        return -1;
                    }
                    if (!isCompactEscape(bytes[i + 1]))
                    {
                        return -1;
                    }
                    sawEscape = true;
                    i += 2;
                }
                else
                {
                    i++;
                }
            }
            else if (b >= 0)
            {
                return -1; // a control character: not JSON
            }
            else
            {
                i = utf8End(bytes, i, limit);
                if (i < 0)
                {
                    return -1;
                }
            }
        }
    }

    /**
     * Where the run of plain ASCII (no quote, backslash or control character) that begins at {@code from} stops, eight
     * bytes at a time: a small method of its own, so that the compiler makes this loop, where a long string's time
     * goes, as tight as it can wherever it is called from.
     *
     * @return the index of the first word holding a byte that is not plain ASCII, or of the last short word.
     */
    private static int plainEnd(final byte[] bytes, final int from, final int limit)
    {
        int i = from;
        while (i + 8 <= limit)
        {
            final long word = (long)Swar.LONGS.get(bytes, i);
            final long quotes = word ^ QUOTES;
            final long backslashes = word ^ BACKSLASHES;
            // a byte with its high bit set, or (when none is set) a quote, a backslash or a byte below 0x20: the
            // three zero-byte tests share their "& ~x" since quote and backslash have no high bit (~x's high bits
            // are ~word's)
            if (0 != ((word | (((quotes - ONES) | (backslashes - ONES) | (word - BELOW_SPACE)) & ~word)) & HIGH))
            {
                return i;
            }
            i += 8;
        }
        return i;
    }

    /**
     * The end of the two- or three-byte UTF-8 sequence whose lead byte is at {@code i} (Unicode table 3-7); -1 for an
     * ill-formed one and for a four-byte one (past U+FFFF: Jackson writes it as an escaped surrogate pair).
     */
    private static int utf8End(final byte[] bytes, final int i, final int limit)
    {
        final int lead = bytes[i] & 0xFF;
        if (lead >= 0xC2 && lead <= 0xDF)
        {
            return i + 1 < limit && (bytes[i + 1] & 0xC0) == 0x80 ? i + 2 : -1;
        }
        if (lead >= 0xE0 && lead <= 0xEF && i + 2 < limit)
        {
            final int second = bytes[i + 1] & 0xFF;
            final int lower = 0xE0 == lead ? 0xA0 : 0x80; // below: an overlong form of U+0000..U+07FF
            final int upper = 0xED == lead ? 0x9F : 0xBF; // above: a surrogate, U+D800..U+DFFF
            return second >= lower && second <= upper && (bytes[i + 2] & 0xC0) == 0x80 ? i + 3 : -1;
        }
        return -1;
    }

    private void push(final int depth, final boolean object)
    {
        if (depth == isObject.length)
        {
            isObject = Arrays.copyOf(isObject, 2 * depth);
            namesFrom = Arrays.copyOf(namesFrom, 2 * depth);
        }
        isObject[depth] = object;
        namesFrom[depth] = names;
    }

    /**
     * A name and its colon, at {@code i}, in the object open at {@code depth}: checked against the object's names.
     *
     * @return the index just past the colon, or -1.
     */
    private int name(final byte[] bytes, final int i, final int limit, final int depth)
    {
        if (i >= limit || '"' != bytes[i])
        {
            return -1;
        }
        final int end = stringEnd(bytes, i + 1, limit);
        if (end < 0 || end >= limit || ':' != bytes[end])
        {
            return -1;
        }
        final int from = namesFrom[depth - 1];
        if (names - from == MAX_NAMES)
        {
            return -1;
        }
        int hash = 1;
        for (int k = i + 1; k < end - 1; k++)
        {
            hash = 31 * hash + bytes[k];
        }
        final int length = end - 1 - (i + 1);
        for (int n = from; n < names; n++)
        {
            // compact strings have one spelling per text, so equal names are equal bytes
            if (nameHash[n] == hash && nameEnd[n] - nameStart[n] == length &&
                Arrays.equals(bytes, nameStart[n], nameEnd[n], bytes, i + 1, end - 1))
            {
                return -1; // a name given twice: Jackson refuses it
            }
        }
        if (names == nameStart.length)
        {
            nameStart = Arrays.copyOf(nameStart, 2 * names);
            nameEnd = Arrays.copyOf(nameEnd, 2 * names);
            nameHash = Arrays.copyOf(nameHash, 2 * names);
        }
        nameStart[names] = i + 1;
        nameEnd[names] = end - 1;
        nameHash[names] = hash;
        names++;
        return end + 1;
    }

    private static int literal(
        final byte[] bytes, final int i, final int limit, final char a, final char b, final char c, final char d,
        final int length)
    {
        return i + length <= limit && a == bytes[i] && b == bytes[i + 1] && c == bytes[i + 2] && d == bytes[i + 3] ?
            i + length : -1;
    }

    /**
     * Whether the character after a backslash makes a two-character escape as Jackson writes it (a quote, a backslash,
     * {@code b f n r t}); both compact paths refuse any other: {@code \/} and backslash-u because Jackson writes them
     * otherwise, anything else because it is not JSON.
     *
     * @param escaped the byte after the backslash.
     * @return true if the escape is as compact output writes it.
     */
    static boolean isCompactEscape(final byte escaped)
    {
        switch (escaped)
        {
            case '"':
            case '\\':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                return true;
            default:
                return false;
        }
    }

    /**
     * The end of a canonical integer (as {@link CompactJson}: no leading zero, not {@code -0}, at most 18 digits, no
     * fraction or exponent), or -1.
     */
    static int integerEnd(final byte[] bytes, final int from, final int limit)
    {
        int i = from;
        if ('-' == bytes[i])
        {
            i++;
        }
        final int digitsFrom = i;
        while (i < limit && bytes[i] >= '0' && bytes[i] <= '9')
        {
            i++;
        }
        final int digits = i - digitsFrom;
        if (0 == digits || digits > MAX_INTEGER_DIGITS || (digits > 1 && '0' == bytes[digitsFrom]) ||
            (1 == digits && '0' == bytes[digitsFrom] && digitsFrom > from))
        {
            return -1; // none, too long to be sure of, a leading zero, or -0 (written 0)
        }
        if (i < limit && ('.' == bytes[i] || 'e' == bytes[i] || 'E' == bytes[i]))
        {
            return -1; // a fraction or an exponent: written as Jackson reads it, not as given
        }
        return i;
    }
}
