package io.switchboard.broker.link;

import io.aeron.Aeron;
import io.aeron.Counter;
import org.agrona.CloseHelper;

/**
 * What the links counted: refusals, links lost, conflicts, messages and bytes sent (all, and those of the registry
 * and interest exchange), publications sent, received and dropped. Written by the link conductor's thread as plain
 * fields (nothing on the hot path but an add); {@link #publish()} mirrors them into counters of the media driver's
 * counters file ({@code cnc.dat}), labelled {@code sb-broker link ...}, a few times a second, where
 * {@code switchboard stat} and {@code switchboard metrics} read them with the broker's own (docs/METRICS.md).
 * <p>
 * Not thread-safe: owned by the link conductor's thread.
 */
final class LinkCounters
{
    /** Type id of the first link counter in the counters file; the others follow in the order of {@link #LABELS}. */
    static final int TYPE_ID_BASE = 7450;

    /** Labels of the counters in the counters file, in the order of {@link #values()}. */
    static final String[] LABELS =
    {
        "sb-broker link refused unconfigured",
        "sb-broker link refused proofs",
        "sb-broker link unauthenticated messages",
        "sb-broker link links down",
        "sb-broker link name conflicts",
        "sb-broker link send failures",
        "sb-broker link messages sent",
        "sb-broker link bytes sent",
        "sb-broker link route messages sent",
        "sb-broker link route bytes sent",
        "sb-broker link interest messages sent",
        "sb-broker link interest bytes sent",
        "sb-broker link publications sent",
        "sb-broker link publications received",
        "sb-broker link publications dropped",
        "sb-broker link pieces dropped",
        "sb-broker link publications lost",
        "sb-broker link malformed messages",
        "sb-broker link links up",
        "sb-broker link interest refused",
    };

    long refusedUnconfigured;
    long refusedProofs;
    long unauthenticatedMessages;
    long linksDown;
    long conflicts;
    long sendFailures;
    long messagesSent;
    long bytesSent;
    long routeMessagesSent;
    long routeBytesSent;
    long interestMessagesSent;
    long interestBytesSent;
    long publicationsSent;
    long publicationsReceived;
    long publicationsDropped;
    long piecesDropped;
    long publicationsLost;
    long malformedMessages;
    /** A gauge: the links up now (set by the conductor before each publish). */
    long linksUp;
    /** Patterns a peer's interest asked for beyond the bound of what it may make this broker hold. */
    long interestRefused;

    private final Counter[] counters = new Counter[LABELS.length];
    private final long[] values = new long[LABELS.length];

    /**
     * Allocate the counters in the driver's counters file.
     *
     * @param aeron the link conductor's client.
     */
    void attach(final Aeron aeron)
    {
        for (int i = 0; i < LABELS.length; i++)
        {
            counters[i] = aeron.addCounter(TYPE_ID_BASE + i, LABELS[i]);
        }
        publish();
    }

    /** Write the values into the counters file. */
    void publish()
    {
        final long[] v = values();
        for (int i = 0; i < counters.length; i++)
        {
            if (null != counters[i] && !counters[i].isClosed())
            {
                counters[i].setRelease(v[i]);
            }
        }
    }

    /** Free the counters in the driver's file (the values stay in this object, for the last log line). */
    void close()
    {
        for (int i = 0; i < counters.length; i++)
        {
            CloseHelper.quietClose(counters[i]);
            counters[i] = null;
        }
    }

    private long[] values()
    {
        values[0] = refusedUnconfigured;
        values[1] = refusedProofs;
        values[2] = unauthenticatedMessages;
        values[3] = linksDown;
        values[4] = conflicts;
        values[5] = sendFailures;
        values[6] = messagesSent;
        values[7] = bytesSent;
        values[8] = routeMessagesSent;
        values[9] = routeBytesSent;
        values[10] = interestMessagesSent;
        values[11] = interestBytesSent;
        values[12] = publicationsSent;
        values[13] = publicationsReceived;
        values[14] = publicationsDropped;
        values[15] = piecesDropped;
        values[16] = publicationsLost;
        values[17] = malformedMessages;
        values[18] = linksUp;
        values[19] = interestRefused;
        return values;
    }

    @Override
    public String toString()
    {
        return "refused unconfigured=" + refusedUnconfigured + " refused proofs=" + refusedProofs +
            " unauthenticated messages=" + unauthenticatedMessages + " links down=" + linksDown +
            " name conflicts=" + conflicts + " send failures=" + sendFailures + " messages sent=" + messagesSent +
            " bytes sent=" + bytesSent + " route messages sent=" + routeMessagesSent + " route bytes sent=" +
            routeBytesSent + " interest messages sent=" + interestMessagesSent + " interest bytes sent=" +
            interestBytesSent + " publications sent=" + publicationsSent + " received=" + publicationsReceived +
            " dropped=" + publicationsDropped + " pieces dropped=" + piecesDropped + " publications lost=" + publicationsLost +
            " malformed messages=" + malformedMessages + " links up=" + linksUp + " interest refused=" + interestRefused;
    }
}
