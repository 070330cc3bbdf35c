package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHandler;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.TrustedDirectory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;

/**
 * A blocking PROTOCOL.md connection for the command-line tool: send a frame, read frames one at a time.
 * Not thread-safe.
 */
final class GatewayConnection implements AutoCloseable
{
    /** One frame read from the broker. */
    static final class Frame
    {
        final FrameType type;
        final JsonNode body;

        Frame(final FrameType type, final JsonNode body)
        {
            this.type = type;
            this.body = body;
        }
    }

    private final SocketChannel channel;
    private final Selector selector;
    // The tool sends JSON frames only, so the broker answers in JSON (its pushes and heartbeats are JSON too): Json
    // (jackson-core's streaming parser and generator) reads and writes them. Neither an ObjectMapper nor the gateway's
    // PayloadCodec, whose mappers would double the tool's start-up for frames that need none of them.
    private static final int HEADER_LENGTH = 7;
    private static final byte PROTOCOL_VERSION = 2;
    private static final byte FORMAT_JSON = 1;
    /** Takes what the broker sends by default: one message of its maximum with its envelope. */
    private final FrameDecoder decoder =
        new FrameDecoder(io.switchboard.codec.frame.FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH);
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final ArrayDeque<Frame> frames = new ArrayDeque<>();
    private String fatal;

    private GatewayConnection(final SocketChannel channel) throws IOException
    {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    static GatewayConnection open(final Path socket) throws IOException
    {
        TrustedDirectory.checkSocketDirectory(socket); // an impostor's directory is never connected to
        final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try
        {
            channel.connect(UnixDomainSocketAddress.of(socket));
        }
        catch (final IOException ex)
        {
            channel.close();
            throw new IOException("no broker at " + socket + " (" + ex.getMessage() +
                "); start one with: switchboard broker", ex);
        }
        return new GatewayConnection(channel);
    }

    void send(final FrameType type, final ObjectNode body) throws IOException
    {
        final byte[] payload = Json.writeBytes(body);
        final ByteBuffer frame = ByteBuffer.allocate(HEADER_LENGTH + payload.length);
        frame.putInt(payload.length).put(PROTOCOL_VERSION).put((byte)type.code()).put(FORMAT_JSON).put(payload).flip();
        while (frame.hasRemaining())
        {
            if (0 == channel.write(frame))
            {
                Thread.onSpinWait(); // the broker drains its sockets continuously; a full buffer is brief
                Thread.yield();
            }
        }
    }

    /**
     * Read the next frame, blocking up to the deadline.
     *
     * @return the frame, or null if the deadline passed first.
     */
    Frame next(final long deadlineNs) throws IOException
    {
        while (frames.isEmpty())
        {
            if (null != fatal)
            {
                throw new IOException(fatal);
            }
            final long remainingNs = deadlineNs - System.nanoTime();
            if (remainingNs <= 0)
            {
                return null;
            }
            final long remainingMs = (remainingNs + 999_999) / 1_000_000; // never wake before the deadline
            if (remainingMs <= 0)
            {
                return null;
            }
            final int read = selector.select(remainingMs) > 0 ? channel.read(readBuffer) : 0;
            selector.selectedKeys().clear();
            if (read < 0)
            {
                throw new IOException("the broker closed the connection");
            }
            if (read == 0)
            {
                continue;
            }
            readBuffer.flip();
            decoder.decode(readBuffer, new FrameHandler()
            {
                public void onFrame(final int version, final FrameType type, final FrameFormat format,
                    final byte[] payload, final int offset, final int length)
                {
                    if (FrameFormat.JSON != format)
                    {
                        fatal = "the broker sent a " + format + " frame to a JSON connection";
                        return;
                    }
                    try
                    {
                        frames.add(new Frame(type, Json.read(payload, offset, length)));
                    }
                    catch (final IOException ex)
                    {
                        fatal = "the broker sent a frame that is not valid JSON";
                    }
                }

                public void onFatalError(final ErrorCode code, final String reason)
                {
                    fatal = "malformed frame from the broker: " + code + ": " + reason;
                }
            });
            readBuffer.compact();
        }
        return frames.poll();
    }

    public void close() throws IOException
    {
        selector.close();
        channel.close();
    }
}
