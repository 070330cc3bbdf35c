package io.switchboard.broker;

import io.aeron.Aeron;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The broker's own Aeron client, which holds only its {@link BrokerCounters}, driven from the conductor's duty cycle
 * with an {@link AgentInvoker}, not by a thread of its own.
 * <p>
 * When a pause longer than the driver's timeouts (SIGSTOP, a suspended machine) makes the client close itself
 * ("service interval exceeded", or timed out by the driver), it closes on the conductor thread, inside
 * {@code invoke()}, and unmaps the counters file there. Right after every {@code invoke()} this asks whether the
 * client closed and, if so, forgets the counters without touching them and opens a new client, carrying the values
 * over. With a thread of its own the client could unmap the file between the check and the write, which is what
 * crashed the broker (SIGSEGV). A client that cannot be opened is asked for again every second, logged once.
 * <p>
 * Not thread-safe: used on the broker's conductor thread only.
 */
final class CountersClient implements AutoCloseable
{
    private static final long REOPEN_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<Aeron> aeronFactory;
    private final BrokerCounters counters;
    private final Consumer<String> log;
    private Aeron aeron;
    private AgentInvoker invoker;
    private long nextOpenNs;
    private boolean openFailureLogged;

    /**
     * Open the client and put the counters in it.
     *
     * @param aeronFactory opens an Aeron client that uses a conductor agent invoker; called again whenever the
     * previous one was found closed.
     * @param counters to attach to each client.
     * @param log for cold-path events.
     * @throws IllegalArgumentException if the client has no conductor agent invoker.
     */
    CountersClient(final Supplier<Aeron> aeronFactory, final BrokerCounters counters, final Consumer<String> log)
    {
        this.aeronFactory = aeronFactory;
        this.counters = counters;
        this.log = log;
        try
        {
            aeron = aeronFactory.get();
            invoker = aeron.conductorAgentInvoker();
            if (null == invoker)
            {
                throw new IllegalArgumentException("the broker's Aeron client must use a conductor agent invoker");
            }
            counters.attach(aeron);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(aeron);
            throw ex;
        }
    }

    /**
     * Drive the client on this thread; if it closed (a pause beyond the driver's timeouts), forget its counters
     * without touching them and open another one.
     *
     * @param nowNs the conductor's clock at the start of the duty cycle.
     * @param clock the conductor's clock, read again after a failed open.
     * @return amount of work done.
     */
    int doWork(final long nowNs, final NanoClock clock)
    {
        int work = 0;
        if (null != aeron)
        {
            work += invoker.invoke();
            // closed inside invoke(), on this thread; or terminating, its counters already closed: either way the
            // counters may no longer be ours (the driver frees a timed-out client's counters) or even mapped
            if (aeron.isClosed() || counters.wereClosedUnderUs())
            {
                forget();
                nextOpenNs = nowNs;
                log.accept("the broker's Aeron client was closed under it (a pause longer than the media driver's " +
                    "timeouts?); opening a new one, counters carried over");
            }
        }
        if (null == aeron && nowNs - nextOpenNs >= 0)
        {
            work++;
            try
            {
                aeron = aeronFactory.get();
                invoker = aeron.conductorAgentInvoker();
                counters.attach(aeron);
                counters.increment(BrokerCounters.AERON_CLIENT_REOPENS);
                openFailureLogged = false;
                log.accept("the broker's Aeron client is open again");
            }
            catch (final RuntimeException ex)
            {
                forget();
                nextOpenNs = clock.nanoTime() + REOPEN_INTERVAL_NS;
                if (!openFailureLogged)
                {
                    openFailureLogged = true;
                    log.accept("cannot open the broker's Aeron client yet (" + ex + "); retrying every second, " +
                        "counters kept meanwhile");
                }
            }
        }
        return work;
    }

    /**
     * Detach the counters, keeping their values, and close the client, on this thread, which drove it.
     */
    public void close()
    {
        forget();
    }

    private void forget()
    {
        counters.detach();
        CloseHelper.quietClose(aeron);
        aeron = null;
        invoker = null;
    }
}
