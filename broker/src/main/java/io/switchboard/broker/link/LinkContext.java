package io.switchboard.broker.link;

import io.switchboard.transport.Configuration;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Settings of a broker's links: its own link endpoint, its peers' endpoints, the secret file and the liveness
 * timeout. Fluent; validated by {@link #conclude()}. A broker with no endpoint has no links.
 * <p>
 * A peer is named by the endpoint it gives with its own {@code --link}, exactly as written there (an address, not
 * a host name that might resolve to something else), so both sides must spell it the same.
 */
public final class LinkContext
{
    /** Property of the link liveness timeout in milliseconds. */
    public static final String LIVENESS_TIMEOUT_PROP = "switchboard.link.liveness.timeout.ms";

    /** Default link liveness timeout: a link silent this long is down. */
    public static final long LIVENESS_TIMEOUT_DEFAULT_MS = 3_000;

    /** Property of the term length of the link's UDP publications. */
    public static final String TERM_LENGTH_PROP = "switchboard.link.term.length";

    /** Default term length of a link's UDP publication: a message crosses in one piece up to an eighth of it. */
    public static final int TERM_LENGTH_DEFAULT = 4 * 1024 * 1024;

    /**
     * Property of the yields the link thread makes when idle before it parks (back-off idle strategy: 10 spins, these
     * yields, then parks of 1 µs growing to 1 ms). More yields answer calls across a link sooner, and take a core
     * while calls keep coming. Only for a broker with an external media driver: with an embedded one the links run on
     * the driver's thread, which idles as the driver does ({@code switchboard.driver.yield.us}).
     */
    public static final String IDLE_YIELDS_PROP = "switchboard.link.idle.yields";

    /** Default yields of the link thread before it parks. */
    public static final int IDLE_YIELDS_DEFAULT = 20;

    /**
     * Property of how long the link thread keeps yielding instead of parking, after its last work, while calls are in
     * flight across a link (this host's callers waiting for a peer, or a peer's calls waiting for a service here), in
     * microseconds; 0 parks as when idle. A parked thread wakes 50 µs or more late on Linux (the timer slack), and a
     * call across waits on the link threads of both hosts twice; with no call in flight the thread backs off as
     * before, so an idle link costs no more CPU.
     */
    public static final String IN_FLIGHT_YIELD_US_PROP = "switchboard.link.in.flight.yield.us";

    /**
     * Default in-flight yield window of the link thread: none. On the shared 2-core machine (load 8-13) a yielding link
     * thread was no faster than one parking with a small timer slack, and often slower (a thread that keeps yielding
     * loses the scheduler's favour that a waking sleeper has); on a quiet machine 1000 (a round trip across a network
     * and a quick service) may answer sooner, at the cost of a core while calls keep coming.
     */
    public static final long IN_FLIGHT_YIELD_US_DEFAULT = 0;

    /**
     * Property of the most patterns one peer's interest may make this broker hold (its stand-in's subscriptions here);
     * further ones are refused, counted ({@code sb-broker link interest refused}) and logged once per link-up.
     */
    public static final String MAX_REMOTE_PATTERNS_PROP = "switchboard.link.max.remote.patterns";

    /** Default: 10,000 patterns per peer, as many as a local peer may hold (switchboard.max.patterns.per.peer). */
    public static final int MAX_REMOTE_PATTERNS_DEFAULT = 10_000;

    /**
     * Property of the most bytes (UTF-16 characters counted twice, the pattern strings as held) of the patterns one
     * peer's interest may make this broker hold; further ones are refused as beyond {@link #MAX_REMOTE_PATTERNS_PROP}.
     */
    public static final String MAX_REMOTE_PATTERN_BYTES_PROP = "switchboard.link.max.remote.pattern.bytes";

    /** Default: 4 MiB of patterns per peer. */
    public static final long MAX_REMOTE_PATTERN_BYTES_DEFAULT = 4L * 1024 * 1024;

    /** Aeron stream id of link traffic on the UDP channels. */
    public static final int STREAM_ID = 7301;

    private String endpoint;
    private final List<String> peers = new ArrayList<>();
    private Path secretFile;
    private long livenessTimeoutMs = Configuration.longProperty(LIVENESS_TIMEOUT_PROP, LIVENESS_TIMEOUT_DEFAULT_MS);
    private int termLength = intProperty(TERM_LENGTH_PROP, TERM_LENGTH_DEFAULT);

    /**
     * This broker's link endpoint: it listens on {@code aeron:udp?endpoint=HOST:PORT}.
     *
     * @param endpoint as HOST:PORT.
     * @return this for a fluent API.
     */
    public LinkContext endpoint(final String endpoint)
    {
        this.endpoint = endpoint;
        return this;
    }

    /**
     * This broker's link endpoint.
     *
     * @return HOST:PORT, or null for no links.
     */
    public String endpoint()
    {
        return endpoint;
    }

    /**
     * Add a peer broker: its link endpoint, as it gives it with its own {@code --link}.
     *
     * @param peer as HOST:PORT.
     * @return this for a fluent API.
     */
    public LinkContext peer(final String peer)
    {
        peers.add(peer);
        return this;
    }

    /**
     * The peers' endpoints.
     *
     * @return the peers, in the order given.
     */
    public List<String> peers()
    {
        return Collections.unmodifiableList(peers);
    }

    /**
     * The file holding the shared secret; mode 0600, owned by the broker's user.
     *
     * @param file of the secret.
     * @return this for a fluent API.
     */
    public LinkContext secretFile(final Path file)
    {
        this.secretFile = file;
        return this;
    }

    /**
     * The file holding the shared secret.
     *
     * @return the path, or null.
     */
    public Path secretFile()
    {
        return secretFile;
    }

    /**
     * A link silent for this long is down: its calls in flight get SERVICE_UNAVAILABLE, its routes and interest are
     * withdrawn.
     *
     * @param timeoutMs the link liveness timeout.
     * @return this for a fluent API.
     */
    public LinkContext livenessTimeoutMs(final long timeoutMs)
    {
        this.livenessTimeoutMs = timeoutMs;
        return this;
    }

    /**
     * The link liveness timeout.
     *
     * @return milliseconds.
     */
    public long livenessTimeoutMs()
    {
        return livenessTimeoutMs;
    }

    /**
     * Interval of the heartbeats: a sixth of the liveness timeout, at least 20 ms.
     *
     * @return milliseconds.
     */
    public long heartbeatIntervalMs()
    {
        return Math.max(20, livenessTimeoutMs / 6);
    }

    /**
     * Term length of the UDP publications to the peers.
     *
     * @return bytes.
     */
    public int termLength()
    {
        return termLength;
    }

    /**
     * The link thread's idle strategy: back off from spinning to yielding ({@link #IDLE_YIELDS_PROP}) to parking.
     *
     * @return a new idle strategy.
     */
    public static org.agrona.concurrent.IdleStrategy idleStrategy()
    {
        return new org.agrona.concurrent.BackoffIdleStrategy(10, Math.max(0, intProperty(IDLE_YIELDS_PROP,
            IDLE_YIELDS_DEFAULT)), TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
    }

    /**
     * The most patterns one peer's interest may make this broker hold ({@link #MAX_REMOTE_PATTERNS_PROP}).
     *
     * @return patterns, at least 0.
     */
    public static int maxRemotePatterns()
    {
        return Math.max(0, intProperty(MAX_REMOTE_PATTERNS_PROP, MAX_REMOTE_PATTERNS_DEFAULT));
    }

    /**
     * The most bytes of patterns one peer's interest may make this broker hold ({@link #MAX_REMOTE_PATTERN_BYTES_PROP}).
     *
     * @return bytes, at least 0.
     */
    public static long maxRemotePatternBytes()
    {
        return Math.max(0, Configuration.longProperty(MAX_REMOTE_PATTERN_BYTES_PROP, MAX_REMOTE_PATTERN_BYTES_DEFAULT));
    }

    /**
     * How long the link thread yields instead of parking while calls are in flight ({@link #IN_FLIGHT_YIELD_US_PROP}).
     *
     * @return nanoseconds, 0 for never.
     */
    public static long inFlightYieldNs()
    {
        return TimeUnit.MICROSECONDS.toNanos(Math.max(0, Configuration.longProperty(IN_FLIGHT_YIELD_US_PROP,
            IN_FLIGHT_YIELD_US_DEFAULT)));
    }

    private static int intProperty(final String name, final int defaultValue)
    {
        final long value = Configuration.longProperty(name, defaultValue);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("property " + name + ": expected an int, actual=" + value);
        }
        return (int)value;
    }

    /**
     * Whether links are configured.
     *
     * @return true if an endpoint was given.
     */
    public boolean enabled()
    {
        return null != endpoint;
    }

    /**
     * Check the settings.
     *
     * @return this.
     * @throws IllegalArgumentException naming what is wrong.
     */
    public LinkContext conclude()
    {
        // the properties read on the link thread, refused here if set to something that is not a number (they were
        // read with Integer.getInteger and Long.getLong, which ignore such a value without a word)
        idleStrategy();
        maxRemotePatterns();
        maxRemotePatternBytes();
        inFlightYieldNs();
        if (null == endpoint)
        {
            if (!peers.isEmpty() || null != secretFile)
            {
                throw new IllegalArgumentException("--peer and --link-secret need --link HOST:PORT (this broker's " +
                    "own link endpoint)");
            }
            return this;
        }
        checkEndpoint("--link", endpoint);
        if (peers.isEmpty())
        {
            throw new IllegalArgumentException("--link " + endpoint + " needs at least one --peer HOST:PORT");
        }
        for (final String peer : peers)
        {
            checkEndpoint("--peer", peer);
            if (peer.equals(endpoint))
            {
                throw new IllegalArgumentException("--peer " + peer + " is this broker's own --link endpoint");
            }
        }
        if (null == secretFile)
        {
            throw new IllegalArgumentException("--link needs --link-secret FILE (a file of mode 0600 holding the " +
                "secret every linked broker shares)");
        }
        if (livenessTimeoutMs < 100 || livenessTimeoutMs > 600_000)
        {
            throw new IllegalArgumentException("link liveness timeout: expected 100 to 600000 ms, found " +
                livenessTimeoutMs);
        }
        if (Integer.bitCount(termLength) != 1 || termLength < 64 * 1024 || termLength > 64 * 1024 * 1024)
        {
            throw new IllegalArgumentException(TERM_LENGTH_PROP + ": expected a power of two from 64 KiB to 64 MiB, " +
                "found " + termLength);
        }
        return this;
    }

    private static void checkEndpoint(final String option, final String value)
    {
        final int colon = value.lastIndexOf(':');
        int port = -1;
        if (colon > 0)
        {
            try
            {
                port = Integer.parseInt(value.substring(colon + 1));
            }
            catch (final NumberFormatException ignore)
            {
                port = -1;
            }
        }
        if (port < 1 || port > 65535 || value.indexOf('|') >= 0 || value.indexOf('?') >= 0)
        {
            throw new IllegalArgumentException(option + ": expected HOST:PORT (port 1 to 65535), found '" +
                value + "'");
        }
    }
}
