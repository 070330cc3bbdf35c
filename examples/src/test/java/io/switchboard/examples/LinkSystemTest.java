package io.switchboard.examples;

import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.CountdownEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.examples.codec.TickDecoder;
import io.switchboard.transport.Push;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two real brokers on this machine linked over Aeron UDP on loopback (two ports, two runtime directories): the demo
 * services on broker A, callers and subscribers on broker B. Calls, streams, cancels, a socket caller, publications
 * by interest, exclusive names on both hosts, a wrong secret and an unconfigured peer, and the death and return of
 * broker A. The methods run in order: the last one kills broker A.
 */
@Timeout(240)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinkSystemTest
{
    static final long LIVENESS_MS = io.switchboard.broker.link.LinkContext.LIVENESS_TIMEOUT_DEFAULT_MS;
    private static final String HOST = "127.0.0.1";
    private static final String SECRET = "correct horse battery staple 0123456789";

    private static Path secretDir;
    private static String linkA;
    private static String linkB;
    private static String linkC;
    private static String linkD;
    private static BrokerProcess brokerA;
    private static BrokerProcess brokerB;
    private static ProcessHarness services;
    private static ProcessHarness hanging;
    private static Switchboard clientB;
    private static long publicationsReceivedOnB;
    private static long retainedReceivedOnB;
    private static long bigReceivedOnB;
    private static long lossReceivedOnB;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();

    @BeforeAll
    static void startLinkedBrokers() throws Exception
    {
        secretDir = ProcessHarness.tempDir("sb-test-link");
        final Path secret = LinkedBrokers.secretFile(secretDir, "link.secret", SECRET);
        linkA = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
        linkB = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
        linkC = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
        linkD = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
        brokerA = BrokerProcess.notStarted(LinkedBrokers.linkArgs(linkA, secret, LIVENESS_MS, linkB));
        brokerB = BrokerProcess.notStarted(LinkedBrokers.linkArgs(linkB, secret, LIVENESS_MS, linkA, linkC));
        brokerA.start(); // assigned first: a broker that fails to start is still cleaned up after
        brokerB.start();
        brokerA.process.awaitLine("link " + linkA + " -> " + linkB + " up", 30_000);
        brokerB.process.awaitLine("link " + linkB + " -> " + linkA + " up", 30_000);
        services = brokerA.startDemoServices();
        hanging = ProcessHarness.start("hanging-service", HangingService.class, brokerA.socketDir.toString());
        hanging.awaitLine("hang service ready", 30_000);
        clientB = brokerB.connect("caller-on-b");
        LinkedBrokers.awaitRoute(clientB, "calculator", true, 20_000);
        LinkedBrokers.awaitRoute(clientB, "countdown", true, 20_000);
        LinkedBrokers.awaitRoute(clientB, "hang", true, 20_000);
    }

    @AfterAll
    static void stopLinkedBrokers() throws Exception
    {
        final List<AutoCloseable> all = new ArrayList<>();
        all.add(clientB);
        all.add(null == hanging ? null : hanging::kill);
        all.add(null == services ? null : services::kill);
        all.add(brokerB);
        all.add(() ->
        {
            try
            {
                if (null != brokerA)
                {
                    brokerA.close();
                }
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError(ex.getMessage() + "; broker A:\n" + brokerA.process.output(), ex);
            }
        });
        Exception first = null;
        for (final AutoCloseable c : all)
        {
            try
            {
                if (null != c)
                {
                    c.close();
                }
            }
            catch (final Exception ex)
            {
                first = null == first ? ex : first;
            }
        }
        ProcessHarness.deleteRecursively(secretDir.toFile());
        if (null != first)
        {
            throw first;
        }
    }

    private int encodeAdd(final long a, final long b)
    {
        final AddEncoder add = new AddEncoder().wrapAndApplyHeader(buffer, 0, headerEncoder).a(a).b(b);
        return MessageHeaderEncoder.ENCODED_LENGTH + add.encodedLength();
    }

    private long resultOf(final Reply reply)
    {
        return new ResultDecoder().wrapAndApplyHeader(reply.buffer(), 0, headerDecoder).value();
    }

    private int encodeCountdown(final int from, final int intervalMs)
    {
        final CountdownEncoder countdown = new CountdownEncoder().wrapAndApplyHeader(buffer, 0, headerEncoder)
            .from(from).interval_ms(intervalMs);
        return MessageHeaderEncoder.ENCODED_LENGTH + countdown.encodedLength();
    }

    private static SwitchboardException failureOf(final CompletableFuture<?> future, final long timeoutMs)
    {
        final ExecutionException ex = assertThrows(ExecutionException.class,
            () -> future.get(timeoutMs, TimeUnit.MILLISECONDS));
        assertInstanceOf(SwitchboardException.class, ex.getCause());
        return (SwitchboardException)ex.getCause();
    }

    @Test
    @Order(1)
    void shouldCallAServiceOnTheOtherBrokerAndCarryItsErrors() throws Exception
    {
        for (int i = 0; i < 50; i++)
        {
            assertEquals(i + 1000, resultOf(clientB.requestAsync("calculator", "Add", buffer, 0, encodeAdd(i, 1000),
                Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS)), "call " + i + " across the link");
        }
        assertEquals("UNKNOWN_MESSAGE_TYPE", failureOf(clientB.requestAsync("calculator", "Divide", buffer, 0,
            encodeAdd(1, 2), Duration.ofSeconds(5)), 30_000).errorCode());

        final io.switchboard.examples.codec.SetEncoder set = new io.switchboard.examples.codec.SetEncoder()
            .wrapAndApplyHeader(buffer, 0, headerEncoder).key("").value("x");
        assertEquals("EMPTY_KEY", failureOf(clientB.requestAsync("kv_store", "Set", buffer, 0,
            MessageHeaderEncoder.ENCODED_LENGTH + set.encodedLength(), Duration.ofSeconds(10)), 30_000).errorCode(),
            "the service's own error code crosses unchanged");
    }

    @Test
    @Order(2)
    void shouldStreamAcrossTheLinkInOrderThenEnd() throws Exception
    {
        final RecordingStream stream = new RecordingStream();
        clientB.stream("countdown", "Countdown", buffer, 0, encodeCountdown(200, 0), TimeUnit.SECONDS.toNanos(10),
            stream);
        assertEquals("end:200", stream.outcome.get(30, TimeUnit.SECONDS));
        assertEquals(200, stream.remaining.size());
        for (int i = 0; i < 200; i++)
        {
            assertEquals(199 - i, stream.remaining.get(i), "frame " + i);
            assertEquals(i, stream.sequences.get(i), "sequence of frame " + i);
        }
    }

    @Test
    @Order(3)
    void shouldCancelAStreamAcrossTheLinkAndTellTheService() throws Exception
    {
        final RecordingStream stream = new RecordingStream();
        final long id = clientB.stream("countdown", "Countdown", buffer, 0, encodeCountdown(100_000, 5),
            TimeUnit.SECONDS.toNanos(10), stream);
        assertTrue(stream.firstFrames.await(30, TimeUnit.SECONDS), "no frames across the link");
        assertTrue(clientB.cancel(id));
        assertEquals("error:CANCELLED", stream.outcome.get(30, TimeUnit.SECONDS));
        services.awaitLine("countdown: stream cancelled after", 30_000);
    }

    @Test
    @Order(4)
    void shouldCallAJavaServiceOnTheOtherBrokerFromASocketClient() throws Exception
    {
        try (RawSocketClient socket = new RawSocketClient(brokerB.socketDir.resolve("broker.sock")))
        {
            for (int i = 0; i < 20; i++)
            {
                socket.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"s" + i + "\",\"target\":\"calculator\"," +
                    "\"message_type\":\"Add\",\"payload\":{\"a\":" + i + ",\"b\":2},\"expects_reply\":true}");
                assertEquals(i + 2, socket.await(RawSocketClient.RESPONSE, "s" + i, 10_000)
                    .body.get("payload").get("value").asInt(), "socket call " + i + " across the link");
            }
            socket.send(0x08, "{\"correlation_id\":\"d1\"}"); // DISCOVER: which host serves each instance
            final String services = socket.await(RawSocketClient.RESPONSE, "d1", 10_000).body.get("services").toString();
            assertTrue(services.contains("\"peer\":\"link:" + linkA + "\""), "the calculator's instance is named after " +
                "the host that serves it: " + services);
        }
    }

    @Test
    @Order(5)
    void shouldCarryPublicationsWhoseSubjectsTheOtherSideWants() throws Exception
    {
        final List<String> received = new CopyOnWriteArrayList<>();
        try (Switchboard publisherA = brokerA.connect("publisher-on-a");
            Switchboard subscriberB = brokerB.connect("subscriber-on-b"))
        {
            subscriberB.subscribe("linktest.*", (Push push, DirectBuffer b, int o, int l) ->
                received.add(push.subject() + "=" + b.getStringWithoutLengthAscii(o, l)));
            // the interest crosses by itself: publish probes until the first arrives, then the path is open
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (received.isEmpty())
            {
                assertTrue(System.nanoTime() - deadline < 0, "interest never crossed the link");
                publish(publisherA, "linktest.probe", "{}");
                final long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
                while (received.isEmpty() && System.nanoTime() - wait < 0)
                {
                    Thread.yield();
                }
            }
            for (int i = 0; i < 20; i++)
            {
                publish(publisherA, "linktest.x", "{\"i\":" + i + "}");
                publish(publisherA, "unwanted.y", "{\"i\":" + i + "}");
            }
            publish(publisherA, "linktest.end", "{}");
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!received.contains("linktest.end={}"))
            {
                assertTrue(System.nanoTime() - end < 0, "publications did not cross: " + received);
                Thread.yield();
            }
            final List<String> xs = new ArrayList<>();
            for (final String r : received)
            {
                assertTrue(r.startsWith("linktest."), "a subject nobody on B wants reached B: " + r);
                if (r.startsWith("linktest.x="))
                {
                    xs.add(r);
                }
            }
            final List<String> expected = new ArrayList<>();
            for (int i = 0; i < 20; i++)
            {
                expected.add("linktest.x={\"i\":" + i + "}");
            }
            assertEquals(expected, xs, "each publication once, in order");
            publicationsReceivedOnB = received.size();
        }
    }

    @Test
    @Order(5)
    void shouldHandSubscribersOnTheOtherHostTheRetainedValueFirstAsOnOneHost() throws Exception
    {
        try (Switchboard publisherA = brokerA.connect("retainer-on-a");
            Switchboard firstB = brokerB.connect("first-retained-subscriber-on-b"))
        {
            retain(publisherA, "rlink.status", "{\"v\":1}");
            final List<String> first = new CopyOnWriteArrayList<>();
            firstB.subscribe("rlink.*", (Push push, DirectBuffer b, int o, int l) ->
                first.add(push.subject() + "=" + b.getStringWithoutLengthAscii(o, l)));
            awaitContains(first, "rlink.status={\"v\":1}");
            assertEquals("rlink.status={\"v\":1}", first.get(0), "the retained value first: " + first);

            // a later subscriber on B, whose pattern B's side already wants, gets it from B's mirror, marked retained
            assertEquals("retained rlink.status={\"v\":1}", firstPushOfNewSubscriber("rlink.*"));

            // a new retained value on A replaces the mirrored one on B
            retain(publisherA, "rlink.status", "{\"v\":2}");
            awaitContains(first, "rlink.status={\"v\":2}");
            assertEquals("retained rlink.status={\"v\":2}", firstPushOfNewSubscriber("rlink.*"));
            assertEquals(List.of("rlink.status={\"v\":1}", "rlink.status={\"v\":2}"), first,
                "each value once, in order");
            retainedReceivedOnB = first.size(); // the later subscribers' values came from B's mirror, not the link
        }
    }

    @Test
    @Order(5)
    void shouldCarryCallsRepliesAndPublicationsUpToTheBrokerMaximumInPieces() throws Exception
    {
        final int max = io.switchboard.transport.Configuration.MAX_MESSAGE_LENGTH_DEFAULT;
        try (Switchboard echoA = brokerA.connect("big-echo-on-a");
            Switchboard subscriberB = brokerB.connect("big-subscriber-on-b"))
        {
            echoA.serve(ServiceDefinition.named("big_echo").onOpaqueRequest("Echo", (r, b, o, l) -> r.reply(b, o, l)));
            LinkedBrokers.awaitRoute(clientB, "big_echo", true, 20_000);
            // one Aeron message across is an eighth of the 4 MiB link term: these cross in 2, 9 and 33 pieces
            for (final int length : new int[]{600 * 1024, 4 * 1024 * 1024 + 17, max})
            {
                final byte[] bytes = new byte[length];
                new java.util.Random(length).nextBytes(bytes);
                final Reply reply = clientB.requestAsync("big_echo", "Echo", new UnsafeBuffer(bytes), 0, length,
                    Duration.ofSeconds(60)).get(90, TimeUnit.SECONDS);
                assertEquals(length, reply.length(), "the echo of " + length + " bytes across the link");
                final byte[] back = new byte[length];
                reply.buffer().getBytes(0, back);
                assertArrayEquals(bytes, back, "the echo of " + length + " bytes across the link");
            }
            final byte[] tooLong = new byte[max + 1];
            final ExecutionException refused = assertThrows(ExecutionException.class, () -> clientB.requestAsync(
                "big_echo", "Echo", new UnsafeBuffer(tooLong), 0, tooLong.length, Duration.ofSeconds(30))
                .get(60, TimeUnit.SECONDS));
            assertEquals("PAYLOAD_TOO_LARGE", ((SwitchboardException)refused.getCause()).errorCode());

            final List<byte[]> received = new CopyOnWriteArrayList<>();
            subscriberB.subscribe("bigpub.*", (Push push, DirectBuffer b, int o, int l) ->
            {
                final byte[] copy = new byte[l];
                b.getBytes(o, copy);
                received.add(copy);
            });
            final byte[] big = new byte[3 * 1024 * 1024];
            new java.util.Random(3).nextBytes(big);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.isEmpty())
            {
                assertTrue(System.nanoTime() - deadline < 0, "a publication of 3 MiB never crossed");
                assertTrue(echoA.publish("bigpub.x", "Bin", -1, new UnsafeBuffer(big), 0, big.length) > 0);
                final long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
                while (received.isEmpty() && System.nanoTime() - wait < 0)
                {
                    Thread.yield();
                }
            }
            assertArrayEquals(big, received.get(0), "a publication of 3 MiB across the link");
            // a small last one: in order behind every big one, so all have arrived when it has
            assertTrue(echoA.publish("bigpub.end", "Bin", -1, new UnsafeBuffer(new byte[1]), 0, 1) > 0);
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.isEmpty() || received.get(received.size() - 1).length != 1)
            {
                assertTrue(System.nanoTime() - end < 0, "the last publication never crossed");
                Thread.yield();
            }
            for (int i = 0; i < received.size() - 1; i++)
            {
                assertArrayEquals(big, received.get(i), "publication " + i + " of 3 MiB across the link");
            }
            bigReceivedOnB = received.size(); // counted with the others at the end
        }
    }

    @Test
    @Order(8)
    void shouldShowPublicationsTheLinkCouldNotCarryAsAGapToSubscribersOnTheOtherSide() throws Exception
    {
        final java.util.concurrent.atomic.AtomicLong lost = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong got = new java.util.concurrent.atomic.AtomicLong();
        final List<String> subjects = new CopyOnWriteArrayList<>();
        try (Switchboard publisherA = brokerA.connect("lossy-publisher-on-a");
            Switchboard subscriberB = brokerB.connect("gap-subscriber-on-b"))
        {
            subscriberB.subscribe("losstest.*", (Push push, DirectBuffer b, int o, int l) ->
            {
                lost.addAndGet(push.lostBefore());
                got.incrementAndGet();
                subjects.add(push.subject().toString());
            });
            long published = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (0 == got.get())
            {
                assertTrue(System.nanoTime() - deadline < 0, "interest never crossed the link");
                published += publisher(publisherA, "losstest.probe", 16) > 0 ? 1 : 0;
                final long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
                while (0 == got.get() && System.nanoTime() - wait < 0)
                {
                    Thread.yield();
                }
            }
            // from here every publication on A is seen by A's stand-in for B: count from a marker that crossed
            assertTrue(publisher(publisherA, "losstest.start", 16) > 0);
            final long start = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!subjects.contains("losstest.start"))
            {
                assertTrue(System.nanoTime() - start < 0, "the start marker never crossed");
                Thread.yield();
            }
            final long beforeStart = got.get();
            published = 0;
            got.set(0);
            lost.set(0);
            // B stopped: A's link publication fills (the peer's receiver window) and A's link drops what it cannot send
            final long droppedBefore = LinkScaleSystemTest.counters(brokerA, "sb-broker link publications dropped")[0];
            long dropped = droppedBefore;
            signal("STOP", brokerB.process.pid());
            try
            {
                final long stopDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LIVENESS_MS / 2);
                while (dropped == droppedBefore && System.nanoTime() - stopDeadline < 0)
                {
                    published += publisher(publisherA, "losstest.x", 64 * 1024) > 0 ? 1 : 0;
                    dropped = LinkScaleSystemTest.counters(brokerA, "sb-broker link publications dropped")[0];
                }
            }
            finally
            {
                signal("CONT", brokerB.process.pid());
            }
            assertTrue(dropped > droppedBefore, "A's link dropped nothing while B was stopped; published " + published);
            // the next publication that crosses shows the jump: a gap before it on B
            published += publisher(publisherA, "losstest.end", 16) > 0 ? 1 : 0;
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!subjects.contains("losstest.end"))
            {
                assertTrue(System.nanoTime() - end < 0, "the last publication never crossed");
                Thread.yield();
            }
            System.out.println("link loss: published on A " + published + ", dropped by A's link " +
                (dropped - droppedBefore) + ", received on B " + got.get() + ", gaps seen on B " + lost.get());
            assertTrue(lost.get() > 0, "B's subscriber saw no gap though A's link dropped publications");
            assertEquals(published, got.get() + lost.get(), "every publication either received or counted as lost");
            lossReceivedOnB = beforeStart + got.get();
        }
    }

    @Test
    @Order(8)
    void shouldReportAnExclusiveNameBothHostsTookWhileApartAndLetEachKeepItsOwn() throws Exception
    {
        try (Switchboard onA = brokerA.connect("solo-on-a");
            Switchboard onB = brokerB.connect("solo-on-b"))
        {
            onA.serve(ServiceDefinition.named("solo").onOpaqueRequest("Who",
                (r, b, o, l) -> r.reply(new UnsafeBuffer(new byte[]{'A'}), 0, 1)));
            LinkedBrokers.awaitRoute(onB, "solo", true, 20_000);
            final String downLine = linkB + " -> " + linkA + " down";
            final String upLine = linkB + " -> " + linkA + " up";
            final int downs = count(brokerB, downLine);
            final int ups = count(brokerB, upLine);
            // apart: A stopped longer than the link liveness timeout; B takes the link down and frees the name
            signal("STOP", brokerA.process.pid());
            try
            {
                awaitCount(brokerB, downLine, downs + 1, 3 * LIVENESS_MS);
                LinkedBrokers.awaitRoute(onB, "solo", false, 10_000);
                onB.serve(ServiceDefinition.named("solo").onOpaqueRequest("Who",
                    (r, b, o, l) -> r.reply(new UnsafeBuffer(new byte[]{'B'}), 0, 1)));
            }
            finally
            {
                signal("CONT", brokerA.process.pid());
            }
            awaitCount(brokerB, upLine, ups + 1, 30_000);
            brokerA.process.awaitLine(linkA + " -> " + linkB + ": name conflict: 'solo'", 20_000);
            brokerB.process.awaitLine(linkB + " -> " + linkA + ": name conflict: 'solo'", 20_000);
            final UnsafeBuffer one = new UnsafeBuffer(new byte[1]);
            assertEquals('A', onA.requestAsync("solo", "Who", one, 0, 1, Duration.ofSeconds(20))
                .get(30, TimeUnit.SECONDS).buffer().getByte(0), "A keeps its own 'solo'");
            assertEquals('B', onB.requestAsync("solo", "Who", one, 0, 1, Duration.ofSeconds(20))
                .get(30, TimeUnit.SECONDS).buffer().getByte(0), "B keeps its own 'solo'");
        }
        LinkedBrokers.awaitRoute(clientB, "calculator", true, 30_000); // the link is whole again for what follows
    }

    private static int count(final BrokerProcess broker, final String text)
    {
        int n = 0;
        for (final String line : broker.process.output().split("\n"))
        {
            n += line.contains(text) ? 1 : 0;
        }
        return n;
    }

    private static void awaitCount(final BrokerProcess broker, final String text, final int atLeast, final long ms)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (count(broker, text) < atLeast)
        {
            assertTrue(System.nanoTime() - deadline < 0, "'" + text + "' not logged " + atLeast + " times in " + ms +
                " ms:\n" + broker.process.output());
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static long publisher(final Switchboard client, final String subject, final int length)
    {
        return client.publish(subject, "Bin", -1, new UnsafeBuffer(new byte[length]), 0, length);
    }

    private static void signal(final String signal, final long pid) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid);
    }

    @Test
    @Order(5)
    void shouldCarryAChangeOfAServicesMessageTypesAcrossTheLink() throws Exception
    {
        try (Switchboard onA = brokerA.connect("morph-on-a"))
        {
            onA.serve(ServiceDefinition.named("morph").onOpaqueRequest("V1",
                (r, b, o, l) -> r.reply(new UnsafeBuffer(new byte[]{'1'}), 0, 1)));
            awaitTypes("morph", "V1");
            // a new version served at once under the same name, with another message type
            onA.unserve("morph");
            onA.serve(ServiceDefinition.named("morph").onOpaqueRequest("V2",
                (r, b, o, l) -> r.reply(new UnsafeBuffer(new byte[]{'2'}), 0, 1)));
            awaitTypes("morph", "V2");
            assertEquals('2', clientB.requestAsync("morph", "V2", new UnsafeBuffer(new byte[1]), 0, 1,
                Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS).buffer().getByte(0), "the new version from B");
        }
    }

    private static void awaitTypes(final String service, final String messageType)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            final io.switchboard.transport.RouteTable.Route route = clientB.routes().route(service);
            if (null != route && route.messageTypes().containsKey(messageType))
            {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "B never had '" + service + "' with message type " +
                messageType + ": " + (null == route ? "no route" : route.messageTypes().keySet()));
            Thread.yield();
        }
    }

    private static String firstPushOfNewSubscriber(final String pattern) throws Exception
    {
        final List<String> got = new CopyOnWriteArrayList<>();
        try (Switchboard subscriber = brokerB.connect("later-retained-subscriber-on-b"))
        {
            subscriber.subscribe(pattern, (Push push, DirectBuffer b, int o, int l) ->
                got.add((push.isRetained() ? "retained " : "live ") + push.subject() + "=" +
                b.getStringWithoutLengthAscii(o, l)));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (got.isEmpty())
            {
                assertTrue(System.nanoTime() - deadline < 0, "a new subscriber on B got nothing for " + pattern);
                Thread.yield();
            }
            return got.get(0);
        }
    }

    private static void awaitContains(final List<String> received, final String expected)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!received.contains(expected))
        {
            assertTrue(System.nanoTime() - deadline < 0, "never received " + expected + ": " + received);
            Thread.yield();
        }
    }

    private static void retain(final Switchboard client, final String subject, final String json)
    {
        final byte[] bytes = json.getBytes(StandardCharsets.US_ASCII);
        assertTrue(client.publish(subject, "Json", -1, new UnsafeBuffer(bytes), 0, bytes.length, true) > 0,
            "retained publish " + subject);
    }

    private static void publish(final Switchboard client, final String subject, final String json)
    {
        final byte[] bytes = json.getBytes(StandardCharsets.US_ASCII);
        assertTrue(client.publish(subject, "Json", -1, new UnsafeBuffer(bytes), 0, bytes.length) > 0,
            "publish " + subject);
    }

    @Test
    @Order(6)
    void shouldRefuseAnExclusiveNameHeldOnTheOtherHost() throws Exception
    {
        try (Switchboard holder = brokerB.connect("kv-store-on-b"))
        {
            final SwitchboardException ex = assertThrows(SwitchboardException.class, () -> holder.serve(
                ServiceDefinition.named("kv_store").onOpaqueRequest("Get", (r, b, o, l) -> r.fail("X", "x"))));
            assertEquals("NAME_IN_USE", ex.errorCode(), "exclusive kv_store is held on A: never shadowed on B");
        }
    }

    @Test
    @Order(7)
    void shouldPreferALocalInstanceOfASharedNameThenFallBackToTheOtherHost() throws Exception
    {
        final io.switchboard.codec.schema.MessageSchema schema =
            io.switchboard.codec.schema.MessageSchema.fromIrResource(DemoServices.SCHEMA_RESOURCE);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
        final io.switchboard.transport.RequestHandler minusOne = (r, b, o, l) ->
        {
            final io.switchboard.examples.codec.ResultEncoder result = new io.switchboard.examples.codec.ResultEncoder()
                .wrapAndApplyHeader(reply, 0, new MessageHeaderEncoder()).value(-1);
            r.reply(reply, 0, MessageHeaderEncoder.ENCODED_LENGTH + result.encodedLength());
        };
        try (Switchboard local = brokerB.connect("calculator-on-b"))
        {
            local.serve(ServiceDefinition.named("calculator").shared().schema(schema)
                .onRequest("Add", minusOne).onRequest("Multiply", minusOne));
            // once the link saw the local instance, every call stays on this host
            int localInARow = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (localInARow < 20)
            {
                assertTrue(System.nanoTime() - deadline < 0, "calls kept crossing the link with a local instance");
                long value;
                try
                {
                    value = resultOf(clientB.requestAsync("calculator", "Add", buffer, 0, encodeAdd(1, 1),
                        Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS));
                }
                catch (final ExecutionException ex)
                {
                    // a call routed to the link's instance just as the link withdrew it for the local one
                    assertTrue(String.valueOf(ex.getCause()).contains("SERVICE_UNAVAILABLE") &&
                        String.valueOf(ex.getCause()).contains("no longer serves 'calculator'"), ex.toString());
                    value = 0;
                }
                localInARow = -1 == value ? localInARow + 1 : 0;
            }
        }
        // the local instance gone, the name is served from A again
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            try
            {
                assertEquals(2, resultOf(clientB.requestAsync("calculator", "Add", buffer, 0, encodeAdd(1, 1),
                    Duration.ofSeconds(5)).get(30, TimeUnit.SECONDS)));
                break;
            }
            catch (final ExecutionException ex)
            {
                assertTrue(System.nanoTime() - deadline < 0, "calculator on A never came back to B: " + ex.getCause());
                Thread.yield();
            }
        }
    }

    @Test
    @Order(8)
    void shouldRefuseAWrongSecretAndAnUnconfiguredPeer() throws Exception
    {
        final Path wrong = LinkedBrokers.secretFile(secretDir, "wrong.secret", "not the secret of A and B, no no no");
        final Path right = secretDir.resolve("link.secret");
        // C is one of B's peers but has another secret; D has the secret but B does not list it
        // not started in the try's resources: a broker that fails to start is still closed (its folders removed)
        try (BrokerProcess brokerC = BrokerProcess.notStarted(LinkedBrokers.linkArgs(linkC, wrong, LIVENESS_MS, linkB));
            BrokerProcess brokerD = BrokerProcess.notStarted(LinkedBrokers.linkArgs(linkD, right, LIVENESS_MS, linkB)))
        {
            brokerC.start();
            brokerD.start();
            refuseIntruders(brokerC, brokerD);
        }
    }

    private void refuseIntruders(final BrokerProcess brokerC, final BrokerProcess brokerD) throws Exception
    {
        try (Switchboard onC = brokerC.connect("intruder-c"); Switchboard onD = brokerD.connect("intruder-d"))
        {
            onC.serve(ServiceDefinition.named("intruder_c").onOpaqueRequest("Any", (r, b, o, l) -> r.fail("X", "x")));
            onD.serve(ServiceDefinition.named("intruder_d").onOpaqueRequest("Any", (r, b, o, l) -> r.fail("X", "x")));
            onD.subscribe("linktest.*", (p, b, o, l) -> fail("an unconfigured peer got a publication"));
            brokerB.process.awaitLine("the proof from " + linkC + " does not check", 20_000);
            brokerB.process.awaitLine("a hello from " + linkD + ", which is not a configured peer", 20_000);
            brokerC.process.awaitLine("the proof from " + linkB + " does not check", 20_000);
            // several heartbeat intervals later, still nothing of theirs here
            final long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LIVENESS_MS);
            while (System.nanoTime() - until < 0)
            {
                assertFalse(clientB.hasService("intruder_c"), "a peer with a wrong secret got a route in");
                assertFalse(clientB.hasService("intruder_d"), "an unconfigured peer got a route in");
                Thread.yield();
            }
            final byte[] any = "{}".getBytes(StandardCharsets.US_ASCII);
            assertEquals("ACTOR_NOT_FOUND", failureOf(clientB.requestAsync("intruder_c", "Any", new UnsafeBuffer(any),
                0, any.length, Duration.ofSeconds(5)), 30_000).errorCode());
            assertFalse(brokerB.process.output().contains(linkB + " -> " + linkC + " up"), brokerB.process.output());
            assertFalse(brokerD.process.output().contains(" up"), brokerD.process.output());
        }
    }

    @Test
    @Order(9)
    void shouldAnswerCallsInFlightWhenTheOtherBrokerDiesAndComeBackWithoutRestartingThisOne() throws Exception
    {
        final byte[] hang = "{}".getBytes(StandardCharsets.US_ASCII);
        final CompletableFuture<Reply> inFlight = clientB.requestAsync("hang", "Hang", new UnsafeBuffer(hang), 0,
            hang.length, Duration.ofSeconds(120));
        hanging.awaitLine("hang: request", 30_000);
        final RecordingStream stream = new RecordingStream();
        clientB.stream("countdown", "Countdown", buffer, 0, encodeCountdown(100_000, 200), TimeUnit.SECONDS.toNanos(60),
            stream);
        assertTrue(stream.firstFrames.await(30, TimeUnit.SECONDS), "no frames across the link");

        final long killedNs = System.nanoTime();
        brokerA.kill();
        final SwitchboardException lost = failureOf(inFlight, LIVENESS_MS + 10_000);
        final long noticedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedNs);
        assertEquals("SERVICE_UNAVAILABLE", lost.errorCode(), lost.getMessage());
        assertEquals("error:SERVICE_UNAVAILABLE", stream.outcome.get(30, TimeUnit.SECONDS));
        System.out.println("link death noticed by the caller on B " + noticedMs + " ms after SIGKILL (liveness " +
            LIVENESS_MS + " ms)");
        assertTrue(noticedMs < LIVENESS_MS + 2 * (LIVENESS_MS / 6) + 1_000, "noticed after " + noticedMs +
            " ms, expected within the liveness timeout " + LIVENESS_MS + " ms and a heartbeat interval");
        final String down = brokerB.process.awaitLine(linkB + " -> " + linkA + " down", 10_000);
        assertTrue(down.contains("received=" + (publicationsReceivedOnB + retainedReceivedOnB + bigReceivedOnB +
            lossReceivedOnB) + " "),
            "every publication B's subscribers got crossed the link once, nothing else crossed: " + down +
            "\nbroker B:\n" + brokerB.process.output());
        LinkedBrokers.awaitRoute(clientB, "calculator", false, 10_000);
        // the mirror of A's retained values on B is A's state: withdrawn with the link
        final long mirrorDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (LinkScaleSystemTest.counters(brokerB, "sb-broker retained subjects")[0] != 0)
        {
            assertTrue(System.nanoTime() - mirrorDeadline < 0, "A's retained values still held on B after the link " +
                "went down");
            Thread.yield();
        }

        // A comes back on the same paths; its services reconnect by themselves; B was never restarted
        brokerA.restart();
        LinkedBrokers.awaitRoute(clientB, "calculator", true, 30_000);
        assertEquals(42, resultOf(clientB.requestAsync("calculator", "Add", buffer, 0, encodeAdd(40, 2),
            Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS)));
        brokerB.process.awaitLine(linkB + " -> " + linkA + " up again", 10_000);
    }

    /** Records a countdown stream. */
    static final class RecordingStream implements StreamListener
    {
        final List<Integer> remaining = new CopyOnWriteArrayList<>();
        final List<Long> sequences = new CopyOnWriteArrayList<>();
        final CompletableFuture<String> outcome = new CompletableFuture<>();
        final CountDownLatch firstFrames = new CountDownLatch(3);
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();
        private final TickDecoder tick = new TickDecoder();

        public void onFrame(final long id, final long sequence, final DirectBuffer b, final int o, final int l)
        {
            remaining.add(tick.wrapAndApplyHeader(b, o, header).remaining());
            sequences.add(sequence);
            firstFrames.countDown();
        }

        public void onEnd(final long id, final long frameCount)
        {
            outcome.complete("end:" + frameCount);
        }

        public void onError(final long id, final String errorCode, final String message)
        {
            outcome.complete("error:" + errorCode);
        }
    }
}
