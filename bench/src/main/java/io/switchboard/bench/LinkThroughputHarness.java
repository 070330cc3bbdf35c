package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.switchboard.broker.Broker;
import io.switchboard.transport.Switchboard;
import org.agrona.IoUtil;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pub/sub throughput across a broker link on loopback UDP against raw Aeron UDP with the same driver settings: one
 * publisher offering as fast as it can (retrying while back-pressured), one subscriber counting, for a fixed number
 * of messages. Link: a publisher on broker A, a subscriber on broker B; the link carries what matches B's interest.
 * <p>
 * {@code java -cp bench/target/benchmarks.jar io.switchboard.bench.LinkThroughputHarness [--messages 200000]
 * [--payload 32] [--out FILE] [--link-only]}; with --out, {@code note} lines are appended to FILE; --link-only skips the
 * raw run (to count what the link's run alone costs, e.g. its system calls under {@code perf stat}).
 */
public final class LinkThroughputHarness
{
    private LinkThroughputHarness()
    {
    }

    /**
     * Entry point.
     *
     * @param args see the class description.
     * @throws Exception if a part cannot start.
     */
    public static void main(final String[] args) throws Exception
    {
        int messages = 200_000;
        int payload = 32;
        Path out = null;
        boolean linkOnly = false;
        for (int i = 0; i < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--link-only": linkOnly = true; i--; break;
                case "--messages": messages = Integer.parseInt(args[i + 1]); break;
                case "--payload": payload = Integer.parseInt(args[i + 1]); break;
                case "--out": out = Path.of(args[i + 1]); break;
                default:
                    System.err.println("usage: LinkThroughputHarness [--messages 200000] [--payload 32] [--out FILE] " +
                        "[--link-only]");
                    System.exit(2);
            }
        }
        final long[] cpu = new long[2];
        final double raw = linkOnly ? Double.NaN : raw(messages, payload, cpu);
        final String rawLine = String.format("raw Aeron UDP pub/sub (loopback): %.0f msgs/s, %d messages of %d bytes; " +
            "process CPU %.0f ns per message", raw, messages, payload, (double)cpu[0] / messages);
        final long[] received = new long[1];
        final double link = link(messages, payload, received, cpu);
        final String linkLine = String.format("Switchboard pub/sub across a broker link (loopback): %.0f msgs/s, %d of " +
            "%d messages of %d bytes received (the rest dropped at the link, counted); process CPU %.0f ns, the " +
            "two link threads' CPU %.0f ns per message", link, received[0], messages, payload,
            (double)cpu[0] / messages, (double)cpu[1] / messages);
        final String ratio = String.format("pub/sub across a link / raw Aeron UDP = %.2fx (issue 15 target: at least " +
            "0.5x); load average %s", link / raw, Files.readString(Path.of("/proc/loadavg")).trim());
        for (final String line : new String[] {rawLine, linkLine, ratio})
        {
            System.out.println(line);
            if (null != out)
            {
                Files.writeString(out, "note\t" + line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
        }
    }

    private static MediaDriver driver(final String dir)
    {
        return MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new BackoffIdleStrategy(
                10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1))));
    }

    /** CPU time of this process so far, every thread (the harness measures the stretch a run takes). */
    private static long processCpuNs()
    {
        return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** CPU time of every live thread so far, by thread name (threads of one name summed). */
    private static java.util.Map<String, Long> threadCpuNs()
    {
        final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        final java.util.Map<String, Long> byName = new java.util.TreeMap<>();
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            byName.merge(thread.getName().replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "ID"),
                Math.max(0, threads.getThreadCpuTime(thread.getId())), Long::sum);
        }
        return byName;
    }

    /** CPU time of the brokers' link threads (each runs its embedded driver too) so far. */
    private static long linkThreadsCpuNs()
    {
        long sum = 0;
        for (final java.util.Map.Entry<String, Long> byName : threadCpuNs().entrySet())
        {
            if (byName.getKey().startsWith("switchboard-driver-and-links") ||
                byName.getKey().startsWith("switchboard-link"))
            {
                sum += byName.getValue();
            }
        }
        return sum;
    }

    private static double raw(final int messages, final int payload, final long[] cpu) throws Exception
    {
        final String id = UUID.randomUUID().toString();
        final String channel = "aeron:udp?endpoint=127.0.0.1:" + LinkLatencyHarness.freeUdpPort() + "|term-length=4m";
        final MediaDriver driverA = driver("/dev/shm/sb-bench-link-tp-a-" + id);
        final MediaDriver driverB = driver("/dev/shm/sb-bench-link-tp-b-" + id);
        final Aeron aeronA = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverA.aeronDirectoryName()));
        final Aeron aeronB = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverB.aeronDirectoryName()));
        try
        {
            final Subscription sub = aeronB.addSubscription(channel, 7);
            final ExclusivePublication pub = aeronA.addExclusivePublication(channel, 7);
            while (!pub.isConnected() || !sub.isConnected())
            {
                Thread.yield();
            }
            final AtomicLong count = new AtomicLong();
            final FragmentHandler counter = (b, o, l, h) -> count.lazySet(count.get() + 1);
            final Thread reader = new Thread(() ->
            {
                while (count.get() < messages)
                {
                    if (0 == sub.poll(counter, 64))
                    {
                        Thread.yield();
                    }
                }
            }, "raw-subscriber");
            final UnsafeBuffer message = new UnsafeBuffer(new byte[payload]);
            final long startCpuNs = processCpuNs();
            final long start = System.nanoTime();
            reader.start();
            for (int i = 0; i < messages; i++)
            {
                while (pub.offer(message, 0, payload) < 0)
                {
                    Thread.yield();
                }
            }
            reader.join(TimeUnit.SECONDS.toMillis(120));
            final double rate = count.get() / ((System.nanoTime() - start) / 1e9);
            cpu[0] = processCpuNs() - startCpuNs;
            return rate;
        }
        finally
        {
            CloseHelper.closeAll(aeronB, aeronA, driverB, driverA);
        }
    }

    private static double link(final int messages, final int payload, final long[] received, final long[] cpu)
        throws Exception
    {
        final Path dir = Files.createTempDirectory("sb-bench-link-tp");
        final Path secret = dir.resolve("secret");
        Files.writeString(secret, "benchmark link secret 0123456789", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        final String id = UUID.randomUUID().toString();
        final String linkA = "127.0.0.1:" + LinkLatencyHarness.freeUdpPort();
        final String linkB = "127.0.0.1:" + LinkLatencyHarness.freeUdpPort();
        Broker brokerA = null;
        Broker brokerB = null;
        Switchboard publisher = null;
        Switchboard subscriber = null;
        try
        {
            brokerA = Broker.launch(LinkLatencyHarness.brokerContext(
                dir.resolve("a"), "/dev/shm/sb-bench-link-tp-" + id + "/a/aeron", linkA, linkB, secret));
            brokerB = Broker.launch(LinkLatencyHarness.brokerContext(
                dir.resolve("b"), "/dev/shm/sb-bench-link-tp-" + id + "/b/aeron", linkB, linkA, secret));
            publisher = Switchboard.connect(new Switchboard.Context()
                .controlSocket(dir.resolve("a").resolve("control.sock")).clientName("publisher-on-a"));
            subscriber = Switchboard.connect(new Switchboard.Context()
                .controlSocket(dir.resolve("b").resolve("control.sock")).clientName("subscriber-on-b"));
            final AtomicLong count = new AtomicLong();
            final AtomicLong probes = new AtomicLong();
            subscriber.subscribe("bench.*", (push, b, o, l) ->
            {
                if ("bench.probe".contentEquals(push.subject()))
                {
                    probes.incrementAndGet();
                }
                else
                {
                    count.lazySet(count.get() + 1);
                }
            });
            final byte[] body = new byte[payload];
            java.util.Arrays.fill(body, (byte)'1');
            final UnsafeBuffer message = new UnsafeBuffer(body);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (0 == probes.get()) // the interest crosses by itself: the path is open once a probe arrives
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("the subscriber's interest never crossed the link");
                }
                publisher.publish("bench.probe", "Json", -1, message, 0, payload);
                final long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
                while (0 == probes.get() && System.nanoTime() - wait < 0)
                {
                    Thread.yield();
                }
            }
            final long startCpuNs = processCpuNs();
            final long startLinkCpuNs = linkThreadsCpuNs();
            final java.util.Map<String, Long> startThreads = Boolean.getBoolean("threads") ? threadCpuNs() : null;
            final long start = System.nanoTime();
            for (int i = 0; i < messages; i++)
            {
                while (publisher.publish("bench.x", "Json", -1, message, 0, payload) < 0)
                {
                    Thread.yield();
                }
            }
            // the last arrives, or nothing arrives for a second (what the link dropped is counted in its log)
            long last = count.get();
            long lastChangeNs = System.nanoTime();
            while (count.get() < messages && System.nanoTime() - lastChangeNs < TimeUnit.SECONDS.toNanos(1))
            {
                if (count.get() != last)
                {
                    last = count.get();
                    lastChangeNs = System.nanoTime();
                }
                Thread.yield();
            }
            final long endNs = count.get() < messages ? lastChangeNs : System.nanoTime();
            received[0] = count.get();
            cpu[0] = processCpuNs() - startCpuNs; // the idle second after a short count included: read as an upper bound
            cpu[1] = linkThreadsCpuNs() - startLinkCpuNs;
            if (null != startThreads) // -Dthreads=true: where the CPU went, per thread, in ns per message
            {
                threadCpuNs().forEach((name, ns) -> System.out.printf("thread %-60s %6.0f ns per message%n", name,
                    (double)(ns - startThreads.getOrDefault(name, 0L)) / messages));
            }
            return count.get() / ((endNs - start) / 1e9);
        }
        finally
        {
            CloseHelper.closeAll(subscriber, publisher, brokerB, brokerA);
            IoUtil.delete(dir.toFile(), true);
            IoUtil.delete(new java.io.File("/dev/shm/sb-bench-link-tp-" + id), true);
        }
    }
}
