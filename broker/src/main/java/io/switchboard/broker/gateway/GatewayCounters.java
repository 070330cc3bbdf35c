package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counters of the gateway, reported by STATS.
 * <p>
 * Written on the gateway's duty-cycle thread only; other threads may read them racily for display.
 */
public final class GatewayCounters
{
    long connectionsAccepted;
    long connectionsClosed;
    long connectionsRefused;
    long framesIn;
    long framesOut;
    long requests;
    long responses;
    long errors;
    long cancels;
    long publishes;
    long publishFailures;
    long pushes;
    long pushesDropped;
    long protocolErrors;
    long badPayloads;
    long forwarded;
    long lateReplies;
    long rateLimited;
    long peersForbidden;
    long refusedShuttingDown;
    /** Requests answered RATE_LIMITED because their connection (or the gateway) had too many in flight. */
    long inFlightLimited;
    /** SUBSCRIBE frames refused because they would take a connection past its pattern bound. */
    long patternsRefused;
    /** PUBLISH frames with retain refused because the broker's retained values would pass their bound. */
    long retainsRefused;
    /** Connections closed because a reply did not fit their outbound queue (replies are never dropped). */
    long slowConsumersClosed;
    /** Connections closed because their unfinished frame took the gateway's read buffers past their bound. */
    long readBuffersRefused;
    /** Loss notices sent (a connection's queue drained after pushes were dropped). */
    long lossNotices;
    /** Replies that could not be converted to the caller's format, answered SERIALIZATION_ERROR instead. */
    long replyEncodeFailures;
    /** Connections whose peer shut down its write side while requests were in flight (answered, then closed). */
    long halfClosed;

    /** Bound on the distinct services and subjects counted one by one; the rest are summed under "(other)". */
    static final int MAX_KEYS = 1_000;
    private static final String OTHER = "(other)";

    /** Told of requests and answers while a connection monitors (null until the gateway sets it). */
    MonitorTap tap;
    /** The service of the request being taken, while the gateway takes it: a refusal then is its answer. */
    String requestTaken;

    private final Map<String, long[]> errorsByCode = new TreeMap<>();
    private static final int SERVICE_WIDTH = 4 + LatencyBuckets.COUNT;
    private final Map<String, long[]> byService = new TreeMap<>();   // requests, responses, errors, latency sum (ns), buckets
    private final Map<String, long[]> bySubject = new TreeMap<>();   // publishes, pushes, drops

    void error(final String code)
    {
        if (null != requestTaken && null != tap && !tap.isEmpty())
        {
            tap.event("error", requestTaken, -1, null == code ? "INTERNAL_ERROR" : code);
        }
        requestTaken = null;
        errors++;
        slot(errorsByCode, null == code ? "INTERNAL_ERROR" : code, 1)[0]++;
    }

    void request(final String service)
    {
        requests++;
        slot(byService, service, SERVICE_WIDTH)[0]++;
        if (null != tap && !tap.isEmpty())
        {
            requestTaken = service;
            tap.event("request", service, -1, null);
        }
    }

    void response(final String service)
    {
        responses++;
        slot(byService, service, SERVICE_WIDTH)[1]++;
    }

    /**
     * A successful answer, with the time from the request to it as the gateway saw it (caller side: it includes the
     * hops to the service and back), counted in the service's latency histogram.
     *
     * @param service that answered.
     * @param latencyNs from the request to the answer.
     */
    void response(final String service, final long latencyNs)
    {
        responses++;
        final long[] slot = slot(byService, service, SERVICE_WIDTH);
        slot[1]++;
        slot[3] += latencyNs;
        slot[4 + LatencyBuckets.bucket(latencyNs / 1000)]++;
        if (null != tap && !tap.isEmpty())
        {
            tap.event("response", service, latencyNs, null);
        }
    }

    void serviceError(final String service, final String code)
    {
        requestTaken = null; // told below, with the service's own error
        error(code);
        slot(byService, service, SERVICE_WIDTH)[2]++;
        if (null != tap && !tap.isEmpty())
        {
            tap.event("error", service, -1, code);
        }
    }

    void published(final String subject)
    {
        publishes++;
        slot(bySubject, subject, 3)[0]++;
    }

    void pushed(final String subject)
    {
        pushes++;
        if (!isTap(subject))
        {
            slot(bySubject, subject, 3)[1]++;
        }
    }

    void dropped(final String subject)
    {
        pushesDropped++;
        if (!isTap(subject))
        {
            slot(bySubject, subject, 3)[2]++;
        }
    }

    /** The monitor tap's events ({@code $monitor.*}) count in the totals, not as subjects of their own. */
    private static boolean isTap(final String subject)
    {
        return subject.startsWith("$monitor.");
    }

    private static long[] slot(final Map<String, long[]> map, final String key, final int width)
    {
        long[] slot = map.get(key);
        if (null == slot)
        {
            slot = map.size() < MAX_KEYS ? new long[width] : map.computeIfAbsent(OTHER, (k) -> new long[width]);
            if (map.size() < MAX_KEYS)
            {
                map.put(key, slot);
            }
        }
        return slot;
    }

    /**
     * Pushes dropped because a subscriber's queue was full.
     *
     * @return the count.
     */
    public long pushesDropped()
    {
        return pushesDropped;
    }

    ObjectNode toJson(final ObjectNode node)
    {
        return node
            .put("connections_accepted", connectionsAccepted)
            .put("connections_closed", connectionsClosed)
            .put("connections_refused", connectionsRefused)
            .put("frames_in", framesIn)
            .put("frames_out", framesOut)
            .put("requests", requests)
            .put("responses", responses)
            .put("errors", errors)
            .put("cancels", cancels)
            .put("publishes", publishes)
            .put("publish_failures", publishFailures)
            .put("pushes", pushes)
            .put("pushes_dropped", pushesDropped)
            .put("protocol_errors", protocolErrors)
            .put("bad_payloads", badPayloads)
            .put("forwarded_to_sockets", forwarded)
            .put("rate_limited", rateLimited)
            .put("peers_forbidden", peersForbidden)
            .put("refused_shutting_down", refusedShuttingDown)
            .put("in_flight_limited", inFlightLimited)
            .put("patterns_refused", patternsRefused)
            .put("retains_refused", retainsRefused)
            .put("slow_consumers_closed", slowConsumersClosed)
            .put("read_buffers_refused", readBuffersRefused)
            .put("loss_notices", lossNotices)
            .put("reply_encode_failures", replyEncodeFailures)
            .put("half_closed", halfClosed);
    }

    ObjectNode detailsToJson(final ObjectNode node)
    {
        final ObjectNode codes = node.putObject("errors_by_code");
        errorsByCode.forEach((code, n) -> codes.put(code, n[0]));
        final ObjectNode services = node.putObject("per_service");
        byService.forEach((name, n) -> LatencyBuckets.put(services.putObject(name)
            .put("requests", n[0]).put("responses", n[1]).put("errors", n[2]).put("latency_sum_us", n[3] / 1000)
            .putObject("latency_us"), n, 4));
        final ObjectNode subjects = node.putObject("per_subject");
        bySubject.forEach((name, n) -> subjects.putObject(name)
            .put("publishes", n[0]).put("pushes", n[1]).put("drops", n[2]));
        return node;
    }
}
