package io.switchboard.broker.gateway;

/**
 * The gateway's property names and defaults, in one place; {@link GatewayContext} reads them.
 */
public final class GatewayConfiguration
{
    /** Default bound on socket connections. */
    public static final int MAX_CONNECTIONS_DEFAULT = 1024;
    /** Default bound on pushes queued for one connection; more are dropped and counted. */
    public static final int MAX_QUEUED_PUSHES_DEFAULT = 4096;
    /** Default bound on bytes queued for one connection (replies and pushes); a reply over it closes the connection. */
    public static final long MAX_QUEUED_BYTES_DEFAULT = 64L << 20;
    /**
     * Default bound on bytes of pushes queued for one connection; pushes over it are dropped and counted. Two frames
     * of the default maximum, so that a subscriber reading as fast as it can takes publications of every size.
     */
    public static final long MAX_QUEUED_PUSH_BYTES_DEFAULT = 34L << 20;
    /** Default bound on bytes queued for all connections together. */
    public static final long MAX_TOTAL_QUEUED_BYTES_DEFAULT = 256L << 20;
    /** Default bound on requests one connection may have in flight; more are answered RATE_LIMITED. */
    public static final int MAX_REQUESTS_IN_FLIGHT_DEFAULT = 1024;
    /** Default bound on requests all connections together may have in flight; more are answered RATE_LIMITED. */
    public static final int MAX_TOTAL_REQUESTS_IN_FLIGHT_DEFAULT = 65_536;
    /** Default bound on subscription patterns one connection may hold. */
    public static final int MAX_PATTERNS_DEFAULT = 256;
    /** Default bound on the bytes of unfinished frames held for all connections together. */
    public static final long MAX_TOTAL_READ_BUFFER_BYTES_DEFAULT = 256L << 20;
    /** Default time in-flight calls get to finish when the broker closes, before they are answered SHUTTING_DOWN. */
    public static final long SHUTDOWN_DRAIN_TIMEOUT_DEFAULT_MS = 2_000;
    /** Default time the outbound queues get to be written out at shutdown before the connections are closed. */
    public static final long SHUTDOWN_FLUSH_TIMEOUT_DEFAULT_MS = 1_000;
    /** Largest per-connection rate limit, in frames per second. */
    public static final int MAX_RATE_LIMIT = 1_000_000;

    /** Default: how long a connection may sit on a frame it began but did not finish. */
    public static final long INCOMPLETE_FRAME_TIMEOUT_DEFAULT_MS = 10_000;

    /**
     * Default: how long, in microseconds, the idle gateway keeps yielding while an answer from Java is awaited before
     * it parks. A park cannot be shorter than the kernel's timer slack (parkNanos(1 us) took 65 us here), so a Java
     * answer that comes just after the gateway parked waits that long or more: within this time it is picked up at the
     * next yield instead. Only spent while something is in flight to Java, at most this long per wait, and
     * it costs CPU when no other thread wants the core (up to 20% of a core for 1,000 calls/s to a service that takes
     * longer than the window). 0 (the default) parks at once, as the gateway always did: no gain was measurable on the
     * loaded machine it was written on, so it stays off until a quiet benchmark shows one.
     */
    public static final long ANSWER_YIELD_DEFAULT_US = 0;
    /** Property: {@link #ANSWER_YIELD_DEFAULT_US}. */
    public static final String ANSWER_YIELD_PROP = "switchboard.gateway.answer.yield.us";
    /** Property: {@link #MAX_QUEUED_PUSHES_DEFAULT}. */
    public static final String MAX_QUEUED_PUSHES_PROP = "switchboard.gateway.max.queued.pushes";
    /** Property: {@link #MAX_QUEUED_BYTES_DEFAULT}. */
    public static final String MAX_QUEUED_BYTES_PROP = "switchboard.gateway.max.queued.bytes";
    /** Property: {@link #MAX_QUEUED_PUSH_BYTES_DEFAULT}. */
    public static final String MAX_QUEUED_PUSH_BYTES_PROP = "switchboard.gateway.max.queued.push.bytes";
    /** Property: {@link #MAX_TOTAL_QUEUED_BYTES_DEFAULT}. */
    public static final String MAX_TOTAL_QUEUED_BYTES_PROP = "switchboard.gateway.max.total.queued.bytes";
    /** Property: {@link #MAX_REQUESTS_IN_FLIGHT_DEFAULT}. */
    public static final String MAX_REQUESTS_IN_FLIGHT_PROP = "switchboard.gateway.max.requests.in.flight";
    /** Property: {@link #MAX_TOTAL_REQUESTS_IN_FLIGHT_DEFAULT}. */
    public static final String MAX_TOTAL_REQUESTS_IN_FLIGHT_PROP = "switchboard.gateway.max.total.requests.in.flight";
    /** Property: {@link #MAX_PATTERNS_DEFAULT}. */
    public static final String MAX_PATTERNS_PROP = "switchboard.gateway.max.patterns";
    /** Property: {@link #MAX_TOTAL_READ_BUFFER_BYTES_DEFAULT}. */
    public static final String MAX_TOTAL_READ_BUFFER_BYTES_PROP = "switchboard.gateway.max.total.read.buffer.bytes";

    private GatewayConfiguration()
    {
    }
}
