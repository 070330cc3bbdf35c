package io.switchboard.broker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Decides, by the conductor's clock, which peers are to be dropped for silence and which connections for not
 * sending Connect in time, and tells a pause of the broker from silence of the peers.
 * <p>
 * A peer is silent when nothing was read from it for more than the liveness timeout; peers in the broker's own
 * process (the gateway's client) are never dropped for silence: they pause when the broker pauses. A duty cycle
 * that starts more than half the liveness timeout after the previous one ended means that <i>we</i> were not
 * running (SIGSTOP, a suspended machine, starvation): every peer's liveness period, and every unconnected
 * connection's connect period, then starts again instead of the peers being dropped for our own silence. Half the
 * timeout is far beyond any duty cycle (the idle strategy parks for 1 ms at most) and still leaves the other half
 * for a peer's heartbeat to arrive before anyone is judged.
 * <p>
 * It decides only; the {@link BrokerConductor} counts, logs, answers and closes.
 * <p>
 * Not thread-safe: used on the broker's conductor thread only.
 */
final class PeerLiveness
{
    /** Connect deadlines are looked at this often, not every duty cycle. */
    static final long CONNECT_TIMEOUT_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final long livenessTimeoutNs;
    private final long pauseThresholdNs;
    private final long connectTimeoutNs;
    private final List<ClientSession> unconnected = new ArrayList<>();
    private long lastDutyCycleNs;
    private long nextConnectTimeoutCheckNs;

    /**
     * A tracker whose first duty cycle counts from now.
     *
     * @param livenessTimeoutNs of silence after which a peer is dropped.
     * @param connectTimeoutNs within which a new connection must send Connect.
     * @param nowNs the conductor's clock now.
     */
    PeerLiveness(final long livenessTimeoutNs, final long connectTimeoutNs, final long nowNs)
    {
        this.livenessTimeoutNs = livenessTimeoutNs;
        this.pauseThresholdNs = livenessTimeoutNs / 2;
        this.connectTimeoutNs = connectTimeoutNs;
        this.lastDutyCycleNs = nowNs;
        this.nextConnectTimeoutCheckNs = nowNs;
    }

    /**
     * A connection was accepted: it has the connect timeout to send Connect.
     *
     * @param session of the connection, its accepted time set.
     */
    void onAccepted(final ClientSession session)
    {
        unconnected.add(session);
    }

    /**
     * A duty cycle starts. If the previous one ended too long ago, the broker was paused: every peer's liveness
     * period and every connection's connect period start again now.
     *
     * @param nowNs the conductor's clock now.
     * @param sessions of the connected peers.
     * @return the length of the pause, or 0 if there was none.
     */
    long onDutyCycleStart(final long nowNs, final Collection<ClientSession> sessions)
    {
        final long gapNs = nowNs - lastDutyCycleNs;
        lastDutyCycleNs = nowNs;
        if (gapNs <= pauseThresholdNs)
        {
            return 0;
        }
        for (final ClientSession session : sessions)
        {
            session.lastSeenNs = nowNs;
        }
        for (int i = 0, size = unconnected.size(); i < size; i++)
        {
            unconnected.get(i).acceptedNs = nowNs;
        }
        return gapNs;
    }

    /**
     * A duty cycle ended; what it did (opening an Aeron client may block) is not a pause of the process.
     *
     * @param nowNs the conductor's clock now.
     */
    void onDutyCycleEnd(final long nowNs)
    {
        lastDutyCycleNs = nowNs;
    }

    /**
     * The peers silent for longer than the liveness timeout, in-process peers excepted.
     *
     * @param nowNs the conductor's clock now.
     * @param sessions of the connected peers.
     * @param silent to which each silent peer is added.
     * @return the number of peers added.
     */
    int collectSilent(final long nowNs, final Collection<ClientSession> sessions, final List<ClientSession> silent)
    {
        int found = 0;
        for (final ClientSession session : sessions)
        {
            if (!session.inProcess && nowNs - session.lastSeenNs > livenessTimeoutNs)
            {
                silent.add(session);
                found++;
            }
        }
        return found;
    }

    /**
     * The connections that did not send Connect within the connect timeout, no longer tracked once returned;
     * connections that connected or closed are forgotten. Looked at once per check interval.
     *
     * @param nowNs the conductor's clock now.
     * @param timedOut to which each connection out of time is added.
     * @return the number of connections added.
     */
    int collectConnectTimeouts(final long nowNs, final List<ClientSession> timedOut)
    {
        if (nowNs - nextConnectTimeoutCheckNs < 0)
        {
            return 0;
        }
        nextConnectTimeoutCheckNs = nowNs + CONNECT_TIMEOUT_CHECK_INTERVAL_NS;
        int found = 0;
        for (int i = unconnected.size() - 1; i >= 0; i--)
        {
            final ClientSession session = unconnected.get(i);
            if (session.connected || session.connection.isClosed())
            {
                remove(i);
            }
            else if (nowNs - session.acceptedNs > connectTimeoutNs)
            {
                remove(i);
                timedOut.add(session);
                found++;
            }
        }
        return found;
    }

    /**
     * Close every connection that has not sent Connect, and forget them: the broker is closing.
     */
    void closeUnconnected()
    {
        for (int i = 0, size = unconnected.size(); i < size; i++)
        {
            unconnected.get(i).connection.close();
        }
        unconnected.clear();
    }

    /**
     * How many connections have not yet sent Connect (or were not yet found to have).
     *
     * @return the number tracked.
     */
    int unconnectedCount()
    {
        return unconnected.size();
    }

    private void remove(final int index)
    {
        final int last = unconnected.size() - 1;
        unconnected.set(index, unconnected.get(last));
        unconnected.remove(last);
    }
}
