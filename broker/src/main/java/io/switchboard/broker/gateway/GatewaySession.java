package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.subject.SubjectPattern;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One socket connection to the gateway: its frame decoder, its bounded outbound queue, its subscriptions and the
 * requests it has in flight.
 * <p>
 * Not thread-safe: owned by the {@link GatewayConductor}'s duty cycle.
 */
final class GatewaySession
{
    /** One subscription pattern held by the connection, with its own sequence of pushes. */
    static final class Subscription
    {
        final SubjectPattern pattern;

        Subscription(final SubjectPattern pattern)
        {
            this.pattern = pattern;
        }
    }

    final long id;
    final SocketChannel channel;
    final SelectionKey key;
    final FrameDecoder decoder;
    final LinkedHashMap<String, Subscription> subscriptions = new LinkedHashMap<>();

    /**
     * Whether any pattern this connection holds matches the subject (at most the per-connection pattern bound).
     */
    boolean matches(final String subject)
    {
        for (final Subscription s : subscriptions.values())
        {
            if (s.pattern.matches(subject))
            {
                return true;
            }
        }
        return false;
    }
    /** Bytes queued for all the connections of one gateway together, and its bound. */
    static final class QueueBudget
    {
        final long maxTotalBytes;
        long queuedBytes;
        /** The gathering write's array, shared by the sessions of one gateway: they are flushed from its thread. */
        final ByteBuffer[] gather = new ByteBuffer[GATHER];

        QueueBudget(final long maxTotalBytes)
        {
            this.maxTotalBytes = maxTotalBytes;
        }
    }

    /** {@link #enqueue} result: the frame is queued. */
    static final int QUEUED = 0;
    /** {@link #enqueue} result: a push over a bound, dropped. */
    static final int DROPPED = 1;
    /** {@link #enqueue} result: the connection is closed or closing (a reply over a bound closed it). */
    static final int REFUSED = 2;

    /** Limits logged once for this connection (bits of {@code GatewayConductor.LOGGED_*}). */
    int loggedLimits;
    /** Pushes dropped because this connection's queue was full (for {@code switchboard connections}). */
    long pushesDropped;
    /** The peer's pid from SO_PEERCRED (0: not looked up yet, -1: unknown), and the handle that read it. */
    long peerPid;
    java.io.Closeable peerCredentials;
    final HashMap<String, PendingCall> pendingByClientId = new HashMap<>();
    final TokenBucket rateLimit; // null when connections are not rate limited
    /** Frames written by one gathering write at most. */
    static final int GATHER = 64;

    private final ArrayDeque<ByteBuffer> outbound = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> pushes = new ArrayDeque<>(); // the pushes among outbound, in order
    private final QueueBudget budget;
    private final int maxQueuedPushes;
    private final long maxQueuedPushBytes;
    private final long maxQueuedBytes;
    private long queuedBytes;
    private long queuedPushBytes;
    private int queuedPushes;
    int version = 2;
    boolean closeAfterFlush;
    /** Closed because a reply did not fit its queue (a slow consumer). */
    boolean overflowed;
    /** The peer shut down its write side (EOF): read no more, answer what is in flight, flush, then close. */
    boolean inputClosed;
    /** Has frames queued since the last flush; on the gateway's dirty list. */
    boolean dirty;
    long partialFrameSinceMs;
    /** Bytes the frame decoder holds for an unfinished frame, as last counted against the gateway's total. */
    long readBufferBytes;
    /** This connection's PUBLISH frames not yet answered (held or back-pressured): it is not read while any wait. */
    int heldPublishes;
    /** This connection's requests the gateway's client holds for a full Java inbox: it is not read while any wait. */
    int heldRequests;
    /** PUSH sequence of this connection's subscription: one push per publication, however many patterns match. */
    long pushSequence;
    /** Pushes dropped since the last loss notice; a notice is sent once the queue has drained. */
    long lostSinceNotice;
    /** The shared-memory publication pushed last (publisher id, sequence), so overlapping patterns push it once. */
    long lastPushedLog;
    long lastPushedSequence;
    /** Per publisher log, the newest sequence pushed as a retained value and not yet passed by a live push. */
    org.agrona.collections.Long2LongHashMap retainedSequenceByLog;

    /**
     * Whether a live publication was pushed to this connection already as a retained value; forgets the log once a
     * newer one passes.
     *
     * @param logId of the publication.
     * @param sequence of the publication.
     * @return true if it, or a newer one of its log, was pushed as retained.
     */
    boolean wasRetained(final long logId, final long sequence)
    {
        final org.agrona.collections.Long2LongHashMap retained = retainedSequenceByLog;
        if (null == retained || retained.isEmpty())
        {
            return false;
        }
        final long held = retained.get(logId);
        if (-1 == held)
        {
            return false;
        }
        if (sequence <= held)
        {
            return true;
        }
        retained.remove(logId);
        return false;
    }

    /**
     * A retained value is pushed to this connection: its live copy, and what its log published before it, are not.
     *
     * @param logId of the publication.
     * @param sequence of the publication.
     */
    void onRetained(final long logId, final long sequence)
    {
        if (null == retainedSequenceByLog)
        {
            retainedSequenceByLog = new org.agrona.collections.Long2LongHashMap(-1);
        }
        final long held = retainedSequenceByLog.get(logId);
        if (-1 == held || sequence > held)
        {
            retainedSequenceByLog.put(logId, sequence);
        }
    }
    /** The SUBSCRIBE the broker has not answered yet (its retained values are coming), or null. */
    SubscribeJoin pendingJoin;
    /** SUBSCRIBE/UNSUBSCRIBE frames that came after it, taken in order once it is answered (bounded in count). */
    final java.util.ArrayDeque<HeldSubscription> heldSubscriptions = new java.util.ArrayDeque<>();
    /** Whether the held frames are being taken (a join answered at once must not take them again, nested). */
    boolean applyingHeld;

    /** A SUBSCRIBE or UNSUBSCRIBE frame read, its patterns checked. */
    static final class HeldSubscription
    {
        final io.switchboard.codec.frame.FrameFormat format;
        final String correlationId;
        final java.util.List<String> patterns;
        final boolean subscribe;

        HeldSubscription(
            final io.switchboard.codec.frame.FrameFormat format,
            final String correlationId,
            final java.util.List<String> patterns,
            final boolean subscribe)
        {
            this.format = format;
            this.correlationId = correlationId;
            this.patterns = patterns;
            this.subscribe = subscribe;
        }
    }

    boolean closed;

    GatewaySession(
        final long id,
        final SocketChannel channel,
        final SelectionKey key,
        final int maxPayloadLength,
        final int maxQueuedPushes,
        final long maxQueuedPushBytes,
        final long maxQueuedBytes,
        final QueueBudget budget,
        final TokenBucket rateLimit)
    {
        this.id = id;
        this.channel = channel;
        this.key = key;
        this.decoder = new FrameDecoder(maxPayloadLength);
        this.maxQueuedPushes = maxQueuedPushes;
        this.maxQueuedPushBytes = maxQueuedPushBytes;
        this.maxQueuedBytes = maxQueuedBytes;
        this.budget = budget;
        this.rateLimit = rateLimit;
    }

    /**
     * Whether a push of the given length would be dropped now; checked before the push is encoded, so a stopped
     * subscriber costs no encoding.
     *
     * @param length of the push frame, or 0 when not known yet.
     * @return true if the push must be dropped.
     */
    boolean pushWouldDrop(final int length)
    {
        return queuedPushes >= maxQueuedPushes ||
            (0 != queuedPushBytes && queuedPushBytes + length > maxQueuedPushBytes) ||
            queuedBytes + length > maxQueuedBytes ||
            budget.queuedBytes + length > budget.maxTotalBytes / 2; // the other half is kept for replies
    }

    /**
     * Queue a frame; the caller flushes.
     *
     * @param frame header and payload.
     * @param droppable whether the frame is a push that may be dropped when a bound is reached.
     * @return {@link #QUEUED}, {@link #DROPPED} (a push over a bound) or {@link #REFUSED} (the connection is closed
     * or, for a reply that did not fit, now closing).
     */
    int enqueue(final byte[] frame, final boolean droppable)
    {
        if (closed || overflowed)
        {
            return REFUSED;
        }
        final int length = frame.length;
        if (droppable)
        {
            if (pushWouldDrop(length))
            {
                lostSinceNotice++;
                return DROPPED;
            }
        }
        else if (queuedBytes + length > maxQueuedBytes || budget.queuedBytes + length > budget.maxTotalBytes)
        {
            // a reply is never dropped silently: a reader that lets replies pile up past the bound is cut off
            // rather than grow the broker's heap
            overflowed = true;
            closeAfterFlush = true;
            releaseQueue();
            return REFUSED;
        }
        final ByteBuffer buffer = ByteBuffer.wrap(frame);
        if (droppable)
        {
            pushes.addLast(buffer);
            queuedPushes++;
            queuedPushBytes += length;
        }
        outbound.addLast(buffer);
        queuedBytes += length;
        budget.queuedBytes += length;
        return QUEUED;
    }

    /**
     * Forget whatever is queued (the connection is closing) and give its bytes back to the gateway's budget.
     */
    void releaseQueue()
    {
        budget.queuedBytes -= queuedBytes;
        outbound.clear();
        pushes.clear();
        queuedBytes = 0;
        queuedPushBytes = 0;
        queuedPushes = 0;
    }

    /**
     * Bytes queued for this connection.
     *
     * @return the bytes not yet written.
     */
    long queuedBytes()
    {
        return queuedBytes;
    }

    /**
     * Write as much of the queue as the socket takes, and ask for OP_WRITE when it does not take everything.
     *
     * @return bytes written.
     * @throws IOException if the peer is gone.
     */
    int flush() throws IOException
    {
        final int written = flushTo(channel);
        updateInterest();
        return written;
    }

    /**
     * Write as much of the queue as a channel takes (the connection's socket, or a test's buffer).
     *
     * @param out to write to.
     * @return bytes written.
     * @throws IOException if the channel fails.
     */
    int flushTo(final WritableByteChannel out) throws IOException
    {
        if (out instanceof GatheringByteChannel && outbound.size() > 1)
        {
            return gatherTo((GatheringByteChannel)out);
        }
        int written = 0;
        while (!outbound.isEmpty())
        {
            final ByteBuffer head = outbound.peekFirst();
            final int n = out.write(head);
            written += n;
            queuedBytes -= n;
            budget.queuedBytes -= n;
            if (head.hasRemaining())
            {
                break;
            }
            sent(head);
        }
        return written;
    }

    /**
     * Write the queue with one gathering write per {@value #GATHER} frames: the replies of one duty cycle go out in
     * one system call, not one each.
     */
    private int gatherTo(final GatheringByteChannel out) throws IOException
    {
        final ByteBuffer[] gather = budget.gather;
        int written = 0;
        while (!outbound.isEmpty())
        {
            int count = 0;
            for (final ByteBuffer buffer : outbound)
            {
                gather[count++] = buffer;
                if (GATHER == count)
                {
                    break;
                }
            }
            final long n = out.write(gather, 0, count);
            written += (int)n;
            queuedBytes -= n;
            budget.queuedBytes -= n;
            boolean drained = true;
            for (int i = 0; i < count; i++)
            {
                final ByteBuffer buffer = gather[i];
                gather[i] = null;
                if (drained && !buffer.hasRemaining())
                {
                    sent(outbound.peekFirst());
                }
                else
                {
                    drained = false;
                }
            }
            if (!drained)
            {
                break;
            }
        }
        return written;
    }

    private void sent(final ByteBuffer head)
    {
        outbound.pollFirst();
        if (pushes.peekFirst() == head)
        {
            pushes.pollFirst();
            queuedPushes--;
            queuedPushBytes -= head.capacity();
        }
    }

    /**
     * Ask the selector for what this connection needs: reads unless it is closing or its input ended, writes while
     * anything is queued.
     */
    void updateInterest()
    {
        if (null == key || !key.isValid()) // no key: a session driven by a unit test, with no socket
        {
            return;
        }
        final int read = closeAfterFlush || inputClosed || heldPublishes > 0 || heldRequests > 0 ? 0 : SelectionKey.OP_READ;
        final int ops = outbound.isEmpty() ? read : read | SelectionKey.OP_WRITE;
        if (key.interestOps() != ops)
        {
            key.interestOps(ops);
        }
    }

    boolean hasQueued()
    {
        return !outbound.isEmpty();
    }

    Map<String, Subscription> subscriptions()
    {
        return subscriptions;
    }
}
