package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.transport.DeferredReply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Faults with real processes: services killed mid-request and mid-stream while socket clients wait on them,
 * socket clients that vanish holding requests, streams and subscriptions (1,000 times), Java peers killed with
 * SIGKILL while holding everything, and a socket subscriber that stops reading.
 */
@Timeout(300)
class FaultSystemTest
{
    private static BrokerProcess broker;
    private static ProcessHarness services;
    private static Switchboard java;
    private static final List<DeferredReply> HELD = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception
    {
        broker = new BrokerProcess();
        services = broker.startDemoServices();
        java = broker.connect("fault-test");
        // a service that never answers: requests to it stay in flight until their callers go away or time out
        java.serve(ServiceDefinition.named("blackhole").onOpaqueRequest("Hold", (r, b, o, l) -> HELD.add(r.defer())));
        JavaPathSystemTest.awaitService(java, "countdown");
        try (RawSocketClient probe = socket())
        {
            awaitSocketRoute(probe, "blackhole");
        }
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (null != java)
        {
            java.close();
        }
        if (null != services)
        {
            services.close();
        }
        if (null != broker)
        {
            broker.close();
        }
    }

    private static RawSocketClient socket() throws IOException
    {
        return new RawSocketClient(broker.socketDir.resolve("broker.sock"));
    }

    private static void awaitSocketRoute(final RawSocketClient client, final String service) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int n = 0;
        while (true)
        {
            final String id = "probe-" + n++;
            client.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + id + "\",\"target\":\"" + service +
                "\",\"message_type\":\"Nope\",\"payload\":null,\"expects_reply\":true}");
            final RawSocketClient.Frame f = client.await(RawSocketClient.ERROR, id, 10_000);
            if (!"ACTOR_NOT_FOUND".equals(f.body.path("error_code").asText()))
            {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "the gateway never learnt of " + service);
        }
    }

    private static JsonNode stats(final RawSocketClient client) throws IOException
    {
        client.send(RawSocketClient.STATS, "{\"correlation_id\":\"stats\"}");
        return client.await(RawSocketClient.RESPONSE, "stats", 10_000).body.get("payload");
    }



    @Test
    void shouldKeepTheMediaDriverDirectoryAndSocketsFromOtherUsers() throws Exception
    {
        final Function<Path, String> mode = (p) ->
        {
            try
            {
                return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        };
        assertEquals("rwx------", mode.apply(broker.aeronDir), "media driver directory");
        assertEquals("rwx------", mode.apply(broker.aeronDir.getParent()), "its parent, which the broker created");
        assertEquals("rwx------", mode.apply(broker.socketDir), "socket directory");
        assertEquals("rw-------", mode.apply(broker.socketDir.resolve("broker.sock")));
        assertEquals("rw-------", mode.apply(broker.socketDir.resolve("control.sock")));
    }

    @Test
    void shouldAnswerSocketCallersWhenTheJavaServiceDiesMidRequestAndMidStream() throws Exception
    {
        try (ProcessHarness doomed = ProcessHarness.start("doomed-services", DemoServices.class,
            "--socket-dir", broker.socketDir.toString(), "--no-price-feed", "--as", "doomed");
            ProcessHarness hanging = ProcessHarness.start("hanging", HangingService.class, broker.socketDir.toString());
            RawSocketClient caller = socket())
        {
            doomed.awaitLine("demo services ready", 30_000);
            hanging.awaitLine("hang service ready", 30_000);
            awaitSocketRoute(caller, "hang");
            awaitSocketRoute(caller, "doomed_countdown");

            caller.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"r1\",\"target\":\"hang\",\"message_type\":" +
                "\"Hang\",\"payload\":{},\"expects_reply\":true,\"response_timeout_ms\":60000}");
            caller.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"s1\",\"target\":\"doomed_countdown\"," +
                "\"message_type\":\"Countdown\",\"payload\":{\"from\":100000,\"interval_ms\":10},\"expects_stream\":true," +
                "\"response_timeout_ms\":60000}");
            final RawSocketClient.Frame first = caller.await(RawSocketClient.STREAM, "s1", 30_000);
            assertFalse(first.body.get("is_final").asBoolean());
            hanging.awaitLine("hang: request", 30_000);

            final long start = System.nanoTime();
            hanging.kill();
            doomed.kill();
            assertEquals("SERVICE_UNAVAILABLE",
                caller.await(RawSocketClient.ERROR, "r1", 30_000).body.get("error_code").asText());
            RawSocketClient.Frame last;
            do
            {
                last = caller.await(RawSocketClient.STREAM, "s1", 30_000);
            }
            while (!last.body.get("is_final").asBoolean());
            assertEquals("SERVICE_UNAVAILABLE", last.body.get("error_code").asText(), last.toString());
            System.out.println("socket callers answered SERVICE_UNAVAILABLE " +
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms after the SIGKILLs");
        }
    }

    @Test
    void shouldFreeWhatAThousandVanishedSocketClientsHeld() throws Exception
    {
        final int cycles = 1_000;
        vanishingClients(50); // warm-up: classes loaded and buffers sized before the baseline is taken
        final JsonNode before;
        final int fdsBefore = broker.fds();
        final long rssBefore = broker.rssKb();
        try (RawSocketClient observer = socket())
        {
            before = stats(observer);
        }
        vanishingClients(cycles);

        try (RawSocketClient observer = socket())
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JsonNode after;
            while (true)
            {
                after = stats(observer);
                if (after.get("connections").asInt() == before.get("connections").asInt() &&
                    after.get("requests_in_flight").asInt() == 0 &&
                    after.get("subscription_patterns").asInt() == before.get("subscription_patterns").asInt())
                {
                    break;
                }
                assertTrue(System.nanoTime() - deadline < 0, "gateway still holds state: " + after);
                Thread.yield();
            }
            final int fdsAfter = broker.awaitFdsAtMost(fdsBefore + 1);
            final long rssAfter = broker.rssKb();
            System.out.println(cycles + " vanished socket clients: broker fds " + fdsBefore + " -> " + fdsAfter +
                ", RSS " + rssBefore / 1024 + " -> " + rssAfter / 1024 + " MiB, stats " + after);
            assertTrue(fdsAfter <= fdsBefore + 1, "file descriptors back where they started (observer is +1): " +
                fdsBefore + " -> " + fdsAfter);
            assertEquals(before.get("connections_accepted").asLong() + cycles + 1 /* observer */,
                after.get("connections_accepted").asLong());
        }
        assertEquals(0, services.process().isAlive() ? 0 : 1, "the demo services survived");
    }

    private static void vanishingClients(final int cycles) throws IOException
    {
        for (int i = 0; i < cycles; i++)
        {
            final RawSocketClient c = socket();
            c.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"h" + i + "\",\"target\":\"blackhole\"," +
                "\"message_type\":\"Hold\",\"payload\":{},\"expects_reply\":true,\"response_timeout_ms\":300000}");
            c.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"s" + i + "\",\"target\":\"countdown\"," +
                "\"message_type\":\"Countdown\",\"payload\":{\"from\":100000,\"interval_ms\":50}," +
                "\"expects_stream\":true}");
            c.send(RawSocketClient.SUBSCRIBE, "{\"correlation_id\":\"sub" + i + "\",\"message_types\":[\"vanish." +
                (i % 10) + ".*\"]}");
            c.await(RawSocketClient.RESPONSE, "sub" + i, 10_000); // everything above is in the gateway's hands
            c.vanish();
        }
    }

    @Test
    void shouldFreeWhatKilledJavaPeersHeld() throws Exception
    {
        final int cycles = 12;
        final Path publications = broker.aeronDir.resolve("publications");
        final int logsBefore = countFiles(publications);
        final int fdsBefore = broker.fds();
        for (int i = 0; i < cycles; i++)
        {
            final String name = "churn_" + i;
            final ProcessHarness peer = ProcessHarness.start(name, ChurningPeer.class, broker.socketDir.toString(), name);
            peer.awaitLine("churn ready " + name, 60_000);
            JavaPathSystemTest.awaitService(java, name);
            peer.kill();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (java.hasService(name))
            {
                assertTrue(System.nanoTime() - deadline < 0, name + ": its service outlived it");
                Thread.yield();
            }
        }
        // the media driver reclaims a dead client's logs after its client liveness timeout (10 s by default)
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (countFiles(publications) > logsBefore)
        {
            assertTrue(System.nanoTime() - deadline < 0, "Aeron logs of dead peers not reclaimed: " +
                countFiles(publications) + " > " + logsBefore);
            Thread.yield();
        }
        final int fdsAfter = broker.awaitFdsAtMost(fdsBefore);
        System.out.println(cycles + " SIGKILLed Java peers: Aeron logs " + logsBefore + " -> " +
            countFiles(publications) + ", broker fds " + fdsBefore + " -> " + fdsAfter);
        assertTrue(fdsAfter <= fdsBefore, "broker fds back where they started: " + fdsBefore + " -> " + fdsAfter);
    }

    @Test
    void shouldDropAndCountForASocketSubscriberThatStopsReadingWithoutHoldingTheOthers() throws Exception
    {
        final int count = 20_000;
        try (RawSocketClient slow = socket(); RawSocketClient fast = socket(); RawSocketClient observer = socket())
        {
            slow.send(RawSocketClient.SUBSCRIBE, "{\"correlation_id\":\"s\",\"message_types\":[\"flood.*\"]}");
            slow.await(RawSocketClient.RESPONSE, "s", 10_000);
            fast.send(RawSocketClient.SUBSCRIBE, "{\"correlation_id\":\"f\",\"message_types\":[\"flood.*\"]}");
            fast.await(RawSocketClient.RESPONSE, "f", 10_000);
            final long droppedBefore = stats(observer).get("pushes_dropped").asLong();

            final byte[] body = ("{\"pad\":\"" + "x".repeat(512) + "\"}").getBytes(StandardCharsets.UTF_8);
            final UnsafeBuffer payload = new UnsafeBuffer(body);
            long fastSeen = 0;
            long lastSequence = 0;
            int published = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (fastSeen < count)
            {
                assertTrue(System.nanoTime() - deadline < 0, "fast subscriber got " + fastSeen + "/" + count);
                // at most 1,000 pushes (about 0.6 MB) ahead of the reading subscriber, well inside its 4 MiB queue:
                // it is the stopped one that must lose, not a reader that the test's own thread starved
                if (published < count && published - fastSeen < 1_000 &&
                    java.publish("flood.x", "flood.x", -1, payload, 0, body.length) > 0)
                {
                    published++;
                }
                RawSocketClient.Frame f;
                while (null != (f = fast.read(published < count ? 0 : 100)) && f.type == RawSocketClient.PUSH)
                {
                    final long sequence = f.body.get("sequence").asLong();
                    assertEquals(lastSequence + 1, sequence, "the reading subscriber loses nothing");
                    lastSequence = sequence;
                    fastSeen++;
                }
            }
            final long dropped = stats(observer).get("pushes_dropped").asLong() - droppedBefore;
            assertTrue(dropped > 0, "the subscriber that stopped reading had pushes dropped and counted");

            // when it reads again, the loss shows as a gap in its sequence numbers: drain it, then one more push
            long received = 0;
            long highest = 0;
            RawSocketClient.Frame f;
            while (null != (f = slow.read(1_000)))
            {
                if (f.type == RawSocketClient.PUSH)
                {
                    received++;
                    highest = f.body.get("sequence").asLong();
                }
            }
            final byte[] marker = "{\"marker\":true}".getBytes(StandardCharsets.UTF_8);
            final long markerDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (java.publish("flood.marker", "flood.marker", -1, new UnsafeBuffer(marker), 0, marker.length) < 0)
            {
                assertTrue(System.nanoTime() - markerDeadline < 0, "marker never published");
                Thread.yield();
            }
            while (null != (f = slow.read(10_000)) && !(f.type == RawSocketClient.PUSH && f.body.path("payload").has("marker")))
            {
                received += f.type == RawSocketClient.PUSH ? 1 : 0;
            }
            assertNotNull(f, "the slow subscriber receives again once it reads");
            highest = f.body.get("sequence").asLong();
            final long gap = highest - 1 - received;
            System.out.println("slow socket subscriber: " + dropped + " dropped, its sequence shows " + gap +
                " missing; fast subscriber received all " + fastSeen);
            assertEquals(dropped, gap, "every dropped push shows as a gap");
        }
    }

    private static int countFiles(final Path dir)
    {
        final String[] names = dir.toFile().list();
        return null == names ? 0 : names.length;
    }
}
