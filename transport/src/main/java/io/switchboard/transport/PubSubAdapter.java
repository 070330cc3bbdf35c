package io.switchboard.transport;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.switchboard.codec.wire.FragmentDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.PublicationDecoder;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * Decodes the publications read from the pub/sub log, keeps the last sequence seen per publisher log (to count what
 * was lost between two), and hands each to the {@link LocalSubscriptions} whose patterns match its subject.
 * <p>
 * Allocation-free per publication. Not thread-safe: call with the client lock held.
 */
final class PubSubAdapter implements FragmentHandler
{
    private static final long NO_LOG = Long.MIN_VALUE;

    private final LocalSubscriptions subscriptions;
    private final ClientCounters counters;
    private final Reassembler reassembler;
    private long nowNs;
    private final Push push = new Push();
    /** Last sequence seen per publisher log, keyed by publisher id and log session id; the newest log is held apart. */
    private final Long2LongHashMap lastSequenceByPublisher = new Long2LongHashMap(0);
    private long lastSequenceKey = NO_LOG;
    private long lastSequenceHot;
    private long pushesSinceCount;

    PubSubAdapter(
        final LocalSubscriptions subscriptions, final ClientCounters counters, final Reassembler reassembler)
    {
        this.subscriptions = subscriptions;
        this.counters = counters;
        this.reassembler = reassembler;
    }

    /**
     * The duty cycle's time, which dates the pieces of long publications being joined.
     *
     * @param nowNs the time.
     */
    void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        // the header in one read, then the fields and the lengths read in place: no decoder calls per publication
        final int end = offset + length;
        final long word = length >= MessageHeaderDecoder.ENCODED_LENGTH ? buffer.getLong(offset, LITTLE_ENDIAN) : 0;
        final int blockLength = (int)(word & 0xFFFF);
        if ((int)((word >>> 16) & 0xFFFF) != PublicationDecoder.TEMPLATE_ID ||
            (int)((word >>> 32) & 0xFFFF) != PublicationDecoder.SCHEMA_ID ||
            blockLength < PublicationDecoder.BLOCK_LENGTH ||
            offset + MessageHeaderDecoder.ENCODED_LENGTH + blockLength + 3 * Integer.BYTES > end)
        {
            if ((int)((word >>> 16) & 0xFFFF) == FragmentDecoder.TEMPLATE_ID &&
                (int)((word >>> 32) & 0xFFFF) == FragmentDecoder.SCHEMA_ID)
            {
                // a piece of a publication longer than one message of its log: handed back here once whole
                reassembler.onFragment(Reassembler.PUB_SUB, buffer, offset, length, header, this, nowNs);
                return;
            }
            counters.malformed.incrementOrdered();
            return;
        }
        final int block = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int subjectOffset = block + blockLength + Integer.BYTES;
        final int subjectLength = buffer.getInt(subjectOffset - Integer.BYTES, LITTLE_ENDIAN);
        final int messageTypeOffset = subjectOffset + subjectLength + Integer.BYTES;
        if (subjectLength < 0 || subjectLength > length || messageTypeOffset + Integer.BYTES > end)
        {
            counters.malformed.incrementOrdered();
            return;
        }
        final int messageTypeLength = buffer.getInt(messageTypeOffset - Integer.BYTES, LITTLE_ENDIAN);
        final int payloadOffset = messageTypeOffset + messageTypeLength + Integer.BYTES;
        if (messageTypeLength < 0 || messageTypeLength > length || payloadOffset > end)
        {
            counters.malformed.incrementOrdered();
            return;
        }
        final int payloadLength = buffer.getInt(payloadOffset - Integer.BYTES, LITTLE_ENDIAN);
        if (payloadLength < 0 || payloadLength > length || payloadOffset + payloadLength > end)
        {
            counters.malformed.incrementOrdered();
            return;
        }

        final Push push = this.push;
        push.wrap(buffer, block);
        push.publisherId = buffer.getInt(block + PublicationDecoder.publisherIdEncodingOffset(), LITTLE_ENDIAN);
        push.sequence = buffer.getLong(block + PublicationDecoder.sequenceEncodingOffset(), LITTLE_ENDIAN);
        push.logId = ((long)push.publisherId << 32) | (header.sessionId() & 0xFFFF_FFFFL);
        final long last = lastSequence(push.logId);
        push.lostBefore = 0 == last ? 0 : Math.max(0, push.sequence - last - 1);
        if (push.sequence > last)
        {
            lastSequenceHot = push.sequence;
        }
        if (push.lostBefore > 0)
        {
            counters.pushesLost.getAndAddOrdered(push.lostBefore);
        }
        push.subject.wrap(buffer, subjectOffset, subjectLength);
        push.messageType.wrap(buffer, messageTypeOffset, messageTypeLength);

        pushesSinceCount +=
            subscriptions.onPush(push, buffer, subjectOffset, subjectLength, payloadOffset, payloadLength);
    }

    /**
     * Add the pushes delivered since the last call to the counter: once per poll, not once per push.
     */
    void countPushes()
    {
        if (0 != pushesSinceCount)
        {
            counters.pushes.getAndAddOrdered(pushesSinceCount);
            pushesSinceCount = 0;
        }
    }

    /**
     * The last sequence seen on a publisher's log, which becomes the hot one: a subscriber reading one busy publisher
     * pays no hash lookup per publication.
     */
    private long lastSequence(final long key)
    {
        if (key != lastSequenceKey)
        {
            if (NO_LOG != lastSequenceKey)
            {
                lastSequenceByPublisher.put(lastSequenceKey, lastSequenceHot);
            }
            lastSequenceKey = key;
            lastSequenceHot = lastSequenceByPublisher.remove(key);
        }
        return lastSequenceHot;
    }

    /**
     * A publisher went away: forget the sequences of its logs.
     *
     * @param peerId of the publisher.
     */
    void forgetPublisher(final int peerId)
    {
        if (NO_LOG != lastSequenceKey && (int)(lastSequenceKey >>> 32) == peerId)
        {
            lastSequenceKey = NO_LOG;
        }
        lastSequenceByPublisher.keySet().removeIf((key) -> (int)(key >>> 32) == peerId);
    }

    /**
     * The session ended: every log is new in the next one.
     */
    void onSessionClosed()
    {
        lastSequenceByPublisher.clear();
        lastSequenceKey = NO_LOG;
    }
}
