package io.switchboard.broker.access;

import org.agrona.CloseHelper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Connections refused with a last frame (FORBIDDEN, CONNECTION_LIMIT_REACHED): the frame is written, the output shut
 * down, and the connection held open until the peer closes it or a short linger ends. Closing at once lost the frame
 * whenever the peer had written first: the kernel answers a close with unread bytes by resetting the peer, whose
 * read then reports ECONNRESET (and whose next write EPIPE) instead of the frame it was sent. Held open, what the
 * peer writes is read and discarded, so its writes succeed and it reads the frame, then end of file.
 * <p>
 * Bounded: at most {@link #MAX_LINGERING} connections at a time (a new refusal closes the oldest, which had the
 * longest to read), each for at most {@link #LINGER_NS}, reading at most {@link #MAX_DISCARDED_BYTES} from it.
 * Nothing here blocks: the owner's selector reports the connections readable and its duty cycle calls
 * {@link #onReadable(SelectionKey)} and {@link #expire(long)}.
 * <p>
 * Not thread-safe: call from the owning duty cycle only.
 */
public final class LingeringRefusals
{
    /** Refused connections held open at a time, at most. */
    public static final int MAX_LINGERING = 64;
    /** How long a refused connection is held open for its peer to read the last frame, at most. */
    public static final long LINGER_NS = TimeUnit.SECONDS.toNanos(2);
    /** Bytes read and discarded from one refused connection before it is closed anyway. */
    public static final int MAX_DISCARDED_BYTES = 64 * 1024;

    /** One refused connection: the attachment of its selection key. */
    private static final class Lingering
    {
        final SocketChannel channel;
        final long deadlineNs;
        SelectionKey key;
        int discarded;

        Lingering(final SocketChannel channel, final long deadlineNs)
        {
            this.channel = channel;
            this.deadlineNs = deadlineNs;
        }
    }

    private final Selector selector;
    private final ArrayDeque<Lingering> lingering = new ArrayDeque<>(MAX_LINGERING);
    private final ByteBuffer discard = ByteBuffer.allocateDirect(4096);

    /**
     * Refusals held on the owner's selector.
     *
     * @param selector of the owner's duty cycle, which hands readable refused connections to
     * {@link #onReadable(SelectionKey)}.
     */
    public LingeringRefusals(final Selector selector)
    {
        this.selector = selector;
    }

    /**
     * Whether a selected key belongs to a refused connection (then hand it to {@link #onReadable(SelectionKey)}).
     *
     * @param key selected by the owner's selector.
     * @return true for a refused connection.
     */
    public static boolean isRefused(final SelectionKey key)
    {
        return key.attachment() instanceof Lingering;
    }

    /**
     * Write the last frame, shut the output down and hold the connection open for the peer to read it.
     *
     * @param channel accepted and non-blocking.
     * @param lastFrame the whole frame; one small frame into an empty socket buffer is taken whole.
     * @param nowNs the duty cycle's time.
     */
    public void refuse(final SocketChannel channel, final ByteBuffer lastFrame, final long nowNs)
    {
        try
        {
            channel.write(lastFrame);
            channel.shutdownOutput(); // the peer reads the frame, then end of file
        }
        catch (final IOException | RuntimeException ex)
        {
            CloseHelper.quietClose(channel); // the peer is gone already
            return;
        }
        if (lingering.size() >= MAX_LINGERING)
        {
            close(lingering.pollFirst()); // the oldest had the longest to read its frame
        }
        final Lingering entry = new Lingering(channel, nowNs + LINGER_NS);
        try
        {
            entry.key = channel.register(selector, SelectionKey.OP_READ, entry);
        }
        catch (final ClosedChannelException | RuntimeException ex)
        {
            CloseHelper.quietClose(channel);
            return;
        }
        lingering.addLast(entry);
    }

    /**
     * The peer of a refused connection wrote or closed: discard what it wrote; close the connection at its end of
     * file, on an error, or past the discard bound.
     *
     * @param key of the refused connection ({@link #isRefused(SelectionKey)}).
     * @return 1, as work done.
     */
    public int onReadable(final SelectionKey key)
    {
        final Lingering entry = (Lingering)key.attachment();
        try
        {
            int read;
            do
            {
                discard.clear();
                read = entry.channel.read(discard);
                entry.discarded += Math.max(0, read);
            }
            while (read > 0 && entry.discarded <= MAX_DISCARDED_BYTES);
            if (read < 0 || entry.discarded > MAX_DISCARDED_BYTES)
            {
                lingering.remove(entry);
                close(entry);
            }
        }
        catch (final IOException ex)
        {
            lingering.remove(entry);
            close(entry);
        }
        return 1;
    }

    /**
     * Close the refused connections whose linger ended.
     *
     * @param nowNs the duty cycle's time.
     * @return how many were closed.
     */
    public int expire(final long nowNs)
    {
        int closed = 0;
        Lingering entry;
        while (null != (entry = lingering.peekFirst()) && nowNs - entry.deadlineNs >= 0)
        {
            close(lingering.pollFirst());
            closed++;
        }
        return closed;
    }

    /**
     * Refused connections held open now.
     *
     * @return how many.
     */
    public int size()
    {
        return lingering.size();
    }

    /**
     * Close every refused connection (the owner is closing).
     */
    public void closeAll()
    {
        Lingering entry;
        while (null != (entry = lingering.pollFirst()))
        {
            close(entry);
        }
    }

    private static void close(final Lingering entry)
    {
        if (null != entry.key)
        {
            entry.key.cancel();
        }
        CloseHelper.quietClose(entry.channel);
    }
}
