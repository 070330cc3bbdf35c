package io.switchboard.broker.link;

import java.util.concurrent.locks.LockSupport;

/**
 * Wake-ups between the broker's two threads that carry a link: its embedded media driver's thread (which sends and
 * receives the link's UDP) and the link thread. Both back off to parking when idle, and a parked thread wakes late
 * (Linux's timer slack: 50 µs or more, however short the park asked), so a call across a link used to wait for a
 * parked thread at each of these hand-offs on each host: the link's message offered while the driver was parked, and
 * the driver's received datagram read while the link thread was parked. The two threads live in one process, so each
 * can unpark the other when it hands it something:
 * <ul>
 *     <li>the link thread, after a duty cycle that offered to a link publication, unparks the driver's thread if it is
 *     parked (it then sends at once);</li>
 *     <li>the driver's thread, after a duty cycle with work, unparks the link thread if it is parked and a conversation
 *     across a link is under way (the link thread did work within {@link LinkContext#doorbellWindowNs()}): what the
 *     driver received may be the link's.</li>
 * </ul>
 * A ring that comes too early or too late costs one duty cycle or nothing: a thread that was not parked only finds its
 * next park cut short (LockSupport's permit), and a ring missed in a race leaves the thread to wake on its own back-off
 * as without a doorbell. Nothing depends on a ring for correctness, and no thread spins for it: a quiet link rings
 * nobody, so the idle cost of a broker is unchanged.
 * <p>
 * Thread-safe: the driver's side is called from the driver's thread, the link's side from the link thread.
 */
public final class LinkDoorbell
{
    private volatile Thread driverThread;
    private volatile boolean driverParked;
    private volatile Thread linkThread;
    private volatile boolean linkParked;
    private volatile boolean conversation;

    /**
     * The driver's thread is about to park (called by its idle strategy, on that thread).
     */
    public void driverParking()
    {
        if (null == driverThread)
        {
            driverThread = Thread.currentThread();
        }
        driverParked = true;
    }

    /**
     * The driver's thread is back from a park.
     */
    public void driverAwake()
    {
        driverParked = false;
    }

    /**
     * The driver's thread did work in its last duty cycle: wake the link thread if it is parked while a conversation
     * across a link is under way.
     */
    public void onDriverWork()
    {
        if (linkParked && conversation)
        {
            linkParked = false; // one ring per park
            LockSupport.unpark(linkThread);
        }
    }

    /** The link thread offered to a link publication: wake the driver's thread if it is parked. */
    void ringDriver()
    {
        if (driverParked)
        {
            driverParked = false; // one ring per park
            LockSupport.unpark(driverThread);
        }
    }

    /**
     * Whether a conversation across a link is under way: the driver rings the link thread only then.
     *
     * @param underWay true while the link thread did work lately.
     */
    void conversation(final boolean underWay)
    {
        if (conversation != underWay)
        {
            conversation = underWay;
        }
    }

    void linkParking()
    {
        if (null == linkThread)
        {
            linkThread = Thread.currentThread();
        }
        linkParked = true;
    }

    void linkAwake()
    {
        linkParked = false;
    }
}
