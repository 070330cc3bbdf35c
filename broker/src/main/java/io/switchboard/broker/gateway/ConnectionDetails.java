package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.util.List;

/**
 * STATS' {@code connections_detail}: one object per open socket connection, for {@code switchboard connections}:
 * {@code {id, user, group, pid, process, services, patterns, requests_in_flight, pushes_dropped, queued_bytes}}.
 * <p>
 * User and group are the kernel's (SO_PEERCRED, read now); the pid comes from {@link PeerPid} (SO_PEERCRED through
 * junixsocket) and is -1 when it cannot be read. Cold path: built only when STATS asks, on the gateway's duty cycle.
 */
final class ConnectionDetails
{
    private ConnectionDetails()
    {
    }

    static void put(final ArrayNode into, final List<GatewaySession> sessions, final SocketServices services)
    {
        for (final GatewaySession session : sessions)
        {
            if (session.closed)
            {
                continue;
            }
            final ObjectNode node = into.addObject().put("id", session.id);
            try
            {
                final UnixDomainPrincipal peer = session.channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
                node.put("user", peer.user().getName()).put("group", peer.group().getName());
            }
            catch (final java.io.IOException | RuntimeException ex)
            {
                node.putNull("user").putNull("group");
            }
            final long pid = PeerPid.of(session);
            node.put("pid", pid);
            node.put("process", PeerPid.processName(pid));
            final ArrayNode served = node.putArray("services");
            for (final String name : services.names())
            {
                if (services.owners(name).contains(session))
                {
                    served.add(name);
                }
            }
            final ArrayNode patterns = node.putArray("patterns");
            session.subscriptions.keySet().forEach(patterns::add);
            node.put("requests_in_flight", session.pendingByClientId.size())
                .put("pushes_dropped", session.pushesDropped)
                .put("queued_bytes", session.queuedBytes());
        }
    }
}
