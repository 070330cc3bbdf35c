package io.switchboard.broker;

import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.transport.ControlConnection;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

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
    long acceptedNs;
    boolean connected;
    /** Runs in the broker's own process (the gateway's client, in-process plugins): paused with the broker. */
    boolean inProcess;
    /** Asked at Connect for every schema the broker holds (SchemaUpdate), as the gateway does to transcode. */
    boolean wantsSchemas;
    /** Whether this connection's abuse was logged already: it is logged once and counted always. */
    boolean abuseLogged;

    /** Subscribes whose retained values are being sent, in order; each is acked when its last value is sent. */
    ArrayDeque<RetainedDelivery> retainedDeliveries;

    /**
     * The retained values owed to one Subscribe, sent as the peer's control socket drains.
     */
    static final class RetainedDelivery
    {
        final long correlationId;
        final SubjectPattern pattern;
        final List<String> subjects;
        int next;

        RetainedDelivery(final long correlationId, final SubjectPattern pattern, final List<String> subjects)
        {
            this.correlationId = correlationId;
            this.pattern = pattern;
            this.subjects = subjects;
        }
    }

    ClientSession(final ControlConnection connection, final long nowNs)
    {
        this.connection = connection;
        this.lastSeenNs = nowNs;
        this.acceptedNs = nowNs;
    }

    public String toString()
    {
        return "peer " + clientId + " (" + name + ", pid " + pid + ")";
    }
}
