package io.switchboard.transport;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.RouteUpdateDecoder;
import io.switchboard.codec.wire.SchemaUpdateDecoder;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Object2IntHashMap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A peer's copy of the broker's service registry, kept current by the route updates and schema updates of the
 * control stream, and nothing else: where to send a request for a service and which message types it takes (the
 * routing), and who serves each instance and with which schema (the discovery). One view for both, so that a
 * service listed is a service a request is routed to.
 * <p>
 * Schemas are kept only when the client asked for them ({@link ClientContext#maxSchemaBytes(long)}), by SBE schema id
 * and version, within that bound in bytes.
 * <p>
 * Not thread-safe: written by the client's conductor (its control adapter) and read with the client lock held or,
 * in invoker mode, on the thread that polls the client (the gateway reads it on its own duty cycle that way).
 */
public final class RouteTable
{
    static final int UNKNOWN_TYPE = Integer.MIN_VALUE;

    /** One live instance of a service: the peer that serves it. */
    public static final class Instance
    {
        final int clientId;
        final int inboxStreamId;
        final long pid;
        final String peerName;
        final boolean inProcess;

        Instance(final int clientId, final int inboxStreamId, final long pid, final String peerName,
            final boolean inProcess)
        {
            this.clientId = clientId;
            this.inboxStreamId = inboxStreamId;
            this.pid = pid;
            this.peerName = peerName;
            this.inProcess = inProcess;
        }

        /**
         * Client id of the serving peer.
         *
         * @return the client id.
         */
        public int clientId()
        {
            return clientId;
        }

        /**
         * Process id the serving peer claimed at Connect (its own word).
         *
         * @return the pid.
         */
        public long pid()
        {
            return pid;
        }

        /**
         * Name the serving peer gave itself at Connect.
         *
         * @return the name, empty when none.
         */
        public String peerName()
        {
            return peerName;
        }

        /**
         * Whether the serving peer is the broker's own gateway, serving for socket connections.
         *
         * @return true for the gateway.
         */
        public boolean inProcess()
        {
            return inProcess;
        }
    }

    /** A service name, its message types, its schema and its instances. */
    public static final class Route
    {
        final String name;
        final ServiceMode mode;
        final Object2IntHashMap<String> templateIdByType = new Object2IntHashMap<>(UNKNOWN_TYPE);
        final Map<String, Integer> messageTypes = new LinkedHashMap<>();
        final ArrayList<Instance> instances = new ArrayList<>();
        int schemaId = -1;
        int schemaVersion = -1;
        int nextIndex;

        Route(final String name, final ServiceMode mode)
        {
            this.name = name;
            this.mode = mode;
        }

        /**
         * Name of the service.
         *
         * @return the name.
         */
        public String name()
        {
            return name;
        }

        /**
         * How the name is held.
         *
         * @return the mode.
         */
        public ServiceMode mode()
        {
            return mode;
        }

        /**
         * Message type names with their SBE template ids (-1 for opaque JSON), in the order the broker gave them.
         *
         * @return the message types, unmodifiable.
         */
        public Map<String, Integer> messageTypes()
        {
            return Collections.unmodifiableMap(messageTypes);
        }

        /**
         * The template id a message type is sent with, the catch-all type's if the service takes any.
         *
         * @param messageType name of the type.
         * @return the template id (-1 for opaque), or {@link Integer#MIN_VALUE} if the service does not take it.
         */
        public int templateId(final String messageType)
        {
            final int templateId = templateIdByType.getValue(messageType);
            return UNKNOWN_TYPE != templateId ?
                templateId : templateIdByType.getValue(ServiceDefinition.ANY_MESSAGE_TYPE);
        }

        /**
         * SBE schema id of the service's IR.
         *
         * @return the schema id, -1 when the service has no schema.
         */
        public int schemaId()
        {
            return schemaId;
        }

        /**
         * SBE schema version of the service's IR.
         *
         * @return the version, -1 when the service has no schema.
         */
        public int schemaVersion()
        {
            return schemaVersion;
        }

        /**
         * The live instances, in the order requests go round.
         *
         * @return the instances, unmodifiable.
         */
        public List<Instance> instances()
        {
            return Collections.unmodifiableList(instances);
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
    private final Int2ObjectHashMap<byte[]> schemaIrByKey = new Int2ObjectHashMap<>();
    private final long maxSchemaBytes;
    private long schemaBytes;
    private long schemasRefused;

    /**
     * An empty table.
     *
     * @param maxSchemaBytes bound on the schema IR bytes kept, 0 to keep none.
     */
    public RouteTable(final long maxSchemaBytes)
    {
        this.maxSchemaBytes = maxSchemaBytes;
    }

    /**
     * Look a service up.
     *
     * @param service name of the service.
     * @return its route, or null when no instance is live.
     */
    public Route route(final String service)
    {
        return routes.get(service);
    }

    Route get(final String service)
    {
        return routes.get(service);
    }

    /**
     * Every service with at least one live instance, in no order.
     *
     * @return the routes, unmodifiable.
     */
    public Collection<Route> routes()
    {
        return Collections.unmodifiableCollection(routes.values());
    }

    /**
     * The schema IR with an SBE schema id and version, as the broker sent it (declared by a publisher or handed over
     * with a service): the schema of a typed publication read by the id and version in its own SBE header.
     *
     * @param schemaId of the schema.
     * @param version of the schema.
     * @return the encoded IR, or null when not known (or not kept).
     */
    public byte[] schemaIr(final int schemaId, final int version)
    {
        return schemaIrByKey.get(schemaKey(schemaId, version));
    }

    /**
     * The schema IR of a service, or null when it has none (or it was not kept).
     *
     * @param route of the service.
     * @return the encoded IR, or null.
     */
    public byte[] schemaIr(final Route route)
    {
        return route.schemaId < 0 ? null : schemaIr(route.schemaId, route.schemaVersion);
    }

    /**
     * Schema IR bytes kept now.
     *
     * @return the bytes.
     */
    public long schemaBytes()
    {
        return schemaBytes;
    }

    /**
     * Schemas not kept because they would pass the bound in bytes.
     *
     * @return the count since the client started.
     */
    public long schemasRefused()
    {
        return schemasRefused;
    }

    /**
     * Apply a route update from the broker. Called by the client's control adapter; public so that what reads the
     * table (the gateway) can be tested with encoded updates and no broker.
     *
     * @param decoder wrapped around the update.
     * @return true for an added instance, false for a removed one.
     */
    public boolean onRouteUpdate(final RouteUpdateDecoder decoder)
    {
        final RouteAction action = decoder.action();
        final int peerId = decoder.clientId();
        final int peerInboxStreamId = decoder.inboxStreamId();
        final ServiceMode mode = decoder.mode();
        final long pid = decoder.pid();
        final boolean inProcess = BooleanType.TRUE == decoder.inProcess();
        final int schemaId = decoder.schemaId();
        final int schemaVersion = decoder.schemaVersion();
        final Map<String, Integer> types = new LinkedHashMap<>();
        for (final RouteUpdateDecoder.MessageTypesDecoder t : decoder.messageTypes())
        {
            final int templateId = t.templateId();
            types.put(t.name(), templateId);
        }
        final String service = decoder.service();
        final String peerName = decoder.peerName();
        if (RouteAction.ADD == action)
        {
            add(service, mode, new Instance(peerId, peerInboxStreamId, pid, peerName, inProcess), types, schemaId,
                schemaVersion);
            return true;
        }
        remove(service, peerId);
        return false;
    }

    /**
     * Apply a schema update from the broker: keep the schema within the bound, or forget it. Public for the same
     * reason as {@link #onRouteUpdate}.
     *
     * @param decoder wrapped around the update.
     * @return null when applied, else why the schema was not kept.
     */
    public String onSchemaUpdate(final SchemaUpdateDecoder decoder)
    {
        final RouteAction action = decoder.action();
        final int schemaId = decoder.schemaId();
        final int schemaVersion = decoder.schemaVersion();
        if (RouteAction.ADD != action)
        {
            removeSchema(schemaId, schemaVersion);
            return null;
        }
        final byte[] ir = new byte[decoder.schemaIrLength()];
        decoder.getSchemaIr(ir, 0, ir.length);
        return putSchema(schemaId, schemaVersion, ir);
    }

    static int schemaKey(final int schemaId, final int version)
    {
        return ((schemaId & 0xFFFF) << 16) | (version & 0xFFFF);
    }

    /**
     * Keep a schema the broker holds, within the bound.
     *
     * @return null if kept, else why not (naming the bound, held and offered bytes).
     */
    String putSchema(final int schemaId, final int version, final byte[] ir)
    {
        final int key = schemaKey(schemaId, version);
        final byte[] previous = schemaIrByKey.get(key);
        final long held = schemaBytes - (null == previous ? 0 : previous.length);
        if (held + ir.length > maxSchemaBytes)
        {
            schemasRefused++;
            return "schema id " + schemaId + " version " + version + " not kept: " + ir.length + " IR bytes would " +
                "pass this client's bound of " + maxSchemaBytes + " (" + held + " held); its typed messages are not " +
                "transcoded";
        }
        schemaIrByKey.put(key, ir);
        schemaBytes = held + ir.length;
        return null;
    }

    void removeSchema(final int schemaId, final int version)
    {
        final byte[] previous = schemaIrByKey.remove(schemaKey(schemaId, version));
        if (null != previous)
        {
            schemaBytes -= previous.length;
        }
    }

    void add(
        final String service,
        final ServiceMode mode,
        final Instance instance,
        final Map<String, Integer> messageTypes,
        final int schemaId,
        final int schemaVersion)
    {
        Route route = routes.get(service);
        if (null == route)
        {
            route = new Route(service, mode);
            routes.put(service, route);
        }
        route.schemaId = schemaId;
        route.schemaVersion = schemaVersion;
        for (final Map.Entry<String, Integer> e : messageTypes.entrySet())
        {
            route.templateIdByType.put(e.getKey(), e.getValue().intValue());
            route.messageTypes.put(e.getKey(), e.getValue());
        }
        for (final Instance existing : route.instances)
        {
            if (existing.clientId == instance.clientId)
            {
                return;
            }
        }
        route.instances.add(instance);
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

    /**
     * The session ended: the broker sends the whole table and every schema again in the next one.
     */
    void clear()
    {
        routes.clear();
        schemaIrByKey.clear();
        schemaBytes = 0;
    }

    int size()
    {
        return routes.size();
    }
}
