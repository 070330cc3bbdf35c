package io.switchboard.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scale of the socket gateway, driven from one Java process with raw PROTOCOL.md frames (no client library, so the
 * driver is not what is measured):
 * <ul>
 *     <li>memory per idle connection: the broker's VmRSS (from {@code /proc/<pid>/status}) before and after opening
 *     {@code --connections} connections, each confirmed open by a HEARTBEAT round trip, then left idle;</li>
 *     <li>those connections each send one REQUEST to the Java echo service at once: time until every one is answered;
 *     </li>
 *     <li>{@code --subjects} distinct subjects ({@code scale.<i/100>.<i%100>}) published round-robin by one connection
 *     (PUBLISH without correlation id, so no acknowledgements), delivered to {@code --subscribers} connections whose
 *     wildcard patterns ({@code scale.>} and {@code scale.*.*} alternately) match every subject: delivered
 *     messages/s summed over subscribers.</li>
 * </ul>
 * Usage: {@code SocketScale --socket PATH --pid BROKER_PID [--connections 1000] [--subjects 10000]
 * [--subscribers 4] [--seconds 3] [--out FILE]}; lines {@code scale <metric> <value>}.
 */
public final class SocketScale
{
    private static final byte REQUEST = 0x01;
    private static final byte HEARTBEAT = 0x04;
    private static final byte PUSH = 0x05;
    private static final byte SUBSCRIBE = 0x06;
    private static final byte PUBLISH = 0x0C;
    private static final String PAYLOAD = "{\"data\":\"0123456789abcdef0123456789abcdef\"}";

    private SocketScale()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws Exception if a connection fails.
     */
    public static void main(final String[] args) throws Exception
    {
        Path socket = null;
        long pid = -1;
        int connections = 1000;
        int subjects = 10_000;
        int subscribers = 4;
        double seconds = 3;
        Path out = null;
        for (int i = 0; i < args.length; i += 2)
        {
            final String value = args[i + 1];
            switch (args[i])
            {
                case "--socket": socket = Path.of(value); break;
                case "--pid": pid = Long.parseLong(value); break;
                case "--connections": connections = Integer.parseInt(value); break;
                case "--subjects": subjects = Integer.parseInt(value); break;
                case "--subscribers": subscribers = Integer.parseInt(value); break;
                case "--seconds": seconds = Double.parseDouble(value); break;
                case "--out": out = Path.of(value); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        final PrintStream results = null == out ? System.out : new PrintStream(Files.newOutputStream(
            out, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true);
        final UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);

        // connections: idle memory, then one request each, all at once
        System.gc();
        Thread.sleep(500);
        final long rssBefore = rssKb(pid);
        final List<SocketChannel> channels = new ArrayList<>(connections);
        final long openStart = System.nanoTime();
        for (int i = 0; i < connections; i++)
        {
            final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(address);
            channels.add(channel);
        }
        final ByteBuffer heartbeat = frame(HEARTBEAT, "{}");
        for (final SocketChannel channel : channels)
        {
            writeFully(channel, heartbeat.duplicate());
        }
        final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        for (final SocketChannel channel : channels)
        {
            readFrame(channel, in);
        }
        final double openMs = (System.nanoTime() - openStart) / 1e6;
        Thread.sleep(1000);
        final long rssIdle = rssKb(pid);
        emit(results, "rss_before_kb", rssBefore);
        emit(results, "rss_idle_connections_kb", rssIdle);
        emit(results, "connections", connections);
        emit(results, "bytes_per_idle_connection", (rssIdle - rssBefore) * 1024 / connections);
        emit(results, "open_ms", String.format("%.1f", openMs));
        System.err.printf("scale: broker RSS %d kB before, %d kB with %d idle connections (%d B each); " +
            "opened and heartbeat-checked in %.1f ms%n", rssBefore, rssIdle, connections,
            (rssIdle - rssBefore) * 1024 / connections, openMs);

        for (int round = 0; round < 3; round++)
        {
            final long[] latencies = new long[connections];
            final long start = System.nanoTime();
            for (int i = 0; i < connections; i++)
            {
                writeFully(channels.get(i), frame(REQUEST, "{\"correlation_id\":\"c" + i + "\",\"target\":\"" +
                    SwitchboardRig.SERVICE + "\",\"message_type\":\"" + SwitchboardRig.ECHO + "\",\"payload\":" +
                    PAYLOAD + ",\"expects_reply\":true}"));
            }
            for (int i = 0; i < connections; i++)
            {
                final byte type = readFrame(channels.get(i), in);
                latencies[i] = System.nanoTime() - start;
                if (0x02 != type)
                {
                    throw new IllegalStateException("expected RESPONSE, got frame type " + type + ": " +
                        StandardCharsets.UTF_8.decode(in.flip()));
                }
            }
            final double allMs = (System.nanoTime() - start) / 1e6;
            Arrays.sort(latencies);
            emit(results, "burst_all_ms", String.format("%.2f", allMs));
            emit(results, "burst_rps", String.format("%.0f", connections / (allMs / 1e3)));
            System.err.printf("scale: %d connections x 1 request at once: all answered in %.2f ms (%.0f requests/s)%n",
                connections, allMs, connections / (allMs / 1e3));
        }
        Thread.sleep(500);
        emit(results, "rss_after_requests_kb", rssKb(pid));
        for (final SocketChannel channel : channels)
        {
            channel.close();
        }
        Thread.sleep(500);

        subjects(results, address, subjects, subscribers, seconds, pid);
        if (results != System.out)
        {
            results.close();
        }
    }

    private static void subjects(
        final PrintStream results, final UnixDomainSocketAddress address, final int subjects, final int subscribers,
        final double seconds, final long pid) throws Exception
    {
        final AtomicLong delivered = new AtomicLong();
        final List<SocketChannel> subs = new ArrayList<>();
        final List<Thread> readers = new ArrayList<>();
        final ByteBuffer reply = ByteBuffer.allocate(64 * 1024);
        for (int s = 0; s < subscribers; s++)
        {
            final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(address);
            writeFully(channel, frame(SUBSCRIBE, "{\"correlation_id\":\"s\",\"message_types\":[\"" +
                (0 == (s & 1) ? "scale.>" : "scale.*.*") + "\"]}"));
            final byte type = readFrame(channel, reply);
            if (0x02 != type)
            {
                throw new IllegalStateException("SUBSCRIBE refused: " + StandardCharsets.UTF_8.decode(reply.flip()));
            }
            subs.add(channel);
            final Thread reader = new Thread(() -> countPushes(channel, delivered), "scale-sub-" + s);
            reader.setDaemon(true);
            reader.start();
            readers.add(reader);
        }
        final ByteBuffer[] frames = new ByteBuffer[subjects];
        for (int i = 0; i < subjects; i++)
        {
            frames[i] = frame(PUBLISH, "{\"message_type\":\"scale." + (i / 100) + "." + (i % 100) +
                "\",\"payload\":" + PAYLOAD + "}");
        }
        final ByteBuffer batch = ByteBuffer.allocateDirect(256 * 1024);
        try (SocketChannel publisher = SocketChannel.open(StandardProtocolFamily.UNIX))
        {
            publisher.connect(address);
            final long start = System.nanoTime();
            final long end = start + (long)(seconds * 1e9);
            long published = 0;
            int next = 0;
            while (System.nanoTime() - end < 0)
            {
                batch.clear();
                while (batch.remaining() >= frames[next].remaining())
                {
                    batch.put(frames[next].duplicate());
                    published++;
                    next = next + 1 == subjects ? 0 : next + 1;
                }
                batch.flip();
                writeFully(publisher, batch);
            }
            final double publishSeconds = (System.nanoTime() - start) / 1e9;
            // a heartbeat round trip: the gateway has read every PUBLISH before it
            writeFully(publisher, frame(HEARTBEAT, "{}"));
            readFrame(publisher, reply);
            long last = -1;
            while (delivered.get() != last)
            {
                last = delivered.get();
                Thread.sleep(200);
            }
            final double deliverSeconds = (System.nanoTime() - start) / 1e9 - 0.2;
            final long total = delivered.get();
            emit(results, "subjects", subjects);
            emit(results, "subject_subscribers", subscribers);
            emit(results, "subjects_published_rps", String.format("%.0f", published / publishSeconds));
            emit(results, "subjects_delivered_rps", String.format("%.0f", total / deliverSeconds));
            emit(results, "subjects_delivered_fraction", String.format("%.4f",
                total / (double)(published * subscribers)));
            emit(results, "rss_after_subjects_kb", rssKb(pid));
            System.err.printf("scale: %d subjects published round-robin at %.0f msgs/s; %d wildcard subscribers got " +
                "%.0f msgs/s in total (%.1f%% of what they matched; the rest dropped by the bounded queues)%n",
                subjects, published / publishSeconds, subscribers, total / deliverSeconds,
                100.0 * total / (published * subscribers));
        }
        for (final SocketChannel channel : subs)
        {
            channel.close();
        }
    }

    private static void countPushes(final SocketChannel channel, final AtomicLong delivered)
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(1024 * 1024);
        try
        {
            while (channel.read(buffer) >= 0)
            {
                buffer.flip();
                long pushes = 0;
                while (buffer.remaining() >= 7)
                {
                    final int start = buffer.position();
                    final int frame = 7 + buffer.getInt(start);
                    if (buffer.remaining() < frame)
                    {
                        break;
                    }
                    if (PUSH == buffer.get(start + 5))
                    {
                        pushes++;
                    }
                    buffer.position(start + frame);
                }
                buffer.compact();
                delivered.addAndGet(pushes);
            }
        }
        catch (final IOException ignore)
        {
            // closed at the end of the run
        }
    }

    private static void emit(final PrintStream results, final String metric, final Object value)
    {
        results.println("scale\t" + metric + "\t" + value);
    }

    private static ByteBuffer frame(final byte type, final String body)
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = ByteBuffer.allocate(7 + bytes.length);
        frame.putInt(bytes.length).put((byte)0x02).put(type).put((byte)0x01).put(bytes).flip();
        return frame;
    }

    private static void writeFully(final SocketChannel channel, final ByteBuffer buffer) throws IOException
    {
        while (buffer.hasRemaining())
        {
            channel.write(buffer);
        }
    }

    /** Read one whole frame (blocking); its body is left in {@code in}, flipped. */
    private static byte readFrame(final SocketChannel channel, final ByteBuffer in) throws IOException
    {
        in.clear().limit(7);
        while (in.hasRemaining())
        {
            if (channel.read(in) < 0)
            {
                throw new IOException("connection closed by the broker");
            }
        }
        final int length = in.getInt(0);
        final byte type = in.get(5);
        in.clear().limit(length);
        while (in.hasRemaining())
        {
            if (channel.read(in) < 0)
            {
                throw new IOException("connection closed by the broker");
            }
        }
        in.flip();
        return type;
    }

    private static long rssKb(final long pid) throws IOException
    {
        if (pid <= 0)
        {
            return -1;
        }
        for (final String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        {
            if (line.startsWith("VmRSS:"))
            {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
