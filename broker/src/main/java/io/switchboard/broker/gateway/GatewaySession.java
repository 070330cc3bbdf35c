package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.subject.SubjectPattern;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
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
     * Whether any pattern this connection holds matches the subject.
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
    final HashMap<String, PendingCall> pendingByClientId = new HashMap<>();
    final TokenBucket rateLimit; // null when connections are not rate limited
    private final ArrayDeque<ByteBuffer> outbound = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> pushes = new ArrayDeque<>(); // the pushes among outbound, in order
    private final int maxQueuedPushes;
    private final long maxQueuedBytes;
    private long queuedBytes;
    private int queuedPushes;
    int version = 2;
    boolean closeAfterFlush;
    /** Has frames queued since the last flush; on the gateway's dirty list. */
    boolean dirty;
    long partialFrameSinceMs;
    /** PUSH sequence of this connection's subscription: one push per publication, however many patterns match. */
    long pushSequence;
    /** The shared-memory publication pushed last (publisher id, sequence), so overlapping patterns push it once. */
    long lastPushedLog;
    long lastPushedSequence;
    boolean closed;

    GatewaySession(
        final long id,
        final SocketChannel channel,
        final SelectionKey key,
        final int maxPayloadLength,
        final int maxQueuedPushes,
        final long maxQueuedBytes,
        final TokenBucket rateLimit)
    {
        this.id = id;
        this.channel = channel;
        this.key = key;
        this.decoder = new FrameDecoder(maxPayloadLength);
        this.maxQueuedPushes = maxQueuedPushes;
        this.maxQueuedBytes = maxQueuedBytes;
        this.rateLimit = rateLimit;
    }

    /**
     * Queue a frame and try to write what is queued.
     *
     * @param frame header and payload.
     * @param droppable whether the frame is a push that may be dropped when the queue is full.
     * @return false if the frame was dropped (a push over the bound) or the connection must be closed.
     */
    boolean enqueue(final byte[] frame, final boolean droppable)
    {
        if (closed)
        {
            return false;
        }
        if (droppable && queuedPushes >= maxQueuedPushes)
        {
            return false;
        }
        if (!droppable && queuedBytes + frame.length > maxQueuedBytes)
        {
            // a reader that lets replies pile up past the bound is cut off rather than grow the broker's heap
            closeAfterFlush = true;
            outbound.clear();
            pushes.clear();
            queuedBytes = 0;
            queuedPushes = 0;
            return false;
        }
        final ByteBuffer buffer = ByteBuffer.wrap(frame);
        if (droppable)
        {
            pushes.addLast(buffer);
            queuedPushes++;
        }
        outbound.addLast(buffer);
        queuedBytes += frame.length;
        return true;
    }

    /**
     * Write as much of the queue as the socket takes, and ask for OP_WRITE when it does not take everything.
     *
     * @return bytes written.
     * @throws IOException if the peer is gone.
     */
    int flush() throws IOException
    {
        int written = 0;
        while (!outbound.isEmpty())
        {
            final ByteBuffer head = outbound.peekFirst();
            final int n = channel.write(head);
            written += n;
            queuedBytes -= n;
            if (head.hasRemaining())
            {
                break;
            }
            outbound.pollFirst();
            if (pushes.peekFirst() == head)
            {
                pushes.pollFirst();
                queuedPushes--;
            }
        }
        if (key.isValid())
        {
            final int ops = outbound.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_READ | SelectionKey.OP_WRITE;
            if (key.interestOps() != ops && !closeAfterFlush)
            {
                key.interestOps(ops);
            }
            else if (closeAfterFlush && !outbound.isEmpty())
            {
                key.interestOps(SelectionKey.OP_WRITE);
            }
        }
        return written;
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
