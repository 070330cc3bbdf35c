package io.switchboard.codec.frame;

/**
 * Strict UTF-8 validation (RFC 3629, Unicode table 3-7) of bytes a peer sent, before anything turns them into
 * text: an overlong form ({@code C0 AF} for '/'), a surrogate ({@code ED A0 80}), a code point above U+10FFFF, a
 * truncated sequence or a stray continuation byte is refused, never decoded leniently nor replaced by U+FFFD.
 * <p>
 * Allocates nothing; stateless and thread-safe.
 */
public final class Utf8
{
    private Utf8()
    {
    }

    /**
     * Find the first byte that does not begin a well-formed UTF-8 sequence.
     *
     * @param bytes  array holding the text.
     * @param offset in {@code bytes} at which the text begins.
     * @param length of the text in bytes.
     * @return the index (absolute, in {@code bytes}) of the first ill-formed sequence, or -1 if all is well formed.
     */
    public static int firstInvalid(final byte[] bytes, final int offset, final int length)
    {
        final int end = offset + length;
        int i = offset;
        while (i < end)
        {
            if (i + 8 <= end && 0 == ((long)Swar.LONGS.get(bytes, i) & Swar.HIGH_BITS))
            {
                i += 8; // eight ASCII bytes
                continue;
            }
            final int b = bytes[i];
            if (b >= 0)
            {
                i++;
                continue;
            }
            final int lead = b & 0xFF;
            final int size;
            int lower = 0x80;
            int upper = 0xBF;
            if (lead >= 0xC2 && lead <= 0xDF)
            {
                size = 2;
            }
            else if (lead >= 0xE0 && lead <= 0xEF)
            {
                size = 3;
                if (lead == 0xE0)
                {
                    lower = 0xA0; // below is an overlong form of U+0000..U+07FF
                }
                else if (lead == 0xED)
                {
                    upper = 0x9F; // above is a surrogate, U+D800..U+DFFF
                }
            }
            else if (lead >= 0xF0 && lead <= 0xF4)
            {
                size = 4;
                if (lead == 0xF0)
                {
                    lower = 0x90; // below is an overlong form of U+0000..U+FFFF
                }
                else if (lead == 0xF4)
                {
                    upper = 0x8F; // above is past U+10FFFF
                }
            }
            else
            {
                return i; // a continuation byte, C0/C1 (always overlong) or F5..FF (past U+10FFFF)
            }
            if (end - i < size)
            {
                return i; // truncated
            }
            final int second = bytes[i + 1] & 0xFF;
            if (second < lower || second > upper)
            {
                return i;
            }
            for (int k = 2; k < size; k++)
            {
                if ((bytes[i + k] & 0xC0) != 0x80)
                {
                    return i;
                }
            }
            i += size;
        }
        return -1;
    }

    /**
     * Whether text in a string has a lone surrogate: a high surrogate not followed by a low one, or a low surrogate
     * not preceded by a high one (a JSON {@code "\ud800"} escape decodes to one). Such text has no UTF-8 form.
     *
     * @param text to check.
     * @return the index of the first lone surrogate, or -1 if there is none.
     */
    public static int firstLoneSurrogate(final CharSequence text)
    {
        final int length = text.length();
        for (int i = 0; i < length; i++)
        {
            final char c = text.charAt(i);
            if (Character.isHighSurrogate(c))
            {
                if (i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1)))
                {
                    i++;
                    continue;
                }
                return i;
            }
            if (Character.isLowSurrogate(c))
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * Describe the ill-formed sequence at an index for an error message: its first bytes in hex.
     *
     * @param bytes  array holding the text.
     * @param index  of the ill-formed sequence, as returned by {@link #firstInvalid(byte[], int, int)}.
     * @param end    index just past the text.
     * @return e.g. {@code "C0 AF"}.
     */
    public static String showBytes(final byte[] bytes, final int index, final int end)
    {
        final StringBuilder text = new StringBuilder();
        for (int i = index, last = Math.min(end, index + 4); i < last; i++)
        {
            if (text.length() > 0)
            {
                text.append(' ');
            }
            text.append(String.format("%02X", bytes[i] & 0xFF));
        }
        return text.toString();
    }

    /**
     * Whether JSON text may escape a surrogate ({@code \\uD800} to {@code \\uDFFF}), which only a look at the
     * decoded strings can tell lone or paired. Conservative: an escaped backslash before a {@code u} counts too.
     *
     * @param bytes  array holding the text.
     * @param offset in {@code bytes} at which the text begins.
     * @param length of the text.
     * @return true if a surrogate may be escaped.
     */
    public static boolean hasSurrogateEscape(final byte[] bytes, final int offset, final int length)
    {
        final int limit = offset + length;
        for (int i = offset, end = offset + length - 3; i < end; i++)
        {
            while (i + 8 <= limit && !Swar.hasByte((long)Swar.LONGS.get(bytes, i), Swar.BACKSLASHES))
            {
                i += 8; // no escape begins in these eight bytes
            }
            if (i >= end)
            {
                break;
            }
            if (bytes[i] == '\\' && bytes[i + 1] == 'u' && (bytes[i + 2] | 0x20) == 'd')
            {
                final int c = bytes[i + 3] | 0x20;
                if ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f'))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
