package io.switchboard.transport;

import io.aeron.Aeron;
import io.aeron.Counter;
import org.agrona.CloseHelper;

/**
 * A peer's counters, allocated in the media driver's counters file so that the broker and tools can read them
 * (type ids {@value #TYPE_ID_BASE} and up). Removed by the driver when the peer closes or dies.
 */
public final class ClientCounters implements AutoCloseable
{
    /** First counter type id used by Switchboard peers. */
    public static final int TYPE_ID_BASE = 7300;

    final Counter requests;
    final Counter responses;
    final Counter errors;
    final Counter timeouts;
    final Counter lateReplies;
    final Counter served;
    final Counter undeliverable;
    final Counter published;
    final Counter publishFailures;
    final Counter pushes;
    final Counter pushesLost;
    final Counter imagesLost;
    final Counter malformed;

    ClientCounters(final Aeron aeron, final int clientId, final String clientName)
    {
        final String suffix = ": client=" + clientId + " name=" + clientName;
        requests = aeron.addCounter(TYPE_ID_BASE, "sb-requests" + suffix);
        responses = aeron.addCounter(TYPE_ID_BASE + 1, "sb-responses" + suffix);
        errors = aeron.addCounter(TYPE_ID_BASE + 2, "sb-errors" + suffix);
        timeouts = aeron.addCounter(TYPE_ID_BASE + 3, "sb-timeouts" + suffix);
        lateReplies = aeron.addCounter(TYPE_ID_BASE + 4, "sb-late-replies" + suffix);
        served = aeron.addCounter(TYPE_ID_BASE + 5, "sb-served" + suffix);
        undeliverable = aeron.addCounter(TYPE_ID_BASE + 6, "sb-undeliverable" + suffix);
        published = aeron.addCounter(TYPE_ID_BASE + 7, "sb-published" + suffix);
        publishFailures = aeron.addCounter(TYPE_ID_BASE + 8, "sb-publish-failures" + suffix);
        pushes = aeron.addCounter(TYPE_ID_BASE + 9, "sb-pushes" + suffix);
        pushesLost = aeron.addCounter(TYPE_ID_BASE + 10, "sb-pushes-lost" + suffix);
        imagesLost = aeron.addCounter(TYPE_ID_BASE + 11, "sb-images-lost" + suffix);
        malformed = aeron.addCounter(TYPE_ID_BASE + 12, "sb-malformed" + suffix);
    }

    /**
     * Publications this subscriber lost because it fell behind (sequence gaps).
     *
     * @return publications lost.
     */
    public long pushesLost()
    {
        return pushesLost.get();
    }

    /**
     * Publications matched and delivered to this peer's handlers.
     *
     * @return pushes delivered.
     */
    public long pushes()
    {
        return pushes.get();
    }

    /**
     * Requests sent.
     *
     * @return requests sent.
     */
    public long requests()
    {
        return requests.get();
    }

    /**
     * Requests that timed out.
     *
     * @return timeouts.
     */
    public long timeouts()
    {
        return timeouts.get();
    }

    /**
     * Publications that could not be written.
     *
     * @return failed publishes.
     */
    public long publishFailures()
    {
        return publishFailures.get();
    }

    /**
     * Close every counter.
     */
    public void close()
    {
        CloseHelper.closeAll(requests, responses, errors, timeouts, lateReplies, served, undeliverable, published,
            publishFailures, pushes, pushesLost, imagesLost, malformed);
    }
}
