package io.switchboard.transport;

import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a client's {@link ClientConductor}: on a thread of its own ({@link AgentRunner}), taking the client's lock
 * for each duty cycle and skipping the cycle when an API call holds it; or, for a client with no thread
 * ({@link Switchboard.Context#useConductorAgentInvoker(boolean)}), from the application's {@link #poll()}. It also
 * waits for the broker's answer to a control request in the way that fits the mode (driving the duty cycle itself
 * when there is no thread), and refuses a wait or a re-entrant duty cycle from inside a handler.
 * <p>
 * Thread-safe: every entry point takes the lock or needs none.
 */
final class ConductorRunner
{
    private final ClientContext<?> ctx;
    private final ReentrantLock lock;
    private final ClientConductor conductor;
    private final AgentRunner runner;

    /**
     * Start the conductor's thread, unless the context asks for none.
     *
     * @param ctx of the client, concluded.
     * @param lock shared by the API calls and the duty cycle.
     * @param conductor to run.
     */
    ConductorRunner(final ClientContext<?> ctx, final ReentrantLock lock, final ClientConductor conductor)
    {
        this.ctx = ctx;
        this.lock = lock;
        this.conductor = conductor;
        if (ctx.useConductorAgentInvoker())
        {
            runner = null;
        }
        else
        {
            runner = new AgentRunner(ctx.idleStrategy(), ctx.errorHandler(), null, new LockedAgent());
            AgentRunner.startOnThread(runner, (task) -> new Thread(() ->
            {
                // the client's short parks last 1 us, not the kernel's default 50 us slack (see TimerSlack)
                final String slackFailure = TimerSlack.applyToCurrentThread();
                if (null != slackFailure)
                {
                    ctx.logger().accept(slackFailure);
                }
                task.run();
            }));
        }
    }

    /**
     * Run one duty cycle on the caller's thread; only for a client with no thread of its own.
     *
     * @return amount of work done, 0 when idle.
     * @throws IllegalStateException if the client has a thread of its own, or if called from a handler.
     */
    int poll()
    {
        if (null != runner)
        {
            throw new IllegalStateException("this client runs its own thread; poll() is for useConductorAgentInvoker");
        }
        lock.lock();
        try
        {
            checkNotInHandler("poll()");
            return conductor.doWork();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * A handler runs inside the duty cycle: calling back into the client from it would run the duty cycle inside
     * itself (a fragment being handled delivered again) or wait for an answer only that duty cycle can read.
     *
     * @param what the caller is doing, for the message.
     * @throws IllegalStateException if called from inside the duty cycle.
     */
    void checkNotInHandler(final String what)
    {
        if (conductor.isInDutyCycle() || (null != runner && Thread.currentThread() == runner.thread()))
        {
            throw new IllegalStateException(what + " called from a handler, inside the client's duty cycle, where " +
                "it would run the duty cycle inside itself or wait for itself; call it from outside the handler");
        }
    }

    /**
     * Wait, at most the control timeout, for the broker's answer to a control request; with no thread of its own,
     * run the duty cycle meanwhile. Call without holding the lock.
     *
     * @param future completed by the duty cycle with the broker's answer.
     * @param what was asked, for the messages.
     * @throws SwitchboardException the broker's refusal, or {@code TIMEOUT} with no answer in time.
     */
    void await(final CompletableFuture<Void> future, final String what)
    {
        if (null != runner && Thread.currentThread() == runner.thread())
        {
            throw new IllegalStateException(what + ": called from the client's own thread (a handler), where it " +
                "would wait for itself; call it from another thread");
        }
        final long deadlineNs = ctx.nanoClock().nanoTime() + ctx.controlTimeoutNs();
        try
        {
            if (null == runner)
            {
                while (!future.isDone())
                {
                    if (ctx.nanoClock().nanoTime() - deadlineNs > 0)
                    {
                        throw new SwitchboardException(ErrorCodes.TIMEOUT, what + ": no answer from the broker");
                    }
                    if (0 == poll())
                    {
                        ctx.invokeDriver(); // the broker's answer may wait on the driver we run
                        Thread.yield();
                    }
                }
                future.join();
            }
            else
            {
                future.get(ctx.controlTimeoutNs(), TimeUnit.NANOSECONDS);
            }
        }
        catch (final ExecutionException | CompletionException ex)
        {
            final Throwable cause = ex.getCause();
            if (cause instanceof SwitchboardException)
            {
                throw (SwitchboardException)cause;
            }
            throw new SwitchboardException(ErrorCodes.INTERNAL_ERROR, what + ": " + cause);
        }
        catch (final TimeoutException ex)
        {
            throw new SwitchboardException(ErrorCodes.TIMEOUT, what + ": no answer from the broker");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new SwitchboardException(ErrorCodes.INTERNAL_ERROR, what + ": interrupted");
        }
    }

    /**
     * Stop the thread, which closes the conductor on it; with no thread, close the conductor here.
     */
    void close()
    {
        if (null != runner)
        {
            CloseHelper.close(runner);
        }
        else
        {
            lock.lock();
            try
            {
                conductor.onClose();
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    private final class LockedAgent implements Agent
    {
        public int doWork()
        {
            if (!lock.tryLock())
            {
                return 0;
            }
            try
            {
                return conductor.doWork();
            }
            finally
            {
                lock.unlock();
            }
        }

        public void onClose()
        {
            lock.lock();
            try
            {
                conductor.onClose();
            }
            finally
            {
                lock.unlock();
            }
        }

        public String roleName()
        {
            return conductor.roleName();
        }
    }
}
