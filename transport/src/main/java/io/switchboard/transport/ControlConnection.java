package io.switchboard.transport;

import org.agrona.BitUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;

/**
 * One end of a control connection: SBE messages over a Unix stream socket, each framed by a 4-byte little-endian
 * length. Reads are non-blocking and deliver whole messages; writes are queued in a bounded buffer and flushed
 * without blocking.
 * <p>
 * Not thread-safe: use from the owning duty cycle only.
 */
public final class ControlConnection implements AutoCloseable
{
    /** Length of the frame header. */
    public static final int FRAME_HEADER_LENGTH = BitUtil.SIZE_OF_INT;

    /**
     * Receives each whole message read.
     */
    @FunctionalInterface
    public interface MessageHandler
    {
        /**
         * Called for each message.
         *
         * @param buffer holding the message.
         * @param offset at which the SBE message header begins.
         * @param length of the message.
         */
        void onMessage(DirectBuffer buffer, int offset, int length);
    }

    /** Buffers start this small and grow only as bytes arrive (or are queued), up to what one message needs. */
    private static final int INITIAL_BUFFER_LENGTH = 4 * 1024;

    /**
     * A frame header announced a length outside 1 to the maximum; raised before any buffer is grown for it.
     */
    public static final class InvalidLengthException extends IOException
    {
        private static final long serialVersionUID = 1L;

        private final int length;
        private final int maxLength;

        InvalidLengthException(final int length, final int maxLength)
        {
            super("control message length: expected 1.." + maxLength + ", actual=" + length);
            this.length = length;
            this.maxLength = maxLength;
        }

        /**
         * The length the frame header announced.
         *
         * @return the length in bytes.
         */
        public int length()
        {
            return length;
        }

        /**
         * The longest message accepted.
         *
         * @return the length in bytes.
         */
        public int maxLength()
        {
            return maxLength;
        }
    }

    private final SocketChannel channel;
    private final int maxMessageLength;
    private ByteBuffer readBuffer;
    private final UnsafeBuffer readView = new UnsafeBuffer(0, 0);
    private ByteBuffer writeBuffer;
    private final int maxPendingWrite;
    private boolean closed;

    /**
     * Wrap a connected channel, switching it to non-blocking mode.
     *
     * @param channel connected to the other end.
     * @param maxMessageLength longest message accepted in either direction.
     * @throws IOException if the channel cannot be made non-blocking.
     */
    public ControlConnection(final SocketChannel channel, final int maxMessageLength) throws IOException
    {
        this.channel = channel;
        this.maxMessageLength = maxMessageLength;
        this.maxPendingWrite = maxMessageLength * 4;
        channel.configureBlocking(false);
        readBuffer = ByteBuffer.allocateDirect(INITIAL_BUFFER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        writeBuffer = ByteBuffer.allocateDirect(INITIAL_BUFFER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The underlying channel.
     *
     * @return the underlying channel.
     */
    public SocketChannel channel()
    {
        return channel;
    }

    /**
     * Read what is available and hand over every complete message.
     *
     * @param handler to receive messages.
     * @return number of messages handled, or -1 once the other end closed the connection.
     * @throws IOException on a read error; {@link InvalidLengthException} for a length outside 1 to the maximum.
     */
    public int poll(final MessageHandler handler) throws IOException
    {
        if (closed)
        {
            return -1;
        }

        final int read = channel.read(readBuffer);
        if (read < 0)
        {
            closed = true;
        }

        int messages = 0;
        readBuffer.flip();
        while (readBuffer.remaining() >= FRAME_HEADER_LENGTH)
        {
            final int start = readBuffer.position();
            final int length = readBuffer.getInt(start);
            if (length <= 0 || length > maxMessageLength)
            {
                throw new InvalidLengthException(length, maxMessageLength);
            }
            if (readBuffer.remaining() < FRAME_HEADER_LENGTH + length)
            {
                if (0 == start && readBuffer.limit() == readBuffer.capacity())
                {
                    // full of this one message's bytes: grow, at most doubling, so memory follows the bytes that
                    // arrived rather than the length a header promised
                    final int capacity = (int)Math.min(2L * readBuffer.capacity(), FRAME_HEADER_LENGTH + length);
                    final ByteBuffer bigger = ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN);
                    bigger.put(readBuffer);
                    readBuffer = bigger;
                    return messages;
                }
                break;
            }

            readView.wrap(readBuffer, 0, readBuffer.limit());
            handler.onMessage(readView, start + FRAME_HEADER_LENGTH, length);
            readBuffer.position(start + FRAME_HEADER_LENGTH + length);
            messages++;
        }
        readBuffer.compact();

        return closed && messages == 0 ? -1 : messages;
    }

    /**
     * Queue a message and try to flush it.
     *
     * @param buffer holding the message.
     * @param offset at which the SBE message header begins.
     * @param length of the message.
     * @return true if queued; false if the other end is not reading and the bounded queue is full.
     * @throws IOException on a write error.
     */
    public boolean send(final DirectBuffer buffer, final int offset, final int length) throws IOException
    {
        final int required = FRAME_HEADER_LENGTH + length;
        if (length > maxMessageLength)
        {
            throw new IOException("control message length " + length + " over maximum " + maxMessageLength);
        }
        if (writeBuffer.remaining() < required)
        {
            flush();
            if (writeBuffer.remaining() < required)
            {
                final int needed = writeBuffer.position() + required;
                if (needed > maxPendingWrite)
                {
                    return false;
                }
                final ByteBuffer bigger = ByteBuffer.allocateDirect(BitUtil.findNextPositivePowerOfTwo(needed))
                    .order(ByteOrder.LITTLE_ENDIAN);
                writeBuffer.flip();
                bigger.put(writeBuffer);
                writeBuffer = bigger;
            }
        }

        writeBuffer.putInt(length);
        final int position = writeBuffer.position();
        buffer.getBytes(offset, writeBuffer, position, length);
        writeBuffer.position(position + length);
        flush();

        return true;
    }

    /**
     * Write what is queued, as far as the socket takes it without blocking.
     *
     * @return bytes still queued.
     * @throws IOException on a write error.
     */
    public int flush() throws IOException
    {
        if (writeBuffer.position() > 0)
        {
            writeBuffer.flip();
            channel.write(writeBuffer);
            writeBuffer.compact();
        }
        return writeBuffer.position();
    }

    /**
     * Bytes queued and not yet written: a sender of bulk (retained values) sends more only while this is low.
     *
     * @return bytes queued.
     */
    public int pendingWriteBytes()
    {
        return writeBuffer.position();
    }

    /**
     * Whether the other end closed the connection.
     *
     * @return true once end of file was read.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Close the socket.
     */
    public void close()
    {
        closed = true;
        CloseHelper.quietClose(channel);
    }
}
