package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Round trips of large messages (issue 11), one call at a time, Java to Java through a broker started in this process
 * with its default 1 MiB term (messages over 128 KiB travel in fragments), against raw Aeron IPC ping-pong with a
 * term large enough to carry each message whole (up to 1 MiB: a 16 MiB message would need a 128 MiB term, 384 MiB
 * of /dev/shm per log), and against a memcpy floor (two copies of the payload, as a round trip makes at least).
 * Prints the mean round trip and the payload bandwidth per size. A rough figure on a shared machine, not JMH.
 * <p>
 * Run: {@code java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/benchmarks.jar
 * io.switchboard.bench.LargeMessageHarness [seconds per size, default 2]}
 */
public final class LargeMessageHarness
{
    private static final int[] SIZES = {1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024};
    private static final int RAW_TERM = 16 * 1024 * 1024;

    private LargeMessageHarness()
    {
    }

    /**
     * Entry point.
     *
     * @param args optional: seconds measured per size (default 2).
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final long measureNs = (long)((args.length > 0 ? Double.parseDouble(args[0]) : 2.0) * 1e9);
        final Path socketDir = Files.createTempDirectory("sb-bench");
        final String aeronDir = "/dev/shm/sb-bench-" + UUID.randomUUID() + "/aeron";
        try (Broker broker = Broker.launch(new Broker.Context().socketDir(socketDir).aeronDirectoryName(aeronDir)
            .logger((msg) -> {}));
            Switchboard service = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-service")
                .idleStrategy(new YieldingIdleStrategy()));
            Switchboard caller = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-caller")
                .useConductorAgentInvoker(true)))
        {
            service.serve(ServiceDefinition.named("bench_echo")
                .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
            final long routeDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!caller.hasService("bench_echo"))
            {
                caller.poll();
                if (System.nanoTime() - routeDeadline > 0)
                {
                    throw new IllegalStateException("no route to bench_echo");
                }
            }
            System.out.printf("%-10s %14s %14s %14s %12s%n", "payload", "switchboard us", "raw aeron us",
                "memcpy x2 us", "sb MB/s");
            for (final int size : SIZES)
            {
                final double sb = switchboard(caller, size, measureNs);
                final double raw = size <= RAW_TERM / 8 - 64 ? rawAeron(aeronDir, size, measureNs) : Double.NaN;
                final double copy = memcpy(size, measureNs);
                System.out.printf("%-10s %14.1f %14s %14.1f %12.0f%n", label(size), sb,
                    Double.isNaN(raw) ? "n/a" : String.format("%.1f", raw), copy, 2.0 * size / sb);
            }
        }
        finally
        {
            org.agrona.IoUtil.delete(socketDir.toFile(), true);
            org.agrona.IoUtil.delete(Path.of(aeronDir).getParent().toFile(), true);
        }
    }

    private static String label(final int size)
    {
        return size >= 1024 * 1024 ? (size >> 20) + " MiB" : (size >> 10) + " KiB";
    }

    private static double switchboard(final Switchboard caller, final int size, final long measureNs)
        throws Exception
    {
        final UnsafeBuffer payload = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        final long[] done = new long[1];
        final io.switchboard.transport.ResponseListener listener = new io.switchboard.transport.ResponseListener()
        {
            public void onResponse(final long id, final DirectBuffer b, final int o, final int l)
            {
                if (l != size)
                {
                    throw new IllegalStateException("expected " + size + " bytes, got " + l);
                }
                done[0]++;
            }

            public void onError(final long id, final String code, final String message)
            {
                System.err.println("call failed: " + code + ": " + message);
                System.exit(1);
            }
        };
        final long timeoutNs = Duration.ofSeconds(30).toNanos();
        for (int warm = 0; warm < 3; warm++)
        {
            call(caller, payload, size, timeoutNs, listener, done);
        }
        long calls = 0;
        final long start = System.nanoTime();
        long now;
        do
        {
            call(caller, payload, size, timeoutNs, listener, done);
            calls++;
            now = System.nanoTime();
        }
        while (now - start < measureNs);
        return (now - start) / 1e3 / calls;
    }

    private static void call(
        final Switchboard caller, final UnsafeBuffer payload, final int size, final long timeoutNs,
        final io.switchboard.transport.ResponseListener listener, final long[] done)
    {
        final long before = done[0];
        caller.request("bench_echo", "Echo", payload, 0, size, timeoutNs, listener);
        while (done[0] == before)
        {
            caller.poll();
        }
    }

    private static double rawAeron(final String aeronDir, final int size, final long measureNs)
    {
        final String channel = "aeron:ipc?term-length=" + RAW_TERM;
        final AtomicBoolean running = new AtomicBoolean(true);
        try (Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(aeronDir));
            ExclusivePublication ping = aeron.addExclusivePublication(channel, 9001);
            Subscription pingSub = aeron.addSubscription(channel, 9001);
            ExclusivePublication pong = aeron.addExclusivePublication(channel, 9002);
            Subscription pongSub = aeron.addSubscription(channel, 9002))
        {
            while (!ping.isConnected() || !pong.isConnected())
            {
                Thread.yield();
            }
            final Thread echo = new Thread(() ->
            {
                final FragmentAssembler assembler = new FragmentAssembler((buffer, offset, length, header) ->
                {
                    while (pong.offer(buffer, offset, length) < 0 && running.get())
                    {
                        Thread.yield();
                    }
                });
                while (running.get())
                {
                    if (0 == pingSub.poll(assembler, 16))
                    {
                        Thread.yield();
                    }
                }
            }, "raw-echo");
            echo.start();
            final UnsafeBuffer payload = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
            final long[] got = new long[1];
            final FragmentAssembler replies = new FragmentAssembler((buffer, offset, length, header) -> got[0]++);
            long calls = 0;
            final long start = System.nanoTime();
            long now;
            do
            {
                final long before = got[0];
                long result;
                while ((result = ping.offer(payload, 0, size)) < 0)
                {
                    if (Publication.CLOSED == result)
                    {
                        throw new IllegalStateException("raw ping closed");
                    }
                    Thread.yield();
                }
                while (got[0] == before)
                {
                    if (0 == pongSub.poll(replies, 16))
                    {
                        Thread.yield();
                    }
                }
                calls++;
                now = System.nanoTime();
            }
            while (now - start < measureNs);
            running.set(false);
            CloseHelper.quietClose(echo::join);
            return (now - start) / 1e3 / calls;
        }
    }

    private static double memcpy(final int size, final long measureNs)
    {
        final UnsafeBuffer a = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        final UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
        long rounds = 0;
        final long start = System.nanoTime();
        long now;
        do
        {
            b.putBytes(0, a, 0, size);
            a.putBytes(0, b, 0, size);
            rounds++;
            now = System.nanoTime();
        }
        while (now - start < measureNs);
        return (now - start) / 1e3 / rounds;
    }
}
