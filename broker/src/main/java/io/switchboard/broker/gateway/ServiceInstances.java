package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.switchboard.transport.RouteTable;

import java.util.List;
import java.util.function.IntSupplier;

/**
 * Counts and describes a service's instances the one way DISCOVER, STATS and {@code switchboard services} share:
 * every broker instance counts one, except the gateway's own, which stands for the socket connections serving the
 * name and counts as many as they are. The instances are those of the gateway client's {@link RouteTable}, the one
 * its requests are routed by: a service counted here is a service a request reaches.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class ServiceInstances
{
    /** The path of an instance served by a Java peer over shared memory. */
    static final String SHARED_MEMORY = "shared-memory";
    /** The path of an instance served by a socket connection through the gateway. */
    static final String SOCKET = "socket";

    private final SocketServices socketServices;
    private final IntSupplier gatewayClientId;

    /**
     * @param socketServices the names socket connections serve.
     * @param gatewayClientId supplies the client id of the gateway's own Java client (it changes on a reconnect).
     */
    ServiceInstances(final SocketServices socketServices, final IntSupplier gatewayClientId)
    {
        this.socketServices = socketServices;
        this.gatewayClientId = gatewayClientId;
    }

    /**
     * How many instances serve a service.
     *
     * @param service as the gateway client's route table has it.
     * @return Java instances plus serving socket connections.
     */
    int count(final RouteTable.Route service)
    {
        final int gateway = gatewayClientId.getAsInt();
        int count = 0;
        for (final RouteTable.Instance instance : service.instances())
        {
            count += instance.clientId() == gateway ? socketServices.owners(service.name()).size() : 1;
        }
        return count;
    }

    /**
     * The path of every instance of a service: {@code shared-memory}, {@code socket} or {@code mixed}.
     *
     * @param service as the gateway client's route table has it.
     * @return the path.
     */
    String path(final RouteTable.Route service)
    {
        final int gateway = gatewayClientId.getAsInt();
        boolean socket = false;
        boolean java = false;
        for (final RouteTable.Instance instance : service.instances())
        {
            if (instance.clientId() == gateway)
            {
                // the gateway's instance counts only while a connection serves the name (as in count): after the
                // last one leaves, the broker withdraws it a round trip later
                socket |= !socketServices.owners(service.name()).isEmpty();
            }
            else
            {
                java = true;
            }
        }
        return socket && java ? "mixed" : socket ? SOCKET : SHARED_MEMORY;
    }

    /**
     * Describe each instance, in the order requests go round: {@code {path: "shared-memory", client_id, peer, pid}}
     * for a Java peer (name and pid as the peer gave them), {@code {path: "socket", connection}} for a connection.
     *
     * @param service as the gateway client's route table has it.
     * @param into the array to add one object per instance to.
     */
    void describe(final RouteTable.Route service, final ArrayNode into)
    {
        final int gateway = gatewayClientId.getAsInt();
        for (final RouteTable.Instance instance : service.instances())
        {
            if (instance.clientId() == gateway)
            {
                final List<GatewaySession> owners = socketServices.owners(service.name());
                for (int i = 0; i < owners.size(); i++)
                {
                    into.addObject().put("path", SOCKET).put("connection", owners.get(i).id);
                }
            }
            else
            {
                into.addObject()
                    .put("path", SHARED_MEMORY)
                    .put("client_id", instance.clientId())
                    .put("peer", instance.peerName())
                    .put("pid", instance.pid());
            }
        }
    }
}
