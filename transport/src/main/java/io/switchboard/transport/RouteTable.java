package io.switchboard.transport;

import io.switchboard.codec.wire.ServiceMode;
import org.agrona.collections.Object2IntHashMap;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A peer's copy of the broker's service registry, kept current by route updates: where to send a request for a
 * service, and which message types it takes.
 * <p>
 * Not thread-safe: owned by the client conductor.
 */
final class RouteTable
{
    static final int UNKNOWN_TYPE = Integer.MIN_VALUE;

    /** One live instance of a service. */
    static final class Instance
    {
        final int clientId;
        final int inboxStreamId;

        Instance(final int clientId, final int inboxStreamId)
        {
            this.clientId = clientId;
            this.inboxStreamId = inboxStreamId;
        }
    }

    /** A service name and its instances. */
    static final class Route
    {
        final String name;
        final ServiceMode mode;
        final Object2IntHashMap<String> templateIdByType = new Object2IntHashMap<>(UNKNOWN_TYPE);
        final ArrayList<Instance> instances = new ArrayList<>();
        int nextIndex;

        Route(final String name, final ServiceMode mode)
        {
            this.name = name;
            this.mode = mode;
        }

        int templateId(final String messageType)
        {
            final int templateId = templateIdByType.getValue(messageType);
            return UNKNOWN_TYPE != templateId ?
                templateId : templateIdByType.getValue(ServiceDefinition.ANY_MESSAGE_TYPE);
        }

        Instance next()
        {
            final int size = instances.size();
            if (0 == size)
            {
                return null;
            }
            if (nextIndex >= size)
            {
                nextIndex = 0;
            }
            return instances.get(nextIndex++);
        }
    }

    private final HashMap<String, Route> routes = new HashMap<>();

    Route get(final String service)
    {
        return routes.get(service);
    }

    void add(final String service, final ServiceMode mode, final int clientId, final int inboxStreamId,
        final Map<String, Integer> messageTypes)
    {
        Route route = routes.get(service);
        if (null == route)
        {
            route = new Route(service, mode);
            routes.put(service, route);
        }
        for (final Map.Entry<String, Integer> e : messageTypes.entrySet())
        {
            route.templateIdByType.put(e.getKey(), e.getValue().intValue());
        }
        for (final Instance instance : route.instances)
        {
            if (instance.clientId == clientId)
            {
                return;
            }
        }
        route.instances.add(new Instance(clientId, inboxStreamId));
    }

    void remove(final String service, final int clientId)
    {
        final Route route = routes.get(service);
        if (null != route)
        {
            route.instances.removeIf((instance) -> instance.clientId == clientId);
            if (route.instances.isEmpty())
            {
                routes.remove(service);
            }
        }
    }

    void removeClient(final int clientId)
    {
        final Iterator<Route> it = routes.values().iterator();
        while (it.hasNext())
        {
            final Route route = it.next();
            route.instances.removeIf((instance) -> instance.clientId == clientId);
            if (route.instances.isEmpty())
            {
                it.remove();
            }
        }
    }

    void clear()
    {
        routes.clear();
    }

    int size()
    {
        return routes.size();
    }
}
