package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.HdrHistogram.Histogram;
import org.agrona.IoUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Request-response latency across a broker link on loopback UDP, against its floor: a raw Aeron UDP ping-pong over
 * the same path with the same driver settings (embedded drivers, SHARED threading, the broker's backoff idle
 * strategy; the echo side idles as the link's thread does). Closed loop, one call at a time, HdrHistogram.
 * <p>
 * Link: a caller on broker B (polled by this thread) calls an opaque echo service on broker A; the call goes caller
 * -> B's link client (IPC) -> UDP -> A's link client -> the service (IPC) and back the same way. Raw: a pinger and a
 * ponger, each with its own embedded driver, one UDP publication each way.
 * <p>
 * gRPC: gRPC-java over TCP, the same unary echo as the Unix-socket gRPC rig of the local table ({@link GrpcRig}: byte[]
 * marshaller, netty epoll, direct executors), closed loop, payload {@link Payload#LENGTH} bytes.
 * <p>
 * With {@code --veth} (root, iproute2), the same across a veth pair into a network namespace: broker A, the raw
 * ponger and the gRPC server run as processes inside it (10.201.250.1), broker B and the callers here
 * (10.201.250.2).
 * <p>
 * {@code java -cp bench/target/benchmarks.jar io.switchboard.bench.LinkLatencyHarness [--seconds 5] [--warmup 2] [--veth]
 * [--payload 32] [--out FILE]}; with --out, one {@code note} line per system and one for the ratio are appended
 * to FILE (the latency file of scripts/bench, whose report lists its notes).
 */
public final class LinkLatencyHarness
{
    private static final int STREAM_ID = 4242;

    private LinkLatencyHarness()
    {
    }

    /**
     * Entry point.
     *
     * @param args see the class description.
     * @throws Exception if a part cannot start.
     */
    public static void main(final String[] args) throws Exception
    {
        double seconds = 5;
        double warmup = 2;
        int payload = 32;
        Path out = null;
        boolean veth = false;
        String systems = "raw,link,grpc";
        if (args.length == 3 && "--ponger".equals(args[0]))
        {
            ponger(args[1], args[2]);
            return;
        }
        if (args.length == 2 && "--grpc-server".equals(args[0]))
        {
            grpcServer(args[1]);
            return;
        }
        for (int i = 0; i < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--veth": veth = true; i--; break;
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                case "--warmup": warmup = Double.parseDouble(args[i + 1]); break;
                case "--payload": payload = Integer.parseInt(args[i + 1]); break;
                case "--out": out = Path.of(args[i + 1]); break;
                case "--systems": systems = args[i + 1]; break;
                default:
                    System.err.println("usage: LinkLatencyHarness [--seconds 5] [--warmup 2] [--payload 32] [--veth] " +
                        "[--systems raw,link,grpc] [--out FILE]");
                    System.exit(2);
            }
        }
        Veth pair = null;
        try
        {
            pair = veth ? Veth.create() : null;
            run(seconds, warmup, payload, pair, out, java.util.Set.of(systems.split(",")));
        }
        finally
        {
            if (null != pair)
            {
                pair.close();
            }
        }
    }

    private static void run(
        final double seconds, final double warmup, final int payload, final Veth pair, final Path out,
        final java.util.Set<String> systems) throws Exception
    {
        final String path = null == pair ? "loopback" : "a veth pair into a network namespace";
        Histogram raw = null;
        Histogram link = null;
        Histogram grpc = null;
        if (systems.contains("raw"))
        {
            raw = rawAeronUdp(seconds, warmup, payload, pair);
            report("raw Aeron UDP ping-pong (two embedded drivers, " + path + ")", raw, out);
        }
        if (systems.contains("link"))
        {
            link = linkedBrokers(seconds, warmup, payload, pair);
            report("Switchboard call across a broker link (" + path + ")", link, out);
        }
        if (systems.contains("grpc"))
        {
            grpc = grpcTcp(seconds, warmup, pair);
            report("gRPC-java unary call over TCP (" + path + ", payload " + Payload.LENGTH + " bytes)", grpc, out);
        }
        if (null == link || (null == raw && null == grpc))
        {
            return;
        }
        final StringBuilder ratio = new StringBuilder("cross-host request-response over " + path + ":");
        if (null != raw)
        {
            ratio.append(String.format(" link p50 / raw Aeron UDP p50 = %.2fx (issue 15 target: at most 1.5x), p99 " +
                "ratio %.2fx;", (double)link.getValueAtPercentile(50) / raw.getValueAtPercentile(50),
                (double)link.getValueAtPercentile(99) / raw.getValueAtPercentile(99)));
        }
        if (null != grpc)
        {
            ratio.append(String.format(" gRPC-java over TCP p50 / link p50 = %.1fx (issue 15 target: at least 20x), " +
                "p99 ratio %.1fx;", (double)grpc.getValueAtPercentile(50) / link.getValueAtPercentile(50),
                (double)grpc.getValueAtPercentile(99) / link.getValueAtPercentile(99)));
        }
        ratio.append(String.format(" payload %d bytes, closed loop, one call at a time, load average %s", payload,
            Files.readString(Path.of("/proc/loadavg")).trim()));
        System.out.println(ratio);
        if (null != out)
        {
            Files.writeString(out, "note\t" + ratio + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private static void report(final String system, final Histogram h, final Path out) throws IOException
    {
        final String line = String.format("%s: %d calls, p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, " +
            "max %.1f us", system, h.getTotalCount(), h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3,
            h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
        System.out.println(line);
        if (null != out)
        {
            Files.writeString(out, "note\t" + line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /**
     * The link thread's idle strategy (switchboard.link.idle.yields) and timer slack (switchboard.timer.slack.ns, which
     * the broker gives each of its agent threads), for the raw ponger too, on the thread that calls this: the floor
     * waits under the same conditions.
     */
    private static IdleStrategy brokerIdle()
    {
        final String failure = io.switchboard.transport.TimerSlack.applyToCurrentThread();
        if (null != failure)
        {
            System.err.println("raw ponger: " + failure);
        }
        return io.switchboard.broker.link.LinkContext.idleStrategy();
    }

    private static MediaDriver driver(final String dir)
    {
        return MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(dir)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new BackoffIdleStrategy( // the broker's driver's, which the property leaves alone
                10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1)))
            .publicationTermBufferLength(4 * 1024 * 1024)
            .ipcTermBufferLength(1024 * 1024));
    }

    static int freeUdpPort() throws IOException
    {
        return freeUdpPort("127.0.0.1");
    }

    static int freeUdpPort(final String address) throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0, java.net.InetAddress.getByName(address)))
        {
            return socket.getLocalPort();
        }
    }

    /**
     * A network namespace joined to this one by a veth pair (10.201.250.1 inside, .2 here), made with {@code ip} as
     * root, and Java processes started inside it; {@link #close()} deletes it (the pair goes with it).
     */
    static final class Veth implements AutoCloseable
    {
        final String ns = "sb-bench-" + UUID.randomUUID().toString().substring(0, 6);
        final String vethIn = "sbbi" + ns.substring(9);
        final String vethOut = "sbbo" + ns.substring(9);
        final String addressA = "10.201.250.1";
        final String addressB = "10.201.250.2";

        static Veth create() throws Exception
        {
            final Veth v = new Veth();
            try
            {
                sh("ip", "netns", "add", v.ns);
                sh("ip", "link", "add", v.vethOut, "type", "veth", "peer", "name", v.vethIn, "netns", v.ns);
                sh("ip", "addr", "add", v.addressB + "/24", "dev", v.vethOut);
                sh("ip", "link", "set", v.vethOut, "up");
                sh("ip", "netns", "exec", v.ns, "ip", "addr", "add", v.addressA + "/24", "dev", v.vethIn);
                sh("ip", "netns", "exec", v.ns, "ip", "link", "set", v.vethIn, "up");
                sh("ip", "netns", "exec", v.ns, "ip", "link", "set", "lo", "up");
            }
            catch (final Exception ex)
            {
                v.close();
                throw new IllegalStateException("--veth needs root and iproute2: " + ex.getMessage(), ex);
            }
            return v;
        }

        Process startJava(final String mainClass, final String... args) throws IOException
        {
            final java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("ip", "netns", "exec",
                ns, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "--add-opens",
                "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), mainClass));
            java.util.Collections.addAll(command, args);
            return new ProcessBuilder(command).redirectErrorStream(true).start();
        }

        static void awaitLine(final Process process, final String text) throws IOException
        {
            final java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            final StringBuilder seen = new StringBuilder();
            String line;
            while (null != (line = in.readLine()))
            {
                seen.append(line).append('\n');
                if (line.contains(text))
                {
                    final Thread drain = new Thread(() ->
                    {
                        try
                        {
                            while (null != in.readLine())
                            {
                                // keep the pipe from filling
                            }
                        }
                        catch (final IOException ignore)
                        {
                            // the process ended
                        }
                    }, "drain");
                    drain.setDaemon(true);
                    drain.start();
                    return;
                }
            }
            throw new IllegalStateException("the process ended before printing '" + text + "':\n" + seen);
        }

        private static void sh(final String... command) throws Exception
        {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || 0 != p.exitValue())
            {
                throw new IOException(String.join(" ", command) + ": " + out.trim());
            }
        }

        public void close()
        {
            try
            {
                sh("ip", "netns", "del", ns);
            }
            catch (final Exception ignore)
            {
                // not made
            }
        }
    }

    /** The echo side of the raw ping-pong in a process of its own (inside the namespace), until it is killed. */
    private static void ponger(final String listen, final String reply) throws Exception
    {
        final String id = UUID.randomUUID().toString();
        final MediaDriver driver = driver("/dev/shm/sb-bench-link-raw-p-" + id);
        final Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CloseHelper.closeAll(aeron, driver)));
        final Subscription in = aeron.addSubscription("aeron:udp?endpoint=" + listen, STREAM_ID);
        final ExclusivePublication outPub = aeron.addExclusivePublication(
            "aeron:udp?endpoint=" + reply + "|term-length=4m", STREAM_ID);
        final IdleStrategy idle = brokerIdle();
        final FragmentHandler echo = (buffer, offset, length, header) ->
        {
            while (outPub.offer(buffer, offset, length) < 0)
            {
                Thread.yield();
            }
        };
        System.out.println("ponger ready");
        System.out.flush();
        while (true)
        {
            idle.idle(in.poll(echo, 16));
        }
    }

    /** gRPC's echo server in a process of its own (inside the namespace), until it is killed. */
    private static void grpcServer(final String listen) throws Exception
    {
        GrpcRig.requireEpoll();
        final int colon = listen.lastIndexOf(':');
        final io.netty.channel.EventLoopGroup boss = new io.netty.channel.epoll.EpollEventLoopGroup(1);
        final io.netty.channel.EventLoopGroup worker = new io.netty.channel.epoll.EpollEventLoopGroup(1);
        final io.grpc.Server server = GrpcRig.serveEcho(new java.net.InetSocketAddress(listen.substring(0, colon),
            Integer.parseInt(listen.substring(colon + 1))), io.netty.channel.epoll.EpollServerSocketChannel.class, boss,
            worker);
        System.out.println("grpc ready");
        System.out.flush();
        server.awaitTermination();
    }

    /**
     * gRPC-java over TCP, closed loop: on loopback the rig serves the echo itself; across the veth pair the server runs
     * in the namespace, where broker A and the raw ponger run.
     */
    private static Histogram grpcTcp(final double seconds, final double warmup, final Veth pair) throws Exception
    {
        Process serverProcess = null;
        GrpcRig rig = null;
        try
        {
            if (null == pair)
            {
                rig = new GrpcRig(new java.net.InetSocketAddress("127.0.0.1", freeTcpPort()), true);
            }
            else
            {
                final String listen = pair.addressA + ":" + 40_403;
                serverProcess = pair.startJava(LinkLatencyHarness.class.getName(), "--grpc-server", listen);
                Veth.awaitLine(serverProcess, "grpc ready");
                rig = new GrpcRig(new java.net.InetSocketAddress(pair.addressA, 40_403), false);
            }
            final GrpcRig r = rig;
            final long[] replies = new long[1];
            final ReplyHandler onReply = (stamp) -> replies[0]++;
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            loop(seconds, warmup, histogram, () ->
            {
                final long before = replies[0];
                final long errorsBefore = r.errors();
                r.send(before);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // the first one connects
                while (replies[0] == before)
                {
                    r.poll(onReply); // yields when nothing came
                    if (r.errors() != errorsBefore)
                    {
                        throw new IllegalStateException("a gRPC call over TCP failed");
                    }
                    if (System.nanoTime() - deadline > 0)
                    {
                        throw new IllegalStateException("no gRPC reply over TCP within 30 s");
                    }
                }
            });
            return histogram;
        }
        finally
        {
            if (null != rig)
            {
                rig.close();
            }
            if (null != serverProcess)
            {
                serverProcess.destroy();
                serverProcess.waitFor(10, TimeUnit.SECONDS);
                serverProcess.destroyForcibly();
            }
        }
    }

    static int freeTcpPort() throws IOException
    {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")))
        {
            return socket.getLocalPort();
        }
    }

    private static Histogram rawAeronUdp(final double seconds, final double warmup, final int payload, final Veth pair)
        throws Exception
    {
        if (null != pair)
        {
            final String listen = pair.addressA + ":" + 40_401;
            final String reply = pair.addressB + ":" + freeUdpPort(pair.addressB);
            final Process ponger = pair.startJava(LinkLatencyHarness.class.getName(), "--ponger", listen, reply);
            final String id = UUID.randomUUID().toString();
            final MediaDriver driverB = driver("/dev/shm/sb-bench-link-raw-b-" + id);
            final Aeron aeronB = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverB.aeronDirectoryName()));
            try
            {
                Veth.awaitLine(ponger, "ponger ready");
                final Subscription pingerIn = aeronB.addSubscription("aeron:udp?endpoint=" + reply, STREAM_ID);
                final ExclusivePublication pingerOut = aeronB.addExclusivePublication(
                    "aeron:udp?endpoint=" + listen + "|term-length=4m", STREAM_ID);
                return pingPong(seconds, warmup, payload, pingerIn, pingerOut);
            }
            finally
            {
                ponger.destroy();
                ponger.waitFor(10, TimeUnit.SECONDS);
                ponger.destroyForcibly();
                CloseHelper.closeAll(aeronB, driverB);
            }
        }
        final String id = UUID.randomUUID().toString();
        final String pingChannel = "aeron:udp?endpoint=127.0.0.1:" + freeUdpPort() + "|term-length=4m";
        final String pongChannel = "aeron:udp?endpoint=127.0.0.1:" + freeUdpPort() + "|term-length=4m";
        final MediaDriver driverA = driver("/dev/shm/sb-bench-link-raw-a-" + id);
        final MediaDriver driverB = driver("/dev/shm/sb-bench-link-raw-b-" + id);
        final Aeron aeronA = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverA.aeronDirectoryName()));
        final Aeron aeronB = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverB.aeronDirectoryName()));
        final AtomicBoolean running = new AtomicBoolean(true);
        Thread ponger = null;
        try
        {
            final Subscription pongerIn = aeronA.addSubscription(pingChannel, STREAM_ID);
            final ExclusivePublication pongerOut = aeronA.addExclusivePublication(pongChannel, STREAM_ID);
            final Subscription pingerIn = aeronB.addSubscription(pongChannel, STREAM_ID);
            final ExclusivePublication pingerOut = aeronB.addExclusivePublication(pingChannel, STREAM_ID);
            ponger = new Thread(() ->
            {
                final IdleStrategy idle = brokerIdle();
                final FragmentHandler echo = (buffer, offset, length, header) ->
                {
                    while (pongerOut.offer(buffer, offset, length) < 0)
                    {
                        Thread.yield();
                    }
                };
                while (running.get())
                {
                    idle.idle(pongerIn.poll(echo, 16));
                }
            }, "raw-ponger");
            ponger.start();
            return pingPong(seconds, warmup, payload, pingerIn, pingerOut);
        }
        finally
        {
            running.set(false);
            if (null != ponger)
            {
                ponger.join();
            }
            CloseHelper.closeAll(aeronB, aeronA, driverB, driverA);
        }
    }

    private static Histogram pingPong(
        final double seconds, final double warmup, final int payload, final Subscription pingerIn,
        final ExclusivePublication pingerOut)
    {
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!pingerOut.isConnected() || !pingerIn.isConnected())
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("the raw ping-pong did not connect within 30 s");
                }
                Thread.yield();
            }
            final UnsafeBuffer message = new UnsafeBuffer(new byte[payload]);
            final boolean[] got = new boolean[1];
            final FragmentHandler onPong = (buffer, offset, length, header) -> got[0] = true;
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            loop(seconds, warmup, histogram, () ->
            {
                got[0] = false;
                while (pingerOut.offer(message, 0, payload) < 0)
                {
                    Thread.yield();
                }
                while (!got[0])
                {
                    if (0 == pingerIn.poll(onPong, 1))
                    {
                        Thread.yield();
                    }
                }
            });
            return histogram;
        }
    }

    private static Histogram linkedBrokers(final double seconds, final double warmup, final int payload,
        final Veth pair) throws Exception
    {
        final Path dir = Files.createTempDirectory("sb-bench-link");
        final Path secret = dir.resolve("secret");
        Files.writeString(secret, "benchmark link secret 0123456789", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        final String id = UUID.randomUUID().toString();
        final String linkA = null == pair ? "127.0.0.1:" + freeUdpPort() : pair.addressA + ":" + 40_402;
        final String linkB = null == pair ? "127.0.0.1:" + freeUdpPort() : pair.addressB + ":" + freeUdpPort(pair.addressB);
        final PrintStream quiet = System.out;
        Process brokerProcess = null;
        Broker brokerA = null;
        Broker brokerB = null;
        Switchboard service = null;
        Switchboard caller = null;
        try
        {
            if (null == pair)
            {
                brokerA = Broker.launch(brokerContext(dir.resolve("a"), "/dev/shm/sb-bench-link-" + id + "/a/aeron",
                    linkA, linkB, secret));
            }
            else
            {
                brokerProcess = pair.startJava(io.switchboard.broker.BrokerMain.class.getName(), "--socket-dir",
                    dir.resolve("a").toString(), "--aeron-dir", "/dev/shm/sb-bench-link-" + id + "/a/aeron",
                    "--link", linkA, "--peer", linkB, "--link-secret", secret.toString());
                Veth.awaitLine(brokerProcess, "broker ready");
            }
            brokerB = Broker.launch(brokerContext(dir.resolve("b"), "/dev/shm/sb-bench-link-" + id + "/b/aeron", linkB, linkA,
                secret));
            service = Switchboard.connect(new Switchboard.Context()
                .controlSocket(dir.resolve("a").resolve("control.sock")).clientName("echo-on-a"));
            service.serve(ServiceDefinition.named("echo").onOpaqueRequest("Echo",
                (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
            caller = Switchboard.connect(new Switchboard.Context()
                .controlSocket(dir.resolve("b").resolve("control.sock")).clientName("caller-on-b")
                .useConductorAgentInvoker(true));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!caller.hasService("echo"))
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("the echo service on A never reached B across the link");
                }
                caller.poll();
                Thread.yield();
            }
            final byte[] body = new byte[payload];
            java.util.Arrays.fill(body, (byte)'1'); // a JSON number: valid opaque JSON
            final UnsafeBuffer message = new UnsafeBuffer(body);
            final boolean[] got = new boolean[1];
            final String[] error = new String[1];
            final ResponseListener listener = new ResponseListener()
            {
                public void onResponse(final long correlationId, final DirectBuffer b, final int o, final int l)
                {
                    got[0] = true;
                }

                public void onError(final long correlationId, final String errorCode, final String message)
                {
                    error[0] = errorCode + ": " + message;
                    got[0] = true;
                }
            };
            final Switchboard c = caller;
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            loop(seconds, warmup, histogram, () ->
            {
                got[0] = false;
                c.request("echo", "Echo", message, 0, payload, TimeUnit.SECONDS.toNanos(10), listener);
                while (!got[0])
                {
                    if (0 == c.poll())
                    {
                        Thread.yield();
                    }
                }
                if (null != error[0])
                {
                    throw new IllegalStateException("call across the link failed: " + error[0]);
                }
            });
            return histogram;
        }
        finally
        {
            CloseHelper.closeAll(caller, service, brokerB, brokerA);
            if (null != brokerProcess)
            {
                brokerProcess.destroy();
                brokerProcess.waitFor(20, TimeUnit.SECONDS);
                brokerProcess.destroyForcibly();
            }
            IoUtil.delete(dir.toFile(), true);
            IoUtil.delete(new java.io.File("/dev/shm/sb-bench-link-" + id), true);
            System.setOut(quiet);
        }
    }

    static Broker.Context brokerContext(
        final Path socketDir, final String aeronDir, final String link, final String peer, final Path secret)
    {
        final Broker.Context ctx = new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir)
            .gateway(false)
            .haltOnFatalError(false);
        ctx.linkContext().endpoint(link).peer(peer).secretFile(secret);
        return ctx;
    }

    private static void loop(final double seconds, final double warmup, final Histogram histogram, final Runnable call)
    {
        final long warmupEnd = System.nanoTime() + (long)(warmup * 1e9);
        while (System.nanoTime() - warmupEnd < 0)
        {
            call.run();
        }
        final long end = System.nanoTime() + (long)(seconds * 1e9);
        long now;
        while ((now = System.nanoTime()) - end < 0)
        {
            call.run();
            histogram.recordValue(Math.min(histogram.getHighestTrackableValue(), System.nanoTime() - now));
        }
    }
}
