package io.switchboard.transport;

import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteBuffer;

/**
 * A peer's counters, for the life of the client (across reconnections to the broker).
 * <p>
 * They live in the client's own memory, not in the media driver's counters file: a driver that dies with its broker
 * unmaps that file, and a counter left pointing into it would crash the process on its next increment.
 * Written by the client's duty cycle only; readable from any thread.
 */
public final class ClientCounters implements AutoCloseable
{
    /** First counter type id used by Switchboard peers. */
    public static final int TYPE_ID_BASE = 7300;

    private static final int MAX_COUNTERS = 16;

    private final CountersManager manager = new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_COUNTERS * CountersManager.METADATA_LENGTH)),
        new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_COUNTERS * CountersManager.COUNTER_LENGTH)));

    final AtomicCounter requests;
    final AtomicCounter responses;
    final AtomicCounter errors;
    final AtomicCounter timeouts;
    final AtomicCounter lateReplies;
    final AtomicCounter served;
    final AtomicCounter undeliverable;
    final AtomicCounter published;
    final AtomicCounter publishFailures;
    final AtomicCounter pushes;
    final AtomicCounter pushesLost;
    final AtomicCounter imagesLost;
    final AtomicCounter malformed;

    ClientCounters(final String clientName)
    {
        final CountersManager m = manager;
        final String suffix = ": name=" + clientName;
        requests = m.newCounter("sb-requests" + suffix, TYPE_ID_BASE);
        responses = m.newCounter("sb-responses" + suffix, TYPE_ID_BASE + 1);
        errors = m.newCounter("sb-errors" + suffix, TYPE_ID_BASE + 2);
        timeouts = m.newCounter("sb-timeouts" + suffix, TYPE_ID_BASE + 3);
        lateReplies = m.newCounter("sb-late-replies" + suffix, TYPE_ID_BASE + 4);
        served = m.newCounter("sb-served" + suffix, TYPE_ID_BASE + 5);
        undeliverable = m.newCounter("sb-undeliverable" + suffix, TYPE_ID_BASE + 6);
        published = m.newCounter("sb-published" + suffix, TYPE_ID_BASE + 7);
        publishFailures = m.newCounter("sb-publish-failures" + suffix, TYPE_ID_BASE + 8);
        pushes = m.newCounter("sb-pushes" + suffix, TYPE_ID_BASE + 9);
        pushesLost = m.newCounter("sb-pushes-lost" + suffix, TYPE_ID_BASE + 10);
        imagesLost = m.newCounter("sb-images-lost" + suffix, TYPE_ID_BASE + 11);
        malformed = m.newCounter("sb-malformed" + suffix, TYPE_ID_BASE + 12);
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
     * Messages read from a log that were not Switchboard messages, or whose lengths did not fit: dropped.
     *
     * @return malformed messages seen.
     */
    public long malformed()
    {
        return malformed.get();
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
