package io.switchboard.transport;

import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.RetainedPublicationDecoder;
import org.agrona.DirectBuffer;

/**
 * Decodes the retained values the broker sends on the control connection in answer to a Subscribe, before its ack,
 * and hands each to the {@link LocalSubscriptions} waiting for that ack. Their root block lies as a
 * {@code Publication}'s, so the {@link Push} reads its time and template in the same places.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class RetainedAdapter
{
    private final LocalSubscriptions subscriptions;
    private final ClientCounters counters;
    private final RetainedPublicationDecoder decoder = new RetainedPublicationDecoder();
    private final Push push = new Push();

    RetainedAdapter(final LocalSubscriptions subscriptions, final ClientCounters counters)
    {
        this.subscriptions = subscriptions;
        this.counters = counters;
    }

    /**
     * A RetainedPublication arrived.
     *
     * @param buffer holding the message.
     * @param bodyOffset at which its root block begins.
     * @param blockLength of the root block, the sender's.
     * @param version of the sender's schema.
     * @param end of the message in the buffer.
     */
    void onRetained(
        final DirectBuffer buffer, final int bodyOffset, final int blockLength, final int version, final int end)
    {
        final RetainedPublicationDecoder decoder = this.decoder.wrap(buffer, bodyOffset, blockLength, version);
        final long correlationId = decoder.correlationId();
        final int publisherId = decoder.publisherId();
        final long sequence = decoder.sequence();
        final int logSessionId = decoder.logSessionId();
        final int subjectOffset = decoder.limit() + RetainedPublicationDecoder.subjectHeaderLength();
        final int subjectLength = decoder.subjectLength();
        decoder.skipSubject();
        final int messageTypeOffset = decoder.limit() + RetainedPublicationDecoder.messageTypeHeaderLength();
        final int messageTypeLength = decoder.messageTypeLength();
        decoder.skipMessageType();
        final int payloadOffset = decoder.limit() + RetainedPublicationDecoder.payloadHeaderLength();
        final int payloadLength = decoder.payloadLength();
        decoder.skipPayload();
        if (decoder.limit() > end || bodyOffset < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            counters.malformed.incrementOrdered();
            return;
        }

        final Push push = this.push;
        push.wrap(buffer, bodyOffset);
        push.publisherId = publisherId;
        push.sequence = sequence;
        push.logId = ((long)publisherId << 32) | (logSessionId & 0xFFFF_FFFFL);
        push.lostBefore = 0;
        push.retained = true;
        push.subject.wrap(buffer, subjectOffset, subjectLength);
        push.messageType.wrap(buffer, messageTypeOffset, messageTypeLength);
        final int pushes = subscriptions.onRetained(
            correlationId, push, buffer, subjectOffset, subjectLength, payloadOffset, payloadLength);
        if (0 != pushes)
        {
            counters.pushes.getAndAddOrdered(pushes);
        }
    }
}
