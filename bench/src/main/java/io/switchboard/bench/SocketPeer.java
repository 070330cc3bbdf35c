package io.switchboard.bench;

import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The server side of the socket-path scenarios, one process per system, so that the drivers (Python, Node, Java) and
 * the RSS figures see it from outside:
 * <ul>
 *     <li>{@code switchboard}: a broker (embedded media driver, gateway on {@code --socket}) and, in the same process,
 *     a Java service {@code bench} over Aeron IPC whose opaque type {@code Echo} replies with the bytes it got (the
 *     gateway passes the JSON payload through untouched); the service thread idles by yielding, or with
 *     {@code --service-idle backoff} by spinning, yielding, then parking up to 100 µs, which leaves the cores to the
 *     client and the gateway when it has nothing to do;</li>
 *     <li>{@code echo}: the floor of the socket path, a bare Unix-socket server with the same framing (PROTOCOL.md)
 *     and no broker: one selector thread answers each REQUEST frame with a RESPONSE frame carrying the same payload
 *     bytes (the request envelope, whose {@code correlation_id} and {@code payload} are what a client reads).</li>
 * </ul>
 * Prints {@code ready <pid>} once the socket accepts, then runs until killed (SIGTERM closes it cleanly).
 * <p>
 * Usage: {@code SocketPeer switchboard|echo --socket PATH}.
 */
public final class SocketPeer
{
    private static final int HEADER = 7;
    private static final byte REQUEST = 0x01;
    private static final byte RESPONSE = 0x02;
    private static final byte HEARTBEAT = 0x04;
    /** Longest frame body the echo server takes: the gateway's default, 16 MiB of payload and 64 KiB of envelope. */
    private static final long MAX_FRAME = 16 * 1024 * 1024 + 64 * 1024;

    private SocketPeer()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws Exception if the server cannot start.
     */
    public static void main(final String[] args) throws Exception
    {
        final String mode = args[0];
        Path socket = null;
        String serviceIdle = "yield";
        for (int i = 1; i + 1 < args.length; i += 2)
        {
            if ("--socket".equals(args[i]))
            {
                socket = Path.of(args[i + 1]).toAbsolutePath();
            }
            else if ("--service-idle".equals(args[i]) &&
                ("yield".equals(args[i + 1]) || "backoff".equals(args[i + 1])))
            {
                serviceIdle = args[i + 1];
            }
            else
            {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (null == socket)
        {
            throw new IllegalArgumentException("--socket PATH is required");
        }
        final CountDownLatch stop = new CountDownLatch(1);
        final Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stop.countDown();
            if ("switchboard".equals(mode))
            {
                try
                {
                    main.join(10_000); // its broker closes and its folders go before the JVM ends
                }
                catch (final InterruptedException ignore)
                {
                }
            }
        }));
        if ("switchboard".equals(mode))
        {
            runBroker(socket, stop, "backoff".equals(serviceIdle) ?
                new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(100)) :
                new YieldingIdleStrategy());
        }
        else if ("echo".equals(mode))
        {
            runEcho(socket);
        }
        else
        {
            throw new IllegalArgumentException("expected switchboard or echo, actual=" + mode);
        }
    }

    private static void runBroker(final Path socket, final CountDownLatch stop, final IdleStrategy serviceIdle)
        throws InterruptedException
    {
        final Path shmDir = Path.of("/dev/shm/sb-bench-" + UUID.randomUUID());
        final Path socketDir;
        try
        {
            socketDir = Files.createTempDirectory("sb-bench");
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        // folders of its own: the default socket folder may be held by another broker on this machine
        final Broker broker = Broker.launch(new Broker.Context().gatewaySocket(socket).socketDir(socketDir)
            .aeronDirectoryName(shmDir.resolve("aeron").toString()).logger((msg) -> {}));
        Switchboard service = null;
        try
        {
            service = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-echo")
                .idleStrategy(serviceIdle));
            service.serve(ServiceDefinition.named(SwitchboardRig.SERVICE).shared()
                .onOpaqueRequest(SwitchboardRig.ECHO, (req, buffer, offset, length) ->
                req.reply(buffer, offset, length)));
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!service.hasService(SwitchboardRig.SERVICE)) // the registry has it: its route came back
            {
                Rigs.checkDeadline(deadlineNs, "the echo service's registration");
                Thread.yield();
            }
            System.out.println("ready " + ProcessHandle.current().pid());
            System.out.flush();
            stop.await();
        }
        finally
        {
            CloseHelper.quietCloseAll(service, broker);
            org.agrona.IoUtil.delete(socketDir.toFile(), true);
            org.agrona.IoUtil.delete(shmDir.toFile(), true);
        }
    }

    private static void runEcho(final Path socket) throws IOException
    {
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        final Selector selector = Selector.open();
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                Files.deleteIfExists(socket);
            }
            catch (final IOException ignore)
            {
            }
        }));
        System.out.println("ready " + ProcessHandle.current().pid());
        System.out.flush();
        while (true)
        {
            selector.select();
            final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext())
            {
                final SelectionKey key = keys.next();
                keys.remove();
                if (!key.isValid())
                {
                    continue;
                }
                if (key.isAcceptable())
                {
                    final SocketChannel channel = server.accept();
                    if (null != channel)
                    {
                        channel.configureBlocking(false);
                        channel.register(selector, SelectionKey.OP_READ, new EchoConnection(channel));
                    }
                    continue;
                }
                final EchoConnection connection = (EchoConnection)key.attachment();
                try
                {
                    if (key.isWritable())
                    {
                        connection.flush(key);
                    }
                    if (key.isValid() && key.isReadable())
                    {
                        connection.read(key);
                    }
                }
                catch (final IOException ex)
                {
                    key.cancel();
                    connection.channel.close();
                }
            }
        }
    }

    /** One client of the echo server: frames in, the same frames back with type RESPONSE. */
    private static final class EchoConnection
    {
        final SocketChannel channel;
        ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
        ByteBuffer out = ByteBuffer.allocateDirect(256 * 1024);

        EchoConnection(final SocketChannel channel)
        {
            this.channel = channel;
        }

        void read(final SelectionKey key) throws IOException
        {
            final int n = channel.read(in);
            if (n < 0)
            {
                throw new IOException("closed");
            }
            in.flip();
            while (in.remaining() >= HEADER)
            {
                final int start = in.position();
                final long length = Integer.toUnsignedLong(in.getInt(start));
                if (length > MAX_FRAME)
                {
                    throw new IOException("frame of " + length + " bytes: expected at most " + MAX_FRAME);
                }
                final int frame = (int)(HEADER + length);
                if (in.remaining() < frame)
                {
                    if (frame > in.capacity())
                    {
                        // a long message (issue 11): grow to hold it whole, as the gateway does
                        final ByteBuffer bigger = ByteBuffer.allocateDirect(frame);
                        bigger.put(in);
                        in = bigger;
                        in.flip();
                    }
                    break;
                }
                final byte type = in.get(start + 5);
                if (REQUEST == type || HEARTBEAT == type)
                {
                    ensureOut(frame);
                    final int at = out.position();
                    final ByteBuffer slice = in.duplicate();
                    slice.limit(start + frame);
                    out.put(slice);
                    if (REQUEST == type)
                    {
                        out.put(at + 5, RESPONSE);
                    }
                }
                in.position(start + frame);
            }
            in.compact();
            flush(key);
        }

        private void ensureOut(final int frame)
        {
            if (out.remaining() < frame)
            {
                final ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(out.capacity() * 2, out.position() + frame));
                out.flip();
                bigger.put(out);
                out = bigger;
            }
        }

        void flush(final SelectionKey key) throws IOException
        {
            out.flip();
            channel.write(out);
            out.compact();
            key.interestOps(out.position() > 0 ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
        }
    }
}
