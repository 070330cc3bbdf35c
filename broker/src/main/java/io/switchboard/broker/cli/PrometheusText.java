package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.broker.gateway.LatencyBuckets;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The metrics in the Prometheus text exposition format (version 0.0.4): one {@code # HELP} and {@code # TYPE} per
 * family, counters ending {@code _total}, bytes in {@code _bytes}, seconds in {@code _seconds}. Built from what
 * {@code switchboard stat} reads; the list with meanings is in docs/METRICS.md.
 */
final class PrometheusText
{
    /** Gateway STATS fields that are gauges (the rest are counters since start). */
    private static final Set<String> GATEWAY_GAUGES = Set.of("connections", "requests_in_flight",
        "subscription_patterns", "queued_bytes", "read_buffer_bytes", "services", "schema_bytes");
    /** Broker counters (cnc.dat, "sb-broker ...") that are gauges. */
    private static final Set<String> BROKER_GAUGES = Set.of("peers_connected", "services", "retained_subjects",
        "retained_bytes", "link_links_up");
    /** Peer counters that are gauges. */
    private static final Set<String> PEER_GAUGES = Set.of("in_flight");

    private final StringBuilder out = new StringBuilder(16 * 1024);

    static String render(final JsonNode broker, final JsonNode driver, final JsonNode stats, final JsonNode peers)
    {
        final PrometheusText text = new PrometheusText();
        text.family("switchboard_up", "gauge", "1 if the broker answered the gateway's STATS, else 0");
        text.sample("switchboard_up", "", null == stats ? 0 : 1);
        text.family("switchboard_broker_running", "gauge", "1 if the broker process of broker.info runs, else 0");
        text.sample("switchboard_broker_running", "", broker.path("running").asBoolean() ? 1 : 0);
        if (null != driver && !driver.isNull())
        {
            text.driver(driver);
        }
        if (null != stats)
        {
            text.gateway(stats);
        }
        text.peers(peers);
        return text.out.toString();
    }

    private void driver(final JsonNode driver)
    {
        for (final JsonNode counter : driver.path("counters"))
        {
            final String label = counter.path("label").asText();
            if (label.startsWith("sb-broker "))
            {
                final String name = snake(label.substring("sb-broker ".length()));
                final boolean gauge = BROKER_GAUGES.contains(name);
                final String metric = "switchboard_broker_" + name + (gauge ? "" : "_total");
                family(metric, gauge ? "gauge" : "counter", "broker: " + label.substring("sb-broker ".length()));
                sample(metric, "", counter.path("value").asLong());
            }
            else if (0 == counter.path("type_id").asInt()) // Aeron's system counters
            {
                final String metric = "switchboard_driver_" + snake(label);
                family(metric, "untyped", "media driver system counter: " + label);
                sample(metric, "", counter.path("value").asLong());
            }
        }
    }

    private void gateway(final JsonNode stats)
    {
        for (final Iterator<Map.Entry<String, JsonNode>> it = stats.fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNumber())
            {
                continue;
            }
            final boolean gauge = GATEWAY_GAUGES.contains(e.getKey());
            final String metric = "switchboard_gateway_" + e.getKey() + (gauge ? "" : "_total");
            family(metric, gauge ? "gauge" : "counter", "gateway: " + e.getKey().replace('_', ' '));
            sample(metric, "", e.getValue().asLong());
        }
        family("switchboard_gateway_errors_by_code_total", "counter", "gateway: errors answered, by error code");
        for (final Iterator<Map.Entry<String, JsonNode>> it = stats.path("errors_by_code").fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            sample("switchboard_gateway_errors_by_code_total", label("code", e.getKey()), e.getValue().asLong());
        }
        perKey(stats.path("per_service"), "service", "switchboard_gateway_service_", new String[]{"requests",
            "responses", "errors"}, "gateway: per service, ");
        perKey(stats.path("per_subject"), "subject", "switchboard_gateway_subject_", new String[]{"publishes",
            "pushes", "drops"}, "gateway: per subject, ");
        final String histogram = "switchboard_gateway_service_latency_seconds";
        family(histogram, "histogram", "gateway: time from a socket client's request to its answer, per service");
        for (final Iterator<Map.Entry<String, JsonNode>> it = stats.path("per_service").fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            final long[] counts = new long[LatencyBuckets.COUNT];
            for (final Iterator<Map.Entry<String, JsonNode>> b = e.getValue().path("latency_us").fields(); b.hasNext(); )
            {
                final Map.Entry<String, JsonNode> bucket = b.next();
                counts[LatencyBuckets.bucket(Long.parseLong(bucket.getKey()))] = bucket.getValue().asLong();
            }
            long cumulative = 0;
            final String service = label("service", e.getKey());
            for (int i = 0; i < counts.length - 1; i++)
            {
                cumulative += counts[i];
                if (counts[i] != 0 || i == counts.length - 2)
                {
                    out.append(histogram).append("_bucket{").append(service).append(",le=\"")
                        .append(LatencyBuckets.lowerBound(i + 1) / 1e6).append("\"} ").append(cumulative).append('\n');
                }
            }
            cumulative += counts[counts.length - 1];
            out.append(histogram).append("_bucket{").append(service).append(",le=\"+Inf\"} ").append(cumulative)
                .append('\n');
            out.append(histogram).append("_sum{").append(service).append("} ")
                .append(e.getValue().path("latency_sum_us").asLong() / 1e6).append('\n');
            out.append(histogram).append("_count{").append(service).append("} ").append(cumulative).append('\n');
        }
    }

    private void perKey(final JsonNode map, final String key, final String prefix, final String[] fields,
        final String help)
    {
        for (final String field : fields)
        {
            final String metric = prefix + field + "_total";
            family(metric, "counter", help + field);
            for (final Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); )
            {
                final Map.Entry<String, JsonNode> e = it.next();
                sample(metric, label(key, e.getKey()), e.getValue().path(field).asLong());
            }
        }
    }

    private void peers(final JsonNode peers)
    {
        final Map<String, StringBuilder> families = new java.util.TreeMap<>();
        for (final JsonNode peer : peers)
        {
            final String labels = label("peer", peer.path("name").asText()) + "," +
                label("pid", peer.path("pid").asText());
            for (final Iterator<Map.Entry<String, JsonNode>> it = peer.path("counters").fields(); it.hasNext(); )
            {
                final Map.Entry<String, JsonNode> e = it.next();
                final String name = snake(e.getKey().startsWith("sb-") ? e.getKey().substring(3) : e.getKey());
                final boolean gauge = PEER_GAUGES.contains(name);
                final String metric = "switchboard_peer_" + name + (gauge ? "" : "_total");
                families.computeIfAbsent(metric, (m) -> new StringBuilder("# HELP " + m + " Java peer: " +
                    e.getKey() + "\n# TYPE " + m + " " + (gauge ? "gauge" : "counter") + "\n"))
                    .append(metric).append('{').append(labels).append("} ").append(e.getValue().asLong()).append('\n');
            }
        }
        families.values().forEach(out::append);
    }

    private void family(final String metric, final String type, final String help)
    {
        out.append("# HELP ").append(metric).append(' ').append(help.replace("\\", "\\\\").replace("\n", " "))
            .append('\n').append("# TYPE ").append(metric).append(' ').append(type).append('\n');
    }

    private void sample(final String metric, final String labels, final long value)
    {
        out.append(metric);
        if (!labels.isEmpty())
        {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(value).append('\n');
    }

    private static String label(final String name, final String value)
    {
        return name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    static String snake(final String text)
    {
        final String name = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
        return name.isEmpty() || Character.isDigit(name.charAt(0)) ? "x_" + name : name;
    }
}
