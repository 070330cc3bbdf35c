package io.switchboard.transport;

import io.switchboard.codec.wire.PublicationDecoder;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * What a subscriber learns of a publication besides its payload. One instance is reused; valid only during
 * {@link PushHandler#onPush}.
 */
public final class Push
{
    final AsciiView subject = new AsciiView();
    final AsciiView messageType = new AsciiView();
    int publisherId;
    long logId;
    long sequence;
    long lostBefore;
    boolean retained;
    private DirectBuffer buffer;
    private int blockOffset;

    Push()
    {
    }

    /** Read the fields only a handler may want (time, template) in place, from the publication's root block. */
    void wrap(final DirectBuffer buffer, final int blockOffset)
    {
        this.buffer = buffer;
        this.blockOffset = blockOffset;
    }

    /**
     * The concrete subject published, such as {@code prices.ACME}.
     *
     * @return the subject.
     */
    public CharSequence subject()
    {
        return subject;
    }

    /**
     * Name of the payload's message type.
     *
     * @return the message type name.
     */
    public CharSequence messageType()
    {
        return messageType;
    }

    /**
     * The publisher's log this publication came on: sequence numbers count on that log alone, so
     * {@code (logId, sequence)} names one publication however many of a subscriber's patterns it matched.
     *
     * @return the publisher id in the high 32 bits and the log's session id in the low 32.
     */
    public long logId()
    {
        return logId;
    }

    /**
     * SBE template id of the payload, or -1 for opaque.
     *
     * @return the template id.
     */
    public int templateId()
    {
        return buffer.getInt(blockOffset + PublicationDecoder.templateIdEncodingOffset(), ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Client id of the publisher.
     *
     * @return the publisher's client id.
     */
    public int publisherId()
    {
        return publisherId;
    }

    /**
     * The publisher's sequence number of this publication, from 1; a gap is a loss.
     *
     * @return the sequence number.
     */
    public long sequence()
    {
        return sequence;
    }

    /**
     * Publications of this publisher lost just before this one (a slow subscriber was cut loose).
     *
     * @return the size of the gap before this push, 0 when none.
     */
    public long lostBefore()
    {
        return lostBefore;
    }

    /**
     * Whether this is a subject's retained value, handed to a new subscription before any live publication (it may
     * be older than the subscription: see {@link #timestampMs()}). Its live copy is not handed to that subscription
     * again.
     *
     * @return true for a retained value, false for a live publication.
     */
    public boolean isRetained()
    {
        return retained;
    }

    /**
     * Publisher's clock when it published, in epoch milliseconds.
     *
     * @return the publish timestamp.
     */
    public long timestampMs()
    {
        return buffer.getLong(blockOffset + PublicationDecoder.timestampMsEncodingOffset(), ByteOrder.LITTLE_ENDIAN);
    }
}
