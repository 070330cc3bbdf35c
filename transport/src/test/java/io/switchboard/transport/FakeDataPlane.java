package io.switchboard.transport;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.UnavailableImageHandler;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import io.aeron.logbuffer.Header;
import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A data plane with no media driver: logs written to are recorded per stream, and what the test queues on a stream is
 * delivered to its reader, whole, one message a fragment.
 */
final class FakeDataPlane implements DataPlane
{
    final Map<Integer, List<byte[]>> sentByStream = new HashMap<>();
    final Map<Integer, ArrayDeque<byte[]>> queuedByStream = new HashMap<>();
    final List<String> channels = new ArrayList<>();
    long offerResult = 64;
    /** Offers taken before each further one answers BACK_PRESSURED (a reader that stopped mid-message). */
    int offersTaken = Integer.MAX_VALUE;
    boolean closed;
    private final Header header = new Header(0, 16);

    FakeDataPlane()
    {
        final UnsafeBuffer headerBuffer = new UnsafeBuffer(new byte[DataHeaderFlyweight.HEADER_LENGTH]);
        headerBuffer.putByte(DataHeaderFlyweight.FLAGS_FIELD_OFFSET, (byte)FrameDescriptor.UNFRAGMENTED);
        headerBuffer.putInt(DataHeaderFlyweight.SESSION_ID_FIELD_OFFSET, 42);
        header.buffer(headerBuffer);
        header.offset(0);
    }

    /**
     * Queue a message for the reader of a stream.
     *
     * @param streamId of the reader.
     * @param buffer holding the message.
     * @param length of the message, from offset 0.
     */
    void queue(final int streamId, final DirectBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        queuedByStream.computeIfAbsent(streamId, (id) -> new ArrayDeque<>()).add(bytes);
    }

    List<byte[]> sent(final int streamId)
    {
        return sentByStream.computeIfAbsent(streamId, (id) -> new ArrayList<>());
    }

    public Log addLog(final String channel, final int streamId)
    {
        if (closed)
        {
            throw new io.aeron.exceptions.AeronException("client is closed");
        }
        channels.add(channel);
        return new Log()
        {
            public long offer(final DirectBuffer buffer, final int offset, final int length)
            {
                if (offerResult < 0)
                {
                    return offerResult;
                }
                if (offersTaken <= 0)
                {
                    return io.aeron.Publication.BACK_PRESSURED;
                }
                offersTaken--;
                final byte[] bytes = new byte[length];
                buffer.getBytes(offset, bytes);
                sent(streamId).add(bytes);
                return offerResult;
            }

            public long offer(
                final DirectBuffer bufferOne, final int offsetOne, final int lengthOne,
                final DirectBuffer bufferTwo, final int offsetTwo, final int lengthTwo)
            {
                final org.agrona.concurrent.UnsafeBuffer joined =
                    new org.agrona.concurrent.UnsafeBuffer(new byte[lengthOne + lengthTwo]);
                joined.putBytes(0, bufferOne, offsetOne, lengthOne);
                joined.putBytes(lengthOne, bufferTwo, offsetTwo, lengthTwo);
                return offer(joined, 0, lengthOne + lengthTwo);
            }

            public int sessionId()
            {
                return streamId;
            }

            public int maxMessageLength()
            {
                return 8 * 1024;
            }

            public void close()
            {
            }
        };
    }

    public ExclusivePublication addPublisherLog(final String channel, final int streamId)
    {
        throw new UnsupportedOperationException("no SubjectPublisher in conductor tests");
    }

    public Reader addReader(final String channel, final int streamId, final UnavailableImageHandler onImageLost)
    {
        channels.add(channel);
        return (handler, limit) -> deliver(streamId, handler, limit);
    }

    private int deliver(final int streamId, final FragmentHandler handler, final int limit)
    {
        final ArrayDeque<byte[]> queue = queuedByStream.get(streamId);
        int delivered = 0;
        while (null != queue && !queue.isEmpty() && delivered < limit)
        {
            final byte[] bytes = queue.poll();
            handler.onFragment(new UnsafeBuffer(bytes), 0, bytes.length, header);
            delivered++;
        }
        return delivered;
    }

    public int invoke()
    {
        return 0;
    }

    public boolean isClosed()
    {
        return closed;
    }

    public void lingerOnClose(final long lingerNs)
    {
    }

    public void close()
    {
        closed = true;
    }

    static boolean isOfferFailure(final long result)
    {
        return result < 0 && result != Publication.NOT_CONNECTED;
    }
}
