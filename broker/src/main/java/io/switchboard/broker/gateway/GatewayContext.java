package io.switchboard.broker.gateway;

import io.switchboard.broker.access.AllowedPeers;
import io.switchboard.codec.frame.FrameHeader;
import io.switchboard.transport.Configuration;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;

import java.nio.file.Path;

import static io.switchboard.broker.gateway.GatewayConfiguration.*;

/**
 * Settings of the gateway. Fluent; validated by {@link #conclude()}. The bounds on what a client can make the gateway
 * hold default to the constants of {@link GatewayConfiguration}, or to the system properties
 * {@code switchboard.gateway.*} named there (listed by {@code switchboard broker --help}).
 */
public final class GatewayContext
{
    private Path socketPath;
    private int maxConnections = MAX_CONNECTIONS_DEFAULT;
    private int maxPayloadLength = FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH;
    private int maxQueuedPushes = (int)Configuration.longProperty(MAX_QUEUED_PUSHES_PROP, MAX_QUEUED_PUSHES_DEFAULT);
    private long maxQueuedBytes = Configuration.longProperty(MAX_QUEUED_BYTES_PROP, MAX_QUEUED_BYTES_DEFAULT);
    private long maxQueuedPushBytes =
        Configuration.longProperty(MAX_QUEUED_PUSH_BYTES_PROP, MAX_QUEUED_PUSH_BYTES_DEFAULT);
    private long maxTotalQueuedBytes =
        Configuration.longProperty(MAX_TOTAL_QUEUED_BYTES_PROP, MAX_TOTAL_QUEUED_BYTES_DEFAULT);
    private int maxRequestsInFlight =
        (int)Configuration.longProperty(MAX_REQUESTS_IN_FLIGHT_PROP, MAX_REQUESTS_IN_FLIGHT_DEFAULT);
    private int maxTotalRequestsInFlight =
        (int)Configuration.longProperty(MAX_TOTAL_REQUESTS_IN_FLIGHT_PROP, MAX_TOTAL_REQUESTS_IN_FLIGHT_DEFAULT);
    private int maxPatterns = (int)Configuration.longProperty(MAX_PATTERNS_PROP, MAX_PATTERNS_DEFAULT);
    private long maxTotalReadBufferBytes =
        Configuration.longProperty(MAX_TOTAL_READ_BUFFER_BYTES_PROP, MAX_TOTAL_READ_BUFFER_BYTES_DEFAULT);
    private long shutdownDrainTimeoutMs = SHUTDOWN_DRAIN_TIMEOUT_DEFAULT_MS;
    private long incompleteFrameTimeoutMs = INCOMPLETE_FRAME_TIMEOUT_DEFAULT_MS;
    private long shutdownFlushTimeoutMs = SHUTDOWN_FLUSH_TIMEOUT_DEFAULT_MS;
    private long answerYieldUs = Configuration.longProperty(ANSWER_YIELD_PROP, ANSWER_YIELD_DEFAULT_US);
    private int rateLimit;
    private int rateLimitBurst;
    private AllowedPeers allowedPeers;
    private ErrorHandler errorHandler;
    private EpochClock epochClock;
    private NanoClock nanoClock;

    /**
     * How long the idle gateway yields while an answer from Java is awaited before it parks (see
     * {@link GatewayConfiguration#ANSWER_YIELD_DEFAULT_US}).
     *
     * @param answerYieldUs the time in microseconds, 0 to park at once (default 0, or {@code
     *                      switchboard.gateway.answer.yield.us}).
     * @return this for a fluent API.
     */
    public GatewayContext answerYieldUs(final long answerYieldUs)
    {
        this.answerYieldUs = answerYieldUs;
        return this;
    }

    /**
     * How long the idle gateway yields while an answer from Java is awaited before it parks.
     *
     * @return the time in microseconds.
     */
    public long answerYieldUs()
    {
        return answerYieldUs;
    }

    /**
     * How long a connection may sit on a frame it began but did not finish (a truncated frame, or a length promised
     * and never sent) before it gets PROTOCOL_ERROR and is closed.
     *
     * @param incompleteFrameTimeoutMs the time in milliseconds (default 10000).
     * @return this for a fluent API.
     */
    public GatewayContext incompleteFrameTimeoutMs(final long incompleteFrameTimeoutMs)
    {
        this.incompleteFrameTimeoutMs = incompleteFrameTimeoutMs;
        return this;
    }

    /**
     * How long a connection may sit on an unfinished frame.
     *
     * @return the time in milliseconds.
     */
    public long incompleteFrameTimeoutMs()
    {
        return incompleteFrameTimeoutMs;
    }

    /**
     * Check the settings.
     *
     * @return this for a fluent API.
     */
    public GatewayContext conclude()
    {
        if (null == socketPath)
        {
            throw new IllegalArgumentException("gateway socket path: expected a path, actual=null");
        }
        FrameHeader.checkMaxPayloadLength(maxPayloadLength);
        if (maxConnections <= 0 || maxQueuedPushes <= 0 || maxQueuedBytes <= 0)
        {
            throw new IllegalArgumentException("gateway limits must be positive: maxConnections=" + maxConnections +
                ", maxQueuedPushes=" + maxQueuedPushes + ", maxQueuedBytes=" + maxQueuedBytes);
        }
        if (maxQueuedPushBytes <= 0 || maxTotalQueuedBytes <= 0 || maxRequestsInFlight <= 0 ||
            maxTotalRequestsInFlight <= 0 || maxPatterns <= 0 || maxTotalReadBufferBytes <= 0)
        {
            throw new IllegalArgumentException("gateway limits must be positive: maxQueuedPushBytes=" +
                maxQueuedPushBytes + ", maxTotalQueuedBytes=" + maxTotalQueuedBytes + ", maxRequestsInFlight=" +
                maxRequestsInFlight + ", maxTotalRequestsInFlight=" + maxTotalRequestsInFlight + ", maxPatterns=" +
                maxPatterns + ", maxTotalReadBufferBytes=" + maxTotalReadBufferBytes);
        }
        final long largestFrame = (long)maxPayloadLength + FrameHeader.LENGTH_V2;
        if (maxQueuedBytes < largestFrame || maxTotalQueuedBytes < maxQueuedBytes)
        {
            // a connection must be able to queue one reply of the largest size, or it could never be answered
            throw new IllegalArgumentException("gateway queue bounds: expected maxTotalQueuedBytes >= maxQueuedBytes >= " +
                "the largest frame (" + largestFrame + " bytes), actual maxQueuedBytes=" + maxQueuedBytes +
                ", maxTotalQueuedBytes=" + maxTotalQueuedBytes);
        }
        if (shutdownDrainTimeoutMs < 0 || shutdownFlushTimeoutMs < 0)
        {
            throw new IllegalArgumentException("gateway shutdown timeouts must not be negative: drain=" +
                shutdownDrainTimeoutMs + " ms, flush=" + shutdownFlushTimeoutMs + " ms");
        }
        if (answerYieldUs < 0 || answerYieldUs > 10_000)
        {
            throw new IllegalArgumentException("gateway answer yield: expected 0 to 10000 us, actual=" + answerYieldUs);
        }
        if (rateLimit < 0 || rateLimit > MAX_RATE_LIMIT || rateLimitBurst < 0)
        {
            throw new IllegalArgumentException("gateway rate limit: expected 0 (off) to " + MAX_RATE_LIMIT +
                " per second and a burst >= 0, actual=" + rateLimit + "/s burst " + rateLimitBurst);
        }
        if (rateLimit > 0 && 0 == rateLimitBurst)
        {
            rateLimitBurst = rateLimit; // one second's worth
        }
        if (null == allowedPeers)
        {
            allowedPeers = AllowedPeers.ownerOnly();
        }
        if (null == errorHandler)
        {
            final System.Logger log = io.switchboard.transport.Logging.logger("switchboard.gateway");
            errorHandler = (ex) -> log.log(System.Logger.Level.ERROR, String.valueOf(ex), ex);
        }
        if (null == epochClock)
        {
            epochClock = SystemEpochClock.INSTANCE;
        }
        if (null == nanoClock)
        {
            nanoClock = SystemNanoClock.INSTANCE;
        }
        return this;
    }

    /**
     * Path of the gateway socket.
     *
     * @param socketPath the path.
     * @return this for a fluent API.
     */
    public GatewayContext socketPath(final Path socketPath)
    {
        this.socketPath = socketPath;
        return this;
    }

    /**
     * Path of the gateway socket.
     *
     * @return the path.
     */
    public Path socketPath()
    {
        return socketPath;
    }

    /**
     * Bound on socket connections; one more is answered CONNECTION_LIMIT_REACHED and closed.
     *
     * @param maxConnections the bound.
     * @return this for a fluent API.
     */
    public GatewayContext maxConnections(final int maxConnections)
    {
        this.maxConnections = maxConnections;
        return this;
    }

    /**
     * Bound on socket connections.
     *
     * @return the bound.
     */
    public int maxConnections()
    {
        return maxConnections;
    }

    /**
     * Largest payload accepted (1 MiB default, up to 16 MiB).
     *
     * @param maxPayloadLength in bytes.
     * @return this for a fluent API.
     */
    public GatewayContext maxPayloadLength(final int maxPayloadLength)
    {
        this.maxPayloadLength = maxPayloadLength;
        return this;
    }

    /**
     * Largest payload accepted.
     *
     * @return the length in bytes.
     */
    public int maxPayloadLength()
    {
        return maxPayloadLength;
    }

    /**
     * Bound on the number of pushes queued for one connection (the byte bound is
     * {@link #maxQueuedPushBytes(long)}).
     *
     * @param maxQueuedPushes the bound.
     * @return this for a fluent API.
     */
    public GatewayContext maxQueuedPushes(final int maxQueuedPushes)
    {
        this.maxQueuedPushes = maxQueuedPushes;
        return this;
    }

    /**
     * Bound on pushes queued for one connection.
     *
     * @return the bound.
     */
    public int maxQueuedPushes()
    {
        return maxQueuedPushes;
    }

    /**
     * Bound on bytes queued for one connection, replies and pushes: a reply that would take the queue past it closes
     * the connection (a reader that lets its replies pile up is cut off, counted as a slow consumer), since a reply
     * is never dropped silently. At least the largest frame.
     *
     * @param maxQueuedBytes the bound.
     * @return this for a fluent API.
     */
    public GatewayContext maxQueuedBytes(final long maxQueuedBytes)
    {
        this.maxQueuedBytes = maxQueuedBytes;
        return this;
    }

    /**
     * Bound on bytes of replies queued for one connection.
     *
     * @return the bound.
     */
    public long maxQueuedBytes()
    {
        return maxQueuedBytes;
    }

    /**
     * Bound on bytes of pushes queued for one connection: a push that would take the pushes queued past it is
     * dropped and counted (the gap shows in {@code sequence}, and a loss notice follows once the queue drains). A
     * push is always taken by a connection with no push queued, so one larger than the bound is still delivered.
     *
     * @param maxQueuedPushBytes the bound in bytes (default 4 MiB).
     * @return this for a fluent API.
     */
    public GatewayContext maxQueuedPushBytes(final long maxQueuedPushBytes)
    {
        this.maxQueuedPushBytes = maxQueuedPushBytes;
        return this;
    }

    /**
     * Bound on bytes of pushes queued for one connection.
     *
     * @return the bound in bytes.
     */
    public long maxQueuedPushBytes()
    {
        return maxQueuedPushBytes;
    }

    /**
     * Bound on bytes queued for all connections together. Pushes may use half of it; a reply that would take the
     * total past it closes its connection (counted as a slow consumer), as {@link #maxQueuedBytes(long)} does.
     *
     * @param maxTotalQueuedBytes the bound in bytes (default 256 MiB).
     * @return this for a fluent API.
     */
    public GatewayContext maxTotalQueuedBytes(final long maxTotalQueuedBytes)
    {
        this.maxTotalQueuedBytes = maxTotalQueuedBytes;
        return this;
    }

    /**
     * Bound on bytes queued for all connections together.
     *
     * @return the bound in bytes.
     */
    public long maxTotalQueuedBytes()
    {
        return maxTotalQueuedBytes;
    }

    /**
     * Bound on requests (REQUEST with a reply or a stream) one connection may have in flight; one more is answered
     * RATE_LIMITED at once and never reaches the service.
     *
     * @param maxRequestsInFlight the bound (default 1024).
     * @return this for a fluent API.
     */
    public GatewayContext maxRequestsInFlight(final int maxRequestsInFlight)
    {
        this.maxRequestsInFlight = maxRequestsInFlight;
        return this;
    }

    /**
     * Bound on requests one connection may have in flight.
     *
     * @return the bound.
     */
    public int maxRequestsInFlight()
    {
        return maxRequestsInFlight;
    }

    /**
     * Bound on requests all connections together may have in flight; one more is answered RATE_LIMITED.
     *
     * @param maxTotalRequestsInFlight the bound (default 65536).
     * @return this for a fluent API.
     */
    public GatewayContext maxTotalRequestsInFlight(final int maxTotalRequestsInFlight)
    {
        this.maxTotalRequestsInFlight = maxTotalRequestsInFlight;
        return this;
    }

    /**
     * Bound on requests all connections together may have in flight.
     *
     * @return the bound.
     */
    public int maxTotalRequestsInFlight()
    {
        return maxTotalRequestsInFlight;
    }

    /**
     * Bound on subscription patterns one connection may hold; a SUBSCRIBE that would take it past the bound is
     * refused whole with INVALID_REQUEST before anything changes (a SUBSCRIBE listing more patterns than the bound is
     * refused before its patterns are even read).
     *
     * @param maxPatterns the bound (default 256).
     * @return this for a fluent API.
     */
    public GatewayContext maxPatterns(final int maxPatterns)
    {
        this.maxPatterns = maxPatterns;
        return this;
    }

    /**
     * Bound on subscription patterns one connection may hold.
     *
     * @return the bound.
     */
    public int maxPatterns()
    {
        return maxPatterns;
    }

    /**
     * Bound on the bytes held for frames that connections began and have not finished, all connections together
     * (each connection is bounded by the maximum payload already). A connection whose unfinished frame takes the
     * total past it gets PAYLOAD_TOO_LARGE and is closed.
     *
     * @param maxTotalReadBufferBytes the bound in bytes (default 256 MiB).
     * @return this for a fluent API.
     */
    public GatewayContext maxTotalReadBufferBytes(final long maxTotalReadBufferBytes)
    {
        this.maxTotalReadBufferBytes = maxTotalReadBufferBytes;
        return this;
    }

    /**
     * Bound on the bytes held for unfinished frames, all connections together.
     *
     * @return the bound in bytes.
     */
    public long maxTotalReadBufferBytes()
    {
        return maxTotalReadBufferBytes;
    }

    /**
     * Time in-flight calls get to finish when the broker closes; what is still in flight then is answered
     * SHUTTING_DOWN. New requests are answered SHUTTING_DOWN at once.
     *
     * @param shutdownDrainTimeoutMs the time in milliseconds (default 2000).
     * @return this for a fluent API.
     */
    public GatewayContext shutdownDrainTimeoutMs(final long shutdownDrainTimeoutMs)
    {
        this.shutdownDrainTimeoutMs = shutdownDrainTimeoutMs;
        return this;
    }

    /**
     * Time in-flight calls get to finish when the broker closes.
     *
     * @return the time in milliseconds.
     */
    public long shutdownDrainTimeoutMs()
    {
        return shutdownDrainTimeoutMs;
    }

    /**
     * Time the outbound queues get to be written out at shutdown, after the drain, before connections close.
     *
     * @param shutdownFlushTimeoutMs the time in milliseconds (default 1000).
     * @return this for a fluent API.
     */
    public GatewayContext shutdownFlushTimeoutMs(final long shutdownFlushTimeoutMs)
    {
        this.shutdownFlushTimeoutMs = shutdownFlushTimeoutMs;
        return this;
    }

    /**
     * Time the outbound queues get to be written out at shutdown.
     *
     * @return the time in milliseconds.
     */
    public long shutdownFlushTimeoutMs()
    {
        return shutdownFlushTimeoutMs;
    }

    /**
     * Per-connection limit on REQUEST, PUBLISH and SUBSCRIBE frames: a token bucket refilled at this rate; a frame
     * over it is answered RATE_LIMITED and the connection stays open.
     *
     * @param rateLimit frames per second, 0 for no limit (the default).
     * @return this for a fluent API.
     */
    public GatewayContext rateLimit(final int rateLimit)
    {
        this.rateLimit = rateLimit;
        return this;
    }

    /**
     * Per-connection limit on REQUEST, PUBLISH and SUBSCRIBE frames.
     *
     * @return frames per second, 0 for no limit.
     */
    public int rateLimit()
    {
        return rateLimit;
    }

    /**
     * Size of the token bucket: how many limited frames a connection may send at once after being idle.
     *
     * @param rateLimitBurst the number of frames; 0 means one second's worth ({@link #rateLimit()}).
     * @return this for a fluent API.
     */
    public GatewayContext rateLimitBurst(final int rateLimitBurst)
    {
        this.rateLimitBurst = rateLimitBurst;
        return this;
    }

    /**
     * Size of the token bucket.
     *
     * @return the number of frames.
     */
    public int rateLimitBurst()
    {
        return rateLimitBurst;
    }

    /**
     * Peers of other users allowed to connect (SO_PEERCRED); by default only the broker's own user.
     *
     * @param allowedPeers the allowances.
     * @return this for a fluent API.
     */
    public GatewayContext allowedPeers(final AllowedPeers allowedPeers)
    {
        this.allowedPeers = allowedPeers;
        return this;
    }

    /**
     * Peers allowed to connect.
     *
     * @return the allowances.
     */
    public AllowedPeers allowedPeers()
    {
        return allowedPeers;
    }

    /**
     * Where errors go.
     *
     * @param errorHandler to receive them.
     * @return this for a fluent API.
     */
    public GatewayContext errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return this;
    }

    /**
     * Where errors go.
     *
     * @return the error handler.
     */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    /**
     * Clock of wall time, read once per duty cycle (timestamps of pushes, request deadlines,
     * the incomplete-frame timer).
     *
     * @param epochClock to read; default the system's.
     * @return this for a fluent API.
     */
    public GatewayContext epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
        return this;
    }

    /**
     * Clock of wall time, read once per duty cycle.
     *
     * @return the clock.
     */
    public EpochClock epochClock()
    {
        return epochClock;
    }

    /**
     * Monotonic clock, read once per duty cycle (rate limits, shutdown deadlines).
     *
     * @param nanoClock to read; default the system's.
     * @return this for a fluent API.
     */
    public GatewayContext nanoClock(final NanoClock nanoClock)
    {
        this.nanoClock = nanoClock;
        return this;
    }

    /**
     * Monotonic clock, read once per duty cycle.
     *
     * @return the clock.
     */
    public NanoClock nanoClock()
    {
        return nanoClock;
    }
}
