package io.switchboard.broker;

import io.switchboard.transport.ControlConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Liveness, connect deadlines and pause detection by a clock the test sets, with no broker and no peer.
 */
class PeerLivenessTest
{
    private static final long LIVENESS_NS = TimeUnit.SECONDS.toNanos(10);
    private static final long CONNECT_NS = TimeUnit.SECONDS.toNanos(2);
    private static final long START_NS = 1_000_000_000L;

    private final PeerLiveness liveness = new PeerLiveness(LIVENESS_NS, CONNECT_NS, START_NS);
    private final List<ClientSession> sessions = new ArrayList<>();
    private final List<ClientSession> found = new ArrayList<>();
    private final List<ControlConnection> connections = new ArrayList<>();

    @AfterEach
    void close()
    {
        connections.forEach(ControlConnection::close);
    }

    @Test
    void shouldDropAPeerSilentForLongerThanTheTimeoutButNeverAnInProcessOne()
    {
        final ClientSession talking = connected(START_NS);
        final ClientSession silent = connected(START_NS);
        final ClientSession inProcess = connected(START_NS);
        inProcess.inProcess = true;

        long nowNs = START_NS;
        for (int i = 0; i < 11; i++) // duty cycles 1 s apart: no pause
        {
            nowNs += TimeUnit.SECONDS.toNanos(1);
            assertEquals(0, liveness.onDutyCycleStart(nowNs, sessions));
            talking.lastSeenNs = nowNs;
            if (i < 10)
            {
                assertEquals(0, liveness.collectSilent(nowNs, sessions, found), "at " + (i + 1) + " s");
            }
            liveness.onDutyCycleEnd(nowNs);
        }

        assertEquals(1, liveness.collectSilent(nowNs, sessions, found));
        assertEquals(List.of(silent), found);
    }

    @Test
    void shouldTakeAGapOfMoreThanHalfTheTimeoutForAPauseOfTheBrokerAndRestartEveryPeersPeriod()
    {
        final ClientSession peer = connected(START_NS);
        final ClientSession unconnected = accepted(START_NS);

        final long justUnderNs = START_NS + LIVENESS_NS / 2;
        assertEquals(0, liveness.onDutyCycleStart(justUnderNs, sessions), "half the timeout is no pause");
        liveness.onDutyCycleEnd(justUnderNs);

        final long afterPauseNs = justUnderNs + LIVENESS_NS * 3; // stopped for 30 s
        assertEquals(LIVENESS_NS * 3, liveness.onDutyCycleStart(afterPauseNs, sessions));
        assertEquals(afterPauseNs, peer.lastSeenNs);
        assertEquals(afterPauseNs, unconnected.acceptedNs);
        assertEquals(0, liveness.collectSilent(afterPauseNs, sessions, found), "our silence is not theirs");
        assertEquals(0, liveness.collectConnectTimeouts(afterPauseNs, found));
    }

    @Test
    void shouldNotCountTheDutyCycleItselfAsAPause()
    {
        connected(START_NS);
        final long startNs = START_NS + 1_000;
        assertEquals(0, liveness.onDutyCycleStart(startNs, sessions));
        final long endNs = startNs + LIVENESS_NS; // the cycle itself took long (opening an Aeron client)
        liveness.onDutyCycleEnd(endNs);
        assertEquals(0, liveness.onDutyCycleStart(endNs + 1_000, sessions));
    }

    @Test
    void shouldTimeOutAConnectionThatSendsNoConnectAndForgetConnectedOrClosedOnes()
    {
        final ClientSession late = accepted(START_NS);
        final ClientSession connectedInTime = accepted(START_NS);
        final ClientSession closed = accepted(START_NS);
        connectedInTime.connected = true;
        closed.connection.close();

        assertEquals(0, liveness.collectConnectTimeouts(START_NS + CONNECT_NS, found), "at the deadline: in time");
        assertEquals(1, liveness.unconnectedCount(), "connected and closed ones forgotten");

        final long pastNs = START_NS + CONNECT_NS + PeerLiveness.CONNECT_TIMEOUT_CHECK_INTERVAL_NS;
        assertEquals(1, liveness.collectConnectTimeouts(pastNs, found));
        assertEquals(List.of(late), found);
        assertEquals(0, liveness.unconnectedCount());
    }

    @Test
    void shouldLookAtConnectDeadlinesOncePerCheckInterval()
    {
        final ClientSession late = accepted(START_NS);
        final long atDeadlineNs = START_NS + CONNECT_NS;
        assertEquals(0, liveness.collectConnectTimeouts(atDeadlineNs, found), "at the deadline: in time");

        final long halfIntervalNs = PeerLiveness.CONNECT_TIMEOUT_CHECK_INTERVAL_NS / 2;
        assertEquals(0, liveness.collectConnectTimeouts(atDeadlineNs + halfIntervalNs, found),
            "late, but not looked at again within the check interval");
        assertEquals(1, liveness.collectConnectTimeouts(
            atDeadlineNs + PeerLiveness.CONNECT_TIMEOUT_CHECK_INTERVAL_NS, found));
        assertEquals(List.of(late), found);
    }

    @Test
    void shouldCloseEveryUnconnectedConnectionOnClose()
    {
        final ClientSession a = accepted(START_NS);
        final ClientSession b = accepted(START_NS);
        liveness.closeUnconnected();
        assertTrue(a.connection.isClosed());
        assertTrue(b.connection.isClosed());
        assertEquals(0, liveness.unconnectedCount());
    }

    private ClientSession connected(final long nowNs)
    {
        final ClientSession session = new ClientSession(null, nowNs);
        session.connected = true;
        sessions.add(session);
        return session;
    }

    private ClientSession accepted(final long nowNs)
    {
        try
        {
            final ControlConnection connection =
                new ControlConnection(SocketChannel.open(StandardProtocolFamily.UNIX), 1024);
            connections.add(connection);
            final ClientSession session = new ClientSession(connection, nowNs);
            liveness.onAccepted(session);
            return session;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
