package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.RouteTable;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * STATS: the gateway's counters and what it holds now (connections, calls in flight, patterns, queued bytes,
 * unfinished frames, services).
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class GatewayStats
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final RouteTable routes;
    private final ServiceInstances instances;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final List<GatewaySession> sessions;
    private final RequestBridge requests;
    private final SubjectBridge subjects;
    private final GatewaySession.QueueBudget queueBudget;
    private final LongSupplier readBufferBytes;
    private final SocketServices socketServices;
    private final MonitorTap tap;

    /**
     * @param routes of the gateway's own client, as DISCOVER reads them.
     * @param instances counts each service's instances as DISCOVER does.
     * @param proxy through which the answer is sent.
     * @param counters of the gateway.
     * @param sessions the open connections.
     * @param requests the request bridge, for the calls in flight.
     * @param subjects the subject bridge, for the patterns held.
     * @param queueBudget bytes queued for all connections.
     * @param readBufferBytes bytes the connections' unfinished frames hold.
     * @param socketServices the names socket connections serve, for each connection's detail.
     */
    GatewayStats(
        final RouteTable routes,
        final ServiceInstances instances,
        final SessionProxy proxy,
        final GatewayCounters counters,
        final List<GatewaySession> sessions,
        final RequestBridge requests,
        final SubjectBridge subjects,
        final GatewaySession.QueueBudget queueBudget,
        final LongSupplier readBufferBytes,
        final SocketServices socketServices)
    {
        this.socketServices = socketServices;
        this.tap = new MonitorTap(proxy, org.agrona.concurrent.SystemEpochClock.INSTANCE);
        counters.tap = tap;
        this.routes = routes;
        this.instances = instances;
        this.proxy = proxy;
        this.counters = counters;
        this.sessions = sessions;
        this.requests = requests;
        this.subjects = subjects;
        this.queueBudget = queueBudget;
        this.readBufferBytes = readBufferBytes;
    }

    void onStats(final GatewaySession session, final FrameFormat format, final String correlationId,
        final com.fasterxml.jackson.databind.JsonNode body)
    {
        if (null != body && body.path("monitor").asBoolean(false))
        {
            onMonitor(session, format, correlationId, body.path("pattern"));
            return;
        }
        final ObjectNode stats = counters.toJson(NODES.objectNode());
        counters.detailsToJson(stats);
        stats.put("connections", sessions.size());
        stats.put("requests_in_flight", requests.inFlight());
        stats.put("subscription_patterns", subjects.patternCount());
        stats.put("queued_bytes", queueBudget.queuedBytes);
        stats.put("read_buffer_bytes", readBufferBytes.getAsLong());
        stats.put("services", routes.routes().size());
        stats.put("schema_bytes", routes.schemaBytes());
        stats.put("schemas_refused", routes.schemasRefused());
        final ObjectNode perService = stats.putObject("service_instances"); // counted as DISCOVER counts them
        for (final RouteTable.Route service : Discovery.sorted(routes))
        {
            perService.put(service.name(), instances.count(service));
        }
        if (null != body && body.path("connections").asBoolean(false)) // asked for: it reads each peer's pid once
        {
            ConnectionDetails.put(stats.putArray("connections_detail"), sessions, socketServices);
        }
        proxy.send(session, FrameType.RESPONSE, format,
            FrameBodies.response(SessionProxy.orEmpty(correlationId), stats), false);
    }

    /** STATS with {@code "monitor": true}: tap this connection ({@link MonitorTap}), answered {@code {monitoring}}. */
    private void onMonitor(final GatewaySession session, final FrameFormat format, final String correlationId,
        final com.fasterxml.jackson.databind.JsonNode pattern)
    {
        io.switchboard.codec.subject.SubjectPattern filter = null;
        if (pattern.isTextual() && !pattern.asText().isEmpty())
        {
            try
            {
                filter = io.switchboard.codec.subject.SubjectPattern.compile(pattern.asText());
            }
            catch (final IllegalArgumentException ex)
            {
                proxy.send(session, FrameType.ERROR, format, FrameBodies.error(SessionProxy.orEmpty(correlationId),
                    io.switchboard.codec.frame.ErrorCode.INVALID_REQUEST, "monitor pattern: " + ex.getMessage()), false);
                return;
            }
        }
        tap.add(session, filter);
        proxy.send(session, FrameType.RESPONSE, format, FrameBodies.response(SessionProxy.orEmpty(correlationId),
            NODES.objectNode().put("monitoring", true).put("pattern", null == filter ? ">" : pattern.asText())), false);
    }
}
