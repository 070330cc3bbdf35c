package io.switchboard.broker.gateway;

import org.agrona.concurrent.IdleStrategy;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The gateway's idle strategy: spin, then yield, then either block on the gateway's selector (when nothing is in flight
 * on the Java side, so a socket is the only source of work: a request wakes it at once instead of after a park) or,
 * while an answer from Java is awaited (it cannot wake a selector), go on yielding for a bounded time
 * ({@link GatewayContext#answerYieldUs()}, 0 by default: off) and then park with exponential backoff up to 1 ms.
 * <p>
 * Why yield before parking: on Linux a park lasts at least the thread's timer slack however short the time asked
 * (parkNanos(1 us) took 65 us on the development machine), so an answer that a Java service sends just after the
 * gateway parked is picked up 65 us or more later. A yielding Java service usually answers within the 20 yields (a
 * 32-byte socket round trip averaged 23-26 us with or without the window), a parking one often does not. A yield
 * gives the core to any thread that wants it (the service, the driver, the client) and costs about a system call when
 * none does; the yielding is only ever spent while a call is in flight to Java, and an idle gateway still blocks on
 * its selector.
 * <p>
 * Not thread-safe: the gateway's duty-cycle thread only.
 */
public final class GatewayIdleStrategy implements IdleStrategy
{
    private static final int SPINS = 10;
    private static final int YIELDS = 20;
    private static final long MIN_PARK_NS = TimeUnit.MICROSECONDS.toNanos(1);
    private static final long MAX_PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long SELECT_TIMEOUT_MS = 1;

    private final GatewayConductor gateway;
    private int spins;
    private int yields;
    private final long answerYieldNs;
    private long parkNs = MIN_PARK_NS;
    private boolean awaiting;
    private long awaitStartNs;

    /**
     * Idle for this gateway.
     *
     * @param gateway whose selector to block on.
     */
    public GatewayIdleStrategy(final GatewayConductor gateway)
    {
        this.gateway = gateway;
        this.answerYieldNs = gateway.answerYieldNs();
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
        else if (yields < YIELDS)
        {
            yields++;
            Thread.yield();
        }
        else if (gateway.canBlockOnSockets())
        {
            try
            {
                // same 1 ms bound as the longest park: timers and Java-side pushes wait no longer than before
                gateway.awaitSockets(SELECT_TIMEOUT_MS);
            }
            catch (final IOException ex)
            {
                park();
            }
        }
        else if (answerYieldNs > 0 && yieldingForAnswer())
        {
            Thread.yield();
        }
        else
        {
            park();
        }
    }

    private boolean yieldingForAnswer()
    {
        final long nowNs = System.nanoTime();
        if (!awaiting)
        {
            awaiting = true;
            awaitStartNs = nowNs;
        }
        return nowNs - awaitStartNs < answerYieldNs;
    }

    private void park()
    {
        LockSupport.parkNanos(parkNs);
        parkNs = Math.min(parkNs << 1, MAX_PARK_NS);
    }

    /** {@inheritDoc} */
    public void reset()
    {
        spins = 0;
        yields = 0;
        parkNs = MIN_PARK_NS;
        awaiting = false;
    }

    /** {@inheritDoc} */
    public String alias()
    {
        return "gateway-selector-yield-backoff";
    }
}
