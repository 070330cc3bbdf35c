package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * ASCII text read in place from a buffer, so a push's subject and message type cost nothing unless a handler reads
 * them. Valid only while the buffer is: copy with {@link #toString()} to keep it.
 */
final class AsciiView implements CharSequence
{
    private DirectBuffer buffer;
    private int offset;
    private int length;

    void wrap(final DirectBuffer buffer, final int offset, final int length)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
    }

    public int length()
    {
        return length;
    }

    public char charAt(final int index)
    {
        if (index < 0 || index >= length)
        {
            throw new IndexOutOfBoundsException("index " + index + " of length " + length);
        }
        return (char)(buffer.getByte(offset + index) & 0x7F);
    }

    public CharSequence subSequence(final int start, final int end)
    {
        return toString().substring(start, end);
    }

    public String toString()
    {
        return 0 == length ? "" : buffer.getStringWithoutLengthAscii(offset, length);
    }
}
