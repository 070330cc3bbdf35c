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
 * Usage: {@code Report --latency latency.tsv --jmh jmh.csv --out bench/results [--title "..."]}.
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
        Path jmhFile = null;
        Path outDir = Path.of("bench/results");
        String title = "";
        for (int i = 0; i < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--latency": latencyFile = Path.of(args[i + 1]); break;
                case "--jmh": jmhFile = Path.of(args[i + 1]); break;
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
        if (null != jmhFile && Files.exists(jmhFile))
        {
            report.readJmh(jmhFile);
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
            .append(System.getProperty("java.version")).append("). The caller busy-spins on one core; every service, " +
            "pong and subscriber thread uses a YieldingIdleStrategy; the broker's media driver and conductor use " +
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
        for (final int subscribers : new int[]{ 1, 4 })
        {
            final double[] sb = jmhScore("PubSubBenchmark.publish subscribers=" + subscribers + " system=switchboard");
            if (null != sb)
            {
                final double[] aeron = jmhScore("PubSubBenchmark.publish subscribers=" + subscribers +
                    " system=aeron");
                md.append("| pub/sub 1→").append(subscribers).append(" delivered, JMH (k msgs/s) | ")
                    .append(jmhCell(sb, subscribers * 1e-3)).append(" | ").append(jmhCell(aeron, subscribers * 1e-3))
                    .append(" | - | ").append(throughputRatio(score(sb), score(aeron))).append(" |\n");
            }
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
        for (final int subscribers : new int[]{ 1, 4 })
        {
            final String key = "PubSubBenchmark.publish:gc.alloc.rate.norm subscribers=" + subscribers + " system=";
            if (null != jmhScore(key + "switchboard"))
            {
                md.append("| pub/sub 1→").append(subscribers).append(" allocation, whole JVM (B/msg) | ")
                    .append(alloc(key + "switchboard")).append(" | ").append(alloc(key + "aeron")).append(" | - | |\n");
            }
        }
        md.append("\nratio: Switchboard ÷ Aeron (latency: lower is better, 1.0 is the floor; throughput: higher is " +
            "better); gRPC ÷ Switchboard for latency (how many times slower gRPC is).\n");

        md.append("\n## Targets of issue 4\n\n");
        target(md, "Java request-response p50 ≤ 1.5× raw Aeron p50 (closed loop)",
            median("closed", Rigs.SWITCHBOARD, 0), median("closed", Rigs.AERON, 0), 1.5, false);
        target(md, "Java request-response p99 ≤ 3× raw Aeron p99 (closed loop)",
            median("closed", Rigs.SWITCHBOARD, 2), median("closed", Rigs.AERON, 2), 3, false);
        target(md, "gRPC over a Unix socket p50 ≥ 20× Switchboard p50 (closed loop)",
            median("closed", Rigs.GRPC, 0), median("closed", Rigs.SWITCHBOARD, 0), 20, true);
        final double[] ps1 = jmhScore("PubSubBenchmark.publish subscribers=1 system=switchboard");
        final double[] pa1 = jmhScore("PubSubBenchmark.publish subscribers=1 system=aeron");
        final double[] ps4 = jmhScore("PubSubBenchmark.publish subscribers=4 system=switchboard");
        target(md, "pub/sub 1→1 throughput ≥ 0.5× raw Aeron IPC", score(ps1), score(pa1), 0.5, true);
        target(md, "pub/sub 1→4 delivers ≥ 1.5× the 1→1 message total", score(ps4) * 4, score(ps1), 1.5, true);
        final double[] allocRtt = jmhScore("RoundTripBenchmark.roundTrip:gc.alloc.rate.norm system=switchboard");
        md.append("- steady state allocates ~0 B/op on the Java path (JMH -prof gc, whole JVM, < 1 B/op): ")
            .append(null == allocRtt ? "not measured in this run" :
            (allocRtt[0] < 1 ? "**met**" : "**missed**") + " (round trip " + fmt(allocRtt[0]) + " B/op)").append('\n');
        md.append("- socket path (Python/Node via the gateway, Redis, bare echo server) and scale: not measured in " +
            "this run (see below)\n");

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
        final BufferedImage image = new BufferedImage(panelWidth * modes.length, height, BufferedImage.TYPE_INT_RGB);
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
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }
}
