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
import java.util.Arrays;
import java.util.Locale;

/**
 * Round trips of large messages through the socket path (issue 11), one call at a time from one Java process with
 * raw PROTOCOL.md frames (no client library, so the driver is not what is measured): a REQUEST whose JSON payload is
 * {@code {"data":"xx…"}} of exactly the given size, to a {@link SocketPeer} ({@code switchboard}: the gateway and the
 * Java echo service over Aeron IPC; {@code echo}: the bare echo server, the floor; {@code relay}: a
 * {@link SocketRelay} in front of the echo server, what any process in the middle costs), and its RESPONSE read
 * whole. The figure is the median call after a warm-up of 1 s (or half the measured time if shorter), as in
 * {@link LargeMessageHarness}; the mean is written beside it.
 * <p>
 * Usage: {@code SocketLargeMessages --system switchboard|echo|relay --socket PATH [--sizes 65536,1048576]
 * [--seconds 2] [--out FILE]}; appends lines {@code size rtt_us socket-<system> <bytes> <median µs>} and
 * {@code size rtt_mean_us socket-<system> <bytes> <mean µs>}, read by {@link Report}.
 */
public final class SocketLargeMessages
{
    private static final int HEADER = 7;
    private static final byte REQUEST = 0x01;
    private static final byte RESPONSE = 0x02;
    private static final byte ERROR = 0x03;

    private SocketLargeMessages()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws IOException if the connection fails or an answer is not the echo.
     */
    public static void main(final String[] args) throws IOException
    {
        String system = null;
        Path socket = null;
        int[] sizes = { 64 * 1024, 1024 * 1024 };
        double seconds = 2;
        Path outFile = null;
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--system": system = args[i + 1]; break;
                case "--socket": socket = Path.of(args[i + 1]); break;
                case "--sizes": sizes = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray(); break;
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                case "--out": outFile = Path.of(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (null == system || null == socket)
        {
            throw new IllegalArgumentException("--system and --socket are required");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            PrintStream out = null == outFile ? null : new PrintStream(Files.newOutputStream(
                outFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true))
        {
            channel.connect(UnixDomainSocketAddress.of(socket));
            for (final int size : sizes)
            {
                final long[] counts = new long[2]; // calls, TARGET_BUSY answers retried
                final double[] medianAndMeanUs = roundTrip(channel, size, (long)(seconds * 1e9), counts);
                final String text = String.format(Locale.ROOT, "%.1f", medianAndMeanUs[0]);
                final String mean = String.format(Locale.ROOT, "%.1f", medianAndMeanUs[1]);
                System.out.printf("socket %-8s %-12s rtt median %s us, mean %s us (%d calls, %d answered " +
                    "TARGET_BUSY and retried)%n", LargeMessageHarness.label(size), system, text, mean, counts[0],
                    counts[1]);
                if (null != out)
                {
                    out.println("size\trtt_us\tsocket-" + system + "\t" + size + "\t" + text);
                    out.println("size\trtt_mean_us\tsocket-" + system + "\t" + size + "\t" + mean);
                    if (counts[1] > 0)
                    {
                        out.println("note\tmessage sizes, socket path, " + system + ", " +
                            LargeMessageHarness.label(size) + ": " + counts[1] + " of " + counts[0] + " calls were " +
                            "answered TARGET_BUSY (the service's inbox back-pressured) and sent again; the time of " +
                            "those tries is in the round trip");
                    }
                }
            }
        }
    }

    private static double[] roundTrip(
        final SocketChannel channel, final int size, final long measureNs, final long[] counts)
        throws IOException
    {
        final byte[] payload = new byte[size];
        Arrays.fill(payload, (byte)'x');
        final byte[] open = "{\"data\":\"".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(open, 0, payload, 0, open.length);
        payload[size - 2] = '"';
        payload[size - 1] = '}';
        final byte[] head = ("{\"correlation_id\":\"c\",\"target\":\"" + SwitchboardRig.SERVICE +
            "\",\"message_type\":\"" + SwitchboardRig.ECHO + "\",\"expects_reply\":true,\"payload\":")
            .getBytes(StandardCharsets.US_ASCII);
        final int body = head.length + size + 1;
        final ByteBuffer request = ByteBuffer.allocateDirect(HEADER + body);
        request.putInt(body).put((byte)0x02).put(REQUEST).put((byte)0x01).put(head).put(payload).put((byte)'}')
            .flip();
        final ByteBuffer in = ByteBuffer.allocateDirect(body + 64 * 1024);
        final long[] warmUp = new long[2]; // TARGET_BUSY answers of the warm-up, not counted
        final CallTimes.Result result = CallTimes.measure(measureNs,
            (measured) -> call(channel, request, in, size, measured ? counts : warmUp));
        counts[0] = result.calls;
        return new double[]{ result.medianUs, result.meanUs };
    }

    /**
     * One call, sent again while it is answered {@code TARGET_BUSY} (counted in {@code counts[1]}), at most 1,000 times.
     */
    private static void call(final SocketChannel channel, final ByteBuffer request, final ByteBuffer in,
        final int size, final long[] counts) throws IOException
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            if (once(channel, request, in, size))
            {
                return;
            }
            counts[1]++;
            Thread.yield();
        }
        throw new IOException("a call of " + size + " bytes answered TARGET_BUSY 1,000 times in a row");
    }

    private static boolean once(final SocketChannel channel, final ByteBuffer request, final ByteBuffer in,
        final int size) throws IOException
    {
        final ByteBuffer frame = request.duplicate();
        while (frame.hasRemaining())
        {
            channel.write(frame);
        }
        in.clear().limit(HEADER);
        readFully(channel, in);
        final int length = in.getInt(0);
        final byte type = in.get(5);
        if (length > in.capacity())
        {
            throw new IOException("expected an answer of at most " + in.capacity() + " bytes, got " + length);
        }
        in.clear().limit(length);
        readFully(channel, in);
        in.flip();
        if (ERROR == type)
        {
            final String error = StandardCharsets.UTF_8.decode(in.duplicate()).toString();
            if (error.contains("\"error_code\":\"TARGET_BUSY\""))
            {
                System.err.println("TARGET_BUSY answered: " + error); // which side was full, and for how long
                return false;
            }
        }
        if (RESPONSE != type || length < size)
        {
            throw new IOException("expected a RESPONSE carrying " + size + " bytes, got type " + type + " of " +
                length + " bytes: " + StandardCharsets.UTF_8.decode(in.limit(Math.min(length, 300))));
        }
        return true;
    }

    private static void readFully(final SocketChannel channel, final ByteBuffer in) throws IOException
    {
        while (in.hasRemaining())
        {
            if (channel.read(in) < 0)
            {
                throw new IOException("connection closed by the server");
            }
        }
    }
}
