package io.switchboard.broker;

import io.switchboard.transport.Configuration;

/**
 * The bounds a broker holds its peers to, with defaults from system properties: how long a control connection may
 * wait before it sends Connect, the longest control message, and what the service registry keeps for all peers
 * together and for one peer. {@link BrokerContext} (and so {@link Broker.Context}) inherits these settings; every
 * setter returns the concrete context type.
 * <p>
 * Not thread-safe: set it up on one thread, then hand the context to {@link Broker#launch(Broker.Context)}.
 *
 * @param <C> the concrete context type, returned by the fluent setters.
 */
abstract class BrokerLimits<C extends BrokerLimits<C>>
{
    /** Property: how long a control connection may stay open without sending Connect, in milliseconds. */
    public static final String CONTROL_CONNECT_TIMEOUT_PROP = "switchboard.control.connect.timeout.ms";
    /** Default: a peer sends Connect as its first message, at once. */
    public static final long CONTROL_CONNECT_TIMEOUT_DEFAULT_MS = 5_000;
    /** Property: longest control message the broker accepts, in bytes (a registration carries schema IR). */
    public static final String MAX_CONTROL_MESSAGE_LENGTH_PROP = "switchboard.control.max.message.length";
    /** Smallest maximum control message length allowed: the broker's own route updates must fit. */
    public static final int MIN_CONTROL_MESSAGE_LENGTH = 64 * 1024;
    /** Property: service names registered at once, all peers together. */
    public static final String MAX_SERVICES_PROP = "switchboard.max.services";
    /** Default bound on service names. */
    public static final int MAX_SERVICES_DEFAULT = 10_000;
    /** Property: schema IR bytes the registry keeps, all services together. */
    public static final String MAX_SCHEMA_BYTES_PROP = "switchboard.max.schema.bytes";
    /** Default bound on kept schema IR. */
    public static final long MAX_SCHEMA_BYTES_DEFAULT = 64L * 1024 * 1024;
    /** Property: service instances one peer may hold. */
    public static final String MAX_SERVICES_PER_PEER_PROP = "switchboard.max.services.per.peer";
    /** Default bound on one peer's service instances. */
    public static final int MAX_SERVICES_PER_PEER_DEFAULT = 1_000;
    /** Property: schema IR bytes one peer may have handed over, counted for every instance it holds. */
    public static final String MAX_SCHEMA_BYTES_PER_PEER_PROP = "switchboard.max.schema.bytes.per.peer";
    /** Default bound on one peer's schema IR. */
    public static final long MAX_SCHEMA_BYTES_PER_PEER_DEFAULT = 16L * 1024 * 1024;
    /** Property: subscription patterns one peer may hold. */
    public static final String MAX_PATTERNS_PER_PEER_PROP = "switchboard.max.patterns.per.peer";
    /** Default bound on one peer's patterns (each at most 255 characters). */
    public static final int MAX_PATTERNS_PER_PEER_DEFAULT = 10_000;

    /** Property: subjects with a retained value, all publishers together. */
    public static final String MAX_RETAINED_SUBJECTS_PROP = "switchboard.max.retained.subjects";
    /** Default bound on subjects with a retained value. */
    public static final int MAX_RETAINED_SUBJECTS_DEFAULT = 100_000;
    /** Property: bytes of retained values, all subjects together (payload, subject, type and a fixed overhead). */
    public static final String MAX_RETAINED_BYTES_PROP = "switchboard.max.retained.bytes";
    /** Default bound on the bytes of retained values. */
    public static final long MAX_RETAINED_BYTES_DEFAULT = 64L * 1024 * 1024;

    private int maxRetainedSubjects =
        (int)Configuration.longProperty(MAX_RETAINED_SUBJECTS_PROP, MAX_RETAINED_SUBJECTS_DEFAULT);
    private long maxRetainedBytes = Configuration.longProperty(MAX_RETAINED_BYTES_PROP, MAX_RETAINED_BYTES_DEFAULT);
    private long controlConnectTimeoutMs =
        Configuration.longProperty(CONTROL_CONNECT_TIMEOUT_PROP, CONTROL_CONNECT_TIMEOUT_DEFAULT_MS);
    private int maxControlMessageLength = (int)Configuration.longProperty(
        MAX_CONTROL_MESSAGE_LENGTH_PROP, Configuration.MAX_CONTROL_MESSAGE_LENGTH);
    private int maxServices = (int)Configuration.longProperty(MAX_SERVICES_PROP, MAX_SERVICES_DEFAULT);
    private long maxSchemaBytes = Configuration.longProperty(MAX_SCHEMA_BYTES_PROP, MAX_SCHEMA_BYTES_DEFAULT);
    private int maxServicesPerPeer =
        (int)Configuration.longProperty(MAX_SERVICES_PER_PEER_PROP, MAX_SERVICES_PER_PEER_DEFAULT);
    private long maxSchemaBytesPerPeer =
        Configuration.longProperty(MAX_SCHEMA_BYTES_PER_PEER_PROP, MAX_SCHEMA_BYTES_PER_PEER_DEFAULT);
    private int maxPatternsPerPeer =
        (int)Configuration.longProperty(MAX_PATTERNS_PER_PEER_PROP, MAX_PATTERNS_PER_PEER_DEFAULT);

    /**
     * How long a control connection may stay open without sending Connect; then it is answered
     * {@code TIMEOUT} and closed.
     *
     * @param controlConnectTimeoutMs the time in milliseconds (default 5000).
     * @return this for a fluent API.
     */
    public C controlConnectTimeoutMs(final long controlConnectTimeoutMs)
    {
        this.controlConnectTimeoutMs = controlConnectTimeoutMs;
        return self();
    }

    /**
     * How long a control connection may stay open without sending Connect.
     *
     * @return the time in milliseconds.
     */
    public long controlConnectTimeoutMs()
    {
        return controlConnectTimeoutMs;
    }

    /**
     * Longest control message accepted; a frame announcing more is answered {@code PAYLOAD_TOO_LARGE} before
     * any buffer grows, and the connection closed.
     *
     * @param maxControlMessageLength in bytes, 64 KiB to 4 MiB (the default).
     * @return this for a fluent API.
     */
    public C maxControlMessageLength(final int maxControlMessageLength)
    {
        this.maxControlMessageLength = maxControlMessageLength;
        return self();
    }

    /**
     * Longest control message accepted.
     *
     * @return the length in bytes.
     */
    public int maxControlMessageLength()
    {
        return maxControlMessageLength;
    }

    /**
     * Bound on service names, all peers together.
     *
     * @param maxServices the bound (default 10,000).
     * @return this for a fluent API.
     */
    public C maxServices(final int maxServices)
    {
        this.maxServices = maxServices;
        return self();
    }

    /**
     * Bound on service names, all peers together.
     *
     * @return the bound.
     */
    public int maxServices()
    {
        return maxServices;
    }

    /**
     * Bound on the schema IR bytes the registry keeps, all services together.
     *
     * @param maxSchemaBytes the bound (default 64 MiB).
     * @return this for a fluent API.
     */
    public C maxSchemaBytes(final long maxSchemaBytes)
    {
        this.maxSchemaBytes = maxSchemaBytes;
        return self();
    }

    /**
     * Bound on the schema IR bytes the registry keeps.
     *
     * @return the bound in bytes.
     */
    public long maxSchemaBytes()
    {
        return maxSchemaBytes;
    }

    /**
     * Bound on the service instances one peer may hold (not the in-process gateway, which holds them for many
     * socket connections that the gateway bounds one by one); over it {@code INVALID_REQUEST}.
     *
     * @param maxServicesPerPeer the bound (default 1,000).
     * @return this for a fluent API.
     */
    public C maxServicesPerPeer(final int maxServicesPerPeer)
    {
        this.maxServicesPerPeer = maxServicesPerPeer;
        return self();
    }

    /**
     * Bound on the service instances one peer may hold.
     *
     * @return the bound.
     */
    public int maxServicesPerPeer()
    {
        return maxServicesPerPeer;
    }

    /**
     * Bound on the schema IR bytes charged to one peer (each instance is charged its service's IR); over it
     * {@code PAYLOAD_TOO_LARGE}.
     *
     * @param maxSchemaBytesPerPeer the bound (default 16 MiB).
     * @return this for a fluent API.
     */
    public C maxSchemaBytesPerPeer(final long maxSchemaBytesPerPeer)
    {
        this.maxSchemaBytesPerPeer = maxSchemaBytesPerPeer;
        return self();
    }

    /**
     * Bound on the schema IR bytes charged to one peer.
     *
     * @return the bound in bytes.
     */
    public long maxSchemaBytesPerPeer()
    {
        return maxSchemaBytesPerPeer;
    }

    /**
     * Bound on the subscription patterns one peer may hold; over it {@code INVALID_REQUEST}.
     *
     * @param maxPatternsPerPeer the bound (default 10,000).
     * @return this for a fluent API.
     */
    public C maxPatternsPerPeer(final int maxPatternsPerPeer)
    {
        this.maxPatternsPerPeer = maxPatternsPerPeer;
        return self();
    }

    /**
     * Bound on the subscription patterns one peer may hold.
     *
     * @return the bound.
     */
    public int maxPatternsPerPeer()
    {
        return maxPatternsPerPeer;
    }

    /**
     * Bound on the subjects that hold a retained value; a retain of one more subject is refused
     * {@code PAYLOAD_TOO_LARGE}, neither kept nor published, and nothing retained is evicted.
     *
     * @param maxRetainedSubjects the bound (default 100,000; 0 refuses every retain).
     * @return this for a fluent API.
     */
    public C maxRetainedSubjects(final int maxRetainedSubjects)
    {
        this.maxRetainedSubjects = maxRetainedSubjects;
        return self();
    }

    /**
     * Bound on the subjects that hold a retained value.
     *
     * @return the bound.
     */
    public int maxRetainedSubjects()
    {
        return maxRetainedSubjects;
    }

    /**
     * Bound on the bytes of retained values, all subjects together: each counts its payload, subject, message type
     * and a fixed overhead. A retain that would pass it is refused {@code PAYLOAD_TOO_LARGE}, neither kept nor
     * published, and nothing retained is evicted.
     *
     * @param maxRetainedBytes the bound in bytes (default 64 MiB; 0 refuses every retain).
     * @return this for a fluent API.
     */
    public C maxRetainedBytes(final long maxRetainedBytes)
    {
        this.maxRetainedBytes = maxRetainedBytes;
        return self();
    }

    /**
     * Bound on the bytes of retained values.
     *
     * @return the bound in bytes.
     */
    public long maxRetainedBytes()
    {
        return maxRetainedBytes;
    }

    /**
     * Check the bounds; called by {@link BrokerContext#conclude()}.
     */
    final void concludeLimits()
    {
        if (controlConnectTimeoutMs <= 0)
        {
            throw new IllegalArgumentException("control connect timeout: expected > 0 ms, actual=" +
                controlConnectTimeoutMs);
        }
        if (maxControlMessageLength < MIN_CONTROL_MESSAGE_LENGTH ||
            maxControlMessageLength > Configuration.MAX_CONTROL_MESSAGE_LENGTH)
        {
            throw new IllegalArgumentException("max control message length: expected " +
                MIN_CONTROL_MESSAGE_LENGTH + ".." + Configuration.MAX_CONTROL_MESSAGE_LENGTH + " bytes, actual=" +
                maxControlMessageLength);
        }
        if (maxServices <= 0 || maxServicesPerPeer <= 0 || maxPatternsPerPeer <= 0 || maxSchemaBytes < 0 ||
            maxSchemaBytesPerPeer < 0)
        {
            throw new IllegalArgumentException("registry limits: expected services, services per peer and " +
                "patterns per peer > 0 and schema bytes >= 0, actual=" + maxServices + ", " + maxServicesPerPeer +
                ", " + maxPatternsPerPeer + ", " + maxSchemaBytes + ", " + maxSchemaBytesPerPeer);
        }
        if (maxRetainedSubjects < 0 || maxRetainedBytes < 0)
        {
            throw new IllegalArgumentException("retained limits: expected subjects >= 0 and bytes >= 0, actual=" +
                maxRetainedSubjects + ", " + maxRetainedBytes);
        }
    }

    /**
     * This context as its concrete type.
     *
     * @return this.
     */
    @SuppressWarnings("unchecked")
    final C self()
    {
        return (C)this;
    }
}
