package io.switchboard.bench;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Request-response latency with HdrHistogram, for each system in turn:
 * <ul>
 *     <li>closed loop: one call in flight, latency from the send to the reply;</li>
 *     <li>open loop: calls sent at a fixed rate whatever the replies do, latency from each call's intended send
 *     time, so a stall is charged to every call it delays (no coordinated omission).</li>
 * </ul>
 * Each system runs {@code repeats} times after one warm-up, in its own rig; each repeat is a line of results.
 * <p>
 * Two configurations: by default the caller busy-spins and each service or pong thread yields; {@code --spin} also
 * runs the busy-spin configuration, in which the service and the pong busy-spin too ({@code switchboard-spin},
 * {@code aeron-spin}), and the cache-line round trip of this machine ({@code cacheline}), the hardware's limit, in
 * the closed loop only.
 * Spinning needs a free core per spinning thread: its figures mean something only when nothing else runs, so the
 * load average at its start is printed and written as a {@code note} line.
 * <p>
 * Usage: {@code LatencyHarness --systems switchboard,aeron,grpc --seconds 5 --warmup 3 --repeats 3 --rate 10000
 * [--spin] --out results.tsv}. Lines appended to the output:
 * {@code latency <mode> <system> <repeat> <count> <errors> <p50> <p90> <p99> <p99.9> <max>} (nanoseconds),
 * and a {@code histogram} line per system and mode with the percentile distribution of all repeats merged.
 */
public final class LatencyHarness
{
    private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(60);
    private static final String USAGE = String.join("\n",
        "usage: LatencyHarness [--systems switchboard,aeron,grpc] [--modes closed,open] [--seconds 5] [--warmup 3]",
        "                      [--repeats 3] [--rate 10000] [--spin] [--out FILE]",
        "  --systems  systems to measure, in turn",
        "  --modes    closed: one call in flight; open: calls at --rate per second from their intended send time",
        "  --seconds  measured time per repeat; --warmup: unmeasured time before the repeats",
        "  --repeats  measured repeats per system and mode",
        "  --spin     also run the busy-spin configuration: switchboard-spin, aeron-spin (service and pong",
        "             busy-spin) and cacheline (two threads ping-ponging a cache line: the hardware's limit),",
        "             closed loop only;",
        "             meaningful only when nothing else runs on the machine",
        "  --out      append result lines (tab-separated, nanoseconds) to FILE instead of printing them");

    private LatencyHarness()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws IOException if the output cannot be written.
     */
    public static void main(final String[] args) throws IOException
    {
        String systems = Rigs.SWITCHBOARD + "," + Rigs.AERON + "," + Rigs.GRPC;
        String modes = "closed,open";
        double seconds = 5;
        double warmup = 3;
        int repeats = 3;
        int rate = 10_000;
        Path out = null;
        boolean spin = false;
        for (int i = 0; i < args.length; i += 2)
        {
            if ("--help".equals(args[i]) || "-h".equals(args[i]))
            {
                System.out.println(USAGE);
                return;
            }
            if ("--spin".equals(args[i]))
            {
                spin = true;
                i--;
                continue;
            }
            if (i + 1 == args.length)
            {
                System.err.println("option " + args[i] + " needs a value\n" + USAGE);
                System.exit(2);
            }
            final String value = args[i + 1];
            switch (args[i])
            {
                case "--systems": systems = value; break;
                case "--modes": modes = value; break;
                case "--seconds": seconds = Double.parseDouble(value); break;
                case "--warmup": warmup = Double.parseDouble(value); break;
                case "--repeats": repeats = Integer.parseInt(value); break;
                case "--rate": rate = Integer.parseInt(value); break;
                case "--out": out = Path.of(value); break;
                default:
                    System.err.println("unknown option " + args[i] + "\n" + USAGE);
                    System.exit(2);
            }
        }

        if (spin)
        {
            systems += "," + Rigs.SWITCHBOARD_SPIN + "," + Rigs.AERON_SPIN + "," + Rigs.CACHE_LINE;
        }
        final PrintStream results = null == out ? System.out : new PrintStream(Files.newOutputStream(
            out, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true);
        for (final String mode : modes.split(","))
        {
            for (final String system : systems.split(","))
            {
                final boolean spinning = system.endsWith(Rigs.SPIN_SUFFIX) || Rigs.CACHE_LINE.equals(system);
                if (spinning && !"closed".equals(mode))
                {
                    continue; // the limit is a closed-loop figure; an open loop at a fixed rate would only burn cores
                }
                if (spinning)
                {
                    final String load = loadAverage();
                    System.out.println("NOTE: " + system + " (" + mode + " loop) busy-spins: load average at its start " +
                        load + " on " + Runtime.getRuntime().availableProcessors() + " cores");
                    results.println("note\tbusy-spin configuration, " + system + " " + mode + " loop: load average " +
                        "at its start " + load + " on " + Runtime.getRuntime().availableProcessors() + " cores " +
                        "(meaningful only when nothing else runs)");
                }
                final RequestRig rig;
                try
                {
                    rig = Rigs.requestRig(system);
                }
                catch (final RuntimeException | LinkageError ex)
                {
                    System.out.println("NOTE: skipping " + system + " (" + mode + " loop): it cannot start here: " + ex);
                    results.println("skipped\t" + mode + "\t" + system + "\t" + ex.toString().replace('\t', ' '));
                    continue;
                }
                try (rig)
                {
                    final Histogram merged = new Histogram(HIGHEST_NS, 3);
                    final Histogram histogram = new Histogram(HIGHEST_NS, 3);
                    run(rig, mode, rate, warmup, histogram);
                    for (int r = 0; r < repeats; r++)
                    {
                        histogram.reset();
                        run(rig, mode, rate, seconds, histogram);
                        merged.add(histogram);
                        results.printf("latency\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d%n", mode, system, r,
                            histogram.getTotalCount(), rig.errors(),
                            histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(90),
                            histogram.getValueAtPercentile(99), histogram.getValueAtPercentile(99.9),
                            histogram.getMaxValue());
                        System.out.printf("%-12s %-6s loop #%d: %d calls  p50 %.2f us  p99 %.2f us  p99.9 %.2f us" +
                            "  max %.2f us%n", system, mode, r, histogram.getTotalCount(),
                            histogram.getValueAtPercentile(50) / 1e3, histogram.getValueAtPercentile(99) / 1e3,
                            histogram.getValueAtPercentile(99.9) / 1e3, histogram.getMaxValue() / 1e3);
                    }
                    final StringBuilder line = new StringBuilder("histogram\t").append(mode).append('\t')
                        .append(system);
                    for (final double p : Report.CHART_PERCENTILES)
                    {
                        line.append('\t').append(merged.getValueAtPercentile(p));
                    }
                    results.println(line);
                }
            }
        }
        if (results != System.out)
        {
            results.close();
        }
    }

    private static String loadAverage()
    {
        try
        {
            final String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        }
        catch (final IOException | RuntimeException ex)
        {
            return "unknown (" + ex + ")";
        }
    }

    private static void run(
        final RequestRig rig, final String mode, final int rate, final double seconds, final Histogram histogram)
    {
        final ReplyHandler recorder = (stamp) -> histogram.recordValue(Math.min(HIGHEST_NS, System.nanoTime() - stamp));
        final long durationNs = (long)(seconds * 1e9);
        if ("closed".equals(mode))
        {
            final long endNs = System.nanoTime() + durationNs;
            while (System.nanoTime() - endNs < 0)
            {
                rig.send(System.nanoTime());
                while (0 == rig.poll(recorder))
                {
                    Thread.onSpinWait();
                }
            }
        }
        else if ("open".equals(mode))
        {
            final long intervalNs = 1_000_000_000L / rate;
            final long total = (long)(seconds * rate);
            final long startNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
            final long deadlineNs = startNs + durationNs + TimeUnit.SECONDS.toNanos(30);
            long sent = 0;
            long received = 0;
            while (received < total)
            {
                final long intendedNs = startNs + sent * intervalNs;
                if (sent < total && System.nanoTime() - intendedNs >= 0)
                {
                    rig.send(intendedNs);
                    sent++;
                }
                received += rig.poll(recorder);
                Rigs.checkDeadline(deadlineNs, rig.name() + " to answer every open-loop call");
            }
        }
        else
        {
            throw new IllegalArgumentException("expected mode closed or open, actual=" + mode);
        }
    }
}
