package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.RouteTable;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * DISCOVER: the protocol version and capabilities, the services with their instances (counted and described by
 * {@link ServiceInstances}), mode, message types and transport, and on request the fields of one service's message types.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class Discovery
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final RouteTable routes;
    private final SessionProxy proxy;
    private final Transcoders transcoders;
    private final ServiceInstances instances;

    /**
     * @param routes of the gateway's own client: the one view of the registry its requests are routed by.
     * @param proxy through which the answer is sent.
     * @param transcoders of the schemas met, to describe message types.
     * @param instances counts and describes each service's instances, Java peers and socket connections alike.
     */
    Discovery(
        final RouteTable routes,
        final SessionProxy proxy,
        final Transcoders transcoders,
        final ServiceInstances instances)
    {
        this.routes = routes;
        this.proxy = proxy;
        this.transcoders = transcoders;
        this.instances = instances;
    }

    void onDiscover(
        final GatewaySession session, final FrameFormat format, final String correlationId, final JsonNode body)
    {
        final ObjectNode reply = NODES.objectNode();
        reply.put("correlation_id", SessionProxy.orEmpty(correlationId));
        reply.put("success", true);
        final ObjectNode version = reply.putObject("protocol_version");
        version.put("current", 2);
        version.put("min_supported", 1);
        version.put("max_supported", 2);
        version.put("description", "Switchboard socket protocol v2 (acton-reactive IPC v2 compatible)");
        final ObjectNode capabilities = version.putObject("capabilities");
        capabilities.put("messagepack", true);
        capabilities.put("streaming", true);
        capabilities.put("push", true);
        capabilities.put("discovery", true);

        final ArrayNode actors = reply.putArray("actors");
        final ArrayNode messageTypes = reply.putArray("message_types");
        final ArrayNode services = reply.putArray("services");
        final boolean includeActors = body.path("include_actors").asBoolean(true);
        final boolean includeTypes = body.path("include_message_types").asBoolean(true);
        // extension: the fields of one service's message types
        final String describe = SessionProxy.text(body, "describe");
        final TreeSet<String> allTypes = new TreeSet<>();
        for (final RouteTable.Route service : sorted(routes))
        {
            if (includeActors)
            {
                actors.addObject().put("name", service.name()).put("ern", service.name());
            }
            allTypes.addAll(service.messageTypes().keySet());
            final ObjectNode s = services.addObject();
            s.put("name", service.name());
            s.put("instances", instances.count(service));
            s.put("mode", service.mode().name().toLowerCase());
            final ArrayNode types = s.putArray("message_types");
            service.messageTypes().keySet().forEach(types::add);
            if (service.name().equals(describe))
            {
                describe(service, s.putArray("schema"));
            }
            s.put("transport", instances.path(service));
            instances.describe(service, s.putArray("instances_detail")); // extension: who serves
        }
        if (includeTypes)
        {
            allTypes.forEach(messageTypes::add);
        }
        proxy.send(session, FrameType.RESPONSE, format, reply, false);
    }

    /**
     * The services of a route table by name, for DISCOVER and STATS (a cold path: a new list per frame).
     *
     * @param routes to list.
     * @return the routes sorted by service name.
     */
    static List<RouteTable.Route> sorted(final RouteTable routes)
    {
        final List<RouteTable.Route> sorted = new ArrayList<>(routes.routes());
        sorted.sort(Comparator.comparing(RouteTable.Route::name));
        return sorted;
    }

    private void describe(final RouteTable.Route service, final ArrayNode into)
    {
        final byte[] ir = routes.schemaIr(service);
        for (final Map.Entry<String, Integer> type : service.messageTypes().entrySet())
        {
            if (type.getValue() < 0 || null == ir)
            {
                into.addObject().put("name", type.getKey()).put("opaque", true)
                    .put("description", "JSON passed through untouched");
                continue;
            }
            try
            {
                into.add(transcoders.of(ir).describe(type.getKey()));
            }
            catch (final RuntimeException ex)
            {
                into.addObject().put("name", type.getKey()).put("error", ex.getMessage());
            }
        }
    }
}
