package io.switchboard.broker;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DriverIdleStrategyTest
{
    private long nowNs = 1_000_000_000L;

    /** Idle cycles until the first park, at most limit (the clock does not move unless told). */
    private static int cyclesUntilPark(final DriverIdleStrategy idle, final int limit)
    {
        for (int i = 1; i <= limit; i++)
        {
            idle.idle(0);
            if (idle.parked())
            {
                return i;
            }
        }
        return -1;
    }

    @Test
    void withoutYieldWindowParksAfterTenSpinsAndTwentyYieldsAsBefore()
    {
        final DriverIdleStrategy idle = new DriverIdleStrategy(0, () -> nowNs);

        assertEquals(31, cyclesUntilPark(idle, 100));
        idle.idle(1); // work resets it
        assertFalse(idle.parked());
        assertEquals(31, cyclesUntilPark(idle, 100));
    }

    @Test
    void yieldsUntilTheWindowSinceTheLastWorkHasPassedThenParks()
    {
        final DriverIdleStrategy idle = new DriverIdleStrategy(TimeUnit.MICROSECONDS.toNanos(1000), () -> nowNs);

        assertEquals(-1, cyclesUntilPark(idle, 10_000), "the clock stands still within the window: never parks");
        nowNs += TimeUnit.MICROSECONDS.toNanos(999);
        idle.idle(0);
        assertFalse(idle.parked(), "999 us after the work began to idle: still yielding");
        nowNs += TimeUnit.MICROSECONDS.toNanos(1);
        idle.idle(0);
        assertTrue(idle.parked(), "1 ms after: parks");

        idle.idle(1); // new work: the window starts again from the next idle cycles
        assertEquals(-1, cyclesUntilPark(idle, 1000));
        nowNs += TimeUnit.MILLISECONDS.toNanos(1);
        idle.idle(0);
        assertTrue(idle.parked());
    }

    @Test
    void contextRejectsADriverYieldOutsideZeroToTenMilliseconds()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new Broker.Context().driverYieldUs(10_001).conclude());
        assertTrue(ex.getMessage().contains("expected 0 to 10000 us, actual=10001"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Broker.Context().driverYieldUs(-1).conclude());
    }

    @Test
    void parksStartAtTheTimerSlackAndDoubleToOneMillisecond()
    {
        assertEquals(DriverIdleStrategy.KERNEL_DEFAULT_SLACK_NS, DriverIdleStrategy.minParkNs(0),
            "no slack configured: the kernel's 50 us");
        assertEquals(DriverIdleStrategy.KERNEL_DEFAULT_SLACK_NS, DriverIdleStrategy.minParkNs(-5));
        assertEquals(1_000, DriverIdleStrategy.minParkNs(1), "at least 1 us");
        assertEquals(1_000, DriverIdleStrategy.minParkNs(1_000), "a 1 us slack: 1 us parks, as before");
        assertEquals(200_000, DriverIdleStrategy.minParkNs(200_000));
        assertEquals(1_000_000, DriverIdleStrategy.minParkNs(5_000_000), "at most 1 ms");
        assertEquals(1_000, DriverIdleStrategy.minParkNs(0, true), "a broker with links: 1 us, whatever the slack");
        assertEquals(1_000, DriverIdleStrategy.minParkNs(200_000, true));
        assertEquals(DriverIdleStrategy.KERNEL_DEFAULT_SLACK_NS, DriverIdleStrategy.minParkNs(0, false));

        // a real clock: the parks below are real, 50 us + 100 us + ... about 2 ms in all
        final DriverIdleStrategy idle = new DriverIdleStrategy(0, 50_000, System::nanoTime);
        assertEquals(50_000, idle.nextParkNs());
        assertEquals(31, cyclesUntilPark(idle, 100));
        final long[] expected = {100_000, 200_000, 400_000, 800_000, 1_000_000, 1_000_000};
        for (final long next : expected)
        {
            assertEquals(next, idle.nextParkNs());
            idle.idle(0);
            assertTrue(idle.parked());
        }
        idle.idle(1); // work: the next backoff starts at the slack again
        assertEquals(50_000, idle.nextParkNs());
        assertEquals(31, cyclesUntilPark(idle, 100));
    }

    @Test
    void withoutASlackTheParksDoubleFromOneMicrosecondAsBefore()
    {
        final DriverIdleStrategy idle = new DriverIdleStrategy(0, () -> nowNs);
        assertEquals(1_000, idle.nextParkNs());
        assertEquals(31, cyclesUntilPark(idle, 100));
        assertEquals(2_000, idle.nextParkNs());
    }
}
