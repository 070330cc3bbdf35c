package io.switchboard.broker;

import io.switchboard.transport.ControlConnection;

/**
 * The broker's state of one connected Java peer.
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
final class ClientSession
{
    final ControlConnection connection;
    int clientId;
    int inboxStreamId;
    long pid;
    String name = "";
    long lastSeenNs;
    boolean connected;

    ClientSession(final ControlConnection connection, final long nowNs)
    {
        this.connection = connection;
        this.lastSeenNs = nowNs;
    }

    public String toString()
    {
        return "peer " + clientId + " (" + name + ", pid " + pid + ")";
    }
}
