package io.switchboard.bench;

import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's CPU time per request: a broker and an opaque Java echo service in this process, and a pipelined
 * socket client (batches of {@code --window} REQUEST frames written at once, one batch in flight) on this thread.
 * The gateway thread's CPU time ({@link ThreadMXBean}) over {@code --requests} requests, divided by their count, is
 * the figure: what one request costs the gateway whatever the machine's load, since waiting is not CPU time.
 * Requests answered with an ERROR (TARGET_BUSY when the echo service falls behind on a loaded machine) are counted
 * and printed; a large count makes the figure too low, since an error costs less than a reply.
 * <p>
 * The envelope is the Python client's ({@code target, message_type, payload {"data": 32 characters},
 * expects_reply, expects_stream, response_timeout_ms, correlation_id}), as JSON or MessagePack ({@code --format}).
 * Profile it with {@code -XX:StartFlightRecording=filename=gw.jfr,settings=profile} and aggregate the
 * {@code jdk.ExecutionSample} events of thread {@code switchboard-gateway}.
 * <p>
 * With {@code --scenario push}: a Java publisher's opaque JSON publications ({@code {"data": 32 characters}}) pushed
 * to one socket subscriber, batches of {@code --window}, the figure per push received.
 * <p>
 * Usage: {@code GatewayCpu [--requests 500000] [--window 256] [--format json|msgpack] [--repeats 3]
 * [--scenario request|push]}.
 */
public final class GatewayCpu
{
    private static final String GATEWAY_THREAD = "switchboard-gateway";
    private static final int HEADER = 7;
    private static final byte VERSION = 2;
    private static final byte REQUEST = 0x01;
    private static final byte RESPONSE = 0x02;
    private static final byte ERROR = 0x03;

    private GatewayCpu()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws Exception if the rig cannot start or a reply is not a RESPONSE.
     */
    public static void main(final String[] args) throws Exception
    {
        int requests = 500_000;
        int window = 256;
        int repeats = 3;
        String format = "json";
        String scenario = "request";
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--requests": requests = Integer.parseInt(args[i + 1]); break;
                case "--window": window = Integer.parseInt(args[i + 1]); break;
                case "--repeats": repeats = Integer.parseInt(args[i + 1]); break;
                case "--format": format = args[i + 1]; break;
                case "--scenario": scenario = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        final boolean msgpack = "msgpack".equals(format);
        final Path socketDir = Files.createTempDirectory("sb-bench-gwcpu");
        final Path socket = socketDir.resolve("gw.sock");
        final String aeronDir = "/dev/shm/sb-bench-" + UUID.randomUUID() + "/aeron";
        final Broker broker = Broker.launch(new Broker.Context().gatewaySocket(socket).aeronDirectoryName(aeronDir)
            .logger((msg) -> {}));
        Switchboard service = null;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX))
        {
            service = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-echo")
                .idleStrategy(new YieldingIdleStrategy()));
            service.serve(ServiceDefinition.named(SwitchboardRig.SERVICE).shared()
                .onOpaqueRequest(SwitchboardRig.ECHO, (req, buffer, offset, length) ->
                req.reply(buffer, offset, length)));
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!service.hasService(SwitchboardRig.SERVICE))
            {
                Rigs.checkDeadline(deadlineNs, "the echo service's registration");
                Thread.yield();
            }
            channel.connect(UnixDomainSocketAddress.of(socket));
            final Thread gateway = findThread(GATEWAY_THREAD);
            final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            final ByteBuffer batch = ByteBuffer.allocateDirect(window * 256);
            final ByteBuffer in = ByteBuffer.allocateDirect(1 << 20);
            final long[] counter = new long[2]; // correlation ids, ERROR answers

            if ("push".equals(scenario))
            {
                runPushes(broker, channel, in, window, requests, repeats, gateway, threads);
                return;
            }
            run(channel, batch, in, window, Math.max(window, requests / 5), msgpack, counter); // warm-up
            for (int r = 0; r < repeats; r++)
            {
                final double load = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
                final long errors0 = counter[1];
                final long cpu0 = threads.getThreadCpuTime(gateway.getId());
                final long t0 = System.nanoTime();
                final int done = run(channel, batch, in, window, requests, msgpack, counter);
                final long wallNs = System.nanoTime() - t0;
                final long cpuNs = threads.getThreadCpuTime(gateway.getId()) - cpu0;
                final long errors = counter[1] - errors0;
                System.out.printf("gateway-cpu\t%s\t%d\t%d\t%.3f\t%.0f\t%.2f\t%d%n", format, r, done,
                    cpuNs / 1e3 / done, done / (wallNs / 1e9), load, errors);
                System.out.printf("%s #%d: %d requests, gateway thread CPU %.3f us/request, %.0f requests/s, " +
                    "load average %.2f, %d answered with an ERROR%n", format, r, done, cpuNs / 1e3 / done,
                    done / (wallNs / 1e9), load, errors);
            }
        }
        finally
        {
            CloseHelper.quietCloseAll(service, broker);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(socketDir);
            // the broker removes its Aeron directory, not the folder made for it here (left holding aeron.lock)
            IoUtil.delete(Path.of(aeronDir).getParent().toFile(), true);
        }
    }

    /**
     * A Java publisher's opaque JSON publications pushed to one socket subscriber: batches of {@code window}
     * publications, each batch complete when its pushes have arrived (or after 2 s: a push the gateway dropped is
     * counted as lost). The figure is the gateway's CPU per push received.
     */
    private static void runPushes(
        final Broker broker,
        final SocketChannel channel,
        final ByteBuffer in,
        final int window,
        final int pushes,
        final int repeats,
        final Thread gateway,
        final ThreadMXBean threads) throws Exception
    {
        final byte[] subscribe = "{\"correlation_id\":\"s\",\"message_types\":[\"bench.push\"]}"
            .getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = ByteBuffer.allocate(HEADER + subscribe.length);
        frame.putInt(subscribe.length).put(VERSION).put((byte)0x06).put((byte)1).put(subscribe).flip();
        while (frame.hasRemaining())
        {
            channel.write(frame);
        }
        final long[] seen = new long[3]; // pushes, other frames, lost
        readFrames(channel, in, 1, seen, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
        if (seen[1] < 1)
        {
            throw new IllegalStateException("no answer to SUBSCRIBE");
        }
        try (Switchboard publisher = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket()).clientName("bench-push-publisher")
            .useConductorAgentInvoker(true)))
        {
            final io.switchboard.transport.SubjectPublisher subject = publisher.publisher("bench.push", "Tick",
                ServiceDefinition.OPAQUE_TEMPLATE_ID);
            final org.agrona.concurrent.UnsafeBuffer payload = new org.agrona.concurrent.UnsafeBuffer(
                "{\"data\":\"0123456789abcdef0123456789abcdef\"}".getBytes(StandardCharsets.UTF_8));
            final long joinDeadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (0 == seen[0]) // until the gateway's subscription has joined the publisher's log
            {
                subject.offer(payload, 0, payload.capacity());
                publisher.poll();
                readFrames(channel, in, 1, seen, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10));
                Rigs.checkDeadline(joinDeadlineNs, "a first push");
            }
            for (int r = -1; r < repeats; r++) // -1: warm-up
            {
                final long received0 = seen[0];
                final long cpu0 = threads.getThreadCpuTime(gateway.getId());
                final long t0 = System.nanoTime();
                long published = 0;
                while (published < (r < 0 ? pushes / 5 : pushes))
                {
                    for (int i = 0; i < window; i++)
                    {
                        while (subject.offer(payload, 0, payload.capacity()) < 0)
                        {
                            publisher.poll();
                        }
                    }
                    published += window;
                    final long target = seen[0] + window;
                    readFrames(channel, in, target, seen, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
                    seen[2] += Math.max(0, target - seen[0]);
                    publisher.poll();
                }
                final long cpuNs = threads.getThreadCpuTime(gateway.getId()) - cpu0;
                final long received = seen[0] - received0;
                if (r >= 0)
                {
                    System.out.printf("gateway-cpu\tpush\t%d\t%d\t%.3f\t%.0f\t%.2f\t%d%n", r, received,
                        cpuNs / 1e3 / received, received / ((System.nanoTime() - t0) / 1e9), load(), seen[2]);
                    System.out.printf("push #%d: %d pushes, gateway thread CPU %.3f us/push, lost so far %d%n", r,
                        received, cpuNs / 1e3 / received, seen[2]);
                }
            }
        }
    }

    private static double load() throws IOException
    {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    /** Read whole frames until {@code seen[0]} (PUSH frames) reaches the target or the deadline passes. */
    private static void readFrames(
        final SocketChannel channel, final ByteBuffer in, final long target, final long[] seen, final long deadlineNs)
        throws IOException
    {
        channel.configureBlocking(false);
        try
        {
            while (seen[0] < target && System.nanoTime() - deadlineNs < 0)
            {
                if (channel.read(in) < 0)
                {
                    throw new IOException("the gateway closed the connection");
                }
                in.flip();
                while (in.remaining() >= HEADER)
                {
                    final int start = in.position();
                    final int length = in.getInt(start);
                    if (in.remaining() < HEADER + length)
                    {
                        break;
                    }
                    seen[0x05 == in.get(start + 5) ? 0 : 1]++;
                    in.position(start + HEADER + length);
                }
                in.compact();
            }
        }
        finally
        {
            channel.configureBlocking(true);
        }
    }

    private static Thread findThread(final String name)
    {
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            if (name.equals(thread.getName()))
            {
                return thread;
            }
        }
        throw new IllegalStateException("no thread named " + name);
    }

    private static int run(
        final SocketChannel channel,
        final ByteBuffer batch,
        final ByteBuffer in,
        final int window,
        final int requests,
        final boolean msgpack,
        final long[] counter) throws IOException
    {
        int done = 0;
        while (done < requests)
        {
            batch.clear();
            for (int i = 0; i < window; i++)
            {
                final byte[] body = envelope(Long.toString(counter[0]++), msgpack);
                batch.putInt(body.length).put(VERSION).put(REQUEST).put((byte)(msgpack ? 2 : 1)).put(body);
            }
            batch.flip();
            while (batch.hasRemaining())
            {
                channel.write(batch);
            }
            int replies = 0;
            while (replies < window)
            {
                if (channel.read(in) < 0)
                {
                    throw new IOException("the gateway closed the connection");
                }
                in.flip();
                while (in.remaining() >= HEADER)
                {
                    final int start = in.position();
                    final int length = in.getInt(start);
                    if (in.remaining() < HEADER + length)
                    {
                        break;
                    }
                    final byte type = in.get(start + 5);
                    if (ERROR == type)
                    {
                        counter[1]++; // TARGET_BUSY when the echo service falls behind on a loaded machine: counted
                    }
                    else if (RESPONSE != type)
                    {
                        final byte[] text = new byte[length];
                        in.get(start + HEADER, text);
                        throw new IllegalStateException("expected a RESPONSE frame, actual type=" + type + ": " +
                            new String(text, StandardCharsets.UTF_8));
                    }
                    in.position(start + HEADER + length);
                    replies++;
                }
                in.compact();
            }
            done += window;
        }
        return done;
    }

    private static byte[] envelope(final String correlationId, final boolean msgpack)
    {
        if (!msgpack)
        {
            return ("{\"target\":\"bench\",\"message_type\":\"Echo\",\"payload\":{\"data\":" +
                "\"0123456789abcdef0123456789abcdef\"},\"expects_reply\":true,\"expects_stream\":false," +
                "\"response_timeout_ms\":30000,\"correlation_id\":\"" + correlationId + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        }
        final ByteBuffer out = ByteBuffer.allocate(256);
        out.put((byte)0x87);
        str(out, "target"); str(out, "bench");
        str(out, "message_type"); str(out, "Echo");
        str(out, "payload"); out.put((byte)0x81); str(out, "data"); str(out, "0123456789abcdef0123456789abcdef");
        str(out, "expects_reply"); out.put((byte)0xC3);
        str(out, "expects_stream"); out.put((byte)0xC2);
        str(out, "response_timeout_ms"); out.put((byte)0xCD).putShort((short)30000);
        str(out, "correlation_id"); str(out, correlationId);
        final byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        return bytes;
    }

    private static void str(final ByteBuffer out, final String s)
    {
        final byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length < 32)
        {
            out.put((byte)(0xA0 | b.length));
        }
        else
        {
            out.put((byte)0xD9).put((byte)b.length);
        }
        out.put(b);
    }
}
