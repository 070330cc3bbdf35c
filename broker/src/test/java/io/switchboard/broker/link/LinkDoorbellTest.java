package io.switchboard.broker.link;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

class LinkDoorbellTest
{
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(10);

    /** A thread that parks with no timeout between the doorbell's parking and awake calls, until unparked. */
    private static Thread parkedThread(final Runnable parking, final Runnable awake)
    {
        final Thread t = new Thread(() ->
        {
            parking.run();
            LockSupport.park(); // no timeout: only an unpark ends it (or a spurious wake-up, which the test re-parks)
            awake.run();
        }, "doorbell-test");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void awaitWaiting(final Thread t)
    {
        final long deadline = System.nanoTime() + DEADLINE_NS;
        while (t.getState() != Thread.State.WAITING)
        {
            assertTrue(System.nanoTime() - deadline < 0, "the thread did not park: " + t.getState());
            Thread.yield();
        }
    }

    @Test
    void driverWorkWakesAParkedLinkThreadDuringAConversation() throws InterruptedException
    {
        final LinkDoorbell doorbell = new LinkDoorbell();
        final Thread link = parkedThread(doorbell::linkParking, doorbell::linkAwake);
        awaitWaiting(link);
        doorbell.conversation(true);
        doorbell.onDriverWork();
        link.join(TimeUnit.NANOSECONDS.toMillis(DEADLINE_NS));
        assertFalse(link.isAlive(), "the ring woke the parked link thread");
    }

    @Test
    void driverWorkLeavesTheLinkThreadParkedWithoutAConversation() throws InterruptedException
    {
        final LinkDoorbell doorbell = new LinkDoorbell();
        final boolean[] rung = new boolean[1];
        final Thread link = new Thread(() ->
        {
            doorbell.linkParking();
            LockSupport.park();
            doorbell.linkAwake();
            rung[0] = true;
        });
        link.setDaemon(true);
        link.start();
        awaitWaiting(link);
        doorbell.conversation(false);
        doorbell.onDriverWork();
        // the ring was not sent: an unpark now is the first, so the permit was not already used up by the ring
        assertEquals(Thread.State.WAITING, link.getState(), "no ring without a conversation");
        LockSupport.unpark(link);
        link.join(TimeUnit.NANOSECONDS.toMillis(DEADLINE_NS));
        assertTrue(rung[0]);
    }

    @Test
    void theLinkRingsAParkedDriverThreadOnce() throws InterruptedException
    {
        final LinkDoorbell doorbell = new LinkDoorbell();
        final Thread driver = parkedThread(doorbell::driverParking, doorbell::driverAwake);
        awaitWaiting(driver);
        doorbell.ringDriver();
        driver.join(TimeUnit.NANOSECONDS.toMillis(DEADLINE_NS));
        assertFalse(driver.isAlive(), "the ring woke the parked driver thread");
        doorbell.ringDriver(); // the driver is awake: nothing to ring, nothing thrown
    }

    @Test
    void noRingBeforeEitherThreadParked()
    {
        final LinkDoorbell doorbell = new LinkDoorbell();
        doorbell.conversation(true);
        assertDoesNotThrow(doorbell::onDriverWork, "no link thread known yet");
        assertDoesNotThrow(doorbell::ringDriver, "no driver thread known yet");
    }
}
