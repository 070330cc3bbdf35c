package io.switchboard.transport;

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
    long timestampMs;
    int templateId;
    long lostBefore;

    Push()
    {
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
        return templateId;
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
     * Publisher's clock when it published, in epoch milliseconds.
     *
     * @return the publish timestamp.
     */
    public long timestampMs()
    {
        return timestampMs;
    }
}
