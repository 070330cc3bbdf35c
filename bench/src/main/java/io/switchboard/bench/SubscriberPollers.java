package io.switchboard.bench;

import org.agrona.concurrent.YieldingIdleStrategy;

import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The threads that read a pub/sub rig's subscribers: one per core left over by the publisher, never more than the
 * subscribers, each polling its share of them in turn and yielding when none had work. On a 2-core machine one
 * thread reads all the subscribers: more spinning threads than cores would measure the scheduler, not the log.
 */
final class SubscriberPollers implements AutoCloseable
{
    private final Thread[] threads;
    private volatile boolean running = true;

    /**
     * Start the threads.
     *
     * @param name prefix of the thread names.
     * @param subscribers each polled for its work count, from the thread it is assigned to only.
     */
    SubscriberPollers(final String name, final IntSupplier[] subscribers)
    {
        final int count = threadCount(subscribers.length);
        threads = new Thread[count];
        for (int t = 0; t < count; t++)
        {
            final int first = t;
            threads[t] = new Thread(() ->
            {
                final YieldingIdleStrategy idle = new YieldingIdleStrategy();
                while (running)
                {
                    int work = 0;
                    for (int i = first; i < subscribers.length; i += count)
                    {
                        work += subscribers[i].getAsInt();
                    }
                    idle.idle(work);
                }
            }, name + "-" + t);
            threads[t].setDaemon(true);
            threads[t].start();
        }
    }

    /**
     * How many polling threads a rig with this many subscribers gets on this machine.
     *
     * @param subscribers in the rig.
     * @return the thread count, at least 1.
     */
    static int threadCount(final int subscribers)
    {
        final int spare = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        return Math.max(1, Math.min(subscribers, spare));
    }

    /**
     * Stop the threads and wait for them.
     */
    public void close()
    {
        running = false;
        for (final Thread thread : threads)
        {
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
