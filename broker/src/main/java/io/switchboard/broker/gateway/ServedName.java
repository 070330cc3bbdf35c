package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameFormat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A name socket connections serve through the gateway: its types, its schema when joined from Java peers' SBE, the
 * connections serving it in round-robin order, and the REGISTER frames that wait for the broker's answer to the
 * gateway's own registration of it (the gateway never waits for that answer on its duty cycle).
 * <p>
 * Not thread-safe: owned by {@link SocketServices} on the gateway's duty cycle.
 */
final class ServedName
{
    /** A REGISTER frame waiting for the broker's answer. */
    static final class Waiting
    {
        final GatewaySession session;
        final FrameFormat format;
        final String correlationId;

        Waiting(final GatewaySession session, final FrameFormat format, final String correlationId)
        {
            this.session = session;
            this.format = format;
            this.correlationId = correlationId;
        }
    }

    final String name;
    final boolean shared;
    final Set<String> messageTypes;
    final SchemaReplies schema; // null when the name is opaque JSON
    final List<GatewaySession> owners = new ArrayList<>();
    /** REGISTER frames answered when the broker's answer to the gateway's own register arrives. */
    final List<Waiting> waiting = new ArrayList<>();
    /** Whether the broker accepted the gateway's registration of the name. */
    boolean registered;
    private int next;

    ServedName(final String name, final boolean shared, final Set<String> messageTypes, final SchemaReplies schema)
    {
        this.name = name;
        this.shared = shared;
        this.messageTypes = messageTypes;
        this.schema = schema;
    }

    GatewaySession nextOwner()
    {
        if (owners.isEmpty())
        {
            return null;
        }
        if (next >= owners.size())
        {
            next = 0;
        }
        return owners.get(next++);
    }
}
