package io.switchboard.transport;

/**
 * Error answers a peer owes callers whose inbox had no room for a reply, a failure or a stream end (see
 * {@link PeerInboxProxy}): fixed arrays of {@link #CAPACITY} entries, so what a crowd of stuck callers can make a
 * service hold is bounded. An entry is removed by swapping the last one into its place: order does not matter.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class OwedAnswers
{
    /** Most answers owed at once; one more is dropped and counted. */
    static final int CAPACITY = 1024;
    /** Longest an answer is owed, whatever the caller's timeout. */
    static final long MAX_LIFETIME_MS = 60_000;
    /** The frame count of an owed answer to a call (not a stream end). */
    static final long RESPONSE = -1;

    private final int[] inbox = new int[CAPACITY];
    private final long[] correlationId = new long[CAPACITY];
    private final long[] frameCount = new long[CAPACITY];
    private final long[] deadlineNs = new long[CAPACITY];
    private final String[] errorCode = new String[CAPACITY];
    private final String[] errorMessage = new String[CAPACITY];
    private int size;

    boolean add(
        final int inboxStreamId,
        final long correlationId,
        final long frameCount,
        final String errorCode,
        final String errorMessage,
        final long deadlineNs)
    {
        if (size == CAPACITY)
        {
            return false;
        }
        final int i = size++;
        this.inbox[i] = inboxStreamId;
        this.correlationId[i] = correlationId;
        this.frameCount[i] = frameCount;
        this.deadlineNs[i] = deadlineNs;
        this.errorCode[i] = errorCode;
        this.errorMessage[i] = errorMessage;
        return true;
    }

    void remove(final int i)
    {
        final int last = --size;
        inbox[i] = inbox[last];
        correlationId[i] = correlationId[last];
        frameCount[i] = frameCount[last];
        deadlineNs[i] = deadlineNs[last];
        errorCode[i] = errorCode[last];
        errorMessage[i] = errorMessage[last];
        errorCode[last] = null;
        errorMessage[last] = null;
    }

    void removeInbox(final int inboxStreamId)
    {
        for (int i = size - 1; i >= 0; i--)
        {
            if (inbox[i] == inboxStreamId)
            {
                remove(i);
            }
        }
    }

    void clear()
    {
        while (size > 0)
        {
            remove(size - 1);
        }
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    int size()
    {
        return size;
    }

    int inbox(final int i)
    {
        return inbox[i];
    }

    long correlationId(final int i)
    {
        return correlationId[i];
    }

    long frameCount(final int i)
    {
        return frameCount[i];
    }

    long deadlineNs(final int i)
    {
        return deadlineNs[i];
    }

    String errorCode(final int i)
    {
        return errorCode[i];
    }

    String errorMessage(final int i)
    {
        return errorMessage[i];
    }
}
