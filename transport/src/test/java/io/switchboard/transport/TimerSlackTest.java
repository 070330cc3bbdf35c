package io.switchboard.transport;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimerSlackTest
{
    @Test
    void shouldSetTheSlackOfTheCallingThreadOnly() throws Exception
    {
        final long before = TimerSlack.currentThreadNs();
        assertTrue(before > 0, "this test needs Linux /proc/TID/timerslack_ns; read " + before);
        final long wanted = before == 1_000 ? 2_000 : 1_000;
        final AtomicReference<String> failure = new AtomicReference<>("not run");
        final AtomicLong after = new AtomicLong();
        final Thread thread = new Thread(() ->
        {
            failure.set(TimerSlack.applyToCurrentThread(wanted));
            after.set(TimerSlack.currentThreadNs());
        });
        thread.start();
        thread.join();

        assertNull(failure.get());
        assertEquals(wanted, after.get());
        assertEquals(before, TimerSlack.currentThreadNs(), "another thread's slack must not change");
        assertNotEquals(wanted, before);
    }

    @Test
    void shouldLeaveTheKernelsSlackByDefault() throws Exception
    {
        assertEquals(0, TimerSlack.configuredNs());
        final long before = TimerSlack.currentThreadNs();
        assertNull(TimerSlack.applyToCurrentThread());
        assertEquals(before, TimerSlack.currentThreadNs());
    }
}
