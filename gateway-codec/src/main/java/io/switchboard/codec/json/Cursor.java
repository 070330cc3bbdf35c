package io.switchboard.codec.json;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The position in the buffer being encoded into or decoded from, with the limit every claim is checked
 * against: running past it is a {@link TranscodeException}, never an index error.
 */
final class Cursor
{
    private final DirectBuffer buffer;
    private final long limit;
    private final boolean encoding;
    private int position;

    private Cursor(final DirectBuffer buffer, final int position, final long limit, final boolean encoding)
    {
        this.buffer = buffer;
        this.position = position;
        this.limit = limit;
        this.encoding = encoding;
    }

    static Cursor forEncode(final MutableDirectBuffer buffer, final int position, final long limit)
    {
        return new Cursor(buffer, position, limit, true);
    }

    static Cursor forDecode(final DirectBuffer buffer, final int position, final long limit)
    {
        return new Cursor(buffer, position, limit, false);
    }

    DirectBuffer buffer()
    {
        return buffer;
    }

    MutableDirectBuffer mutableBuffer()
    {
        return (MutableDirectBuffer)buffer;
    }

    int position()
    {
        return position;
    }

    long remaining()
    {
        return limit - position;
    }

    /**
     * Take {@code length} bytes at the current position.
     *
     * @return the index at which they begin.
     */
    int claim(final long length, final Path path)
    {
        if (length < 0 || position + length > limit)
        {
            if (encoding)
            {
                throw path.error("message does not fit the buffer: " + length + " more bytes needed at index " +
                    position + ", limit " + limit);
            }
            throw path.error("truncated message: " + length + " bytes needed at index " + position + ", limit " + limit);
        }
        final int index = position;
        position += (int)length;
        return index;
    }
}
