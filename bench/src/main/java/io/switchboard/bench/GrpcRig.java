package io.switchboard.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * gRPC-java over a Unix domain socket: a unary echo method with a {@code byte[]} marshaller (no protoc), server
 * and client on netty epoll domain-socket channels with one event loop each and direct executors, the cheapest
 * setup gRPC offers. The caller issues async unary calls and polls a queue of completions, yielding when it is
 * empty (spinning would starve gRPC's three event-loop threads on a 2-core machine); gRPC allocates per
 * call, so boxing the stamps here costs nothing it does not already pay.
 * <p>
 * The same over TCP ({@link #GrpcRig(InetSocketAddress, boolean)}, netty epoll socket channels), for the cross-host
 * comparison of {@link LinkLatencyHarness}; there the server may run in another process ({@link #serveEcho}).
 */
final class GrpcRig implements RequestRig
{
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>()
    {
        public InputStream stream(final byte[] value)
        {
            return new ByteArrayInputStream(value);
        }

        public byte[] parse(final InputStream stream)
        {
            try
            {
                return stream.readAllBytes();
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    };
    private static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName("bench.Bench", "Echo"))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();

    private final Path socket;
    private final EventLoopGroup serverBoss;
    private final EventLoopGroup serverWorker;
    private final EventLoopGroup clientGroup;
    private final Server server;
    private final ManagedChannel channel;
    private final ConcurrentLinkedQueue<Long> replies = new ConcurrentLinkedQueue<>();
    private final StreamObserver<byte[]> observer = new StreamObserver<>()
    {
        public void onNext(final byte[] value)
        {
            replies.add(ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
        }

        public void onError(final Throwable t)
        {
            errors++;
            replies.add(Long.MIN_VALUE);
        }

        public void onCompleted()
        {
        }
    };
    private volatile long errors;

    GrpcRig()
    {
        requireEpoll();
        try
        {
            socket = Files.createTempDirectory("sb-bench-grpc").resolve("grpc.sock");
            serverBoss = new EpollEventLoopGroup(1);
            serverWorker = new EpollEventLoopGroup(1);
            clientGroup = new EpollEventLoopGroup(1);
            server = serveEcho(new DomainSocketAddress(socket.toFile()), EpollServerDomainSocketChannel.class,
                serverBoss, serverWorker);
            channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toFile()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(clientGroup)
                .directExecutor()
                .usePlaintext()
                .build();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * The same rig over TCP: the client connects to the address, where this rig serves the echo itself or another
     * process does ({@link #serveEcho} with {@link EpollServerSocketChannel}).
     *
     * @param address of the echo server.
     * @param serve whether this rig starts the server there.
     */
    GrpcRig(final InetSocketAddress address, final boolean serve)
    {
        requireEpoll();
        socket = null;
        serverBoss = serve ? new EpollEventLoopGroup(1) : null;
        serverWorker = serve ? new EpollEventLoopGroup(1) : null;
        clientGroup = new EpollEventLoopGroup(1);
        try
        {
            server = serve ? serveEcho(address, EpollServerSocketChannel.class, serverBoss, serverWorker) : null;
        }
        catch (final IOException ex)
        {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new UncheckedIOException(ex);
        }
        channel = NettyChannelBuilder.forAddress(address)
            .channelType(EpollSocketChannel.class)
            .eventLoopGroup(clientGroup)
            .directExecutor()
            .usePlaintext()
            .build();
    }

    /**
     * Start gRPC's echo server on netty epoll with one boss and one worker loop and a direct executor.
     *
     * @param address to listen on (a Unix socket or TCP address, matching the channel type).
     * @param channelType netty's server channel for the address.
     * @param boss event loop group.
     * @param worker event loop group.
     * @return the started server.
     * @throws IOException if it cannot listen.
     */
    static Server serveEcho(
        final SocketAddress address, final Class<? extends ServerChannel> channelType, final EventLoopGroup boss,
        final EventLoopGroup worker) throws IOException
    {
        return NettyServerBuilder.forAddress(address)
            .channelType(channelType)
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(worker)
            .directExecutor()
            .addService(ServerServiceDefinition.builder("bench.Bench")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, response) ->
                {
                    response.onNext(request);
                    response.onCompleted();
                }))
                .build())
            .build()
            .start();
    }

    static void requireEpoll()
    {
        if (!Epoll.isAvailable())
        {
            throw new IllegalStateException("netty epoll is not available: " + Epoll.unavailabilityCause());
        }
    }

    /** {@inheritDoc} */
    public String name()
    {
        return Rigs.GRPC;
    }

    /** {@inheritDoc} */
    public void send(final long stamp)
    {
        final byte[] request = new byte[Payload.LENGTH];
        ByteBuffer.wrap(request).order(ByteOrder.LITTLE_ENDIAN).putLong(0, stamp);
        ClientCalls.asyncUnaryCall(channel.newCall(ECHO, CallOptions.DEFAULT), request, observer);
    }

    /** {@inheritDoc} */
    public int poll(final ReplyHandler handler)
    {
        int count = 0;
        Long stamp;
        while (null != (stamp = replies.poll()))
        {
            count++;
            if (Long.MIN_VALUE != stamp)
            {
                handler.onReply(stamp);
            }
        }
        if (0 == count)
        {
            Thread.yield(); // gRPC's event loops need the cores a spinning caller would take: give it the best case
        }
        return count;
    }

    /** {@inheritDoc} */
    public long errors()
    {
        return errors;
    }

    /** {@inheritDoc} */
    public void close()
    {
        channel.shutdownNow();
        if (null != server)
        {
            server.shutdownNow();
        }
        try
        {
            channel.awaitTermination(5, TimeUnit.SECONDS);
            if (null != server)
            {
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (null != serverBoss)
        {
            serverWorker.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            serverBoss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (null == socket)
        {
            return;
        }
        try
        {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(socket.getParent());
        }
        catch (final IOException ignore)
        {
            // a temp file left behind is harmless
        }
    }
}
