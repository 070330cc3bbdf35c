package io.switchboard.broker.link;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.switchboard.broker.Broker;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which thread runs the links: with an embedded driver, the driver's (ThreadingMode.INVOKER, one thread named
 * {@code switchboard-driver-and-links}); with an external driver, a link thread of their own ({@code switchboard-link}).
 * Each way two brokers linked over loopback carry a small call and one of 1 MiB (pieces: the link's back-pressure
 * retries, which on the shared thread run the driver) both ways, and the other thread is not there.
 */
@Timeout(120)
class LinkThreadsTest
{
    private static final String SHARED_THREAD = "switchboard-driver-and-links";
    private static final String LINK_THREAD = "switchboard-link";

    @TempDir
    Path dir;

    @Test
    void shouldRunTheLinksOnTheEmbeddedDriversThread() throws Exception
    {
        linkedBrokersCarryCalls(false);
    }

    @Test
    void shouldRunTheLinksOnTheirOwnThreadWithAnExternalDriver() throws Exception
    {
        linkedBrokersCarryCalls(true);
    }

    private void linkedBrokersCarryCalls(final boolean external) throws Exception
    {
        final Path secret = dir.resolve("secret");
        Files.writeString(secret, "link threads test secret 0123456789", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        final String id = UUID.randomUUID().toString();
        final String aeronA = "/dev/shm/sb-link-threads-" + id + "/a/aeron";
        final String aeronB = "/dev/shm/sb-link-threads-" + id + "/b/aeron";
        final String linkA = "127.0.0.1:" + freeUdpPort();
        final String linkB = "127.0.0.1:" + freeUdpPort();
        MediaDriver driverA = null;
        MediaDriver driverB = null;
        Broker brokerA = null;
        Broker brokerB = null;
        Switchboard service = null;
        Switchboard caller = null;
        try
        {
            if (external)
            {
                driverA = MediaDriver.launch(driverContext(aeronA));
                driverB = MediaDriver.launch(driverContext(aeronB));
            }
            brokerA = Broker.launch(brokerContext(dir.resolve("a"), aeronA, linkA, linkB, secret, external));
            brokerB = Broker.launch(brokerContext(dir.resolve("b"), aeronB, linkB, linkA, secret, external));

            final Set<String> threads = Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName).collect(Collectors.toSet());
            assertEquals(external, threads.contains(LINK_THREAD), "link thread of its own: " + threads);
            assertEquals(!external, threads.contains(SHARED_THREAD), "the driver's thread runs the links: " + threads);

            service = Switchboard.connect(new Switchboard.Context()
                .controlSocket(dir.resolve("a").resolve("control.sock")).clientName("echo-on-a")
                .idleStrategy(new BackoffIdleStrategy(10, 10, 1_000, 1_000_000)));
            service.serve(ServiceDefinition.named("echo").onOpaqueRequest("Echo",
                (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
            caller = Switchboard.connect(new Switchboard.Context()
                .controlSocket(dir.resolve("b").resolve("control.sock")).clientName("caller-on-b")
                .idleStrategy(new BackoffIdleStrategy(10, 10, 1_000, 1_000_000)));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!caller.hasService("echo"))
            {
                assertTrue(System.nanoTime() - deadline < 0, "the echo service on A never reached B across the link");
                Thread.sleep(10); // a route crossing hosts: nothing here to await on but the client's route table
            }
            for (final int length : new int[] {32, 1024 * 1024})
            {
                final byte[] body = new byte[length];
                Arrays.fill(body, (byte)'7'); // a JSON number: valid opaque JSON
                body[length - 1] = '3';
                final Reply reply = caller.requestAsync("echo", "Echo", new UnsafeBuffer(body), 0, length,
                    Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
                final byte[] got = new byte[reply.length()];
                reply.buffer().getBytes(0, got);
                assertArrayEquals(body, got, "the reply to a call of " + length + " bytes across the link");
            }
        }
        finally
        {
            CloseHelper.closeAll(caller, service, brokerB, brokerA, driverB, driverA);
            IoUtil.delete(new File("/dev/shm/sb-link-threads-" + id), true);
        }
    }

    private static MediaDriver.Context driverContext(final String aeronDir)
    {
        new File(aeronDir).getParentFile().mkdirs();
        return new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new BackoffIdleStrategy(10, 20, 1_000, 1_000_000))
            .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(50))
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true);
    }

    private static Broker.Context brokerContext(
        final Path socketDir, final String aeronDir, final String link, final String peer, final Path secret,
        final boolean external)
    {
        final Broker.Context ctx = new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir)
            .embeddedDriver(!external)
            .gateway(false)
            .haltOnFatalError(false)
            .logger((m) -> { });
        ctx.linkContext().endpoint(link).peer(peer).secretFile(secret);
        return ctx;
    }

    private static int freeUdpPort() throws Exception
    {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1")))
        {
            return socket.getLocalPort();
        }
    }
}
