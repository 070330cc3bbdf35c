package io.switchboard.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A measuring tool, not product code: the floor of any process in the middle of the socket path. It accepts
 * Unix-socket connections on {@code --listen} and, for each, opens one to {@code --to} (the bare echo server of
 * {@link SocketPeer}) and copies bytes both ways unparsed: two threads per connection, each a blocking read into one
 * direct buffer and a write of what it read, so the kernel wakes it the moment bytes arrive (as it wakes the echo
 * server). What it costs against the echo server alone is what a relay costs before it reads a single byte; the
 * gateway's round trip, set beside it, shows how much of the socket path's budget (issue 11: 0.5x the echo server)
 * any process in the middle uses.
 * <p>
 * Usage: {@code SocketRelay --listen PATH --to PATH [--buffer BYTES]}; prints {@code ready <pid>} once it accepts,
 * then runs until killed.
 */
public final class SocketRelay
{
    private SocketRelay()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws IOException if the listening socket cannot be opened.
     */
    public static void main(final String[] args) throws IOException
    {
        Path listen = null;
        Path to = null;
        int bufferBytes = 256 * 1024;
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--listen": listen = Path.of(args[i + 1]); break;
                case "--to": to = Path.of(args[i + 1]); break;
                case "--buffer": bufferBytes = Integer.parseInt(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (null == listen || null == to)
        {
            throw new IllegalArgumentException("--listen and --to are required");
        }
        Files.deleteIfExists(listen);
        final Path socket = listen;
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                Files.deleteIfExists(socket);
            }
            catch (final IOException ignore)
            {
                // best effort: the folder is the caller's
            }
        }));
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(listen));
            System.out.println("ready " + ProcessHandle.current().pid());
            int connections = 0;
            while (true)
            {
                final SocketChannel client = server.accept();
                final SocketChannel upstream = SocketChannel.open(StandardProtocolFamily.UNIX);
                try
                {
                    upstream.connect(UnixDomainSocketAddress.of(to));
                }
                catch (final IOException ex)
                {
                    System.err.println("cannot reach " + to + ": " + ex.getMessage());
                    client.close();
                    upstream.close();
                    continue;
                }
                connections++;
                start("relay-up-" + connections, client, upstream, bufferBytes);
                start("relay-down-" + connections, upstream, client, bufferBytes);
            }
        }
    }

    private static void start(final String name, final SocketChannel from, final SocketChannel to, final int bytes)
    {
        final Thread thread = new Thread(() -> copy(from, to, ByteBuffer.allocateDirect(bytes)), name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Copies until either side closes, then closes both (the other direction's thread then ends too). */
    private static void copy(final SocketChannel from, final SocketChannel to, final ByteBuffer buffer)
    {
        try (from; to)
        {
            while (from.read(buffer.clear()) >= 0)
            {
                buffer.flip();
                while (buffer.hasRemaining())
                {
                    to.write(buffer);
                }
            }
        }
        catch (final IOException ex)
        {
            // the peer went away: the connection ends, the relay goes on
        }
    }
}
