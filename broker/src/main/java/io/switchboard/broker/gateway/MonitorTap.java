package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.subject.SubjectPattern;
import org.agrona.concurrent.EpochClock;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code switchboard monitor}: connections that asked (STATS with {@code "monitor": true}) are told of every request
 * the gateway takes and every answer it gives, as PUSH frames with message type {@code $monitor.request},
 * {@code $monitor.response} or {@code $monitor.error} and payload {@code {service, latency_us, error_code}}.
 * Publications are not tapped here: the monitor subscribes to them like any subscriber, which shows those of Java
 * peers too.
 * <p>
 * The tap costs the gateway one check per request while no one monitors. Its pushes are droppable pushes like any
 * other: a monitor that does not keep up loses events (counted, and told by the usual loss notice), never holds the
 * gateway. Not thread-safe: the gateway's duty cycle only.
 */
final class MonitorTap
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final SessionProxy proxy;
    private final EpochClock clock;
    private final List<GatewaySession> sessions = new ArrayList<>();
    private final List<SubjectPattern> filters = new ArrayList<>();

    MonitorTap(final SessionProxy proxy, final EpochClock clock)
    {
        this.proxy = proxy;
        this.clock = clock;
    }

    boolean isEmpty()
    {
        return sessions.isEmpty();
    }

    /**
     * Tap for this connection from now on, of the services matching the pattern.
     *
     * @param session to be told.
     * @param pattern of service names (as subject patterns), or null for all.
     */
    void add(final GatewaySession session, final SubjectPattern pattern)
    {
        prune();
        final int i = sessions.indexOf(session);
        if (i >= 0)
        {
            filters.set(i, pattern);
            return;
        }
        sessions.add(session);
        filters.add(pattern);
    }

    void event(final String kind, final String service, final long latencyNs, final String errorCode)
    {
        prune();
        ObjectNode payload = null;
        for (int i = 0; i < sessions.size(); i++)
        {
            final SubjectPattern filter = filters.get(i);
            if (null != filter && !filter.matches(service))
            {
                continue;
            }
            if (null == payload)
            {
                payload = NODES.objectNode().put("service", service);
                if (latencyNs >= 0)
                {
                    payload.put("latency_us", latencyNs / 1000);
                }
                if (null != errorCode)
                {
                    payload.put("error_code", errorCode);
                }
            }
            proxy.push(sessions.get(i), "$monitor." + kind, payload, clock.time(), null);
        }
    }

    private void prune()
    {
        for (int i = sessions.size() - 1; i >= 0; i--)
        {
            if (sessions.get(i).closed)
            {
                sessions.remove(i);
                filters.remove(i);
            }
        }
    }
}
