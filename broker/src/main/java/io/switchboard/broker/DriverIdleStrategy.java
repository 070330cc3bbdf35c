package io.switchboard.broker;

import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.concurrent.locks.LockSupport;

/**
 * The embedded media driver's idle strategy (its one shared thread): spin, then yield for a bounded time after the
 * last work, then park with exponential backoff from 1 µs to 1 ms.
 * <p>
 * Why a time bound on the yielding: an IPC publisher's limit moves only when the driver's conductor runs, so a message
 * larger than the publication window (half the term) waits for the driver at least once per direction; with a driver
 * that parks after a fixed 30 idle cycles, that wait was a park of up to 1 ms (and never shorter than the kernel's
 * timer slack, about 65 µs here, however short the park asked). Yielding until {@code yieldNs} has passed since the
 * last work keeps the driver responsive while a conversation is under way, and a driver idle for longer than that
 * parks as before. Its periodic work (the 50 ms timer, client keepalives) also starts a window, so an idle broker's
 * driver thread costs more with a window: 0.8% of a core with 0, 2.0% with 1 ms (30 s, loaded machine). With a window
 * of 0 this is the former {@code BackoffIdleStrategy(10, 20, 1 µs, 1 ms)}. A yield gives the core to any other thread
 * that wants it.
 * <p>
 * Not thread-safe: the driver's thread only.
 */
final class DriverIdleStrategy implements IdleStrategy
{
    private static final int SPINS = 10;
    private static final int MIN_YIELDS = 20;
    private static final long MIN_PARK_NS = 1_000;
    private static final long MAX_PARK_NS = 1_000_000;

    private final long yieldNs;
    private final NanoClock clock;
    private int spins;
    private int yields;
    private long idleSinceNs;
    private long parkNs = MIN_PARK_NS;
    private boolean parked;

    /**
     * @param yieldNs how long after the last work to keep yielding before parking, 0 for a fixed 20 yields.
     */
    DriverIdleStrategy(final long yieldNs)
    {
        this(yieldNs, SystemNanoClock.INSTANCE);
    }

    /**
     * @param yieldNs how long after the last work to keep yielding before parking, 0 for a fixed 20 yields.
     * @param clock   to time the yielding with.
     */
    DriverIdleStrategy(final long yieldNs, final NanoClock clock)
    {
        this.yieldNs = yieldNs;
        this.clock = clock;
    }

    /**
     * Whether the last {@link #idle()} parked the thread (tests).
     *
     * @return true after a park, false after a spin or a yield.
     */
    boolean parked()
    {
        return parked;
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
        parked = false;
        if (spins < SPINS)
        {
            spins++;
            Thread.onSpinWait();
        }
        else if (yields < MIN_YIELDS)
        {
            if (0 == yields++)
            {
                idleSinceNs = clock.nanoTime();
            }
            Thread.yield();
        }
        else if (yieldNs > 0 && clock.nanoTime() - idleSinceNs < yieldNs)
        {
            Thread.yield();
        }
        else
        {
            parked = true;
            LockSupport.parkNanos(parkNs);
            parkNs = Math.min(parkNs << 1, MAX_PARK_NS);
        }
    }

    /** {@inheritDoc} */
    public void reset()
    {
        parked = false;
        spins = 0;
        yields = 0;
        parkNs = MIN_PARK_NS;
    }

    /** {@inheritDoc} */
    public String alias()
    {
        return "driver-yield-backoff";
    }
}
