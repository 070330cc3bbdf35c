package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A raw socket client of the gateway for tests that run their own broker: JSON frames, reads with deadlines, no
 * sleeping. (GatewayTest keeps its own, bound to its shared broker.)
 */
final class SocketClient implements AutoCloseable
{
    static final int REQUEST = 0x01;
    static final int RESPONSE = 0x02;
    static final int ERROR = 0x03;
    static final int HEARTBEAT = 0x04;
    static final int PUSH = 0x05;
    static final int SUBSCRIBE = 0x06;
    static final int STREAM = 0x09;
    static final int REGISTER = 0x0A;
    static final int PUBLISH = 0x0C;
    static final int CANCEL = 0x0D;
    static final int STATS = 0x0E;
    static final ObjectMapper JSON = new ObjectMapper();
    static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    /** One frame read. */
    static final class Frame
    {
        final int type;
        final int format;
        final byte[] payload;

        Frame(final int type, final byte[] payload)
        {
            this(type, 1, payload);
        }

        Frame(final int type, final int format, final byte[] payload)
        {
            this.type = type;
            this.format = format;
            this.payload = payload;
        }

        JsonNode json() throws IOException
        {
            return JSON.readTree(payload);
        }

        String text()
        {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(1 << 20);

    SocketClient(final Path socket) throws IOException
    {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        channel.configureBlocking(false);
        in.flip();
    }

    static String request(final String id, final String target, final String type, final String payload)
    {
        return "{\"correlation_id\":\"" + id + "\",\"target\":\"" + target + "\",\"message_type\":\"" + type +
            "\",\"payload\":" + payload + ",\"expects_reply\":true}";
    }

    static String streamRequest(final String id, final String target, final String type, final String payload)
    {
        return "{\"correlation_id\":\"" + id + "\",\"target\":\"" + target + "\",\"message_type\":\"" + type +
            "\",\"payload\":" + payload + ",\"expects_stream\":true}";
    }

    void send(final int type, final String json) throws IOException
    {
        final byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = ByteBuffer.allocate(7 + payload.length);
        frame.putInt(payload.length).put((byte)2).put((byte)type).put((byte)1).put(payload).flip();
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (frame.hasRemaining())
        {
            if (0 == channel.write(frame))
            {
                assertTrue(System.nanoTime() - deadline < 0, "write timed out");
                Thread.yield();
            }
        }
    }

    /**
     * Frame many payloads into one buffer, to be written in one go with {@link #write(ByteBuffer)}.
     */
    static ByteBuffer frames(final int type, final java.util.List<String> jsons)
    {
        final java.util.List<byte[]> payloads = new java.util.ArrayList<>();
        int total = 0;
        for (final String json : jsons)
        {
            final byte[] payload = json.getBytes(StandardCharsets.UTF_8);
            payloads.add(payload);
            total += 7 + payload.length;
        }
        final ByteBuffer buffer = ByteBuffer.allocate(total);
        for (final byte[] payload : payloads)
        {
            buffer.putInt(payload.length).put((byte)2).put((byte)type).put((byte)1).put(payload);
        }
        return buffer.flip();
    }

    /**
     * Send one frame of any format.
     */
    void send(final int type, final int format, final byte[] payload) throws IOException
    {
        final ByteBuffer frame = ByteBuffer.allocate(7 + payload.length);
        frame.putInt(payload.length).put((byte)2).put((byte)type).put((byte)format).put(payload).flip();
        write(frame);
    }

    /**
     * Write the whole buffer (yielding while the socket is full).
     */
    void write(final ByteBuffer buffer) throws IOException
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (buffer.hasRemaining())
        {
            if (0 == channel.write(buffer))
            {
                assertTrue(System.nanoTime() - deadline < 0, "write timed out");
                Thread.yield();
            }
        }
    }

    /**
     * Shut down the write side: the gateway reads end of stream, this side can still read.
     */
    void shutdownOutput() throws IOException
    {
        channel.shutdownOutput();
    }

    Frame read() throws IOException
    {
        final Frame f = tryRead(TIMEOUT_NS);
        assertNotNull(f, "no frame within the deadline");
        return f;
    }

    JsonNode expect(final int type) throws IOException
    {
        final Frame f = read();
        assertEquals(type, f.type, () -> "unexpected frame: " + f.text());
        return f.json();
    }

    /**
     * A frame that is already on its way (within 200 ms), or null if none: for asserting that nothing more comes.
     */
    Frame tryReadBriefly() throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        while (System.nanoTime() - deadline < 0)
        {
            if (in.remaining() >= 7 && in.remaining() >= 7 + in.getInt(in.position()))
            {
                return tryRead(TIMEOUT_NS);
            }
            in.compact();
            final int n = channel.read(in);
            in.flip();
            if (n < 0)
            {
                return null;
            }
            if (0 == n)
            {
                Thread.yield();
            }
        }
        return null;
    }

    /**
     * The next frame, or null at end of stream (peer closed).
     */
    Frame readOrEof() throws IOException
    {
        return tryRead(TIMEOUT_NS);
    }

    private Frame tryRead(final long timeoutNs) throws IOException
    {
        final long deadline = System.nanoTime() + timeoutNs;
        while (true)
        {
            if (in.remaining() >= 7)
            {
                final int length = in.getInt(in.position());
                if (in.remaining() >= 7 + length)
                {
                    in.getInt();
                    in.get();
                    final int type = in.get();
                    final int format = in.get();
                    final byte[] payload = new byte[length];
                    in.get(payload);
                    return new Frame(type, format, payload);
                }
            }
            in.compact();
            int n;
            try
            {
                n = channel.read(in);
            }
            catch (final IOException ex)
            {
                n = -1; // reset by peer
            }
            in.flip();
            if (n < 0)
            {
                return null;
            }
            if (0 == n)
            {
                assertTrue(System.nanoTime() - deadline < 0, "neither a frame nor end of stream within the deadline");
                Thread.yield();
            }
        }
    }

    public void close()
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
        }
    }
}
