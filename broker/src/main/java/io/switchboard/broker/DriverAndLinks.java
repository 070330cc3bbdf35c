package io.switchboard.broker;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one thread of a broker that has links and embeds its media driver: the driver runs in
 * {@code ThreadingMode.INVOKER} and this agent invokes it, and once the links are attached their agent runs in the
 * same duty cycle (it invokes the driver itself, before reading the link and after writing to it).
 * <p>
 * Why one thread: a message across a link crosses the sending broker's link thread, its driver's sender, the receiving
 * driver's receiver and the receiving link thread. With a thread each, every hop waited for up to three wake-ups where
 * a raw Aeron UDP ping-pong waits for two (docs/LINKS.md, per-hop trace): on one thread the link writes to the UDP
 * publication and the driver sends it in the same duty cycle, and the receiving driver's receiver and link read it in
 * the same duty cycle too.
 * <p>
 * Everything that invokes the driver must run on this thread: {@link #call(Callable, long)} runs a task here (the
 * links are made here, since their Aeron clients invoke the driver while they wait on it, and closed here).
 * <p>
 * Not thread-safe except {@link #call(Callable, long)}.
 */
final class DriverAndLinks implements Agent
{
    private final AgentInvoker driver;
    private final AtomicReference<FutureTask<?>> tasks = new AtomicReference<>();
    private Agent links;

    /**
     * @param driver the invoker of a media driver launched in {@code ThreadingMode.INVOKER}.
     */
    DriverAndLinks(final AgentInvoker driver)
    {
        this.driver = driver;
    }

    /**
     * The driver's invoker: for the clients made on this agent's thread, to run while they wait on the driver.
     *
     * @return the invoker.
     */
    AgentInvoker driver()
    {
        return driver;
    }

    /**
     * Run the links' agent in this duty cycle from now on. This agent's thread only (inside {@link #call}).
     *
     * @param links that invoke the driver in their duty cycle, or null to run the driver alone.
     */
    void links(final Agent links)
    {
        this.links = links;
    }

    /**
     * Run a task on this agent's thread, between duty cycles, and wait for it.
     *
     * @param task to run.
     * @param timeoutNs how long to wait for it.
     * @param <T> of its result.
     * @return its result.
     * @throws IllegalStateException if it did not finish in time (the thread stopped, or the task hangs).
     * @throws RuntimeException the task's own, rethrown.
     */
    <T> T call(final Callable<T> task, final long timeoutNs)
    {
        final FutureTask<T> future = new FutureTask<>(task);
        if (!tasks.compareAndSet(null, future))
        {
            throw new IllegalStateException("another task is waiting for the driver's thread");
        }
        try
        {
            return future.get(timeoutNs, TimeUnit.NANOSECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            tasks.compareAndSet(future, null);
            throw new IllegalStateException("interrupted waiting for the driver's thread", ex);
        }
        catch (final TimeoutException ex)
        {
            tasks.compareAndSet(future, null);
            future.cancel(false);
            throw new IllegalStateException("the driver's thread did not run a task within " +
                TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms", ex);
        }
        catch (final ExecutionException ex)
        {
            final Throwable cause = ex.getCause();
            if (cause instanceof RuntimeException)
            {
                throw (RuntimeException)cause;
            }
            if (cause instanceof Error)
            {
                throw (Error)cause;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
    }

    /**
     * Close the links on this agent's thread and go on running the driver alone.
     *
     * @param timeoutNs how long to wait for it.
     */
    void closeLinks(final long timeoutNs)
    {
        call(() ->
        {
            final Agent closing = links;
            links = null;
            if (null != closing)
            {
                closing.onClose();
            }
            return null;
        }, timeoutNs);
    }

    /** {@inheritDoc} */
    public String roleName()
    {
        return "switchboard-driver-and-links";
    }

    /** {@inheritDoc} */
    public int doWork() throws Exception
    {
        if (null != tasks.getAcquire())
        {
            final FutureTask<?> task = tasks.getAndSet(null);
            if (null != task)
            {
                task.run();
            }
        }
        return null == links ? driver.invoke() : links.doWork();
    }

    /** {@inheritDoc} */
    public void onClose()
    {
        final FutureTask<?> task = tasks.getAndSet(null);
        if (null != task)
        {
            task.cancel(false);
        }
        if (null != links)
        {
            links.onClose();
            links = null;
        }
    }
}
