package io.switchboard.codec.frame;

import java.io.OutputStream;
import java.util.Arrays;

/**
 * The reusable output of a streaming generator: a growable array written from index 0 after each {@link #reset},
 * so the generator and its array are reused frame after frame. Memory is bounded: the array grows to the largest
 * body written and, past {@value #SHRINK_ABOVE} bytes, goes back to its initial size at the next reset.
 * <p>
 * Not thread-safe.
 */
public final class FrameOutput extends OutputStream
{
    private static final int INITIAL_CAPACITY = 1024;
    private static final int SHRINK_ABOVE = 64 * 1024;

    private byte[] array = new byte[INITIAL_CAPACITY];
    private int size;

    /**
     * Start again at index 0 (and give back a large array).
     */
    public void reset()
    {
        size = 0;
        if (array.length > SHRINK_ABOVE)
        {
            array = new byte[INITIAL_CAPACITY];
        }
    }

    /**
     * Leave room for a frame header before the body: the next write goes after it.
     *
     * @param length of the header.
     */
    public void skip(final int length)
    {
        ensure(size + length);
        size += length;
    }

    /**
     * The frame of what was written after {@link #skip skipping} {@link FrameHeader#LENGTH_V2} bytes of header room:
     * a copy of the body behind a v1 header (length, version, type) or a v2 header (and the format).
     *
     * @param version of the frame, 1 or 2.
     * @param type    of the frame.
     * @param format  of the body; a v1 frame has none (JSON).
     * @return a new array holding the whole frame.
     */
    public byte[] toFrame(final int version, final FrameType type, final FrameFormat format)
    {
        final int bodyLength = size - FrameHeader.LENGTH_V2;
        final byte[] frame;
        if (1 == version)
        {
            frame = Arrays.copyOfRange(array, FrameHeader.LENGTH_V2 - FrameHeader.LENGTH_V1, size);
            frame[0] = (byte)(bodyLength >>> 24);
            frame[1] = (byte)(bodyLength >>> 16);
            frame[2] = (byte)(bodyLength >>> 8);
            frame[3] = (byte)bodyLength;
            frame[FrameHeader.VERSION_OFFSET] = (byte)FrameHeader.VERSION_1;
            frame[FrameHeader.TYPE_OFFSET] = (byte)type.code();
        }
        else
        {
            frame = Arrays.copyOf(array, size);
            FrameEncoder.writeHeader(frame, 0, type, format, bodyLength);
        }
        return frame;
    }

    /**
     * The bytes written.
     *
     * @return the array holding them from index 0.
     */
    public byte[] array()
    {
        return array;
    }

    /**
     * Number of bytes written since the last reset.
     *
     * @return the count.
     */
    public int size()
    {
        return size;
    }

    /** {@inheritDoc} */
    public void write(final int b)
    {
        ensure(size + 1);
        array[size++] = (byte)b;
    }

    /** {@inheritDoc} */
    public void write(final byte[] b, final int off, final int len)
    {
        ensure(size + len);
        System.arraycopy(b, off, array, size, len);
        size += len;
    }

    private void ensure(final int capacity)
    {
        if (capacity > array.length)
        {
            array = Arrays.copyOf(array, Math.max(capacity, 2 * array.length));
        }
    }
}
