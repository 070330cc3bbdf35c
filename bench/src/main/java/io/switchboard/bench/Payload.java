package io.switchboard.bench;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The 32-byte message every scenario sends, the same for Switchboard and each peer:
 * <pre>
 *   0  int64 stamp   nanoTime the message was meant to be sent (open loop) or was sent (closed loop)
 *   8  int32 kind    {@link #ECHO}, {@link #STREAM_REQUEST}, {@link #STREAM_ITEM}, {@link #STREAM_END}
 *  12  int32 count   items asked for (stream request) or item index (stream item)
 *  16  16 bytes of filler
 * </pre>
 * Little-endian, written through Agrona buffers so nothing is allocated.
 */
public final class Payload
{
    /** Length of every benchmark message, in bytes. */
    public static final int LENGTH = 32;
    /** A request to be echoed back unchanged. */
    public static final int ECHO = 0;
    /** A request for {@code count} stream items. */
    public static final int STREAM_REQUEST = 1;
    /** One item of a stream. */
    public static final int STREAM_ITEM = 2;
    /** The end of a stream (raw Aeron only; Switchboard has its own end frame). */
    public static final int STREAM_END = 3;

    private static final int STAMP_OFFSET = 0;
    private static final int KIND_OFFSET = 8;
    private static final int COUNT_OFFSET = 12;

    private Payload()
    {
    }

    /**
     * Write a message.
     *
     * @param buffer to write into.
     * @param offset at which the message begins.
     * @param stamp nanoTime to carry.
     * @param kind of message.
     * @param count items asked for, or item index.
     */
    public static void write(
        final MutableDirectBuffer buffer, final int offset, final long stamp, final int kind, final int count)
    {
        buffer.putLong(offset + STAMP_OFFSET, stamp);
        buffer.putInt(offset + KIND_OFFSET, kind);
        buffer.putInt(offset + COUNT_OFFSET, count);
    }

    /**
     * The stamp of a message.
     *
     * @param buffer holding the message.
     * @param offset at which the message begins.
     * @return the stamp.
     */
    public static long stamp(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + STAMP_OFFSET);
    }

    /**
     * The kind of a message.
     *
     * @param buffer holding the message.
     * @param offset at which the message begins.
     * @return the kind.
     */
    public static int kind(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + KIND_OFFSET);
    }

    /**
     * The count of a message.
     *
     * @param buffer holding the message.
     * @param offset at which the message begins.
     * @return the count.
     */
    public static int count(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + COUNT_OFFSET);
    }
}
