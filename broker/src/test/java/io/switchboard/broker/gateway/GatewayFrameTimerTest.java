package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.broker.Broker;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.switchboard.broker.gateway.SocketClient.ERROR;
import static io.switchboard.broker.gateway.SocketClient.RESPONSE;
import static io.switchboard.broker.gateway.SocketClient.STATS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The incomplete-frame timer measures a stall on the frame being received, not the time since a read last ended on a
 * frame boundary: a slow writer of valid frames is served, a writer that stops mid-frame is cut off.
 */
class GatewayFrameTimerTest
{
    private static final long FRAME_TIMEOUT_MS = 1_000;
    private static final int PIECE = 1_000;
    private static final long PAUSE_MS = 200; // well under the timeout, so scheduling delays do not matter

    private Path socketDir;
    private String aeronDir;
    private Broker broker;

    @AfterEach
    void tearDown()
    {
        if (null != broker)
        {
            broker.close();
        }
        IoUtil.delete(new File(aeronDir), true);
        IoUtil.delete(socketDir.toFile(), true);
    }

    @Test
    void shouldServeAClientWritingFramesInSlowPiecesAndCutOffOneThatStopsMidFrame() throws Exception
    {
        socketDir = Files.createTempDirectory("sb-gw-timer");
        aeronDir = "/dev/shm/sb-gw-timer-" + System.nanoTime();
        final Broker.Context ctx = new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron") // in a parent of its own (0700): the broker refuses /dev/shm itself
            .termLength(1 << 20)
            .logger((msg) -> {});
        ctx.gatewayContext().incompleteFrameTimeoutMs(FRAME_TIMEOUT_MS);
        broker = Broker.launch(ctx);
        final Path socket = broker.context().gatewaySocket();

        // two STATS frames of about 4,500 bytes each, back to back, so that every piece but the last ends mid-frame
        final ByteBuffer stream = ByteBuffer.allocate(2 * 5_000);
        for (final String id : new String[]{ "slow-1", "slow-2" })
        {
            final byte[] payload = ("{\"correlation_id\":\"" + id + "\",\"pad\":\"" + "x".repeat(4_500) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
            stream.putInt(payload.length).put((byte)2).put((byte)STATS).put((byte)1).put(payload);
        }
        stream.flip();
        final int total = stream.remaining();
        assertTrue(total / PIECE * PAUSE_MS > FRAME_TIMEOUT_MS, "the whole write outlasts the timeout");

        try (SocketChannel slow = SocketChannel.open(StandardProtocolFamily.UNIX);
            SocketChannel stalled = SocketChannel.open(StandardProtocolFamily.UNIX))
        {
            slow.connect(UnixDomainSocketAddress.of(socket));
            stalled.connect(UnixDomainSocketAddress.of(socket));
            final byte[] first = new byte[PIECE];
            stream.duplicate().get(first);
            writeFully(stalled, ByteBuffer.wrap(first)); // 1,000 bytes of the first frame, and then nothing
            final long stalledAtNs = System.nanoTime();

            while (stream.hasRemaining())
            {
                final ByteBuffer piece = stream.slice();
                piece.limit(Math.min(PIECE, piece.remaining()));
                writeFully(slow, piece);
                stream.position(stream.position() + piece.limit());
                if (stream.hasRemaining())
                {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PAUSE_MS)); // pacing a slow writer
                }
            }
            assertTrue(System.nanoTime() - stalledAtNs > TimeUnit.MILLISECONDS.toNanos(FRAME_TIMEOUT_MS),
                "the slow writer took longer than the timeout");

            slow.configureBlocking(false);
            for (final String id : new String[]{ "slow-1", "slow-2" })
            {
                final SocketClient.Frame frame = readFrame(slow);
                assertNotNull(frame, "the slow writer was cut off before " + id);
                final JsonNode body = frame.json();
                assertEquals(RESPONSE, frame.type, body::toString);
                assertEquals(id, body.get("correlation_id").asText());
            }

            stalled.configureBlocking(false);
            final SocketClient.Frame frame = readFrame(stalled);
            assertNotNull(frame, "a stalled frame is answered before the connection is closed");
            final JsonNode body = frame.json();
            assertEquals(ERROR, frame.type, body::toString);
            assertEquals("PROTOCOL_ERROR", body.get("error_code").asText());
            assertTrue(body.get("error").asText().contains("incomplete frame"), body::toString);
            assertNull(readFrame(stalled), "then the connection is closed");
        }
    }

    /**
     * The next frame, or null at end of stream; fails after the deadline.
     */
    private static SocketClient.Frame readFrame(final SocketChannel channel) throws IOException
    {
        final ByteBuffer header = ByteBuffer.allocate(7);
        if (!readFully(channel, header))
        {
            return null;
        }
        final ByteBuffer payload = ByteBuffer.allocate(header.getInt(0));
        assertTrue(readFully(channel, payload), "end of stream inside a frame");
        return new SocketClient.Frame(header.get(5), payload.array());
    }

    private static boolean readFully(final SocketChannel channel, final ByteBuffer into) throws IOException
    {
        final long deadline = System.nanoTime() + SocketClient.TIMEOUT_NS;
        while (into.hasRemaining())
        {
            int n;
            try
            {
                n = channel.read(into);
            }
            catch (final IOException ex)
            {
                n = -1; // reset by peer
            }
            if (n < 0)
            {
                assertEquals(0, into.position(), "end of stream inside a frame");
                return false;
            }
            if (n == 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, "neither bytes nor end of stream within the deadline");
                Thread.yield();
            }
        }
        return true;
    }

    private static void writeFully(final SocketChannel channel, final ByteBuffer bytes) throws IOException
    {
        while (bytes.hasRemaining())
        {
            channel.write(bytes); // blocking channel: returns once some bytes are taken
        }
    }
}
