package io.switchboard.broker;

import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.concurrent.locks.LockSupport;

/**
 * The embedded media driver's idle strategy (its one shared thread): spin, then yield for a bounded time after the
 * last work, then park with exponential backoff from the timer slack (50 µs by default) to 1 ms.
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
 * Why the parks start at the thread's timer slack ({@link #minParkNs(long)}: the kernel's 50 µs unless
 * {@code switchboard.timer.slack.ns} sets one) and not at 1 µs: a park never ends sooner than the slack, so the backoff's
 * parks of 1, 2, 4 ... 32 µs all lasted about the same 55-90 µs, each a wake-up of the driver's thread that takes a
 * core from whatever runs there. After every bit of work (an IPC publisher limit moved: thousands a second under a
 * stream of calls) that was 11 wake-ups before the 1 ms parks, about 6,000-10,000 a second, each taking 5-25 µs of a
 * yielding service's core: about 1 % of Switchboard's closed-loop calls waited ~24 µs for one (issue 12's p99 stall,
 * {@code StallTrace} in bench; raw Aeron's pong suffered the same). Starting at the slack: 6 wake-ups, the first after
 * about 100 µs instead of 55 µs. A broker with links keeps the 1 µs start ({@link #minParkNs(long, boolean)}): its
 * driver's thread carries every UDP hop of a call across.
 * <p>
 * Not thread-safe: the driver's thread only.
 */
final class DriverIdleStrategy implements IdleStrategy
{
    private static final int SPINS = 10;
    private static final int MIN_YIELDS = 20;
    private static final long MIN_PARK_NS = 1_000;
    /** Linux's default timer slack: a park asked shorter lasts about this long anyway. */
    static final long KERNEL_DEFAULT_SLACK_NS = 50_000;
    private static final long MAX_PARK_NS = 1_000_000;

    private final long yieldNs;
    private final long minParkNs;
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
        this(yieldNs, MIN_PARK_NS, clock);
    }

    /**
     * @param yieldNs   how long after the last work to keep yielding before parking, 0 for a fixed 20 yields.
     * @param minParkNs the first park after work, doubling from there to 1 ms (clamped to 1 µs - 1 ms).
     * @param clock     to time the yielding with.
     */
    DriverIdleStrategy(final long yieldNs, final long minParkNs, final NanoClock clock)
    {
        this.yieldNs = yieldNs;
        this.minParkNs = Math.min(Math.max(MIN_PARK_NS, minParkNs), MAX_PARK_NS);
        this.parkNs = this.minParkNs;
        this.clock = clock;
    }

    /**
     * The shortest park worth asking for on a thread with this timer slack: the slack itself (a shorter park lasts it
     * anyway), the kernel's default when none is configured.
     *
     * @param configuredSlackNs the configured timer slack ({@code switchboard.timer.slack.ns}), 0 or less for none.
     * @return nanoseconds, 1 µs to 1 ms.
     */
    static long minParkNs(final long configuredSlackNs)
    {
        final long slackNs = configuredSlackNs > 0 ? configuredSlackNs : KERNEL_DEFAULT_SLACK_NS;
        return Math.min(Math.max(MIN_PARK_NS, slackNs), MAX_PARK_NS);
    }

    /**
     * The first park of a broker's driver: 1 µs, as before, when the broker has links, else the timer slack
     * ({@link #minParkNs(long)}). With links the driver's thread also sends and receives every UDP message of a call
     * across, four times per call, so how soon it wakes is on that call's path: started at the slack, the parks made
     * a call across nine times slower at p99 (LinkLatencyHarness on loopback, alternated, quiet machine: p99 3,850 and
     * 3,904 µs against 400 and 449 µs with the 1 µs start; p50 80-131 µs against 75-85 µs). Without links the driver only moves IPC publisher limits and the fewer wake-ups win.
     *
     * @param configuredSlackNs the configured timer slack ({@code switchboard.timer.slack.ns}), 0 or less for none.
     * @param links             whether the broker has links.
     * @return nanoseconds, 1 µs to 1 ms.
     */
    static long minParkNs(final long configuredSlackNs, final boolean links)
    {
        return links ? MIN_PARK_NS : minParkNs(configuredSlackNs);
    }

    /**
     * The length of the next park (tests).
     *
     * @return nanoseconds.
     */
    long nextParkNs()
    {
        return parkNs;
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
        parkNs = minParkNs;
    }

    /** {@inheritDoc} */
    public String alias()
    {
        return "driver-yield-backoff";
    }
}
