package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A small log-linear latency histogram in microseconds: four buckets per power of two (about 19% wide), from 0 µs
 * to about 20 minutes, kept as counts in a {@code long[]}; STATS reports the buckets that are not empty as
 * {@code {"<lower bound in µs>": count}}, from which {@code switchboard top} takes p50 and p99 of an interval.
 */
public final class LatencyBuckets
{
    /** Buckets per histogram. */
    public static final int COUNT = 124;

    private LatencyBuckets()
    {
    }

    /**
     * The bucket of a latency.
     *
     * @param micros the latency in microseconds.
     * @return its bucket, 0 to {@link #COUNT} - 1.
     */
    public static int bucket(final long micros)
    {
        if (micros < 4)
        {
            return (int)Math.max(0, micros);
        }
        final int log = 63 - Long.numberOfLeadingZeros(micros);
        final int sub = (int)((micros >>> (log - 2)) & 3);
        return Math.min(COUNT - 1, 4 * (log - 1) + sub);
    }

    /**
     * The smallest latency of a bucket.
     *
     * @param bucket index.
     * @return its lower bound in microseconds.
     */
    public static long lowerBound(final int bucket)
    {
        if (bucket < 4)
        {
            return bucket;
        }
        final int log = bucket / 4 + 1;
        return (4L + (bucket % 4)) << (log - 2);
    }

    static void put(final ObjectNode into, final long[] counts, final int offset)
    {
        for (int i = 0; i < COUNT; i++)
        {
            if (counts[offset + i] != 0)
            {
                into.put(Long.toString(lowerBound(i)), counts[offset + i]);
            }
        }
    }
}
