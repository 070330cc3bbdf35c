package io.switchboard.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns one run's results (the {@link LatencyHarness} lines and the JMH CSV) into {@code latest.md}, a table of
 * each figure for Switchboard and each peer with their ratio and the targets, and {@code latency.png}, the
 * latency percentiles per system. Cold path; runs with {@code -Djava.awt.headless=true}.
 * <p>
 * Usage: {@code Report --latency latency.tsv --jmh jmh.csv [--jmh more.csv] --out bench/results [--title "..."]}.
 */
public final class Report
{
    /** Percentiles drawn on the chart and kept per system; 100 is the maximum. */
    public static final double[] CHART_PERCENTILES = { 50, 90, 99, 99.9, 100 };
    private static final String[] PERCENTILE_NAMES = { "p50", "p90", "p99", "p99.9", "max" };
    private static final String PACKAGE_PREFIX = "io.switchboard.bench.";
    private static final String[] SYSTEMS = { Rigs.SWITCHBOARD, Rigs.AERON, Rigs.GRPC };
    private static final Color[] COLOURS = { new Color(0x1f77b4), new Color(0x2ca02c), new Color(0xd62728) };

    private final Map<String, List<long[]>> latency = new LinkedHashMap<>(); // mode/system -> repeats of percentiles
    private final Map<String, long[]> histograms = new LinkedHashMap<>(); // mode/system -> merged percentiles
    private final Map<String, double[]> jmh = new LinkedHashMap<>(); // benchmark/params -> score, error
    private final List<String> notes = new ArrayList<>();
    private final Map<String, List<Double>> socket = new LinkedHashMap<>(); // client/system/metric -> repeats
    private final Map<String, List<String>> scale = new LinkedHashMap<>(); // metric -> values in run order
    private final Map<String, List<Double>> sizes = new LinkedHashMap<>(); // metric/system/bytes -> repeats
    private final Map<String, String> sizesNa = new LinkedHashMap<>(); // metric/system/bytes -> why not measured
    private final Map<String, List<Double>> gatewayCpu = new LinkedHashMap<>(); // format -> us of CPU per request
    private static final String[] SOCKET_SYSTEMS = { "switchboard", "echo", "redis" };
    private static final String[] SOCKET_LABELS = { "Switchboard (gateway → Java service)", "bare echo server",
        "Redis" };

    private Report()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws IOException if the results cannot be read or written.
     */
    public static void main(final String[] args) throws IOException
    {
        Path latencyFile = null;
        final List<Path> jmhFiles = new ArrayList<>();
        Path outDir = Path.of("bench/results");
        String title = "";
        for (int i = 0; i < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--latency": latencyFile = Path.of(args[i + 1]); break;
                case "--jmh": jmhFiles.add(Path.of(args[i + 1])); break;
                case "--out": outDir = Path.of(args[i + 1]); break;
                case "--title": title = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        final Report report = new Report();
        if (null != latencyFile && Files.exists(latencyFile))
        {
            report.readLatency(latencyFile);
        }
        for (final Path jmhFile : jmhFiles)
        {
            if (Files.exists(jmhFile))
            {
                report.readJmh(jmhFile); // one JMH run per file: each has its own parameter columns
            }
        }
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("latest.md"), report.markdown(title));
        report.chart(outDir.resolve("latency.png"));
        System.out.println("wrote " + outDir.resolve("latest.md") + " and " + outDir.resolve("latency.png"));
    }

    private void readLatency(final Path file) throws IOException
    {
        for (final String line : Files.readAllLines(file))
        {
            final String[] f = line.split("\t");
            if ("latency".equals(f[0]))
            {
                final long[] p = new long[7]; // count, errors, p50, p90, p99, p99.9, max
                for (int i = 0; i < p.length; i++)
                {
                    p[i] = Long.parseLong(f[4 + i]);
                }
                latency.computeIfAbsent(f[1] + "/" + f[2], (k) -> new ArrayList<>()).add(p);
            }
            else if ("histogram".equals(f[0]))
            {
                final long[] p = new long[CHART_PERCENTILES.length];
                for (int i = 0; i < p.length; i++)
                {
                    p[i] = Long.parseLong(f[3 + i]);
                }
                histograms.put(f[1] + "/" + f[2], p);
            }
            else if ("skipped".equals(f[0]))
            {
                notes.add(f[2] + " skipped (" + f[1] + " loop): " + (f.length > 3 ? f[3] : "could not start"));
            }
            else if ("socket".equals(f[0]) && f.length >= 6)
            {
                socket.computeIfAbsent(f[1] + "/" + f[2] + "/" + f[3], (k) -> new ArrayList<>())
                    .add(parse(f[5]));
            }
            else if ("gateway-cpu".equals(f[0]) && f.length >= 5)
            {
                gatewayCpu.computeIfAbsent(f[1], (k) -> new ArrayList<>()).add(Double.parseDouble(f[4]));
            }
            else if ("scale".equals(f[0]) && f.length >= 3)
            {
                scale.computeIfAbsent(f[1], (k) -> new ArrayList<>()).add(f[2]);
            }
            else if ("size".equals(f[0]) && f.length >= 5)
            {
                final String key = f[1] + "/" + f[2] + "/" + f[3];
                if ("n/a".equals(f[4]))
                {
                    sizesNa.put(key, f.length > 5 ? f[5] : "not measured");
                }
                else
                {
                    sizes.computeIfAbsent(key, (k) -> new ArrayList<>()).add(parse(f[4]));
                }
            }
            else if ("note".equals(f[0]))
            {
                notes.add(f[1]);
            }
        }
    }

    private void readJmh(final Path file) throws IOException
    {
        final List<String> lines = Files.readAllLines(file);
        if (lines.isEmpty())
        {
            return;
        }
        final String[] header = splitCsv(lines.get(0));
        for (int l = 1; l < lines.size(); l++)
        {
            final String[] f = splitCsv(lines.get(l));
            final String name = f[0].startsWith(PACKAGE_PREFIX) ? f[0].substring(PACKAGE_PREFIX.length()) : f[0];
            final StringBuilder key = new StringBuilder(name);
            for (int i = 7; i < header.length && i < f.length; i++)
            {
                if (!f[i].isEmpty())
                {
                    key.append(' ').append(header[i].replace("Param: ", "")).append('=').append(f[i]);
                }
            }
            jmh.put(key.toString(), new double[]{ parse(f[4]), parse(f[5]) });
        }
    }

    private static double parse(final String value)
    {
        try
        {
            return Double.parseDouble(value);
        }
        catch (final NumberFormatException ex)
        {
            return Double.NaN;
        }
    }

    private static String[] splitCsv(final String line)
    {
        final String[] fields = line.split(",", -1);
        for (int i = 0; i < fields.length; i++)
        {
            fields[i] = fields[i].replace("\"", "");
        }
        return fields;
    }

    private double[] jmhScore(final String key)
    {
        return jmh.get(key);
    }

    private String markdown(final String title)
    {
        final StringBuilder md = new StringBuilder();
        md.append("# Benchmark results").append(title.isEmpty() ? "" : ": " + title).append("\n\n");
        md.append("One run on this machine (").append(Runtime.getRuntime().availableProcessors())
            .append(" cores, ").append(System.getProperty("java.vm.name")).append(' ')
            .append(System.getProperty("java.version")).append("). The caller busy-spins on one core; every service " +
            "and pong thread, and the pub/sub subscriber threads, use a YieldingIdleStrategy; the broker's media driver and conductor use " +
            "backoff idle strategies, and the raw Aeron floor runs through that same driver. Absolute numbers on a " +
            "2-core machine are noisy: compare the ratios, which are taken within this run. Latency figures are the " +
            "median over repeats with the min-max in brackets; JMH figures are score ± 99.9% error.\n\n");

        md.append("| figure | Switchboard | raw Aeron IPC (floor) | gRPC-java, Unix socket | ratio |\n");
        md.append("|---|---|---|---|---|\n");
        for (final String mode : new String[]{ "closed", "open" })
        {
            for (int p = 0; p < PERCENTILE_NAMES.length; p++)
            {
                if (!latency.containsKey(mode + "/" + Rigs.SWITCHBOARD))
                {
                    continue;
                }
                md.append("| request-response ").append(mode).append("-loop ").append(PERCENTILE_NAMES[p])
                    .append(" (µs) |");
                for (final String system : SYSTEMS)
                {
                    md.append(' ').append(latencyCell(mode, system, p)).append(" |");
                }
                md.append(' ').append(ratioCell(median(mode, Rigs.SWITCHBOARD, p), median(mode, Rigs.AERON, p),
                    median(mode, Rigs.GRPC, p))).append(" |\n");
            }
        }
        final double[] rttSb = jmhScore("RoundTripBenchmark.roundTrip system=switchboard");
        if (null != rttSb)
        {
            final double[] rttAeron = jmhScore("RoundTripBenchmark.roundTrip system=aeron");
            final double[] rttGrpc = jmhScore("RoundTripBenchmark.roundTrip system=grpc");
            md.append("| request-response mean round trip, JMH (µs) | ").append(jmhCell(rttSb, 1)).append(" | ")
                .append(jmhCell(rttAeron, 1)).append(" | ").append(jmhCell(rttGrpc, 1)).append(" | ")
                .append(ratioCell(score(rttSb), score(rttAeron), score(rttGrpc))).append(" |\n");
        }
        final double[] streamSb = jmhScore("StreamBenchmark.stream system=switchboard");
        if (null != streamSb)
        {
            final double[] streamAeron = jmhScore("StreamBenchmark.stream system=aeron");
            md.append("| request-stream throughput, JMH (k items/s) | ").append(jmhCell(streamSb, 1e-3)).append(" | ")
                .append(jmhCell(streamAeron, 1e-3)).append(" | - | ")
                .append(throughputRatio(score(streamSb), score(streamAeron))).append(" |\n");
        }
        for (final String bench : new String[]{ "RoundTripBenchmark.roundTrip", "StreamBenchmark.stream" })
        {
            final double[] sb = jmhScore(bench + ":gc.alloc.rate.norm system=switchboard");
            if (null != sb)
            {
                md.append("| ").append(bench).append(" allocation, whole JVM (B/op) | ").append(fmt(sb[0]))
                    .append(" | ").append(alloc(bench + ":gc.alloc.rate.norm system=aeron")).append(" | ")
                    .append(alloc(bench + ":gc.alloc.rate.norm system=grpc")).append(" | |\n");
            }
        }
        md.append("\nratio: Switchboard ÷ Aeron (latency: lower is better, 1.0 is the floor; throughput: higher is " +
            "better); gRPC ÷ Switchboard for latency (how many times slower gRPC is).\n");
        spinTable(md);

        pubSubTable(md);
        socketTables(md);
        sizeTables(md);

        md.append("\n## Targets of issue 12\n\n");
        for (final String[] config : new String[][]{
            { "yielding service and pong", Rigs.SWITCHBOARD, Rigs.AERON },
            { "busy-spin", Rigs.SWITCHBOARD_SPIN, Rigs.AERON_SPIN } })
        {
            target(md, "Java request-response p50 ≤ 1.3× raw Aeron IPC p50 (closed loop, " + config[0] + ")",
                median("closed", config[1], 0), median("closed", config[2], 0), 1.3, false);
            target(md, "Java request-response p99 ≤ 2× raw Aeron IPC p99 (closed loop, " + config[0] + ")",
                median("closed", config[1], 2), median("closed", config[2], 2), 2, false);
        }
        target(md, "request-stream throughput ≥ 0.7× raw Aeron IPC (JMH)",
            score(jmhScore("StreamBenchmark.stream system=switchboard")),
            score(jmhScore("StreamBenchmark.stream system=aeron")), 0.7, true);
        final double[] ps1 = jmhScore("PubSubBenchmark.publish subscribers=1 system=switchboard");
        final double[] pa1 = jmhScore("PubSubBenchmark.publish subscribers=1 system=aeron");
        final double[] ps4 = jmhScore("PubSubBenchmark.publish subscribers=4 system=switchboard");
        final double[] pa4 = jmhScore("PubSubBenchmark.publish subscribers=4 system=aeron");
        final double[] pc4 = jmhScore("PubSubBenchmark.publish subscribers=4 system=chronicle");
        target(md, "pub/sub 1→1 delivered ≥ 0.6× raw Aeron IPC (JMH)", score(ps1), score(pa1), 0.6, true);
        target(md, "pub/sub 1→4 delivered ≥ 0.5× raw Aeron IPC's 1→4 (JMH)", score(ps4), score(pa4), 0.5, true);
        target(md, "pub/sub 1→4 delivered above Chronicle Queue's 1→4 (JMH)", score(ps4), score(pc4), 1, true);
        final double[] allocRtt = jmhScore("RoundTripBenchmark.roundTrip:gc.alloc.rate.norm system=switchboard");
        md.append("- steady state allocates ~0 B/op on the Java path (JMH -prof gc, whole JVM, < 1 B/op): ")
            .append(null == allocRtt ? "not measured in this run" :
            (allocRtt[0] < 1 ? "**met**" : "**missed**") + " (round trip " + fmt(allocRtt[0]) + " B/op)").append('\n');
        target(md, "gRPC over a Unix socket p50 ≥ 20× Switchboard p50 (closed loop; issue 4)",
            median("closed", Rigs.GRPC, 0), median("closed", Rigs.SWITCHBOARD, 0), 20, true);
        socketTargets(md);
        sizeTargets(md);

        if (!notes.isEmpty())
        {
            md.append("\n## Notes\n\n");
            for (final String note : notes)
            {
                md.append("- ").append(note).append('\n');
            }
        }
        md.append("\n![latency percentiles per system](latency.png)\n");
        return md.toString();
    }

    private void spinTable(final StringBuilder md)
    {
        final boolean latencyRun = latency.containsKey("closed/" + Rigs.SWITCHBOARD_SPIN);
        final double[] rttSb = jmhScore("RoundTripBenchmark.roundTrip system=" + Rigs.SWITCHBOARD_SPIN);
        if (!latencyRun && null == rttSb)
        {
            return;
        }
        md.append("\n### Busy-spin configuration: measured against the limit\n\n");
        md.append("The caller, the service and the raw Aeron pong all busy-spin; the cache-line round trip is two " +
            "threads ping-ponging a sequence number through two cache lines, the hardware's limit for any " +
            "request-response between two threads. Two spinning threads need both cores of this machine: these " +
            "figures mean something only when nothing else ran (see the load averages in the notes).\n\n");
        md.append("| figure | Switchboard, spinning | raw Aeron IPC, spinning | cache-line round trip | ratio |\n");
        md.append("|---|---|---|---|---|\n");
        final String[] systems = { Rigs.SWITCHBOARD_SPIN, Rigs.AERON_SPIN, Rigs.CACHE_LINE };
        for (final String mode : new String[]{ "closed", "open" })
        {
            if (!latency.containsKey(mode + "/" + Rigs.SWITCHBOARD_SPIN))
            {
                continue;
            }
            for (int p = 0; p < PERCENTILE_NAMES.length; p++)
            {
                md.append("| request-response ").append(mode).append("-loop ").append(PERCENTILE_NAMES[p])
                    .append(" (µs) |");
                for (final String system : systems)
                {
                    md.append(' ').append(latencyCell(mode, system, p)).append(" |");
                }
                md.append(' ').append(limitRatios(median(mode, Rigs.SWITCHBOARD_SPIN, p),
                    median(mode, Rigs.AERON_SPIN, p), median(mode, Rigs.CACHE_LINE, p),
                    median(mode, Rigs.SWITCHBOARD, p))).append(" |\n");
            }
        }
        if (null != rttSb)
        {
            final double[] rttAeron = jmhScore("RoundTripBenchmark.roundTrip system=" + Rigs.AERON_SPIN);
            final double[] rttLine = jmhScore("RoundTripBenchmark.roundTrip system=" + Rigs.CACHE_LINE);
            md.append("| request-response mean round trip, JMH (µs) | ").append(jmhCell(rttSb, 1)).append(" | ")
                .append(jmhCell(rttAeron, 1)).append(" | ").append(jmhCell(rttLine, 1)).append(" | ")
                .append(limitRatios(score(rttSb), score(rttAeron), score(rttLine),
                score(jmhScore("RoundTripBenchmark.roundTrip system=" + Rigs.SWITCHBOARD)))).append(" |\n");
        }
        md.append("\nratio: SB/Aeron is the busy-spin configuration's own ratio; SB/line and Aeron/line are each " +
            "system's gap to the cache-line round trip; yielding SB/line compares the default configuration's " +
            "Switchboard (table above) with the same limit.\n");
    }

    private static String limitRatios(final double sb, final double aeron, final double line, final double yieldSb)
    {
        final StringBuilder cell = new StringBuilder();
        if (!Double.isNaN(sb) && !Double.isNaN(aeron))
        {
            cell.append("SB/Aeron ").append(fmt(sb / aeron)).append('×');
        }
        if (!Double.isNaN(line))
        {
            if (!Double.isNaN(sb))
            {
                cell.append(cell.length() > 0 ? "; " : "").append("SB/line ").append(fmt(sb / line)).append('×');
            }
            if (!Double.isNaN(aeron))
            {
                cell.append(cell.length() > 0 ? "; " : "").append("Aeron/line ").append(fmt(aeron / line)).append('×');
            }
            if (!Double.isNaN(yieldSb))
            {
                cell.append("; yielding SB/line ").append(fmt(yieldSb / line)).append('×');
            }
        }
        return cell.toString();
    }

    private void pubSubTable(final StringBuilder md)
    {
        if (null == jmhScore("PubSubBenchmark.publish subscribers=1 system=switchboard"))
        {
            return;
        }
        md.append("\n### Publish-subscribe (Java; one publisher on the benchmark thread, the subscribers read by ")
            .append(SubscriberPollers.threadCount(4)).append(" yielding thread(s), one per spare core)\n\n");
        md.append("| figure | Switchboard | raw Aeron IPC (floor) | Chronicle Queue | ratio |\n");
        md.append("|---|---|---|---|---|\n");
        for (final int subscribers : new int[]{ 1, 4 })
        {
            final String key = "PubSubBenchmark.publish subscribers=" + subscribers + " system=";
            final double[] sb = jmhScore(key + Rigs.SWITCHBOARD);
            if (null == sb)
            {
                continue;
            }
            final double[] aeron = jmhScore(key + Rigs.AERON);
            final double[] chronicle = jmhScore(key + Rigs.CHRONICLE);
            md.append("| 1→").append(subscribers).append(" delivered, all subscribers, JMH (k msgs/s) | ")
                .append(jmhCell(sb, subscribers * 1e-3)).append(" | ").append(jmhCell(aeron, subscribers * 1e-3))
                .append(" | ").append(jmhCell(chronicle, subscribers * 1e-3)).append(" | ")
                .append(throughputRatio(score(sb), score(aeron)));
            if (null != chronicle)
            {
                md.append("; SB/Chronicle ").append(fmt(score(sb) / score(chronicle))).append('×');
            }
            md.append(" |\n");
        }
        for (final int subscribers : new int[]{ 1, 4 })
        {
            final String key = "PubSubBenchmark.publish:gc.alloc.rate.norm subscribers=" + subscribers + " system=";
            if (null != jmhScore(key + Rigs.SWITCHBOARD))
            {
                md.append("| 1→").append(subscribers).append(" allocation, whole JVM (B/msg) | ")
                    .append(alloc(key + Rigs.SWITCHBOARD)).append(" | ").append(alloc(key + Rigs.AERON)).append(" | ")
                    .append(alloc(key + Rigs.CHRONICLE)).append(" | |\n");
            }
        }
        md.append("\nSwitchboard publishes through a SubjectPublisher (subject encoded once, its own log); each subscriber " +
            "is a separate client with its own image of that log. Chronicle Queue: one appender, tailers from the " +
            "start of a queue in /dev/shm. Ratio: Switchboard ÷ peer, higher is better.\n");
    }

    private double socketMedian(final String client, final String system, final String metric)
    {
        final List<Double> values = socket.get(client + "/" + system + "/" + metric);
        if (null == values || values.isEmpty())
        {
            return Double.NaN;
        }
        final double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    private String socketCell(final String client, final String system, final String metric, final double scale)
    {
        final List<Double> values = socket.get(client + "/" + system + "/" + metric);
        if (null == values || values.isEmpty())
        {
            return "-";
        }
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (final double v : values)
        {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return fmt(socketMedian(client, system, metric) * scale) +
            (values.size() > 1 ? " [" + fmt(min * scale) + "–" + fmt(max * scale) + "]" : "");
    }

    private void socketRow(
        final StringBuilder md, final String client, final String figure, final String metric, final double scale)
    {
        boolean any = false;
        for (final String system : SOCKET_SYSTEMS)
        {
            any |= socket.containsKey(client + "/" + system + "/" + metric);
        }
        if (!any)
        {
            return;
        }
        md.append("| ").append(client).append(' ').append(figure).append(" |");
        for (final String system : SOCKET_SYSTEMS)
        {
            md.append(' ').append(socketCell(client, system, metric, scale)).append(" |");
        }
        final double sb = socketMedian(client, "switchboard", metric);
        final double echo = socketMedian(client, "echo", metric);
        final double redis = socketMedian(client, "redis", metric);
        final StringBuilder ratio = new StringBuilder();
        if (!Double.isNaN(sb) && !Double.isNaN(echo))
        {
            ratio.append("SB/echo ").append(fmt(sb / echo)).append('×');
        }
        if (!Double.isNaN(sb) && !Double.isNaN(redis))
        {
            ratio.append(ratio.length() > 0 ? "; " : "").append("SB/Redis ").append(fmt(sb / redis)).append('×');
        }
        md.append(' ').append(ratio).append(" |\n");
    }

    private void socketTables(final StringBuilder md)
    {
        if (!socket.isEmpty())
        {
            md.append("\n### Socket path (Unix socket, PROTOCOL.md framing, JSON; one client process)\n\n");
            md.append("| figure |");
            for (final String label : SOCKET_LABELS)
            {
                md.append(' ').append(label).append(" |");
            }
            md.append(" ratio |\n|---|---|---|---|---|\n");
            for (final String client : new String[]{ "python", "node" })
            {
                for (final String p : new String[]{ "p50", "p90", "p99" })
                {
                    socketRow(md, client, "round trip " + p + " (µs)", "rtt_" + p, 1e-3);
                }
                socketRow(md, client, "pipelined (k requests/s)", "pipelined_rps", 1e-3);
                socketRow(md, client, "pub/sub 1→1 delivered (k msgs/s)", "pubsub_rps", 1e-3);
                socketRow(md, client, "pub/sub 1→1 published (k msgs/s)", "pubsub_published_rps", 1e-3);
            }
            md.append("\nratio: Switchboard ÷ peer (latency: lower is better, 1.0 is the bare echo floor; " +
                "throughput: higher is better). Figures are the median over repeats, min–max in brackets.\n");
        }
        if (!scale.isEmpty())
        {
            md.append("\n### Scale (gateway, raw frames from one Java process)\n\n");
            md.append("| figure | Switchboard |\n|---|---|\n");
            scaleRow(md, "broker RSS before the connections (MiB)", "rss_before_kb", 1.0 / 1024);
            scaleRow(md, "broker RSS with " + scaleValue("connections") + " idle connections (MiB)",
                "rss_idle_connections_kb", 1.0 / 1024);
            scaleRow(md, "memory per idle connection, RSS delta (bytes)", "bytes_per_idle_connection", 1);
            scaleRow(md, scaleValue("connections") + " connections opened and heartbeat-checked (ms)", "open_ms", 1);
            scaleRow(md, scaleValue("connections") + " connections × 1 request at once, all answered (ms)",
                "burst_all_ms", 1);
            scaleRow(md, "… as k requests/s", "burst_rps", 1e-3);
            scaleRow(md, "broker RSS after the requests (MiB)", "rss_after_requests_kb", 1.0 / 1024);
            scaleRow(md, scaleValue("subjects") + " subjects published round-robin (k msgs/s in)",
                "subjects_published_rps", 1e-3);
            scaleRow(md, "… delivered to " + scaleValue("subject_subscribers") + " wildcard subscribers (k msgs/s " +
                "out, all subscribers)", "subjects_delivered_rps", 1e-3);
            scaleRow(md, "… fraction of matched messages delivered", "subjects_delivered_fraction", 1);
            scaleRow(md, "broker RSS after the subjects (MiB)", "rss_after_subjects_kb", 1.0 / 1024);
        }
    }

    private String scaleValue(final String metric)
    {
        final List<String> values = scale.get(metric);
        return null == values || values.isEmpty() ? "?" : values.get(0);
    }

    private void scaleRow(final StringBuilder md, final String figure, final String metric, final double factor)
    {
        final List<String> values = scale.get(metric);
        if (null == values || values.isEmpty())
        {
            return;
        }
        final double[] v = values.stream().mapToDouble(Report::parse).sorted().toArray();
        md.append("| ").append(figure).append(" | ").append(fmt(v[v.length / 2] * factor));
        if (v.length > 1)
        {
            md.append(" [").append(fmt(v[0] * factor)).append('–').append(fmt(v[v.length - 1] * factor)).append(']');
        }
        md.append(" |\n");
    }

    private void socketTargets(final StringBuilder md)
    {
        for (final String client : new String[]{ "python", "node" })
        {
            target(md, "socket round trip p50 ≤ 1.5× the bare echo server, " + client + " client",
                socketMedian(client, "switchboard", "rtt_p50"), socketMedian(client, "echo", "rtt_p50"), 1.5, false);
            target(md, "socket round trip p99 ≤ 3× the bare echo server, " + client + " client",
                socketMedian(client, "switchboard", "rtt_p99"), socketMedian(client, "echo", "rtt_p99"), 3, false);
            target(md, "socket pipelined requests ≥ 0.8× the bare echo server, " + client + " client",
                socketMedian(client, "switchboard", "pipelined_rps"), socketMedian(client, "echo", "pipelined_rps"),
                0.8, true);
        }
        final double pipelined = socketMedian("python", "switchboard", "pipelined_rps");
        md.append("- ≥ 100,000 requests/s pipelined from one Python process: ").append(Double.isNaN(pipelined) ?
            "not measured in this run" : (pipelined >= 100_000 ? "**met**" : "**missed**") + " (" +
            fmt(pipelined / 1e3) + "k/s; the bare echo server reaches " +
            fmt(socketMedian("python", "echo", "pipelined_rps") / 1e3) + "k/s with the same client)").append('\n');
        target(md, "socket throughput ≥ Redis with the same client code path, Python pipelined request-response",
            pipelined, socketMedian("python", "redis", "pipelined_rps"), 1, true);
        target(md, "socket throughput ≥ Redis with the same client code path, Python pub/sub 1→1 delivered",
            socketMedian("python", "switchboard", "pubsub_rps"), socketMedian("python", "redis", "pubsub_rps"), 1,
            true);
        for (final String format : new String[]{ "json", "msgpack", "push" })
        {
            final List<Double> values = gatewayCpu.get(format);
            md.append("push".equals(format) ?
                "- gateway CPU per push, opaque JSON from a Java publisher to one socket subscriber (no target; " +
                "measured beside the requests' 3 µs): " :
                "- gateway CPU per request ≤ 3 µs (the gateway thread's CPU time over a pipelined run, " + format + "): ");
            if (null == values || values.isEmpty())
            {
                md.append("not measured in this run\n");
                continue;
            }
            final List<Double> sorted = new ArrayList<>(values);
            sorted.sort(null);
            final double median = sorted.get(sorted.size() / 2);
            md.append("push".equals(format) ? "" : median <= 3 ? "**met** " : "**missed** ").append("(")
                .append(fmt(median)).append(" µs [")
                .append(fmt(sorted.get(0))).append("–").append(fmt(sorted.get(sorted.size() - 1)))
                .append("] over ").append(sorted.size()).append(" repeats)\n");
        }
        if (scale.isEmpty())
        {
            md.append("- scale (1,000 connections, 10,000 subjects, memory per connection): not measured in this " +
                "run\n");
        }
        else
        {
            md.append("- scale: ").append(scaleValue("connections")).append(" concurrent connections each answered, ")
                .append(scaleValue("subjects")).append(" subjects delivered to wildcard subscribers (figures in the " +
                "scale table; the issue sets no numeric target)\n");
        }
    }

    private double sizeMedian(final String metric, final String system, final int bytes)
    {
        final List<Double> values = sizes.get(metric + "/" + system + "/" + bytes);
        if (null == values || values.isEmpty())
        {
            return Double.NaN;
        }
        final double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    private String sizeCell(final String metric, final String system, final int bytes)
    {
        final String key = metric + "/" + system + "/" + bytes;
        return sizesNa.containsKey(key) ? "n/a" : fmt(sizeMedian(metric, system, bytes));
    }

    private void sizeTables(final StringBuilder md)
    {
        if (sizes.isEmpty() && sizesNa.isEmpty())
        {
            return;
        }
        md.append("\n### Message sizes (issue 11; one call or message at a time; Java round trip: the median " +
            "call after a warm-up, the mean in the raw figures)\n\n");
        md.append("| payload | Java round trip: Switchboard (µs) | raw Aeron IPC, whole (µs) | memcpy ×2 (µs) | " +
            "Aeron ÷ SB | one-way: Switchboard (MB/s) | raw Aeron IPC (MB/s) | memcpy (MB/s) | SB ÷ Aeron |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (final int bytes : LargeMessageHarness.SIZES)
        {
            md.append("| ").append(LargeMessageHarness.label(bytes)).append(" | ")
                .append(sizeCell("rtt_us", Rigs.SWITCHBOARD, bytes)).append(" | ")
                .append(sizeCell("rtt_us", Rigs.AERON, bytes)).append(" | ")
                .append(sizeCell("rtt_us", "memcpy", bytes)).append(" | ")
                .append(fmtRatio(sizeMedian("rtt_us", Rigs.AERON, bytes) /
                    sizeMedian("rtt_us", Rigs.SWITCHBOARD, bytes))).append(" | ")
                .append(sizeCell("oneway_mbs", Rigs.SWITCHBOARD, bytes)).append(" | ")
                .append(sizeCell("oneway_mbs", Rigs.AERON, bytes)).append(" | ")
                .append(sizeCell("oneway_mbs", "memcpy", bytes)).append(" | ")
                .append(fmtRatio(sizeMedian("oneway_mbs", Rigs.SWITCHBOARD, bytes) /
                    sizeMedian("oneway_mbs", Rigs.AERON, bytes))).append(" |\n");
        }
        md.append("\n| payload | socket round trip: Switchboard, gateway → Java echo (µs) | bare echo server (µs) | " +
            "echo ÷ SB | bare relay → echo server (µs) | echo ÷ relay |\n|---|---|---|---|---|---|\n");
        for (final int bytes : new int[]{ 64 * 1024, 1024 * 1024 })
        {
            md.append("| ").append(LargeMessageHarness.label(bytes)).append(" | ")
                .append(sizeCell("rtt_us", "socket-switchboard", bytes)).append(" | ")
                .append(sizeCell("rtt_us", "socket-echo", bytes)).append(" | ")
                .append(fmtRatio(sizeMedian("rtt_us", "socket-echo", bytes) /
                    sizeMedian("rtt_us", "socket-switchboard", bytes))).append(" | ")
                .append(sizeCell("rtt_us", "socket-relay", bytes)).append(" | ")
                .append(fmtRatio(sizeMedian("rtt_us", "socket-echo", bytes) /
                    sizeMedian("rtt_us", "socket-relay", bytes))).append(" |\n");
        }
        md.append("\nThe bare relay (SocketRelay) copies bytes between the client and the echo server unparsed, " +
            "two blocking threads per connection: the floor of any process in the middle of the socket path, " +
            "before it reads a byte.\n");
        md.append("\nSwitchboard runs on the broker's default 1 MiB term: a message over 128 KiB travels in pieces. " +
            "Raw Aeron gets a term of 8× the message (at least 1 MiB), so it carries the message whole. " +
            "Ratios are speed ratios: 1.0 is the floor, higher is better.\n");
        for (final Map.Entry<String, String> na : sizesNa.entrySet())
        {
            md.append("- n/a ").append(na.getKey()).append(": ").append(na.getValue()).append('\n');
        }
    }

    private static String fmtRatio(final double ratio)
    {
        return Double.isNaN(ratio) || Double.isInfinite(ratio) ? "-" : fmt(ratio) + "×";
    }

    private void sizeTargets(final StringBuilder md)
    {
        if (sizes.isEmpty() && sizesNa.isEmpty())
        {
            return;
        }
        md.append("\n## Targets of issue 11\n\n");
        final int mib = 1024 * 1024;
        target(md, "1 MiB Java round trip ≥ 0.5× raw Aeron IPC (speed: Aeron time ÷ Switchboard time)",
            sizeMedian("rtt_us", Rigs.AERON, mib), sizeMedian("rtt_us", Rigs.SWITCHBOARD, mib), 0.5, true);
        target(md, "1 MiB socket round trip ≥ 0.5× the bare echo server (speed: echo time ÷ Switchboard time)",
            sizeMedian("rtt_us", "socket-echo", mib), sizeMedian("rtt_us", "socket-switchboard", mib), 0.5, true);
    }

    private String alloc(final String key)
    {
        final double[] score = jmhScore(key);
        return null == score ? "-" : fmt(score[0]);
    }

    private static void target(
        final StringBuilder md, final String what, final double a, final double b, final double limit,
        final boolean atLeast)
    {
        md.append("- ").append(what).append(": ");
        if (Double.isNaN(a) || Double.isNaN(b) || 0 == b)
        {
            md.append("not measured in this run\n");
            return;
        }
        final double ratio = a / b;
        final boolean met = atLeast ? ratio >= limit : ratio <= limit;
        md.append(met ? "**met**" : "**missed**").append(" (").append(fmt(ratio)).append("×)\n");
    }

    private static double score(final double[] score)
    {
        return null == score ? Double.NaN : score[0];
    }

    private double median(final String mode, final String system, final int percentile)
    {
        final List<long[]> repeats = latency.get(mode + "/" + system);
        if (null == repeats || repeats.isEmpty())
        {
            return Double.NaN;
        }
        final long[] values = new long[repeats.size()];
        for (int i = 0; i < values.length; i++)
        {
            values[i] = repeats.get(i)[2 + percentile];
        }
        Arrays.sort(values);
        return values[values.length / 2];
    }

    private String latencyCell(final String mode, final String system, final int percentile)
    {
        final List<long[]> repeats = latency.get(mode + "/" + system);
        if (null == repeats || repeats.isEmpty())
        {
            return "-";
        }
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (final long[] r : repeats)
        {
            min = Math.min(min, r[2 + percentile]);
            max = Math.max(max, r[2 + percentile]);
        }
        return fmt(median(mode, system, percentile) / 1e3) + " [" + fmt(min / 1e3) + "–" + fmt(max / 1e3) + "]";
    }

    private static String ratioCell(final double sb, final double aeron, final double grpc)
    {
        final StringBuilder cell = new StringBuilder();
        if (!Double.isNaN(sb) && !Double.isNaN(aeron))
        {
            cell.append("SB/Aeron ").append(fmt(sb / aeron)).append('×');
        }
        if (!Double.isNaN(sb) && !Double.isNaN(grpc))
        {
            cell.append(cell.length() > 0 ? "; " : "").append("gRPC/SB ").append(fmt(grpc / sb)).append('×');
        }
        return cell.toString();
    }

    private static String throughputRatio(final double sb, final double aeron)
    {
        return Double.isNaN(sb) || Double.isNaN(aeron) ? "" : "SB/Aeron " + fmt(sb / aeron) + "×";
    }

    private static String jmhCell(final double[] score, final double scale)
    {
        if (null == score)
        {
            return "-";
        }
        return fmt(score[0] * scale) + (Double.isNaN(score[1]) ? "" : " ± " + fmt(score[1] * scale));
    }

    private static String fmt(final double value)
    {
        if (Double.isNaN(value))
        {
            return "-";
        }
        final double abs = Math.abs(value);
        return String.format(Locale.ROOT, abs >= 100 ? "%.0f" : abs >= 10 ? "%.1f" : "%.2f", value);
    }

    private void chart(final Path file) throws IOException
    {
        final String[] modes = { "closed", "open" };
        final int panelWidth = 560;
        final int height = 420;
        final int panels = modes.length + (socket.isEmpty() ? 0 : 1);
        final BufferedImage image = new BufferedImage(panelWidth * panels, height, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());

        double maxUs = 10;
        double minUs = 1;
        for (final long[] p : histograms.values())
        {
            for (final long v : p)
            {
                maxUs = Math.max(maxUs, v / 1e3);
                minUs = Math.min(minUs, Math.max(0.1, v / 1e3));
            }
        }
        final double logMin = Math.floor(Math.log10(minUs));
        final double logMax = Math.ceil(Math.log10(maxUs));

        for (int m = 0; m < modes.length; m++)
        {
            final int x0 = m * panelWidth + 70;
            final int y0 = 50;
            final int w = panelWidth - 100;
            final int h = height - 120;
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString("request-response, " + modes[m] + " loop (µs, log scale)", x0, 30);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            for (double d = logMin; d <= logMax; d++)
            {
                final int y = y0 + h - (int)((d - logMin) / (logMax - logMin) * h);
                g.setColor(new Color(0xdddddd));
                g.drawLine(x0, y, x0 + w, y);
                g.setColor(Color.BLACK);
                g.drawString(fmt(Math.pow(10, d)), x0 - 45, y + 4);
            }
            g.setStroke(new BasicStroke(1));
            g.drawLine(x0, y0, x0, y0 + h);
            g.drawLine(x0, y0 + h, x0 + w, y0 + h);
            final int groupWidth = w / PERCENTILE_NAMES.length;
            final int barWidth = (groupWidth - 16) / SYSTEMS.length;
            for (int p = 0; p < PERCENTILE_NAMES.length; p++)
            {
                final int gx = x0 + p * groupWidth + 8;
                g.setColor(Color.BLACK);
                g.drawString(PERCENTILE_NAMES[p], gx + groupWidth / 2 - 20, y0 + h + 16);
                for (int s = 0; s < SYSTEMS.length; s++)
                {
                    final long[] values = histograms.get(modes[m] + "/" + SYSTEMS[s]);
                    if (null == values)
                    {
                        continue;
                    }
                    final double us = Math.max(Math.pow(10, logMin), values[p] / 1e3);
                    final int bh = (int)((Math.log10(us) - logMin) / (logMax - logMin) * h);
                    g.setColor(COLOURS[s]);
                    g.fillRect(gx + s * barWidth, y0 + h - bh, barWidth - 2, bh);
                }
            }
            for (int s = 0; s < SYSTEMS.length; s++)
            {
                final int lx = x0 + s * 150;
                g.setColor(COLOURS[s]);
                g.fillRect(lx, height - 40, 12, 12);
                g.setColor(Color.BLACK);
                g.drawString(SYSTEMS[s] + (histograms.containsKey(modes[m] + "/" + SYSTEMS[s]) ? "" : " (absent)"),
                    lx + 16, height - 30);
            }
        }
        if (!socket.isEmpty())
        {
            socketPanel(g, modes.length * panelWidth, panelWidth, height);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private void socketPanel(final Graphics2D g, final int xOffset, final int panelWidth, final int height)
    {
        final String[] clients = { "python", "node" };
        final String[] percentiles = { "p50", "p90", "p99" };
        final Color[] colours = { new Color(0x1f77b4), new Color(0x7f7f7f), new Color(0xff7f0e) };
        double minUs = 10;
        double maxUs = 100;
        for (final String client : clients)
        {
            for (final String system : SOCKET_SYSTEMS)
            {
                for (final String p : percentiles)
                {
                    final double us = socketMedian(client, system, "rtt_" + p) / 1e3;
                    if (!Double.isNaN(us))
                    {
                        minUs = Math.min(minUs, Math.max(0.1, us));
                        maxUs = Math.max(maxUs, us);
                    }
                }
            }
        }
        final double logMin = Math.floor(Math.log10(minUs));
        final double logMax = Math.ceil(Math.log10(maxUs));
        final int x0 = xOffset + 70;
        final int y0 = 50;
        final int w = panelWidth - 100;
        final int h = height - 120;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString("socket round trip, closed loop (µs, log scale)", x0, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (double d = logMin; d <= logMax; d++)
        {
            final int y = y0 + h - (int)((d - logMin) / (logMax - logMin) * h);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x0, y, x0 + w, y);
            g.setColor(Color.BLACK);
            g.drawString(fmt(Math.pow(10, d)), x0 - 45, y + 4);
        }
        g.drawLine(x0, y0, x0, y0 + h);
        g.drawLine(x0, y0 + h, x0 + w, y0 + h);
        final int groups = clients.length * percentiles.length;
        final int groupWidth = w / groups;
        final int barWidth = (groupWidth - 10) / SOCKET_SYSTEMS.length;
        for (int c = 0; c < clients.length; c++)
        {
            for (int p = 0; p < percentiles.length; p++)
            {
                final int gx = x0 + (c * percentiles.length + p) * groupWidth + 5;
                g.setColor(Color.BLACK);
                g.drawString(clients[c].substring(0, 2) + " " + percentiles[p], gx, y0 + h + 16);
                for (int s = 0; s < SOCKET_SYSTEMS.length; s++)
                {
                    final double us = socketMedian(clients[c], SOCKET_SYSTEMS[s], "rtt_" + percentiles[p]) / 1e3;
                    if (Double.isNaN(us))
                    {
                        continue;
                    }
                    final double clamped = Math.max(Math.pow(10, logMin), us);
                    final int bh = (int)((Math.log10(clamped) - logMin) / (logMax - logMin) * h);
                    g.setColor(colours[s]);
                    g.fillRect(gx + s * barWidth, y0 + h - bh, barWidth - 2, bh);
                }
            }
        }
        for (int s = 0; s < SOCKET_SYSTEMS.length; s++)
        {
            final int lx = x0 + s * 150;
            g.setColor(colours[s]);
            g.fillRect(lx, height - 40, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(SOCKET_SYSTEMS[s], lx + 16, height - 30);
        }
    }
}
