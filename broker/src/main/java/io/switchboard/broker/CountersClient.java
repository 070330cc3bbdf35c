package io.switchboard.broker;

import io.aeron.Aeron;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The broker's own Aeron client, which holds only the counters, driven from the conductor's duty cycle with an
 * {@link AgentInvoker}: when a pause beyond the driver's timeouts closes it (inside {@code invoke()}, on this thread),
 * its counters are forgotten without being touched and a new client is opened, the values carried over
 * ({@link BrokerCounters}); while none can be opened, one attempt a second, logged once.
 * <p>
 * Not thread-safe: runs on the broker's conductor thread only.
 */
final class CountersClient implements AutoCloseable
{
    private static final long REOPEN_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<Aeron> aeronFactory;
    private final BrokerCounters counters;
    private final NanoClock clock;
    private final Consumer<String> log;
    private Aeron aeron;
    private AgentInvoker aeronInvoker;
    private long nextOpenNs;
    private boolean openFailureLogged;

    /**
     * @param aeronFactory opens an Aeron client that uses a conductor agent invoker.
     * @param counters to attach to each client opened.
     * @param clock to time the next attempt after a failed open.
     * @param log for the cold-path news.
     */
    CountersClient(
        final Supplier<Aeron> aeronFactory, final BrokerCounters counters, final NanoClock clock,
        final Consumer<String> log)
    {
        this.aeronFactory = aeronFactory;
        this.counters = counters;
        this.clock = clock;
        this.log = log;
    }

    /**
     * Open the first client; on failure nothing is left open.
     *
     * @throws IllegalArgumentException if the factory's client has no conductor agent invoker.
     */
    void open()
    {
        try
        {
            aeron = aeronFactory.get();
            aeronInvoker = aeron.conductorAgentInvoker();
            if (null == aeronInvoker)
            {
                throw new IllegalArgumentException("the broker's Aeron client must use a conductor agent invoker");
            }
            counters.attach(aeron);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(aeron);
            aeron = null;
            aeronInvoker = null;
            throw ex;
        }
    }

    /**
     * Drive the client on this thread; if it closed (a pause beyond the driver's timeouts), forget its counters
     * without touching them and open another one.
     *
     * @param nowNs the duty cycle's time.
     * @return the work done.
     */
    int drive(final long nowNs)
    {
        int work = 0;
        if (null != aeron)
        {
            work += aeronInvoker.invoke();
            // closed inside invoke(), on this thread; or terminating, its counters already closed: either way the
            // counters may no longer be ours (the driver frees a timed-out client's counters) or even mapped
            if (aeron.isClosed() || counters.wereClosedUnderUs())
            {
                counters.detach();
                CloseHelper.quietClose(aeron); // on this thread, the only one that used it
                aeron = null;
                aeronInvoker = null;
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
                aeronInvoker = aeron.conductorAgentInvoker();
                counters.attach(aeron);
                counters.increment(BrokerCounters.AERON_CLIENT_REOPENS);
                openFailureLogged = false;
                log.accept("the broker's Aeron client is open again");
            }
            catch (final RuntimeException ex)
            {
                counters.detach();
                CloseHelper.quietClose(aeron);
                aeron = null;
                aeronInvoker = null;
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
     * Detach the counters and close the client, on this thread, which drove it.
     */
    public void close()
    {
        counters.detach();
        CloseHelper.quietClose(aeron);
        aeron = null;
        aeronInvoker = null;
    }
}
