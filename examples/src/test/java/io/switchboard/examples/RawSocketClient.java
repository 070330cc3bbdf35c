package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.PayloadCodec;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A socket client written against PROTOCOL.md with raw bytes, for fault tests: send frames, read frames with a
 * deadline, or vanish abruptly (RST) as a killed process does. Its read buffer grows to hold a frame of the gateway's
 * default maximum ({@link #MAX_FRAME}), so it also serves the tests of large messages.
 */
final class RawSocketClient implements AutoCloseable
{
    static final int REQUEST = 0x01;
    static final int RESPONSE = 0x02;
    static final int ERROR = 0x03;
    static final int PUSH = 0x05;
    static final int SUBSCRIBE = 0x06;
    static final int STREAM = 0x09;
    static final int PUBLISH = 0x0C;
    static final int STATS = 0x0E;

    /** The longest frame read: the gateway's default maximum payload (16 MiB and 64 KiB of envelope) and header. */
    static final int MAX_FRAME = 7 + 16 * 1024 * 1024 + 64 * 1024;

    private static final PayloadCodec CODEC = new PayloadCodec();

    /** A frame read from the broker. */
    static final class Frame
    {
        final int type;
        final JsonNode body;

        Frame(final int type, final JsonNode body)
        {
            this.type = type;
            this.body = body;
        }

        public String toString()
        {
            final String text = String.valueOf(body);
            return "frame 0x" + Integer.toHexString(type) + " " + (text.length() > 300 ? text.substring(0, 300) + "..." :
                text);
        }
    }

    private final SocketChannel channel;
    private ByteBuffer in = ByteBuffer.allocate(1 << 20);

    RawSocketClient(final Path socket) throws IOException
    {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        channel.configureBlocking(false);
        in.flip();
    }

    void send(final int type, final String json) throws IOException
    {
        send(type, json.getBytes(StandardCharsets.UTF_8));
    }

    void send(final int type, final byte[] payload) throws IOException
    {
        final ByteBuffer frame = ByteBuffer.allocate(7 + payload.length);
        frame.putInt(payload.length).put((byte)2).put((byte)type).put((byte)1).put(payload).flip();
        sendRaw(frame);
    }

    /**
     * Write all the bytes; fail when the broker takes none for 10 s (a long frame may take longer in all).
     */
    void sendRaw(final ByteBuffer bytes) throws IOException
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (bytes.hasRemaining())
        {
            if (0 < channel.write(bytes))
            {
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            }
            else
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IOException("write timed out");
                }
                Thread.yield();
            }
        }
    }

    /**
     * The next frame, or null at end of stream or when the deadline passes.
     */
    Frame read(final long timeoutMs) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
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
                    final FrameFormat format = FrameFormat.fromCode(in.get());
                    final byte[] payload = new byte[length];
                    in.get(payload);
                    return new Frame(type, CODEC.read(format, payload, 0, length)); // replies come in the request's format
                }
                if (in.capacity() < 7 + length)
                {
                    if (7L + length > MAX_FRAME || length < 0)
                    {
                        throw new IOException("a frame of " + Integer.toUnsignedString(length) + " bytes: expected " +
                            "at most " + (MAX_FRAME - 7));
                    }
                    final ByteBuffer bigger = ByteBuffer.allocate(7 + length);
                    bigger.put(in).flip();
                    in = bigger;
                }
            }
            in.compact();
            final int n = channel.read(in);
            in.flip();
            if (n < 0)
            {
                return null;
            }
            if (n == 0)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    return null;
                }
                Thread.yield();
            }
        }
    }

    /**
     * Read until a frame of the type for the correlation id arrives; fail after the deadline.
     */
    Frame await(final int type, final String correlationId, final long timeoutMs) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        final StringBuilder others = new StringBuilder();
        while (System.nanoTime() - deadline < 0)
        {
            final Frame f = read(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (null == f)
            {
                break;
            }
            if (correlationId.equals(f.body.path("correlation_id").asText()))
            {
                if (f.type == type)
                {
                    return f;
                }
                others.append(" type ").append(f.type).append(' ').append(f.body);
            }
        }
        throw new AssertionError("no frame of type " + type + " for '" + correlationId + "' within " + timeoutMs +
            " ms" + (others.length() > 0 ? "; for that id instead:" + others : ""));
    }

    /**
     * Read until any frame for the correlation id arrives; fail after the deadline.
     */
    Frame await(final String correlationId, final long timeoutMs) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0)
        {
            final Frame f = read(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (null == f)
            {
                break;
            }
            if (correlationId.equals(f.body.path("correlation_id").asText()))
            {
                return f;
            }
        }
        throw new AssertionError("no answer for '" + correlationId + "' within " + timeoutMs + " ms");
    }

    /**
     * Close with SO_LINGER 0: the broker sees a reset, as when a process is killed with data unread.
     */
    void vanish() throws IOException
    {
        try
        {
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        catch (final UnsupportedOperationException | IOException ignore)
        {
            // not every platform supports linger on AF_UNIX; a plain close is an EOF, which is enough
        }
        channel.close();
    }

    public void close() throws IOException
    {
        channel.close();
    }
}
