package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.switchboard.broker.view.RegistrySnapshot;

import java.util.List;
import java.util.function.IntSupplier;

/**
 * Counts and describes a service's instances the one way DISCOVER, STATS and {@code switchboard services} share:
 * every broker instance counts one, except the gateway's own, which stands for the socket connections serving the
 * name and counts as many as they are.
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
     * @param service as the latest registry snapshot has it.
     * @return Java instances plus serving socket connections.
     */
    int count(final RegistrySnapshot.ServiceView service)
    {
        final int gateway = gatewayClientId.getAsInt();
        int count = 0;
        for (final RegistrySnapshot.InstanceView instance : service.instanceViews())
        {
            count += instance.clientId() == gateway ? socketServices.owners(service.name()).size() : 1;
        }
        return count;
    }

    /**
     * The path of every instance of a service: {@code shared-memory}, {@code socket} or {@code mixed}.
     *
     * @param service as the latest registry snapshot has it.
     * @return the path.
     */
    String path(final RegistrySnapshot.ServiceView service)
    {
        final int gateway = gatewayClientId.getAsInt();
        boolean socket = false;
        boolean java = false;
        for (final RegistrySnapshot.InstanceView instance : service.instanceViews())
        {
            if (instance.clientId() == gateway)
            {
                socket = true;
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
     * @param service as the latest registry snapshot has it.
     * @param into the array to add one object per instance to.
     */
    void describe(final RegistrySnapshot.ServiceView service, final ArrayNode into)
    {
        final int gateway = gatewayClientId.getAsInt();
        for (final RegistrySnapshot.InstanceView instance : service.instanceViews())
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
