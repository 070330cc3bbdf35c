package io.switchboard.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Left padding of {@link DeliveryCounter}: the JVM lays out a superclass's fields before its subclass's, so these
 * 128 bytes (two cache lines, for the adjacent-line prefetcher) always lie before the count.
 */
@SuppressWarnings("unused")
abstract class DeliveryCounterLhsPadding
{
    private long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;
}

/**
 * The count itself, between the paddings.
 */
abstract class DeliveryCounterValue extends DeliveryCounterLhsPadding
{
    /** Written by the subscriber's thread only (release store), read by the publisher's. */
    protected volatile long count;
}

/**
 * Right padding of {@link DeliveryCounter}.
 */
@SuppressWarnings("unused")
abstract class DeliveryCounterRhsPadding extends DeliveryCounterValue
{
    private long q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;
}

/**
 * Messages one subscriber has received: written by its thread only (release store), read by the publisher, which
 * spins on it while it waits for a batch.
 * <p>
 * The count is a field of this object, padded on both sides by superclass fields: the publisher's spinning reads then
 * share a cache line with nothing else the subscriber or the publisher writes. (The count used to sit in an
 * {@code AtomicLong} of its own, a separate 24-byte object next to whatever was allocated after it; the padding of
 * this class padded nothing of it.) Every system's rig uses this counter, so the fix changes all their figures.
 */
final class DeliveryCounter extends DeliveryCounterRhsPadding
{
    private static final VarHandle COUNT;

    static
    {
        try
        {
            COUNT = MethodHandles.lookup().findVarHandle(DeliveryCounterValue.class, "count", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /**
     * One more message received; call from the subscriber's thread only.
     */
    void increment()
    {
        COUNT.setRelease(this, (long)COUNT.get(this) + 1);
    }

    /**
     * The messages received so far.
     *
     * @return the count.
     */
    long get()
    {
        return count;
    }

    /**
     * The smallest count of several subscribers.
     *
     * @param counters of the subscribers.
     * @return the smallest count.
     */
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
