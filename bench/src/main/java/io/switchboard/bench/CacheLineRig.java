package io.switchboard.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The hardware's limit for a request-response between two threads: the caller writes a sequence number to one cache
 * line, a pong thread busy-spins until it sees it and writes it back to another cache line, where the caller's poll
 * sees it. No payload is copied and nothing but the two cache lines moves between the cores, so every messaging
 * system's round trip is this plus its own work.
 * <p>
 * Both threads busy-spin: the figure means something only when the machine has a free core for each of them
 * (on a 2-core machine, when nothing else runs). Stamps stay with the caller in a ring indexed by sequence, so an
 * open loop can have up to {@value #RING} calls in flight.
 * <p>
 * Not thread-safe: send and poll from one thread only.
 */
final class CacheLineRig implements RequestRig
{
    private static final int RING = 4096;
    private static final int PING = 0;
    private static final int PONG = 16; // 128 bytes after PING: its own cache line, and not the adjacent-line pair

    private final AtomicLongArray lines = new AtomicLongArray(PONG + 16);
    private final long[] stamps = new long[RING];
    private final Thread pongThread;
    private volatile boolean running = true;
    private long sent;
    private long received;

    CacheLineRig()
    {
        pongThread = new Thread(this::pong, "cacheline-pong");
        pongThread.setDaemon(true);
        pongThread.start();
    }

    /** {@inheritDoc} */
    public String name()
    {
        return Rigs.CACHE_LINE;
    }

    /** {@inheritDoc} */
    public void send(final long stamp)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (sent - lines.get(PONG) >= RING)
        {
            Rigs.checkDeadline(deadlineNs, "the cache-line pong to catch up");
            Thread.onSpinWait();
        }
        stamps[(int)(sent & (RING - 1))] = stamp;
        lines.setRelease(PING, ++sent);
    }

    /** {@inheritDoc} */
    public int poll(final ReplyHandler handler)
    {
        final long pong = lines.getAcquire(PONG);
        final int replies = (int)(pong - received);
        while (received < pong)
        {
            handler.onReply(stamps[(int)(received & (RING - 1))]);
            received++;
        }
        return replies;
    }

    private void pong()
    {
        long seen = 0;
        while (running)
        {
            final long ping = lines.getAcquire(PING);
            if (ping != seen) // no Thread.onSpinWait() here: a PAUSE costs up to ~140 cycles on recent x86 cores
            {
                seen = ping;
                lines.setRelease(PONG, ping);
            }
        }
    }

    /** {@inheritDoc} */
    public void close()
    {
        running = false;
        try
        {
            pongThread.join(TimeUnit.SECONDS.toMillis(5));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
