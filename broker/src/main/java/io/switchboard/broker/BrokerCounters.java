package io.switchboard.broker;

import io.aeron.Aeron;
import io.aeron.Counter;

/**
 * The broker's counters: their type ids in the media driver's counters file (peers use
 * {@code ClientCounters.TYPE_ID_BASE} and up), and their values.
 * <p>
 * The values live in this object; the counters in the driver's file are a mirror of them, written through when a
 * broker's Aeron client is attached. A pause longer than the driver's timeouts closes that client (the driver times
 * it out, or the client finds its own service interval exceeded) and unmaps the counters file: from then on the
 * old {@link Counter}s point at memory that may be gone, so they are never touched again ({@link #detach()}), and the
 * values are carried over to the counters of the next client ({@link #attach(Aeron)}).
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}'s thread, the same thread that drives the Aeron client.
 */
public final class BrokerCounters
{
    /** Java peers connected now. */
    public static final int PEERS_CONNECTED = 7400;
    /** Java peers that closed or died since start. */
    public static final int PEERS_GONE = 7401;
    /** Peers dropped because they stopped heartbeating while their socket stayed open. */
    public static final int LIVENESS_TIMEOUTS = 7402;
    /** Service names registered now. */
    public static final int SERVICES = 7403;
    /** Control requests refused or malformed. */
    public static final int CONTROL_ERRORS = 7404;
    /** Control connections closed because they did not send Connect in time. */
    public static final int CONNECT_TIMEOUTS = 7405;
    /** Control messages refused for being longer than the maximum, before any buffer was grown for them. */
    public static final int OVERSIZE_CONTROL_MESSAGES = 7406;
    /** Registrations and subscriptions refused because the peer reached its own limit. */
    public static final int PEER_LIMIT_REFUSALS = 7407;
    /** Duty-cycle gaps long enough to say the broker itself was not running (SIGSTOP, a suspended machine). */
    public static final int PAUSES = 7408;
    /** Times the broker's Aeron client was found closed and opened again. */
    public static final int AERON_CLIENT_REOPENS = 7409;
    /** Subjects holding a retained value now. */
    public static final int RETAINED_SUBJECTS = 7410;
    /** Bytes the retained values are counted for now. */
    public static final int RETAINED_BYTES = 7411;
    /** Retains refused because the store would pass its bound in subjects or bytes. */
    public static final int RETAINS_REFUSED = 7412;
    /** Retained values sent to new subscriptions. */
    public static final int RETAINED_SENT = 7413;

    private static final int FIRST = PEERS_CONNECTED;
    private static final String[] LABELS =
    {
        "sb-broker peers connected",
        "sb-broker peers gone",
        "sb-broker liveness timeouts",
        "sb-broker services",
        "sb-broker control errors",
        "sb-broker connect timeouts",
        "sb-broker oversize control messages",
        "sb-broker per-peer limit refusals",
        "sb-broker pauses",
        "sb-broker aeron client reopens",
        "sb-broker retained subjects",
        "sb-broker retained bytes",
        "sb-broker retains refused",
        "sb-broker retained sent",
    };

    private final long[] values = new long[LABELS.length];
    private final Counter[] counters = new Counter[LABELS.length];
    private boolean attached;

    /**
     * Add one to a counter.
     *
     * @param typeId of the counter, one of the constants of this class.
     */
    public void increment(final int typeId)
    {
        add(typeId, 1);
    }

    /**
     * Add to a counter.
     *
     * @param typeId of the counter, one of the constants of this class.
     * @param delta to add.
     */
    public void add(final int typeId, final long delta)
    {
        set(typeId, values[typeId - FIRST] + delta);
    }

    /**
     * Set a counter.
     *
     * @param typeId of the counter, one of the constants of this class.
     * @param value to set.
     */
    public void set(final int typeId, final long value)
    {
        final int i = typeId - FIRST;
        values[i] = value;
        if (attached)
        {
            counters[i].setRelease(value);
        }
    }

    /**
     * The value of a counter.
     *
     * @param typeId of the counter, one of the constants of this class.
     * @return its value.
     */
    public long get(final int typeId)
    {
        return values[typeId - FIRST];
    }

    /**
     * Allocate the counters in the driver's counters file through this client and write the values into them.
     *
     * @param aeron an open client, driven by the calling thread.
     */
    void attach(final Aeron aeron)
    {
        detach();
        for (int i = 0; i < LABELS.length; i++)
        {
            counters[i] = aeron.addCounter(FIRST + i, LABELS[i]);
            counters[i].setRelease(values[i]);
        }
        attached = true;
    }

    /**
     * Whether the client that allocated the counters has closed them (a timeout, a pause): they must not be written.
     *
     * @return true if attached and the counters were closed under us.
     */
    boolean wereClosedUnderUs()
    {
        return attached && counters[0].isClosed();
    }

    /**
     * Forget the counters without touching them: their memory may have been unmapped with the client that made them.
     */
    void detach()
    {
        attached = false;
        java.util.Arrays.fill(counters, null);
    }

    /**
     * Counter type ids in order, for tests and tools.
     *
     * @return the number of counters.
     */
    static int count()
    {
        return LABELS.length;
    }
}
