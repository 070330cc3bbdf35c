package io.switchboard.transport;

import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteBuffer;

/**
 * A peer's counters, for the life of the client (across reconnections to the broker).
 * <p>
 * They live in a memory-mapped file of the peer's own ({@link PeerCountersFile}, under the broker's socket directory),
 * not in the media driver's counters file: a driver that dies with its broker unmaps that file, and a counter left
 * pointing into it would crash the process on its next increment. Other processes read the peer's file while it runs
 * ({@code switchboard stat}); it is deleted when the client closes. When the file cannot be made (a folder this user
 * cannot write to, a full disk) the counters live in the client's memory instead, as {@link #file()} tells.
 * Written by the client's duty cycle only; readable from any thread.
 */
public final class ClientCounters implements AutoCloseable
{
    /** First counter type id used by Switchboard peers. */
    public static final int TYPE_ID_BASE = 7300;

    private static final int MAX_COUNTERS = PeerCountersFile.MAX_COUNTERS;

    private final PeerCountersFile.Mapped file;
    private final CountersManager manager;

    final AtomicCounter requests;
    final AtomicCounter responses;
    final AtomicCounter errors;
    final AtomicCounter timeouts;
    final AtomicCounter lateReplies;
    final AtomicCounter served;
    final AtomicCounter undeliverable;
    final AtomicCounter published;
    final AtomicCounter publishFailures;
    final AtomicCounter pushes;
    final AtomicCounter pushesLost;
    final AtomicCounter imagesLost;
    final AtomicCounter malformed;
    final AtomicCounter inFlight;
    final AtomicCounter answersLost;
    final AtomicCounter partialsDropped;
    final AtomicCounter partialsExpired;

    ClientCounters(final String clientName)
    {
        this(clientName, null);
    }

    /**
     * @param clientName the peer's name, in every label and the file's header.
     * @param directory the counters folder ({@link PeerCountersFile#directoryFor(java.nio.file.Path)}); null keeps
     * the counters in this process's memory.
     */
    ClientCounters(final String clientName, final java.nio.file.Path directory)
    {
        PeerCountersFile.Mapped mapped = null;
        if (null != directory)
        {
            try
            {
                mapped = PeerCountersFile.create(directory, clientName);
            }
            catch (final java.io.IOException | RuntimeException ex)
            {
                System.getLogger(ClientCounters.class.getName()).log(System.Logger.Level.WARNING,
                    "counters of " + clientName + " kept in memory, not readable by switchboard stat: cannot make " +
                    "a file in " + directory + " (" + ex + ")");
            }
        }
        file = mapped;
        manager = null != mapped ? new CountersManager(mapped.metadata, mapped.values) : new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_COUNTERS * CountersManager.METADATA_LENGTH)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_COUNTERS * CountersManager.COUNTER_LENGTH)));
        final CountersManager m = manager;
        final String suffix = ": name=" + clientName;
        requests = m.newCounter("sb-requests" + suffix, TYPE_ID_BASE);
        responses = m.newCounter("sb-responses" + suffix, TYPE_ID_BASE + 1);
        errors = m.newCounter("sb-errors" + suffix, TYPE_ID_BASE + 2);
        timeouts = m.newCounter("sb-timeouts" + suffix, TYPE_ID_BASE + 3);
        lateReplies = m.newCounter("sb-late-replies" + suffix, TYPE_ID_BASE + 4);
        served = m.newCounter("sb-served" + suffix, TYPE_ID_BASE + 5);
        undeliverable = m.newCounter("sb-undeliverable" + suffix, TYPE_ID_BASE + 6);
        published = m.newCounter("sb-published" + suffix, TYPE_ID_BASE + 7);
        publishFailures = m.newCounter("sb-publish-failures" + suffix, TYPE_ID_BASE + 8);
        pushes = m.newCounter("sb-pushes" + suffix, TYPE_ID_BASE + 9);
        pushesLost = m.newCounter("sb-pushes-lost" + suffix, TYPE_ID_BASE + 10);
        imagesLost = m.newCounter("sb-images-lost" + suffix, TYPE_ID_BASE + 11);
        malformed = m.newCounter("sb-malformed" + suffix, TYPE_ID_BASE + 12);
        inFlight = m.newCounter("sb-in-flight" + suffix, TYPE_ID_BASE + 13);
        answersLost = m.newCounter("sb-answers-lost" + suffix, TYPE_ID_BASE + 14);
        partialsDropped = m.newCounter("sb-partials-dropped" + suffix, TYPE_ID_BASE + 15);
        partialsExpired = m.newCounter("sb-partials-expired" + suffix, TYPE_ID_BASE + 16);
    }

    /**
     * The file other processes read these counters from.
     *
     * @return its path, or null when the counters are in this process's memory only.
     */
    public java.nio.file.Path file()
    {
        return null == file ? null : file.path;
    }

    /**
     * Publications this subscriber lost because it fell behind (sequence gaps).
     *
     * @return publications lost.
     */
    public long pushesLost()
    {
        return pushesLost.get();
    }

    /**
     * Publications matched and delivered to this peer's handlers.
     *
     * @return pushes delivered.
     */
    public long pushes()
    {
        return pushes.get();
    }

    /**
     * Requests sent.
     *
     * @return requests sent.
     */
    public long requests()
    {
        return requests.get();
    }

    /**
     * Requests that timed out.
     *
     * @return timeouts.
     */
    public long timeouts()
    {
        return timeouts.get();
    }

    /**
     * Publications that could not be written.
     *
     * @return failed publishes.
     */
    public long publishFailures()
    {
        return publishFailures.get();
    }

    /**
     * Messages read from a log that were not Switchboard messages, or whose lengths did not fit: dropped.
     *
     * @return malformed messages seen.
     */
    public long malformed()
    {
        return malformed.get();
    }

    /**
     * Error answers owed to callers in place of a reply or stream end their inbox had no room for, that could not
     * be written before the caller's deadline (or were over the bound of answers owed at once).
     *
     * @return answers lost.
     */
    public long answersLost()
    {
        return answersLost.get();
    }

    /**
     * Messages in pieces let go unfinished: their writer began another, went away, or they would have passed the
     * reassembly bound.
     *
     * @return partial messages dropped.
     */
    public long partialsDropped()
    {
        return partialsDropped.get();
    }

    /**
     * Messages in pieces let go unfinished because no piece came within the expiry.
     *
     * @return partial messages expired.
     */
    public long partialsExpired()
    {
        return partialsExpired.get();
    }

    /**
     * Close every counter.
     */
    public void close()
    {
        CloseHelper.closeAll(requests, responses, errors, timeouts, lateReplies, served, undeliverable, published,
            publishFailures, pushes, pushesLost, imagesLost, malformed, inFlight, answersLost, partialsDropped,
            partialsExpired);
        if (null != file)
        {
            file.delete();
        }
    }
}
