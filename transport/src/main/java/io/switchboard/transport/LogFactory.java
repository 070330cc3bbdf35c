package io.switchboard.transport;

import io.aeron.ErrorCode;
import io.aeron.ExclusivePublication;
import io.aeron.exceptions.AeronException;
import io.aeron.exceptions.RegistrationException;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.TimeUnit;

/**
 * Creates the logs a session writes to, cold path. When the media driver cannot create one (no space left in its
 * directory, most likely) the reason is kept in {@link #refusal()} and null returned: what is refused is the one call
 * or publish that needed the log, never the duty cycle, and the next one asks again, so a freed disk works at once
 * without restarting anything.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class LogFactory
{
    /**
     * After the driver refused a log for want of space, new logs are refused at once for this long: a peer that keeps
     * calling on a full disk costs the driver (and the broker's error log) a few requests a second, not one per call.
     */
    static final long NO_SPACE_RETRY_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final NanoClock clock;
    private DataPlane dataPlane;
    private String aeronDirectory;
    private String refusal;
    private long noSpaceUntilNs;
    private boolean noSpaceRefused;

    LogFactory(final NanoClock clock)
    {
        this.clock = clock;
    }

    /**
     * Create logs on this data plane from now on.
     *
     * @param dataPlane of the session, or null when there is none.
     * @param aeronDirectory of its media driver, named in errors.
     */
    void onSession(final DataPlane dataPlane, final String aeronDirectory)
    {
        this.dataPlane = dataPlane;
        this.aeronDirectory = aeronDirectory;
    }

    /**
     * Why the last new log was refused, for the typed error of the call or publish that needed it.
     *
     * @return the reason.
     */
    String refusal()
    {
        return refusal;
    }

    /**
     * A new log on a stream.
     *
     * @param channel of the log.
     * @param streamId of the log.
     * @return the log, or null if the media driver refused it ({@link #refusal()} says why).
     */
    DataPlane.Log newLog(final String channel, final int streamId)
    {
        return (DataPlane.Log)create(channel, streamId, false);
    }

    /**
     * A new log for a {@link SubjectPublisher}.
     *
     * @param channel of the log.
     * @param streamId of the log.
     * @return the publication, or null if the media driver refused it ({@link #refusal()} says why).
     */
    ExclusivePublication newPublisherLog(final String channel, final int streamId)
    {
        return (ExclusivePublication)create(channel, streamId, true);
    }

    private Object create(final String channel, final int streamId, final boolean forPublisher)
    {
        if (noSpaceRefused && clock.nanoTime() - noSpaceUntilNs < 0)
        {
            return null; // refused for want of space a moment ago: refusal still says why
        }
        if (null == dataPlane)
        {
            refusal = "no broker session";
            return null;
        }
        try
        {
            final Object log = forPublisher ?
                dataPlane.addPublisherLog(channel, streamId) : dataPlane.addLog(channel, streamId);
            noSpaceRefused = false;
            return log;
        }
        catch (final RegistrationException ex)
        {
            noSpaceRefused = ErrorCode.STORAGE_SPACE == ex.errorCode();
            if (noSpaceRefused)
            {
                noSpaceUntilNs = clock.nanoTime() + NO_SPACE_RETRY_INTERVAL_NS;
                refusal = "no space left for a new log in the media driver directory " + aeronDirectory +
                    " (" + ex.getMessage() + "); free space there, or give the broker a larger --aeron-dir";
            }
            else
            {
                refusal = "the media driver refused a new log in " + aeronDirectory + ": " + ex.getMessage();
            }
            return null;
        }
        catch (final AeronException ex)
        {
            // the Aeron client closed under us (driver timeout, a pause): the duty cycle notices it and reconnects
            noSpaceRefused = false;
            refusal = "no media driver to create a log in " + aeronDirectory + ": " + ex.getMessage();
            return null;
        }
    }
}
