package io.switchboard.broker;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one thread of a broker with links and an embedded driver: tasks run on it, the links run in its duty cycle
 * instead of the driver alone, and are closed there. A counting agent stands in for the media driver's.
 */
class DriverAndLinksTest
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    /** Counts its duty cycles and remembers the thread that ran them. */
    private static final class CountingAgent implements Agent
    {
        final AtomicInteger cycles = new AtomicInteger();
        final AtomicReference<Thread> thread = new AtomicReference<>();
        final AtomicReference<Thread> closedOn = new AtomicReference<>();

        public int doWork()
        {
            thread.set(Thread.currentThread());
            cycles.incrementAndGet();
            return 0;
        }

        public void onClose()
        {
            closedOn.set(Thread.currentThread());
        }

        public String roleName()
        {
            return "counting";
        }
    }

    private final CountingAgent driverAgent = new CountingAgent();
    private final AgentInvoker driver = new AgentInvoker(Throwable::printStackTrace, null, driverAgent);
    private final DriverAndLinks agent = new DriverAndLinks(driver);
    private AgentRunner runner;

    private Thread start()
    {
        driver.start();
        runner = new AgentRunner(new BackoffIdleStrategy(1, 1, 1_000, 100_000), Throwable::printStackTrace, null,
            agent);
        return AgentRunner.startOnThread(runner);
    }

    @AfterEach
    void close()
    {
        if (null != runner)
        {
            runner.close();
        }
    }

    private static void awaitMore(final AtomicInteger counter, final int than)
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (counter.get() <= than)
        {
            assertTrue(System.nanoTime() - deadline < 0, "no duty cycle within 10 s");
            Thread.yield();
        }
    }

    @Test
    void shouldRunTheDriverAloneUntilLinksAreAttached()
    {
        final Thread thread = start();
        awaitMore(driverAgent.cycles, 0);
        assertSame(thread, driverAgent.thread.get());
    }

    @Test
    void shouldRunATaskOnItsOwnThreadAndReturnItsResult()
    {
        final Thread thread = start();
        assertSame(thread, agent.call(Thread::currentThread, TIMEOUT_NS));
    }

    @Test
    void shouldRethrowATasksExceptionToTheCallerAndGoOn()
    {
        start();
        final IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () ->
            agent.call(() ->
            {
                throw new IllegalArgumentException("refused by the task");
            }, TIMEOUT_NS));
        assertEquals("refused by the task", thrown.getMessage());
        final int cycles = driverAgent.cycles.get();
        awaitMore(driverAgent.cycles, cycles); // the thread goes on running the driver
        assertEquals(42, agent.call(() -> 42, TIMEOUT_NS));
    }

    @Test
    void shouldRunAttachedLinksInsteadOfTheDriverAloneAndCloseThemOnItsThread()
    {
        final Thread thread = start();
        final CountingAgent links = new CountingAgent();
        agent.call(() ->
        {
            agent.links(links);
            return null;
        }, TIMEOUT_NS);
        awaitMore(links.cycles, 0);
        final int driverCycles = driverAgent.cycles.get();
        awaitMore(links.cycles, links.cycles.get() + 100);
        assertEquals(driverCycles, driverAgent.cycles.get(), "the links' agent invokes the driver, not this one");

        agent.closeLinks(TIMEOUT_NS);
        assertSame(thread, links.closedOn.get());
        final int linkCycles = links.cycles.get();
        awaitMore(driverAgent.cycles, driverCycles); // the driver alone again
        assertEquals(linkCycles, links.cycles.get());
    }

    @Test
    void shouldTimeOutATaskWhenTheThreadDoesNotRun()
    {
        final AtomicInteger givenUpRuns = new AtomicInteger();
        final IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
            agent.call(givenUpRuns::incrementAndGet, TimeUnit.MILLISECONDS.toNanos(50)));
        assertTrue(thrown.getMessage().contains("did not run a task within 50 ms"), thrown.getMessage());
        start(); // the task given up is not run later, and the next one is taken
        assertEquals(2, agent.call(() -> 2, TIMEOUT_NS));
        assertEquals(0, givenUpRuns.get());
    }
}
