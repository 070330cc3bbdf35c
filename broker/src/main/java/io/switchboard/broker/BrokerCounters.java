package io.switchboard.broker;

/**
 * Type ids of the broker's counters in the media driver's counters file (peers use
 * {@code ClientCounters.TYPE_ID_BASE} and up).
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

    private BrokerCounters()
    {
    }
}
