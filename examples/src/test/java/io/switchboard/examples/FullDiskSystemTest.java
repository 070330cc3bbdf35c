package io.switchboard.examples;

import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.SubjectPublisher;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The media driver's disk fills while the broker runs: a real broker whose driver directory is on a 160 MiB tmpfs (the broker takes about 62 MiB at start; what is left, about 100 MiB, is filled, and once freed it holds the thirty-odd 3 MiB logs the rest of the test may make),
 * the demo services in their own process, a file written until the tmpfs says ENOSPC. The peer that needs a new log
 * gets a typed error (a Java call, a Java publish, a socket call, a socket publish), the peers whose logs exist go on,
 * nothing crashes, and once the file is removed the same calls work without restarting anything.
 * <p>
 * Needs root and {@code mount}; without them it FAILS, unless switched off with
 * {@code -Dswitchboard.test.privileged=false}.
 */
@Timeout(240)
class FullDiskSystemTest
{
    /** Set to false to switch off the tests that need root and mount (they fail without them otherwise). */
    static final String PRIVILEGED_PROP = "switchboard.test.privileged";
    private static final String NO_SPACE = "no space left";
    /** Messages of about 1 KiB that go through every page of a 1 MiB-term log (3 terms) and wrap it. */
    private static final int LOG_WALK_MESSAGES = 3_500;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();

    @Test
    void shouldAnswerTypedErrorsToPeersThatNeedANewLogOnAFullDiskAndRecoverWhenSpaceIsFreed() throws Exception
    {
        requirePrivileges();
        final Path root = Files.createTempDirectory(Paths.get("/tmp"), "sb-full-disk");
        final Path mount = Files.createDirectory(root.resolve("small"));
        final Path aeronDir = mount.resolve("aeron");
        final Path filler = mount.resolve("filler");
        boolean mounted = false;
        BrokerProcess broker = null;
        ProcessHarness services = null;
        Switchboard early = null;
        Switchboard echo = null;
        final List<Throwable> echoErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
        Switchboard halfway = null;
        Switchboard late = null;
        try
        {
            run("mount", "-t", "tmpfs", "-o", "size=160m,mode=0700", "tmpfs", mount.toString());
            mounted = true;
            broker = new BrokerProcess(List.of(), "--aeron-dir", aeronDir.toString()); // the last --aeron-dir wins
            services = broker.startDemoServices();

            // before the disk fills: a peer with a log to the calculator and back, and a log of its own publications
            early = broker.connect("early");
            JavaPathSystemTest.awaitService(early, "calculator");
            assertEquals(42, add(early, 40, 2, 30_000));
            final AtomicInteger earlyReceived = new AtomicInteger();
            early.subscribe("disk.>", (push, b, o, l) -> earlyReceived.incrementAndGet());
            awaitPublished(early, "disk.before", earlyReceived, 1);
            // a service here, and a peer with a log to it but none back (a one-way send is not answered): the service
            // will need a new log to answer that peer
            final AtomicInteger echoed = new AtomicInteger();
            echo = Switchboard.connect(broker.clientContext("echo").errorHandler(echoErrors::add));
            echo.serve(ServiceDefinition.named("echo").onOpaqueRequest("Echo", (request, b, o, l) ->
            {
                echoed.incrementAndGet();
                if (request.expectsReply())
                {
                    request.reply(b, o, l);
                }
            }));
            halfway = broker.connect("halfway");
            JavaPathSystemTest.awaitService(halfway, "echo");
            halfway.send("echo", "Echo", buffer, 0, 2);
            while (echoed.get() < 1)
            {
                Thread.yield(); // the echo service knows the halfway peer, and holds no log to it
            }

            // and the gateway with logs to the echo service and back
            final RawSocketClient earlySocket = new RawSocketClient(broker.socketDir.resolve("broker.sock"));
            socketEcho(earlySocket, "before", 1);

            final long filled = fill(filler);
            System.out.println("FullDiskSystemTest: filled " + filled + " bytes; usable now " +
                Files.getFileStore(mount).getUsableSpace());

            // a new Java peer: connecting needs no log, calling does
            late = broker.connect("late");
            JavaPathSystemTest.awaitService(late, "calculator");
            final SwitchboardException callRefused = failureOf(late.requestAsync(
                "calculator", "Add", buffer, 0, encodeAdd(2, 3), Duration.ofSeconds(10)));
            System.out.println("FullDiskSystemTest: late call -> " + callRefused.getMessage());
            assertEquals("SERVICE_UNAVAILABLE", callRefused.errorCode());
            assertTrue(callRefused.getMessage().contains(NO_SPACE) &&
                callRefused.getMessage().contains(aeronDir.toString()), callRefused.getMessage());

            final Switchboard lateClient = late;
            final SwitchboardException publishRefused = assertThrows(SwitchboardException.class,
                () -> lateClient.publish("disk.late", "disk.late", -1, buffer, 0, 2));
            System.out.println("FullDiskSystemTest: late publish -> " + publishRefused.getMessage());
            assertEquals("SERVICE_UNAVAILABLE", publishRefused.errorCode());
            assertTrue(publishRefused.getMessage().contains(NO_SPACE), publishRefused.getMessage());
            final SubjectPublisher publisher = late.publisher("disk.fast", "disk.fast", -1);
            final SwitchboardException offerRefused = assertThrows(SwitchboardException.class,
                () -> publisher.offer(buffer, 0, 2));
            assertEquals("SERVICE_UNAVAILABLE", offerRefused.errorCode());

            // the echo service reads the halfway peer's call but has no room for a log to answer it: the caller gets
            // its TIMEOUT (no other path reaches it), and nothing is thrown into the service's duty cycle
            final int echoedBefore = echoed.get();
            final SwitchboardException unanswered = failureOf(halfway.requestAsync(
                "echo", "Echo", buffer, 0, 2, Duration.ofSeconds(2)));
            System.out.println("FullDiskSystemTest: halfway call -> " + unanswered.getMessage());
            assertEquals("TIMEOUT", unanswered.errorCode());
            assertEquals(echoedBefore + 1, echoed.get(), "the echo service read the call");
            assertEquals(List.of(), echoErrors, "no error reached the echo service's error handler");

            // the peers whose logs exist go on: calls, publishes, receives, through every page of their logs (a log
            // whose pages were not all allocated at creation would fault, SIGBUS, on the first new page it reaches)
            assertEquals(7, add(early, 3, 4, 30_000));
            awaitPublished(early, "disk.during", earlyReceived, 2);
            final int walked = publishThroughTheLog(early, earlyReceived);
            try (RawSocketClient socket = earlySocket)
            {
                socketEcho(socket, "during", LOG_WALK_MESSAGES);
            }
            System.out.println("FullDiskSystemTest: the early peer published " + walked + " and the gateway called " +
                LOG_WALK_MESSAGES + " times through existing logs after the disk filled");

            // a socket client: the gateway has no log to the calculator yet, nor one for publications
            try (RawSocketClient socket = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
            {
                socket.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"full-call\",\"target\":\"calculator\"," +
                    "\"message_type\":\"Add\",\"payload\":{\"a\":5,\"b\":6},\"expects_reply\":true}");
                final RawSocketClient.Frame error = socket.await(RawSocketClient.ERROR, "full-call", 30_000);
                System.out.println("FullDiskSystemTest: socket call -> " + error.body);
                assertEquals("SERVICE_UNAVAILABLE", error.body.path("error_code").asText(), error.body.toString());
                assertTrue(error.body.toString().contains(NO_SPACE), error.body.toString());

                socket.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"full-pub\",\"message_type\":\"disk.socket\"," +
                    "\"payload\":{\"n\":1}}");
                final RawSocketClient.Frame pubError = socket.await(RawSocketClient.ERROR, "full-pub", 30_000);
                System.out.println("FullDiskSystemTest: socket publish -> " + pubError.body);
                assertEquals("SERVICE_UNAVAILABLE", pubError.body.path("error_code").asText(), pubError.body.toString());
            }
            assertTrue(broker.process.process().isAlive(), "the broker is alive:\n" + broker.process.output());
            assertTrue(services.process().isAlive(), "the demo services are alive:\n" + services.output());

            // space freed: the same calls work, nothing restarted
            Files.delete(filler);
            System.out.println("FullDiskSystemTest: freed; usable " + Files.getFileStore(mount).getUsableSpace() +
                ", logs " + describeLogs(aeronDir));
            assertEquals(5, add(late, 2, 3, 30_000));
            awaitEcho(halfway);
            final AtomicInteger lateReceived = new AtomicInteger();
            late.subscribe("disk.>", (push, b, o, l) -> lateReceived.incrementAndGet());
            awaitPublished(late, "disk.after", lateReceived, 1);
            assertTrue(awaitOffered(publisher), "the publisher opens its log again");
            try (RawSocketClient socket = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
            {
// the gateway asks the driver again at its next call: the first may still meet its last refusal's
                // 100 ms hold; it must be served within a few attempts, never refused for good
                final long freedDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int attempts = 0;
                RawSocketClient.Frame answer;
                do
                {
                    assertTrue(System.nanoTime() - freedDeadline < 0, "the gateway never sent to the calculator again");
                    final String id = "freed-call-" + (++attempts);
                    socket.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + id + "\",\"target\":\"calculator\"," +
                        "\"message_type\":\"Add\",\"payload\":{\"a\":5,\"b\":6},\"expects_reply\":true}");
                    answer = socket.read(30_000);
                    assertNotNull(answer, id + " unanswered");
                    assertEquals(id, answer.body.path("correlation_id").asText(), answer.body.toString());
                    if (RawSocketClient.RESPONSE != answer.type)
                    {
                        System.out.println("FullDiskSystemTest: " + id + " -> " + answer.body + "; usable " +
                            Files.getFileStore(mount).getUsableSpace() + ", logs " + describeLogs(aeronDir));
                        Thread.sleep(200); // past the gateway's 100 ms hold after a refusal: a real interval
                    }
                }
                while (RawSocketClient.RESPONSE != answer.type);
                System.out.println("FullDiskSystemTest: the gateway served the calculator again at attempt " + attempts);
                assertEquals(11, answer.body.get("payload").get("value").asInt());
                socket.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"freed-pub\",\"message_type\":\"disk.socket\"," +
                    "\"payload\":{\"n\":2}}");
                socket.await(RawSocketClient.RESPONSE, "freed-pub", 30_000);
            }

            assertTrue(services.process().isAlive(), "the demo services are alive:\n" + services.output());
            assertEquals(0, broker.process.terminate(), "the broker stops cleanly:\n" + broker.process.output());
            assertFalse(broker.process.output().contains("fatal"), broker.process.output());
        }
        finally
        {
            if (null != broker)
            {
                System.out.println("FullDiskSystemTest: broker (" + describe(broker.process) + ") output:\n" +
                    broker.process.output());
            }
            if (null != services)
            {
                System.out.println("FullDiskSystemTest: demo services (" + describe(services) + ") output:\n" +
                    services.output());
            }
            closeQuietly(late);
            closeQuietly(halfway);
            closeQuietly(echo);
            closeQuietly(early);
            if (null != services)
            {
                services.close();
            }
            if (null != broker)
            {
                broker.process.close(); // SIGKILL if still running: the mount must be released before unmounting
                broker.close();
            }
            if (mounted)
            {
                unmount(mount);
            }
            ProcessHarness.deleteRecursively(root.toFile());
        }
    }

    private int encodeAdd(final long a, final long b)
    {
        final AddEncoder add = new AddEncoder().wrapAndApplyHeader(buffer, 0, headerEncoder).a(a).b(b);
        return MessageHeaderEncoder.ENCODED_LENGTH + add.encodedLength();
    }

    /**
     * Add with the calculator, retried until the deadline: after space is freed a refused log is asked for again.
     */
    private long add(final Switchboard client, final long a, final long b, final long withinMs) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMs);
        Throwable last = null;
        while (System.nanoTime() - deadline < 0)
        {
            try
            {
                final Reply reply = client.requestAsync("calculator", "Add", buffer, 0, encodeAdd(a, b),
                    Duration.ofSeconds(5)).get(30, TimeUnit.SECONDS);
                return new ResultDecoder().wrapAndApplyHeader(reply.buffer(), 0, new MessageHeaderDecoder()).value();
            }
            catch (final ExecutionException ex)
            {
                last = ex.getCause();
            }
            Thread.yield();
        }
        throw new AssertionError("no answer from the calculator within " + withinMs + " ms; last: " + last, last);
    }

    /**
     * Publish about 3.5 MiB in 1 KiB messages on the client's existing log, each received by its own subscription.
     */
    private static int publishThroughTheLog(final Switchboard client, final AtomicInteger received)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[1000]);
        final int before = received.get();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 0; i < LOG_WALK_MESSAGES; i++)
        {
            while (client.publish("disk.walk", "disk.walk", -1, payload, 0, payload.capacity()) < 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, "publish " + i + " kept failing");
                Thread.yield(); // back-pressure: the subscription is this client's own, read on its thread
            }
        }
        while (received.get() - before < LOG_WALK_MESSAGES)
        {
            assertTrue(System.nanoTime() - deadline < 0, "received " + (received.get() - before) + " of " +
                LOG_WALK_MESSAGES);
            Thread.yield();
        }
        return LOG_WALK_MESSAGES;
    }

    /**
     * Call the echo service through the gateway with about 1 KiB, one call at a time, each answered.
     */
    private static void socketEcho(final RawSocketClient socket, final String prefix, final int count) throws Exception
    {
        final String text = "x".repeat(1000);
        for (int i = 0; i < count; i++)
        {
            final String id = prefix + "-" + i;
            socket.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + id + "\",\"target\":\"echo\"," +
                "\"message_type\":\"Echo\",\"payload\":{\"text\":\"" + text + "\"},\"expects_reply\":true}");
            final RawSocketClient.Frame answer = socket.read(30_000);
            assertNotNull(answer, "no answer to " + id);
            assertEquals(RawSocketClient.RESPONSE, answer.type, answer.toString());
            assertEquals(text, answer.body.path("payload").path("text").asText(), id);
        }
    }

    private void awaitEcho(final Switchboard client) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Throwable last = null;
        while (System.nanoTime() - deadline < 0)
        {
            try
            {
                assertEquals(2, client.requestAsync("echo", "Echo", buffer, 0, 2, Duration.ofSeconds(2))
                    .get(30, TimeUnit.SECONDS).length());
                return;
            }
            catch (final ExecutionException ex)
            {
                last = ex.getCause();
            }
        }
        throw new AssertionError("no answer from the echo service within 30 s; last: " + last, last);
    }

    private void awaitPublished(final Switchboard client, final String subject, final AtomicInteger received,
        final int expected)
    {
        final byte[] json = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer payload = new UnsafeBuffer(json);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long result;
        while ((result = client.publish(subject, subject, -1, payload, 0, json.length)) < 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "publish on " + subject + " kept failing: " + result);
            Thread.yield();
        }
        while (received.get() < expected)
        {
            assertTrue(System.nanoTime() - deadline < 0, subject + " never arrived");
            Thread.yield();
        }
    }

    private boolean awaitOffered(final SubjectPublisher publisher)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() - deadline < 0)
        {
            try
            {
                if (publisher.offer(buffer, 0, 2) > 0)
                {
                    return true;
                }
            }
            catch (final SwitchboardException ex)
            {
                // still refused: asked again until the deadline
            }
            Thread.yield();
        }
        return false;
    }

    private static SwitchboardException failureOf(final CompletableFuture<?> future) throws Exception
    {
        final ExecutionException ex = assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
        assertInstanceOf(SwitchboardException.class, ex.getCause());
        return (SwitchboardException)ex.getCause();
    }

    /**
     * Write the file until the file system says it is full.
     *
     * @return the bytes written.
     */
    private static long fill(final Path file) throws IOException
    {
        final ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        long written = 0;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            while (true)
            {
                chunk.clear();
                written += channel.write(chunk);
            }
        }
        catch (final IOException full)
        {
            if (!String.valueOf(full.getMessage()).contains("No space left"))
            {
                throw full;
            }
        }
        return written;
    }

    private static void closeQuietly(final Switchboard client)
    {
        if (null != client)
        {
            try
            {
                client.close();
            }
            catch (final RuntimeException ignore)
            {
                // the test's own failure is the one to report
            }
        }
    }

    static void requirePrivileges() throws IOException
    {
        if ("false".equals(System.getProperty(PRIVILEGED_PROP)))
        {
            abort("switched off with -D" + PRIVILEGED_PROP + "=false");
        }
        final Object uid = Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        if (!Integer.valueOf(0).equals(uid) || !Files.isExecutable(Paths.get("/usr/bin/mount")) &&
            !Files.isExecutable(Paths.get("/bin/mount")))
        {
            fail("needs root (uid=" + uid + ") and mount to mount a small tmpfs; run as root, or switch this test " +
                "off with -D" + PRIVILEGED_PROP + "=false");
        }
    }

    private static String describe(final ProcessHarness process)
    {
        return process.process().isAlive() ? "alive" : "exited with " + process.process().exitValue();
    }

    /**
     * Unmount, waiting for the processes that mapped files there to be gone; lazily if they never are, so that a
     * failed run leaves no mount behind (and fails).
     */
    private static void unmount(final Path mount) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            final Process umount = new ProcessBuilder("umount", mount.toString()).redirectErrorStream(true).start();
            if (umount.waitFor(20, TimeUnit.SECONDS) && 0 == umount.exitValue())
            {
                return;
            }
            if (System.nanoTime() - deadline > 0)
            {
                run("umount", "-l", mount.toString());
                fail("the tmpfs at " + mount + " was still busy after 20 s (unmounted lazily): something still maps it");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // not a umount per spin
        }
    }

    private static void run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).directory(new File("/")).redirectErrorStream(true).start();
        final boolean exited = process.waitFor(20, TimeUnit.SECONDS);
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited)
        {
            process.destroyForcibly();
        }
        assertTrue(exited && 0 == process.exitValue(), String.join(" ", command) + " failed: " + out);
    }

    private static String describeLogs(final Path aeronDir) throws IOException
    {
        try (java.util.stream.Stream<Path> files = Files.list(aeronDir.resolve("publications")))
        {
            final List<Path> logs = files.collect(java.util.stream.Collectors.toList());
            long bytes = 0;
            for (final Path log : logs)
            {
                bytes += Files.size(log);
            }
            return logs.size() + " files, " + bytes + " bytes";
        }
    }
}
