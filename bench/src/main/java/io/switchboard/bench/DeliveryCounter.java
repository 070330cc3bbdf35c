package io.switchboard.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Messages one subscriber has received: written by its thread only (ordered store), read by the publisher.
 * Padded so that counters of neighbouring subscribers do not share a cache line.
 */
final class DeliveryCounter
{
    @SuppressWarnings("unused")
    private long p1, p2, p3, p4, p5, p6, p7;
    private final AtomicLong count = new AtomicLong();
    private long plain;
    @SuppressWarnings("unused")
    private long q1, q2, q3, q4, q5, q6, q7;

    void increment()
    {
        count.lazySet(++plain);
    }

    long get()
    {
        return count.get();
    }

    static long min(final DeliveryCounter[] counters)
    {
        long min = Long.MAX_VALUE;
        for (final DeliveryCounter counter : counters)
        {
            min = Math.min(min, counter.get());
        }
        return min;
    }
}
