package io.switchboard.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The timer slack of Switchboard's own threads (Linux): how late the kernel may wake a thread from a timed park.
 * <p>
 * Linux gives every thread a slack of 50 µs by default, so a {@code LockSupport.parkNanos(1_000)} of a back-off idle
 * strategy sleeps 50-65 µs, not 1 µs. An agent that parks while an answer is on its way (the media driver's
 * conductor moving an IPC publisher's limit, the gateway waiting for a Java service's reply, a link thread, a
 * client's conductor) then picks the answer up that much late, on every hop of a round trip. A thread may set its
 * own slack through {@code /proc/TID/timerslack_ns} without privileges; the long parks of an idle thread (up to 1 ms)
 * are unchanged, so idle CPU stays what it was.
 * <p>
 * Off by default ({@value #DEFAULT_NS}: the kernel's slack). Measured on a quiet 2-core machine, a slack of 1 µs made
 * a call across a broker link no faster at the median and its p99 8 times longer (4.3-4.6 ms against 0.54-0.61 ms):
 * threads that wake on time from their short parks crowd two cores that also carry yielding callers and services.
 * {@code -Dswitchboard.timer.slack.ns=1000} turns it on, for a machine with cores to spare.
 */
public final class TimerSlack
{
    /** Property: the timer slack in nanoseconds for Switchboard's threads; 0 or less leaves the kernel's. */
    public static final String PROP = "switchboard.timer.slack.ns";

    /** Default: 0, leave the kernel's slack (see the class comment for why). */
    public static final long DEFAULT_NS = 0;

    private TimerSlack()
    {
    }

    /**
     * The configured slack ({@link #PROP}).
     *
     * @return nanoseconds; 0 or less for the kernel's.
     * @throws IllegalArgumentException if the property is set but not an integer (it was ignored silently before:
     *                                  a typo left the kernel's slack while the user believed it set).
     */
    public static long configuredNs()
    {
        return Configuration.longProperty(PROP, DEFAULT_NS);
    }

    /**
     * Set the calling thread's timer slack to {@link #configuredNs()}: call it first thing on an agent's thread.
     *
     * @return null if set or left as configured, else why not (for a cold-path log line; the thread works on).
     */
    public static String applyToCurrentThread()
    {
        final long slackNs = configuredNs();
        return slackNs > 0 ? applyToCurrentThread(slackNs) : null;
    }

    /**
     * Set the calling thread's timer slack.
     *
     * @param slackNs nanoseconds, greater than 0.
     * @return null if set, else why not (not Linux, no /proc, refused).
     */
    public static String applyToCurrentThread(final long slackNs)
    {
        try
        {
            Files.writeString(ownSlackFile(), Long.toString(slackNs));
            return null;
        }
        catch (final IOException | RuntimeException ex)
        {
            return "cannot set the timer slack of thread '" + Thread.currentThread().getName() + "' to " + slackNs +
                " ns (" + PROP + "): " + ex + "; its short parks last the kernel's slack (50 us by default)";
        }
    }

    /**
     * The calling thread's timer slack as the kernel reports it.
     *
     * @return nanoseconds, or -1 if it cannot be read.
     */
    public static long currentThreadNs()
    {
        try
        {
            return Long.parseLong(Files.readString(ownSlackFile()).trim());
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }
    }

    private static Path ownSlackFile() throws IOException
    {
        // /proc/thread-self links to PID/task/TID; /proc/TID/timerslack_ns is that thread's own value
        final Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
        return Path.of("/proc", self.getFileName().toString(), "timerslack_ns");
    }
}
