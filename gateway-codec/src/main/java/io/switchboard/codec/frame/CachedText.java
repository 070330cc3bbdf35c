package io.switchboard.codec.frame;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The text of UTF-8 bytes, kept with its bytes so that the same bytes read again (a service's name, a message type:
 * the same in request after request) give the same {@link String} without decoding or allocating.
 * <p>
 * Not thread-safe: one per reader.
 */
final class CachedText
{
    private byte[] bytes = new byte[64];
    private int length = -1;
    private String text;

    /**
     * @param source holding strict UTF-8 (checked already).
     * @param from   index of its first byte.
     * @param count  of bytes.
     * @return its text; the one returned last time when the bytes are the same.
     */
    String text(final byte[] source, final int from, final int count)
    {
        if (count == length && Arrays.equals(bytes, 0, count, source, from, from + count))
        {
            return text;
        }
        text = decode(source, from, count);
        if (count > bytes.length)
        {
            if (count > 1024)
            {
                length = -1; // not kept: a name this long is not worth its memory
                return text;
            }
            bytes = new byte[count];
        }
        System.arraycopy(source, from, bytes, 0, count);
        length = count;
        return text;
    }

    /**
     * @param source holding strict UTF-8 (checked already).
     * @param from   index of its first byte.
     * @param count  of bytes.
     * @return its text.
     */
    static String decode(final byte[] source, final int from, final int count)
    {
        for (int i = from, end = from + count; i < end; i++)
        {
            if (source[i] < 0)
            {
                return new String(source, from, count, StandardCharsets.UTF_8);
            }
        }
        return new String(source, from, count, StandardCharsets.ISO_8859_1); // ASCII: the same text, decoded faster
    }
}
