package io.switchboard.bench;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * Messages of every size (issue 11), Java to Java, each size against its floors:
 * <ul>
 *     <li>round trip, one call at a time (the median call after a warm-up of 1 s, or half the measured time if
 *     that is shorter; the mean as {@code rtt_mean_us}): Switchboard's {@link SwitchboardRig} (broker's default
 *     1 MiB term, so a message over 128 KiB travels in pieces) against raw Aeron IPC ping-pong ({@link AeronRig}) with a term large
 *     enough to carry the message whole (8 × the message, at least the broker's: 16 MiB needs a 128 MiB term, 384 MiB
 *     of /dev/shm per log, two logs), and against a memcpy floor of two copies (a round trip makes at least two);</li>
 *     <li>one-way throughput, one publisher on this thread and one subscriber on its own yielding thread:
 *     {@link SwitchboardPubSubRig} against {@link AeronPubSubRig} (same term rule) and one memcpy per message.</li>
 * </ul>
 * Each rig starts a broker of its own, closed and its /tmp/sb-bench* and /dev/shm/sb-bench-* directories removed
 * before the next starts. A raw Aeron size whose logs would not fit the free space of /dev/shm is reported n/a with
 * the reason. A rough figure on a shared machine, not JMH.
 * <p>
 * Usage: {@code java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/benchmarks.jar
 * io.switchboard.bench.LargeMessageHarness [--seconds 2] [--sizes 1024,65536,1048576,16777216] [--out FILE]};
 * appends lines {@code size <metric> <system> <bytes> <value>} (or {@code n/a} and a reason) to FILE, read by
 * {@link Report}; metrics {@code rtt_us} and {@code oneway_mbs} (MB/s of payload, 10^6 bytes).
 */
public final class LargeMessageHarness
{
    /** The sizes measured by default. */
    static final int[] SIZES = { 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024 };
    private static final int DEFAULT_TERM = 1024 * 1024;
    private static final int WARM_UP_CALLS = 5;
    private static final long CALL_DEADLINE_NS = 60_000_000_000L;

    private final long measureNs;
    private final PrintStream out;

    private LargeMessageHarness(final long measureNs, final PrintStream out)
    {
        this.measureNs = measureNs;
        this.out = out;
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws IOException if the output cannot be written.
     */
    public static void main(final String[] args) throws IOException
    {
        double seconds = 2;
        int[] sizes = SIZES;
        Path outFile = null;
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                case "--sizes": sizes = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray(); break;
                case "--out": outFile = Path.of(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i] + " (expected --seconds, " +
                    "--sizes or --out)");
            }
        }
        final PrintStream out = null == outFile ? null : new PrintStream(Files.newOutputStream(
            outFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true);
        try
        {
            new LargeMessageHarness((long)(seconds * 1e9), out).run(sizes);
        }
        finally
        {
            if (null != out)
            {
                out.close();
            }
        }
    }

    private void run(final int[] sizes) throws IOException
    {
        try (SwitchboardRig rig = new SwitchboardRig(false))
        {
            for (final int size : sizes)
            {
                emit("rtt_us", Rigs.SWITCHBOARD, size, roundTrip(rig, size));
            }
        }
        for (final int size : sizes)
        {
            final int term = rawTermLength(size);
            final String noRoom = noRoom(3L * 2 * term, term);
            if (null != noRoom)
            {
                emitNa("rtt_us", Rigs.AERON, size, noRoom);
                continue;
            }
            try (AeronRig rig = new AeronRig(term, true, false))
            {
                emit("rtt_us", Rigs.AERON, size, roundTrip(rig, size));
            }
        }
        for (final int size : sizes)
        {
            emit("rtt_us", "memcpy", size, memcpy(size, 2));
            try (SwitchboardPubSubRig rig = new SwitchboardPubSubRig(1, size))
            {
                emit("oneway_mbs", Rigs.SWITCHBOARD, size, oneWay(rig, size));
            }
            final int term = rawTermLength(size);
            final String noRoom = noRoom(3L * term, term);
            if (null != noRoom)
            {
                emitNa("oneway_mbs", Rigs.AERON, size, noRoom);
            }
            else
            {
                try (AeronPubSubRig rig = new AeronPubSubRig(1, size, term))
                {
                    emit("oneway_mbs", Rigs.AERON, size, oneWay(rig, size));
                }
            }
            emit("oneway_mbs", "memcpy", size, size / memcpy(size, 1));
        }
    }

    /**
     * Term of a raw Aeron log that carries a message of this size whole: a message is at most a term / 8.
     *
     * @param size of the message.
     * @return the term length, a power of two, at least the broker's default.
     */
    static int rawTermLength(final int size)
    {
        final long needed = 8L * size;
        final long term = Math.max(DEFAULT_TERM, Long.highestOneBit(needed - 1) << 1);
        return (int)Math.min(term, 1 << 30);
    }

    private static String noRoom(final long logBytes, final int term)
    {
        try
        {
            final long free = Files.getFileStore(Path.of("/dev/shm")).getUsableSpace();
            // the broker's own logs and the driver's files come on top: keep a margin of 256 MiB
            if (free < logBytes + 256L * 1024 * 1024)
            {
                return "needs a " + (term >> 20) + " MiB term: " + (logBytes >> 20) + " MiB of /dev/shm for its " +
                    "logs, free=" + (free >> 20) + " MiB";
            }
            return null;
        }
        catch (final IOException ex)
        {
            return "cannot read the free space of /dev/shm: " + ex;
        }
    }

    private double roundTrip(final RequestRig rig, final int size) throws IOException
    {
        final UnsafeBuffer payload = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(size, Payload.LENGTH)));
        final long[] replies = new long[1];
        final ReplyHandler handler = (stamp) -> replies[0]++;
        final CallTimes.Result result =
            CallTimes.measure(measureNs, (measured) -> call(rig, payload, size, handler, replies));
        if (rig.errors() > 0)
        {
            throw new IllegalStateException(rig.name() + ": " + rig.errors() + " calls of " + size +
                " bytes failed; expected 0");
        }
        emit("rtt_mean_us", rig.name(), size, result.meanUs);
        return result.medianUs;
    }

    private static void call(
        final RequestRig rig, final UnsafeBuffer payload, final int size, final ReplyHandler handler,
        final long[] replies)
    {
        final long before = replies[0];
        final long errorsBefore = rig.errors();
        final long deadlineNs = System.nanoTime() + CALL_DEADLINE_NS;
        rig.send(System.nanoTime(), payload, size);
        while (replies[0] == before && rig.errors() == errorsBefore)
        {
            rig.poll(handler);
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("timed out waiting for the echo of " + size + " bytes from " +
                    rig.name());
            }
        }
    }

    private double oneWay(final PubSubRig rig, final int size)
    {
        final long warmUpStart = System.nanoTime();
        do
        {
            rig.publishBatch(WARM_UP_CALLS);
        }
        while (System.nanoTime() - warmUpStart < CallTimes.warmUpNs(measureNs));
        final long target0 = rig.minDelivered();
        long published = 0;
        final long start = System.nanoTime();
        do
        {
            rig.publish();
            published++;
        }
        while (System.nanoTime() - start < measureNs);
        final long deadlineNs = System.nanoTime() + CALL_DEADLINE_NS;
        while (rig.minDelivered() < target0 + published)
        {
            rig.idle();
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("timed out waiting for the subscriber to receive " + published +
                    " messages of " + size + " bytes");
            }
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        return published * (double)size / seconds / 1e6;
    }

    /** Mean time of {@code copies} copies of {@code size} bytes between direct buffers, in µs. */
    private double memcpy(final int size, final int copies)
    {
        final UnsafeBuffer a = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        final UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        long rounds = 0;
        final long start = System.nanoTime();
        long now;
        do
        {
            b.putBytes(0, a, 0, size);
            if (2 == copies)
            {
                a.putBytes(0, b, 0, size);
            }
            rounds++;
            now = System.nanoTime();
        }
        while (now - start < measureNs / 2);
        return (now - start) / 1e3 / rounds;
    }

    private void emit(final String metric, final String system, final int size, final double value)
    {
        final String text = String.format(Locale.ROOT, "%.1f", value);
        System.out.printf("%-8s %-11s %-12s %s%n", label(size), metric, system, text);
        if (null != out)
        {
            out.println("size\t" + metric + "\t" + system + "\t" + size + "\t" + text);
        }
    }

    private void emitNa(final String metric, final String system, final int size, final String reason)
    {
        System.out.printf("%-8s %-11s %-12s n/a (%s)%n", label(size), metric, system, reason);
        if (null != out)
        {
            out.println("size\t" + metric + "\t" + system + "\t" + size + "\tn/a\t" + reason);
        }
    }

    static String label(final int size)
    {
        return size >= 1024 * 1024 ? (size >> 20) + " MiB" : size >= 1024 ? (size >> 10) + " KiB" : size + " B";
    }
}
