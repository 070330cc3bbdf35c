package io.switchboard.broker.access;

import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Refused connections over real Unix sockets: the peer writes, then reads the last frame and end of file (never a
 * reset); the connections held open are bounded in count and in time.
 */
class LingeringRefusalsTest
{
    private static final byte[] FRAME = "refused: FORBIDDEN".getBytes(StandardCharsets.US_ASCII);

    private Path dir;
    private ServerSocketChannel server;
    private Selector selector;
    private LingeringRefusals refusals;
    private final List<SocketChannel> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException
    {
        dir = Files.createTempDirectory("sb-linger");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(dir.resolve("s.sock")));
        selector = Selector.open();
        refusals = new LingeringRefusals(selector);
    }

    @AfterEach
    void tearDown()
    {
        refusals.closeAll();
        clients.forEach(CloseHelper::quietClose);
        CloseHelper.quietCloseAll(selector, server);
        IoUtil.delete(dir.toFile(), true);
    }

    @Test
    void shouldLetAPeerThatWroteFirstReadItsRefusalThenEndOfFile() throws IOException
    {
        final SocketChannel client = connect();
        client.write(ByteBuffer.wrap(new byte[]{1, 2, 3, 4, 5, 6, 7})); // written before the refusal, never read
        refusals.refuse(accept(), ByteBuffer.wrap(FRAME), 0);
        client.write(ByteBuffer.wrap(new byte[100])); // and after it: still taken, no EPIPE
        pollSelector();

        assertArrayEquals(FRAME, readToEnd(client), "the refusal, then end of file (not ECONNRESET)");
        assertEquals(1, refusals.size());
        client.close();
        awaitLingering(0); // closed when the peer closes
    }

    @Test
    void shouldHoldAtMostTheBoundOpenClosingTheOldestFirst() throws IOException
    {
        final int extra = 3;
        for (int i = 0; i < LingeringRefusals.MAX_LINGERING + extra; i++)
        {
            connect();
            refusals.refuse(accept(), ByteBuffer.wrap(FRAME), i);
        }
        assertEquals(LingeringRefusals.MAX_LINGERING, refusals.size());
        for (int i = 0; i < extra; i++)
        {
            assertArrayEquals(FRAME, readToEnd(clients.get(i)), "the oldest, closed to make room, read its frame");
        }
        assertEquals(0, refusals.expire(LingeringRefusals.LINGER_NS + extra - 1), "none has lingered its time yet");
        assertEquals(1, refusals.expire(LingeringRefusals.LINGER_NS + extra), "the oldest lingering expires first");
        assertEquals(LingeringRefusals.MAX_LINGERING - 1, refusals.expire(Long.MAX_VALUE / 2));
        assertEquals(0, refusals.size());
    }

    @Test
    void shouldCloseAPeerThatWritesPastTheDiscardBound() throws IOException
    {
        final SocketChannel client = connect();
        refusals.refuse(accept(), ByteBuffer.wrap(FRAME), 0);
        client.configureBlocking(false);
        final ByteBuffer junk = ByteBuffer.allocate(8192);
        long written = 0;
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (refusals.size() > 0)
        {
            try
            {
                junk.clear();
                written += client.write(junk);
            }
            catch (final IOException ex)
            {
                break; // closed by the broker side
            }
            pollSelector();
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("still lingering after " + written + " bytes written");
            }
            Thread.yield();
        }
        assertEquals(0, refusals.size());
        assertTrue(written > LingeringRefusals.MAX_DISCARDED_BYTES, "written=" + written);
    }

    private SocketChannel connect() throws IOException
    {
        final SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("s.sock")));
        clients.add(client);
        return client;
    }

    private SocketChannel accept() throws IOException
    {
        final SocketChannel channel = server.accept();
        channel.configureBlocking(false);
        return channel;
    }

    private void pollSelector() throws IOException
    {
        selector.selectNow();
        final Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext())
        {
            final SelectionKey key = it.next();
            it.remove();
            assertTrue(LingeringRefusals.isRefused(key));
            if (key.isValid())
            {
                refusals.onReadable(key);
            }
        }
    }

    private void awaitLingering(final int count) throws IOException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (refusals.size() != count)
        {
            pollSelector();
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("expected " + count + " lingering, actual=" + refusals.size());
            }
            Thread.yield();
        }
    }

    /** Blocking reads to end of file; an IOException (ECONNRESET) fails the test. */
    private static byte[] readToEnd(final SocketChannel client) throws IOException
    {
        client.configureBlocking(true);
        final ByteBuffer buffer = ByteBuffer.allocate(1024);
        while (client.read(buffer) >= 0)
        {
            if (!buffer.hasRemaining())
            {
                fail("more than expected");
            }
        }
        buffer.flip();
        final byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
