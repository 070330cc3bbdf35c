package io.switchboard.broker.link;

import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.locks.LockSupport;

/**
 * The link thread's idle strategy: the back-off of {@link LinkContext#idleStrategy()} (10 spins, then
 * {@link LinkContext#IDLE_YIELDS_PROP} yields, then parks from 1 µs doubling to 1 ms), telling the
 * {@link LinkDoorbell} when it parks so that the driver's thread can wake it when a link's message came in.
 * <p>
 * Not thread-safe: the link thread only.
 */
final class LinkIdleStrategy implements IdleStrategy
{
    private static final int SPINS = 10;
    private static final long MIN_PARK_NS = 1_000;
    private static final long MAX_PARK_NS = 1_000_000;

    private final LinkDoorbell doorbell;
    private final int maxYields;
    private int spins;
    private int yields;
    private long parkNs = MIN_PARK_NS;

    /**
     * @param doorbell to tell of each park.
     * @param maxYields before the first park.
     */
    LinkIdleStrategy(final LinkDoorbell doorbell, final int maxYields)
    {
        this.doorbell = doorbell;
        this.maxYields = maxYields;
    }

    /** {@inheritDoc} */
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            reset();
        }
        else
        {
            idle();
        }
    }

    /** {@inheritDoc} */
    public void idle()
    {
        if (spins < SPINS)
        {
            spins++;
            Thread.onSpinWait();
        }
        else if (yields < maxYields)
        {
            yields++;
            Thread.yield();
        }
        else
        {
            doorbell.linkParking();
            LockSupport.parkNanos(parkNs);
            doorbell.linkAwake();
            parkNs = Math.min(parkNs << 1, MAX_PARK_NS);
        }
    }

    /** {@inheritDoc} */
    public void reset()
    {
        spins = 0;
        yields = 0;
        parkNs = MIN_PARK_NS;
    }

    /** {@inheritDoc} */
    public String alias()
    {
        return "link-doorbell-backoff";
    }
}
