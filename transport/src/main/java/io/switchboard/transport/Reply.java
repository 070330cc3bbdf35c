package io.switchboard.transport;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A reply copied out of the shared log, for the convenience API ({@link Switchboard#requestAsync}). The hot path
 * uses {@link ResponseListener} instead, which copies nothing.
 */
public final class Reply
{
    private final long correlationId;
    private final UnsafeBuffer buffer;

    Reply(final long correlationId, final DirectBuffer source, final int offset, final int length)
    {
        this.correlationId = correlationId;
        final byte[] bytes = new byte[length];
        source.getBytes(offset, bytes);
        this.buffer = new UnsafeBuffer(bytes);
    }

    /**
     * Correlation id of the request.
     *
     * @return the correlation id.
     */
    public long correlationId()
    {
        return correlationId;
    }

    /**
     * The payload, from offset 0.
     *
     * @return a buffer holding the payload.
     */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * Length of the payload.
     *
     * @return the payload length in bytes.
     */
    public int length()
    {
        return buffer.capacity();
    }
}
