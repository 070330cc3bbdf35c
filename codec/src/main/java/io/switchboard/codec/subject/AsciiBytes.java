package io.switchboard.codec.subject;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * ASCII text held once as bytes, compared in place with text in a buffer (a subject, service or message type as it
 * lies in a log): eight bytes a step, nothing decoded or allocated.
 * <p>
 * Immutable; thread-safe.
 */
public final class AsciiBytes
{
    private final UnsafeBuffer bytes;

    /**
     * Hold the text's bytes.
     *
     * @param text ASCII text.
     */
    public AsciiBytes(final String text)
    {
        bytes = new UnsafeBuffer(text.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Whether the bytes in a buffer equal this text.
     *
     * @param buffer holding the text to compare.
     * @param offset at which it begins.
     * @param length of it in bytes.
     * @return true if equal.
     */
    public boolean equalsIn(final DirectBuffer buffer, final int offset, final int length)
    {
        final UnsafeBuffer bytes = this.bytes;
        if (length != bytes.capacity())
        {
            return false;
        }
        if (length >= Long.BYTES)
        {
            // eight bytes a step, the last step overlapping the one before: no byte-by-byte tail
            final int last = length - Long.BYTES;
            for (int i = 0; i < last; i += Long.BYTES)
            {
                if (buffer.getLong(offset + i) != bytes.getLong(i))
                {
                    return false;
                }
            }
            return buffer.getLong(offset + last) == bytes.getLong(last);
        }
        if (length >= Integer.BYTES)
        {
            // four to seven bytes (short service and type names, compared on every request): two reads, overlapping
            final int last = length - Integer.BYTES;
            return buffer.getInt(offset) == bytes.getInt(0) && buffer.getInt(offset + last) == bytes.getInt(last);
        }
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != bytes.getByte(i))
            {
                return false;
            }
        }
        return true;
    }
}
