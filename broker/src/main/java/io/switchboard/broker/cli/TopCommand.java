package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.broker.gateway.LatencyBuckets;
import picocli.CommandLine.Command;

import java.time.Instant;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "top", usageHelpWidth = 110,
    description = {"Live rates every --interval seconds: per service (requests, errors, latency p50/p99), per " +
        "subject (publications, pushes, drops) and per Java peer (calls made and served, publications, pushes, " +
        "losses, errors, timeouts).",
        "",
        "What each part sees: services and subjects are what passes the gateway (socket clients' calls, measured " +
        "by the gateway from the request to its answer, which is the caller's view less the socket hop; " +
        "publications the gateway delivers or takes). Java-to-Java calls and publications do not pass the " +
        "gateway; they are the per-peer rows, read from each peer's counters file (counts, no latency)."},
    footer = {"", "The first table comes after one interval. --count N stops after N tables.",
        "--json prints one document per table: {\"time\":\"...\",\"interval_s\":1.0,\"services\":[{\"name\"," +
        "\"requests_per_s\",\"errors_per_s\",\"p50_ms\",\"p99_ms\",\"requests\",\"errors\"}],\"subjects\":[{\"name\"," +
        "\"publishes_per_s\",\"pushes_per_s\",\"drops_per_s\",\"drops\"}],\"peers\":[{\"name\",\"pid\"," +
        "\"requests_per_s\",\"served_per_s\",\"published_per_s\",\"pushes_per_s\",\"lost_per_s\",\"errors\"," +
        "\"timeouts\"}]}", "", ExitCodes.TABLE})
final class TopCommand extends OperatorCommand
{
    private JsonNode lastStats;
    private final Map<String, JsonNode> lastPeers = new TreeMap<>();
    private long lastNs;

    @Override
    boolean done(final int n)
    {
        return count > 0 && n > count; // the first refresh is the baseline
    }

    @Override
    void refresh(final BrokerFiles files, final JsonNode stats, final int n) throws Exception
    {
        final long nowNs = System.nanoTime();
        final ArrayNode peers = files.peers();
        if (n > 1 && null != stats && null != lastStats)
        {
            print((nowNs - lastNs) / 1e9, stats, peers);
        }
        else if (null == stats)
        {
            cli.err.println("switchboard: the gateway did not answer STATS");
        }
        lastStats = stats;
        lastPeers.clear();
        peers.forEach((p) -> lastPeers.put(p.get("file").asText(), p));
        lastNs = nowNs;
    }

    private void print(final double seconds, final JsonNode stats, final ArrayNode peers)
    {
        final ObjectNode doc = NODES.objectNode().put("time", Instant.now().toString())
            .put("interval_s", Math.round(seconds * 1000) / 1000.0);
        final ArrayNode services = doc.putArray("services");
        for (final Iterator<Map.Entry<String, JsonNode>> it = stats.path("per_service").fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            final JsonNode now = e.getValue();
            final JsonNode before = lastStats.path("per_service").path(e.getKey());
            final long[] latency = deltaBuckets(now.path("latency_us"), before.path("latency_us"));
            final ObjectNode row = services.addObject().put("name", e.getKey())
                .put("requests_per_s", rate(now, before, "requests", seconds))
                .put("errors_per_s", rate(now, before, "errors", seconds));
            putPercentile(row, "p50_ms", latency, 0.50);
            putPercentile(row, "p99_ms", latency, 0.99);
            row.put("requests", now.path("requests").asLong()).put("errors", now.path("errors").asLong());
        }
        final ArrayNode subjects = doc.putArray("subjects");
        for (final Iterator<Map.Entry<String, JsonNode>> it = stats.path("per_subject").fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            final JsonNode before = lastStats.path("per_subject").path(e.getKey());
            subjects.addObject().put("name", e.getKey())
                .put("publishes_per_s", rate(e.getValue(), before, "publishes", seconds))
                .put("pushes_per_s", rate(e.getValue(), before, "pushes", seconds))
                .put("drops_per_s", rate(e.getValue(), before, "drops", seconds))
                .put("drops", e.getValue().path("drops").asLong());
        }
        final ArrayNode peerRows = doc.putArray("peers");
        for (final JsonNode peer : peers)
        {
            final JsonNode now = peer.get("counters");
            final JsonNode last = lastPeers.get(peer.get("file").asText());
            final JsonNode before = null == last ? NODES.objectNode() : last.get("counters");
            peerRows.addObject().put("name", peer.get("name").asText()).put("pid", peer.get("pid").asLong())
                .put("requests_per_s", rate(now, before, "sb-requests", seconds))
                .put("served_per_s", rate(now, before, "sb-served", seconds))
                .put("published_per_s", rate(now, before, "sb-published", seconds))
                .put("pushes_per_s", rate(now, before, "sb-pushes", seconds))
                .put("lost_per_s", rate(now, before, "sb-pushes-lost", seconds))
                .put("errors", now.path("sb-errors").asLong()).put("timeouts", now.path("sb-timeouts").asLong());
        }
        if (cli.json)
        {
            cli.print(doc);
            return;
        }
        final StringBuilder out = new StringBuilder(2048);
        out.append(String.format(Locale.US, "%s  rates over %.1f s%n", doc.get("time").asText(), seconds));
        out.append(String.format(Locale.US, "%-24s %9s %8s %9s %9s %10s %8s%n", "SERVICE (via gateway)", "REQ/S", "ERR/S",
            "P50(ms)", "P99(ms)", "REQUESTS", "ERRORS"));
        for (final JsonNode row : services)
        {
            out.append(String.format(Locale.US, "%-24s %9.1f %8.1f %9s %9s %10d %8d%n", row.get("name").asText(),
                row.get("requests_per_s").asDouble(), row.get("errors_per_s").asDouble(), ms(row.get("p50_ms")),
                ms(row.get("p99_ms")), row.get("requests").asLong(), row.get("errors").asLong()));
        }
        out.append(String.format(Locale.US, "%-24s %9s %8s %9s %10s%n", "SUBJECT (via gateway)", "PUB/S", "PUSH/S", "DROP/S",
            "DROPS"));
        for (final JsonNode row : subjects)
        {
            out.append(String.format(Locale.US, "%-24s %9.1f %8.1f %9.1f %10d%n", row.get("name").asText(),
                row.get("publishes_per_s").asDouble(), row.get("pushes_per_s").asDouble(),
                row.get("drops_per_s").asDouble(), row.get("drops").asLong()));
        }
        out.append(String.format(Locale.US, "%-24s %8s %9s %9s %8s %8s %8s %7s %8s%n", "JAVA PEER", "PID", "CALLS/S", "SERVED/S",
            "PUB/S", "PUSH/S", "LOST/S", "ERRORS", "TIMEOUTS"));
        for (final JsonNode row : peerRows)
        {
            out.append(String.format(Locale.US, "%-24s %8d %9.1f %9.1f %8.1f %8.1f %8.1f %7d %8d%n", row.get("name").asText(),
                row.get("pid").asLong(), row.get("requests_per_s").asDouble(), row.get("served_per_s").asDouble(),
                row.get("published_per_s").asDouble(), row.get("pushes_per_s").asDouble(),
                row.get("lost_per_s").asDouble(), row.get("errors").asLong(), row.get("timeouts").asLong()));
        }
        cli.out.print(out);
    }

    private static double rate(final JsonNode now, final JsonNode before, final String field, final double seconds)
    {
        final double perSecond = (now.path(field).asLong() - before.path(field).asLong(0)) / seconds;
        return Math.round(perSecond * 10) / 10.0;
    }

    private static long[] deltaBuckets(final JsonNode now, final JsonNode before)
    {
        final long[] counts = new long[LatencyBuckets.COUNT];
        for (final Iterator<Map.Entry<String, JsonNode>> it = now.fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            final int bucket = LatencyBuckets.bucket(Long.parseLong(e.getKey()));
            counts[bucket] = e.getValue().asLong() - before.path(e.getKey()).asLong(0);
        }
        return counts;
    }

    /** The percentile as the upper bound of the bucket it falls in, in ms; null when there were no answers. */
    private static void putPercentile(final ObjectNode row, final String field, final long[] counts, final double q)
    {
        long total = 0;
        for (final long c : counts)
        {
            total += c;
        }
        if (0 == total)
        {
            row.putNull(field);
            return;
        }
        final long rank = (long)Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                final long upperUs = i + 1 < LatencyBuckets.COUNT ? LatencyBuckets.lowerBound(i + 1) : Long.MAX_VALUE;
                row.put(field, upperUs / 1000.0);
                return;
            }
        }
    }

    private static String ms(final JsonNode value)
    {
        return null == value || value.isNull() ? "-" : String.format(Locale.US, "%.2f", value.asDouble());
    }
}
