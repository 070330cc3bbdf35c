package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.CountdownEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.PriceUpdateEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.examples.codec.TickDecoder;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.ThrowingConsumer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One behaviour from each path to each path, against one real broker: "J" is a {@link Switchboard} peer (in this
 * JVM, or the demo services' process where a typed SBE service is needed), "S" a socket client speaking
 * docs/PROTOCOL.md with raw frames ({@link RawSocketClient}, {@link SocketServicePeer}). A pair reads from → to:
 * caller → service, publisher → subscriber, first holder → second instance, server → discoverer.
 * <p>
 * Each behaviour should have the same outcome on every pair. Where it does not today, the pair is left out of that
 * method's cells with the reason beside it (issue 10, "One core for both paths"), to be added when the feature lands.
 */
@Timeout(60)
class PathMatrixSystemTest
{
    /** From one path to another. */
    enum Pair
    {
        J_J, J_S, S_J, S_S;

        boolean fromJava()
        {
            return name().charAt(0) == 'J';
        }

        boolean toJava()
        {
            return name().charAt(2) == 'J';
        }

        /** Lower-case, for names unique to the pair: {@code js}. */
        String tag()
        {
            return ("" + name().charAt(0) + name().charAt(2)).toLowerCase();
        }

        public String toString()
        {
            return name().charAt(0) + "->" + name().charAt(2);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DISCOVER = 0x08;
    private static final long TIMEOUT_MS = 10_000;
    private static final long RETAINED_BOUND_BYTES = 2L << 20;

    private static BrokerProcess broker;
    private static ProcessHarness demoServices;
    private static Switchboard java;
    private static int nextId;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();

    @BeforeAll
    static void start() throws Exception
    {
        // a small bound on retained values, so that a cell can reach it; each cell clears what it retained
        broker = new BrokerProcess(List.of("-Dswitchboard.max.retained.bytes=" + RETAINED_BOUND_BYTES));
        demoServices = broker.startDemoServices();
        java = broker.connect("path-matrix");
        JavaPathSystemTest.awaitService(java, "calculator");
        JavaPathSystemTest.awaitService(java, "countdown");
    }

    @AfterAll
    static void stop() throws Exception
    {
        try
        {
            if (null != java)
            {
                java.close();
            }
            if (null != demoServices)
            {
                demoServices.terminate();
            }
        }
        finally
        {
            if (null != broker)
            {
                broker.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- call

    @TestFactory
    Stream<DynamicTest> shouldCallAcrossEveryPathPair()
    {
        return cells(this::call, Pair.values());
    }

    private void call(final Pair pair) throws Exception
    {
        // a Java-served Add is the demo calculator (typed SBE, transcoded for sockets), a socket-served one JSON
        try (SocketServicePeer server = pair.toJava() ? null : socketServing("m_add_" + pair.tag(), "exclusive", "Add"))
        {
            final String service = pair.toJava() ? "calculator" : "m_add_" + pair.tag();
            final long value;
            if (pair.fromJava())
            {
                JavaPathSystemTest.awaitService(java, service);
                value = pair.toJava() ? sbeAdd(40, 2) : jsonOf(java.requestAsync(service, "Add", json("{\"a\":40,\"b\":2}"),
                    0, jsonLength, Duration.ofSeconds(10)).get(TIMEOUT_MS, TimeUnit.MILLISECONDS)).path("value").asLong();
            }
            else
            {
                try (RawSocketClient caller = socket())
                {
                    final RawSocketClient.Frame reply = call(caller, service, "Add", "{\"a\":40,\"b\":2}");
                    assertEquals(RawSocketClient.RESPONSE, reply.type, reply.toString());
                    value = reply.body.path("payload").path("value").asLong();
                }
            }
            assertEquals(42, value, pair + ": 40 + 2");
        }
    }

    // -------------------------------------------------------------------------------------------------- stream

    @TestFactory
    Stream<DynamicTest> shouldStreamEveryFrameInOrderThenEndAcrossEveryPathPair()
    {
        return cells(this::stream, Pair.values());
    }

    private void stream(final Pair pair) throws Exception
    {
        final int from = 20;
        try (SocketServicePeer server = pair.toJava() ? null :
            socketServing("m_countdown_" + pair.tag(), "exclusive", "Countdown"))
        {
            final String service = pair.toJava() ? "countdown" : "m_countdown_" + pair.tag();
            final List<Integer> remaining = new ArrayList<>();
            final List<Long> sequences = new ArrayList<>();
            final String end;
            if (pair.fromJava())
            {
                JavaPathSystemTest.awaitService(java, service);
                final int length;
                if (pair.toJava())
                {
                    final CountdownEncoder countdown = new CountdownEncoder()
                        .wrapAndApplyHeader(buffer, 0, headerEncoder).from(from).interval_ms(0);
                    length = MessageHeaderEncoder.ENCODED_LENGTH + countdown.encodedLength();
                }
                else
                {
                    json("{\"from\":" + from + ",\"interval_ms\":0}");
                    length = jsonLength;
                }
                final RecordingStream stream = new RecordingStream(pair.toJava());
                java.stream(service, "Countdown", buffer, 0, length, TimeUnit.SECONDS.toNanos(10), stream);
                end = stream.outcome.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                remaining.addAll(stream.remaining);
                sequences.addAll(stream.sequences);
            }
            else
            {
                try (RawSocketClient caller = socket())
                {
                    final String id = "stream-" + nextId++;
                    caller.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + id + "\",\"target\":\"" + service +
                        "\",\"message_type\":\"Countdown\",\"payload\":{\"from\":" + from + ",\"interval_ms\":0}," +
                        "\"expects_stream\":true}");
                    RawSocketClient.Frame frame;
                    while (!(frame = caller.await(RawSocketClient.STREAM, id, TIMEOUT_MS)).body.path("is_final").asBoolean())
                    {
                        remaining.add(frame.body.path("payload").path("remaining").asInt());
                        sequences.add(frame.body.path("sequence").asLong());
                    }
                    end = frame.body.has("error_code") ? "error:" + frame.body.path("error_code").asText() :
                        "end:" + frame.body.path("sequence").asLong();
                }
            }
            final List<Integer> expectedRemaining = new ArrayList<>();
            final List<Long> expectedSequences = new ArrayList<>();
            for (int i = 0; i < from; i++)
            {
                expectedRemaining.add(from - 1 - i);
                expectedSequences.add((long)i);
            }
            assertEquals("end:" + from, end, pair + ": one end, counting every frame");
            assertEquals(expectedRemaining, remaining, pair + ": every frame, in order");
            assertEquals(expectedSequences, sequences, pair + ": sequences 0, 1, 2, ...");
        }
    }

    // --------------------------------------------------------------------------------------- publish-subscribe

    @TestFactory
    Stream<DynamicTest> shouldDeliverAPublicationExactlyOnceAcrossEveryPathPair()
    {
        return cells(this::publish, Pair.values());
    }

    private void publish(final Pair pair) throws Exception
    {
        final String prefix = "m.pub." + pair.tag();
        try (Subscriber subscriber = pair.toJava() ? new JavaSubscriber() : new SocketSubscriber();
            Publisher publisher = pair.fromJava() ? new JavaPublisher() : new SocketPublisher())
        {
            subscriber.subscribe(prefix + ".>");
            // a shared-memory subscriber joins a publisher's log at its tail: publish on a warm-up subject until seen
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (subscriber.count(prefix + ".warm") == 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, pair + ": the subscriber never saw the publisher");
                publisher.publish(prefix + ".warm", "{\"warm\":true}", false);
                subscriber.poll(20);
            }
            publisher.publish(prefix + ".msg", "{\"n\":7,\"from\":\"" + pair + "\"}", false);
            publisher.publish(prefix + ".end", "{}", false); // same log, so it comes after the message
            while (subscriber.count(prefix + ".end") == 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, pair + ": the end marker never came; got " +
                    subscriber.received());
                subscriber.poll(20);
            }
            final List<String> messages = subscriber.received().stream()
                .filter((s) -> s.startsWith(prefix + ".msg ")).toList();
            assertEquals(1, messages.size(), pair + ": exactly once, got " + subscriber.received());
            final JsonNode payload = JSON.readTree(messages.get(0).substring(messages.get(0).indexOf(' ') + 1));
            assertEquals(7, payload.path("n").asInt(), messages.get(0));
            assertEquals(pair.toString(), payload.path("from").asText(), messages.get(0));
        }
    }

    // -------------------------------------------------------------------------------------- typed publications

    @TestFactory
    Stream<DynamicTest> shouldTranscodeATypedPublicationFromAJavaPeerThatServesNothing()
    {
        // J->S only: a Java subscriber gets the SBE bytes as they were published, and a socket publishes JSON
        return cells(this::typedPublish, Pair.J_S);
    }

    private void typedPublish(final Pair pair) throws Exception
    {
        final String subject = "m.typed.ACME";
        try (Switchboard publisher = broker.connect("typed-publisher-" + nextId++);
            SocketSubscriber subscriber = new SocketSubscriber())
        {
            publisher.declareSchema(MessageSchema.fromIrResource("/examples.sbeir"));
            subscriber.subscribe("m.typed.>");
            final PriceUpdateEncoder update = new PriceUpdateEncoder().wrapAndApplyHeader(buffer, 0, headerEncoder)
                .price(101.25).timestamp_ms(1_700_000_000_000L).symbol("ACME");
            final int length = MessageHeaderEncoder.ENCODED_LENGTH + update.encodedLength();
            publishUntilSeen(pair, publisher, subscriber, subject, "PriceUpdate", PriceUpdateEncoder.TEMPLATE_ID, length);

            final String first = subscriber.received().get(0);
            final JsonNode payload = JSON.readTree(first.substring(first.indexOf(' ') + 1));
            assertEquals(101.25, payload.path("price").asDouble(), pair + ": " + first);
            assertEquals("ACME", payload.path("symbol").asText(), pair + ": " + first);
            assertEquals(1_700_000_000_000L, payload.path("timestamp_ms").asLong(), pair + ": " + first);
        }
    }

    @TestFactory
    Stream<DynamicTest> shouldTranscodeAPublicationByASchemaThatOnlyItsPublisherDeclared()
    {
        // the demo schema is also the calculator's: this one is known to the broker only by the declaration
        return cells(this::declaredOnlyPublish, Pair.J_S);
    }

    private void declaredOnlyPublish(final Pair pair) throws Exception
    {
        final int schemaId = 4242;
        final int version = 3;
        final String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" +
            "<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" package=\"m.only\" id=\"" + schemaId +
            "\" version=\"" + version + "\" byteOrder=\"littleEndian\"><types><composite name=\"messageHeader\">" +
            "<type name=\"blockLength\" primitiveType=\"uint16\"/><type name=\"templateId\" primitiveType=\"uint16\"/>" +
            "<type name=\"schemaId\" primitiveType=\"uint16\"/><type name=\"version\" primitiveType=\"uint16\"/>" +
            "</composite></types><sbe:message name=\"Level\" id=\"7\"><field name=\"depth\" id=\"1\" type=\"int64\"/>" +
            "</sbe:message></sbe:messageSchema>";
        final MessageSchema schema = MessageSchema.fromXml(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        try (Switchboard publisher = broker.connect("declared-only-" + nextId++);
            SocketSubscriber subscriber = new SocketSubscriber())
        {
            publisher.declareSchema(schema);
            subscriber.subscribe("m.level.>");
            // the SBE message header, little-endian uint16 each, then the one int64 field
            buffer.putShort(0, (short)8, ByteOrder.LITTLE_ENDIAN);
            buffer.putShort(2, (short)7, ByteOrder.LITTLE_ENDIAN);
            buffer.putShort(4, (short)schemaId, ByteOrder.LITTLE_ENDIAN);
            buffer.putShort(6, (short)version, ByteOrder.LITTLE_ENDIAN);
            buffer.putLong(8, 31_415L, ByteOrder.LITTLE_ENDIAN);
            publishUntilSeen(pair, publisher, subscriber, "m.level.x", "Level", 7, 16);

            final String first = subscriber.received().get(0);
            assertEquals(31_415L, JSON.readTree(first.substring(first.indexOf(' ') + 1)).path("depth").asLong(),
                pair + ": " + first);
        }
    }

    /** Publish what is in {@link #buffer} until the subscriber has it: a subscriber joins a log at its tail. */
    private void publishUntilSeen(
        final Pair pair,
        final Switchboard publisher,
        final SocketSubscriber subscriber,
        final String subject,
        final String messageType,
        final int templateId,
        final int length) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (subscriber.count(subject) == 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, pair + ": the subscriber never saw " + subject);
            publisher.publish(subject, messageType, templateId, buffer, 0, length); // refused ones are tried again
            subscriber.poll(20);
        }
    }

    // ------------------------------------------------------------------------------------------ retained publish

    @TestFactory
    Stream<DynamicTest> shouldGiveALaterSubscriberTheRetainedPublicationAtOnceAcrossEveryPathPair()
    {
        return cells(this::retainedPublish, Pair.values());
    }

    private void retainedPublish(final Pair pair) throws Exception
    {
        final String prefix = "m.retained." + pair.tag();
        try (Publisher publisher = pair.fromJava() ? new JavaPublisher() : new SocketPublisher())
        {
            publisher.publish(prefix + ".last", "{\"last\":\"value\"}", true);
            try (Subscriber subscriber = pair.toJava() ? new JavaSubscriber() : new SocketSubscriber())
            {
                subscriber.subscribe(prefix + ".>");
                // then live publications: the retained one must come before them, and once
                awaitLive(pair, publisher, subscriber, prefix + ".live");
                assertEquals(1, subscriber.count(prefix + ".last"), pair + ": the retained message, once; got " +
                    subscriber.received());
                final String first = subscriber.received().get(0);
                assertTrue(first.startsWith(prefix + ".last ") && first.contains("\"value\""),
                    pair + ": the retained message first; got " + subscriber.received());

                // its live copy, to a subscriber that had it as retained, is not delivered again
                publisher.publish(prefix + ".last", "{\"last\":\"newer\"}", true);
                awaitLive(pair, publisher, subscriber, prefix + ".live");
                assertEquals(2, subscriber.count(prefix + ".last"), pair + ": " + subscriber.received());
            }
            publisher.clear(prefix + ".last");
        }
    }

    /**
     * Publish a marker live on a subject until the subscriber has it: everything published before it has come (a
     * socket subscriber reads its frames in order), and it comes after what came before.
     */
    private static void awaitLive(
        final Pair pair, final Publisher publisher, final Subscriber subscriber, final String subject) throws Exception
    {
        final String marker = "{\"marker\":" + nextId++ + "}";
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (!subscriber.received().contains(subject + " " + marker))
        {
            assertTrue(System.nanoTime() - deadline < 0, pair + ": no live publication came; got " +
                subscriber.received());
            publisher.publish(subject, marker, false);
            subscriber.poll(20);
        }
    }

    @TestFactory
    Stream<DynamicTest> shouldClearARetainedValueWithAnEmptyPayloadAcrossEveryPathPair()
    {
        return cells(this::retainedClear, Pair.values());
    }

    private void retainedClear(final Pair pair) throws Exception
    {
        final String prefix = "m.cleared." + pair.tag();
        try (Publisher publisher = pair.fromJava() ? new JavaPublisher() : new SocketPublisher())
        {
            publisher.publish(prefix + ".gone", "{\"v\":1}", true);
            publisher.publish(prefix + ".kept", "{\"v\":2}", true);
            publisher.clear(prefix + ".gone");
            try (Subscriber subscriber = pair.toJava() ? new JavaSubscriber() : new SocketSubscriber())
            {
                subscriber.subscribe(prefix + ".>");
                awaitLive(pair, publisher, subscriber, prefix + ".live");
                // cleared: its retained value never comes (a shared-memory subscriber's new log image may still
                // read the clearing publication itself, payload null, from the log it joins: that is not a value)
                assertFalse(subscriber.received().contains(prefix + ".gone {\"v\":1}"),
                    pair + ": cleared; got " + subscriber.received());
                assertEquals(1, subscriber.count(prefix + ".kept"), pair + ": " + subscriber.received());
            }
            publisher.clear(prefix + ".kept");
        }
    }

    @TestFactory
    Stream<DynamicTest> shouldRefuseARetainOverTheBoundWithATypedErrorAcrossEveryPathPair()
    {
        return cells(this::retainedOverBound, Pair.values());
    }

    private void retainedOverBound(final Pair pair) throws Exception
    {
        final String prefix = "m.bound." + pair.tag();
        // under the longest message of a publication log (an eighth of its term): one refused is over the bound
        final String big = "{\"fill\":\"" + "f".repeat(100_000) + "\"}";
        try (Publisher publisher = pair.fromJava() ? new JavaPublisher() : new SocketPublisher();
            Subscriber subscriber = pair.toJava() ? new JavaSubscriber() : new SocketSubscriber())
        {
            subscriber.subscribe(prefix + ".>");
            int retained = 0;
            String refusal = null;
            while (null == refusal)
            {
                assertTrue(retained < 100, pair + ": a bound of " + RETAINED_BOUND_BYTES + " bytes never refused");
                refusal = publisher.tryRetain(prefix + "." + retained, big);
                if (null == refusal)
                {
                    // each one reaches the live subscriber before the next is sent: a burst of 100 KB publications
                    // can outrun a subscriber starved of CPU for the untethered window (200 ms), which then drops
                    // them, counted (the documented slow-subscriber policy), and this cell is not about that
                    awaitCount(pair, subscriber, prefix + "." + retained);
                    retained++;
                }
            }
            try
            {
                assertTrue(refusal.startsWith("PAYLOAD_TOO_LARGE "), pair + ": " + refusal);
                assertTrue(retained >= 5, pair + ": refused after " + retained + ": " + refusal);
                // refused whole: the subscriber, which has every retained one, never sees the refused one
                awaitLive(pair, publisher, subscriber, prefix + ".live");
                final int refused = retained;
                assertEquals(0, subscriber.count(prefix + "." + refused), pair + ": the refused one was published");
                final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
                while (subscriber.count(prefix + "." + (refused - 1)) == 0)
                {
                    assertTrue(System.nanoTime() - deadline < 0, pair + ": the retained ones were not published");
                    subscriber.poll(20);
                }
            }
            finally
            {
                for (int i = 0; i < retained; i++)
                {
                    publisher.clear(prefix + "." + i);
                }
            }
            assertNull(publisher.tryRetain(prefix + ".again", "{\"v\":1}"), pair + ": room again once cleared");
            publisher.clear(prefix + ".again");
        }
    }

    private static void awaitCount(final Pair pair, final Subscriber subscriber, final String subject)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (subscriber.count(subject) == 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, pair + ": " + subject + " was not published");
            subscriber.poll(20);
        }
    }

    @TestFactory
    Stream<DynamicTest> shouldKeepARetainedValueAfterItsPublisherIsKilledAcrossEveryPathPair()
    {
        return cells(this::retainedAfterPublisherKilled, Pair.values());
    }

    private void retainedAfterPublisherKilled(final Pair pair) throws Exception
    {
        final String subject = "m.orphan." + pair.tag();
        try (ProcessHarness publisher = ProcessHarness.start("retaining-publisher-" + pair.tag(),
            RetainingPublisherProcess.class, broker.socketDir.toString(), pair.fromJava() ? "java" : "socket",
            subject, "{\"from\":\"the dead\"}"))
        {
            publisher.awaitLine("publisher: retained " + subject, 30_000);
            final long pid = publisher.pid();
            publisher.kill(); // SIGKILL
            if (pair.fromJava())
            {
                broker.process.awaitLine("(retaining-publisher, pid " + pid + ") gone", TIMEOUT_MS);
            }
        }
        try (Subscriber subscriber = pair.toJava() ? new JavaSubscriber() : new SocketSubscriber();
            Publisher cleaner = new JavaPublisher())
        {
            subscriber.subscribe(subject);
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (subscriber.count(subject) == 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, pair + ": the retained value died with its publisher");
                subscriber.poll(20);
            }
            assertTrue(subscriber.received().get(0).contains("the dead"), pair + ": " + subscriber.received());
            subscriber.poll(200);
            assertEquals(1, subscriber.count(subject), pair + ": once; got " + subscriber.received());
            cleaner.clear(subject);
        }
    }

    // --------------------------------------------------------------------------------------------- shared name

    @TestFactory
    Stream<DynamicTest> shouldSpreadCallsFromBothPathsOverSharedInstancesOfEveryPathPair()
    {
        return cells(this::sharedName, Pair.values());
    }

    private void sharedName(final Pair pair) throws Exception
    {
        final String service = "m_shared_" + pair.tag();
        try (Switchboard javaFirst = pair.fromJava() ? broker.connect("shared-first-" + pair.tag()) : null;
            Switchboard javaSecond = pair.toJava() ? broker.connect("shared-second-" + pair.tag()) : null;
            SocketServicePeer socketFirst = pair.fromJava() ? null : new SocketServicePeer(socketPath(), "s1");
            SocketServicePeer socketSecond = pair.toJava() ? null : new SocketServicePeer(socketPath(), "s2"))
        {
            if (pair.fromJava())
            {
                javaFirst.serve(ServiceDefinition.named(service).shared().onOpaqueRequest("Who", who("j1")));
                JavaPathSystemTest.awaitService(java, service);
            }
            else
            {
                final RawSocketClient.Frame first = socketFirst.register(service, "shared", "Who");
                assertEquals(RawSocketClient.RESPONSE, first.type, pair + ": first instance: " + first);
                socketFirst.start();
            }
            if (pair.toJava())
            {
                javaSecond.serve(ServiceDefinition.named(service).shared().onOpaqueRequest("Who", who("j2")));
            }
            else
            {
                final RawSocketClient.Frame second = socketSecond.register(service, "shared", "Who");
                assertEquals(RawSocketClient.RESPONSE, second.type, pair + ": the second instance joins: " + second);
                socketSecond.start();
            }
            final Set<String> expected = Set.of(pair.fromJava() ? "j1" : "s1", pair.toJava() ? "j2" : "s2");
            assertEquals(expected, answeredBy(service, true), pair + ": 4 calls from Java");
            assertEquals(expected, answeredBy(service, false), pair + ": 4 calls from a socket");
        }
    }

    // ------------------------------------------------------------------------------------------ exclusive name

    @TestFactory
    Stream<DynamicTest> shouldRefuseASecondOwnerOfAnExclusiveNameAcrossEveryPathPair()
    {
        return cells(this::exclusiveName, Pair.values());
    }

    private void exclusiveName(final Pair pair) throws Exception
    {
        final String service = "m_exclusive_" + pair.tag();
        try (Switchboard javaHolder = pair.fromJava() ? broker.connect("exclusive-holder-" + pair.tag()) : null;
            SocketServicePeer socketHolder = pair.fromJava() ? null : new SocketServicePeer(socketPath(), "holder"))
        {
            if (pair.fromJava())
            {
                javaHolder.serve(ServiceDefinition.named(service).onOpaqueRequest("Who", who("holder")));
                JavaPathSystemTest.awaitService(java, service);
            }
            else
            {
                assertEquals(RawSocketClient.RESPONSE, socketHolder.register(service, "exclusive", "Who").type);
                socketHolder.start();
            }

            final String code;
            if (pair.toJava())
            {
                try (Switchboard second = broker.connect("exclusive-second-" + pair.tag()))
                {
                    code = assertThrows(SwitchboardException.class, () -> second.serve(
                        ServiceDefinition.named(service).onOpaqueRequest("Who", who("intruder")))).errorCode();
                }
            }
            else
            {
                try (SocketServicePeer second = new SocketServicePeer(socketPath(), "intruder"))
                {
                    final RawSocketClient.Frame refusal = second.register(service, "exclusive", "Who");
                    assertEquals(RawSocketClient.ERROR, refusal.type, pair + ": " + refusal);
                    code = refusal.body.path("error_code").asText();
                }
            }
            assertEquals("NAME_IN_USE", code, pair.toString());
            assertEquals(Set.of("holder"), answeredBy(service, pair.fromJava()), pair + ": the holder still serves");
        }
    }

    // ------------------------------------------------------------------------------------------------- DISCOVER

    @TestFactory
    Stream<DynamicTest> shouldDiscoverAServiceWithItsInstanceCountAcrossEveryPathPair()
    {
        return cells(this::discover, Pair.values());
    }

    private void discover(final Pair pair) throws Exception
    {
        final String exclusive = "m_discover_one_" + pair.tag();
        final String shared = "m_discover_two_" + pair.tag();
        try (Switchboard j1 = pair.fromJava() ? broker.connect("discover-1-" + pair.tag()) : null;
            Switchboard j2 = pair.fromJava() ? broker.connect("discover-2-" + pair.tag()) : null;
            SocketServicePeer s1 = pair.fromJava() ? null : new SocketServicePeer(socketPath(), "d1");
            SocketServicePeer s2 = pair.fromJava() ? null : new SocketServicePeer(socketPath(), "d2"))
        {
            if (pair.fromJava())
            {
                j1.serve(ServiceDefinition.named(exclusive).onOpaqueRequest("Who", who("d1")));
                j1.serve(ServiceDefinition.named(shared).shared().onOpaqueRequest("Who", who("d1")));
                j2.serve(ServiceDefinition.named(shared).shared().onOpaqueRequest("Who", who("d2")));
            }
            else
            {
                assertEquals(RawSocketClient.RESPONSE, s1.register(exclusive, "exclusive", "Who").type);
                assertEquals(RawSocketClient.RESPONSE, s1.register(shared, "shared", "Who").type);
                assertEquals(RawSocketClient.RESPONSE, s2.register(shared, "shared", "Who").type);
                s1.start();
                s2.start();
            }

            if (pair.toJava())
            {
                // a Java peer has no DISCOVER: what it can see is whether it has a route to the name
                JavaPathSystemTest.awaitService(java, exclusive);
                JavaPathSystemTest.awaitService(java, shared);
                assertFalse(java.hasService("m_discover_none_" + pair.tag()));
            }
            else
            {
                final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
                JsonNode services;
                while ((services = discover()).findValues("name").stream()
                    .filter((n) -> n.asText().equals(exclusive) || n.asText().equals(shared)).count() < 2)
                {
                    assertTrue(System.nanoTime() - deadline < 0, pair + ": not discovered: " + services);
                }
                assertEquals(1, instancesOf(services, exclusive), pair + ": " + services);
                assertEquals(2, instancesOf(services, shared), pair + ": " + services);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- helpers

    /**
     * One test per pair, named for it ({@code J->S}).
     */
    private static Stream<DynamicTest> cells(final ThrowingConsumer<Pair> cell, final Pair... pairs)
    {
        return Stream.of(pairs).map((pair) -> DynamicTest.dynamicTest(pair.toString(), () -> cell.accept(pair)));
    }

    private int jsonLength;

    private UnsafeBuffer json(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        buffer.putBytes(0, bytes);
        jsonLength = bytes.length;
        return buffer;
    }

    private static JsonNode jsonOf(final Reply reply) throws IOException
    {
        return JSON.readTree(reply.buffer().getStringWithoutLengthUtf8(0, reply.length()));
    }

    private long sbeAdd(final long a, final long b) throws Exception
    {
        final AddEncoder add = new AddEncoder().wrapAndApplyHeader(buffer, 0, headerEncoder).a(a).b(b);
        final Reply reply = java.requestAsync("calculator", "Add", buffer, 0,
            MessageHeaderEncoder.ENCODED_LENGTH + add.encodedLength(), Duration.ofSeconds(10))
            .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        final ResultDecoder result = new ResultDecoder().wrapAndApplyHeader(reply.buffer(), 0, headerDecoder);
        assertEquals(ResultDecoder.TEMPLATE_ID, headerDecoder.templateId());
        return result.value();
    }

    private static Path socketPath()
    {
        return broker.socketDir.resolve("broker.sock");
    }

    private static RawSocketClient socket() throws IOException
    {
        return new RawSocketClient(socketPath());
    }

    private static SocketServicePeer socketServing(final String service, final String mode, final String type)
        throws IOException
    {
        final SocketServicePeer peer = new SocketServicePeer(socketPath(), service);
        final RawSocketClient.Frame registered = peer.register(service, mode, type);
        assertEquals(RawSocketClient.RESPONSE, registered.type, registered.toString());
        return peer.start();
    }

    private static RawSocketClient.Frame call(
        final RawSocketClient caller, final String service, final String type, final String payload) throws IOException
    {
        final String id = "call-" + nextId++;
        caller.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + id + "\",\"target\":\"" + service +
            "\",\"message_type\":\"" + type + "\",\"payload\":" + payload + ",\"expects_reply\":true}");
        return SocketServicePeer.answer(caller, id, TIMEOUT_MS);
    }

    private static io.switchboard.transport.RequestHandler who(final String tag)
    {
        final byte[] bytes = ("{\"by\":\"" + tag + "\"}").getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer reply = new UnsafeBuffer(bytes);
        return (request, b, o, l) -> request.reply(reply, 0, bytes.length);
    }

    /**
     * Who answered 4 calls of {@code Who} to the service, from the Java path or a socket.
     */
    private Set<String> answeredBy(final String service, final boolean fromJava) throws Exception
    {
        final Set<String> by = new HashSet<>();
        if (fromJava)
        {
            JavaPathSystemTest.awaitService(java, service);
            for (int i = 0; i < 4; i++)
            {
                by.add(jsonOf(java.requestAsync(service, "Who", json("{}"), 0, jsonLength, Duration.ofSeconds(10))
                    .get(TIMEOUT_MS, TimeUnit.MILLISECONDS)).path("by").asText());
            }
        }
        else
        {
            try (RawSocketClient caller = socket())
            {
                for (int i = 0; i < 4; i++)
                {
                    final RawSocketClient.Frame reply = call(caller, service, "Who", "{}");
                    assertEquals(RawSocketClient.RESPONSE, reply.type, reply.toString());
                    by.add(reply.body.path("payload").path("by").asText());
                }
            }
        }
        return by;
    }

    private static JsonNode discover() throws IOException
    {
        try (RawSocketClient client = socket())
        {
            final String id = "discover-" + nextId++;
            client.send(DISCOVER, "{\"correlation_id\":\"" + id + "\"}");
            return SocketServicePeer.answer(client, id, TIMEOUT_MS).body.path("services");
        }
    }

    private static int instancesOf(final JsonNode services, final String name)
    {
        for (final JsonNode service : services)
        {
            if (name.equals(service.path("name").asText()))
            {
                return service.path("instances").asInt();
            }
        }
        throw new AssertionError("'" + name + "' not in " + services);
    }

    /** Publishes on one path. */
    private interface Publisher extends AutoCloseable
    {
        void publish(String subject, String json, boolean retain) throws Exception;

        /** A retained publish that may be refused: null if retained, else {@code "CODE message"}. */
        String tryRetain(String subject, String json) throws Exception;

        /** Clear a subject's retained value: an empty payload (Java), a null one (socket). */
        void clear(String subject) throws Exception;
    }

    /** Subscribes on one path and records {@code "subject payload"} of each publication received, in order. */
    private interface Subscriber extends AutoCloseable
    {
        void subscribe(String pattern) throws Exception;

        /** Read what has arrived, waiting at most this long. */
        void poll(long timeoutMs) throws Exception;

        List<String> received();

        default long count(final String subject)
        {
            return received().stream().filter((s) -> s.startsWith(subject + " ")).count();
        }
    }

    private static final class JavaPublisher implements Publisher
    {
        private final Switchboard client = broker.connect("matrix-publisher-" + nextId++);
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);

        public String tryRetain(final String subject, final String json)
        {
            final byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            try
            {
                // retained once the broker said so, delivered or not: not tried again
                client.publish(subject, subject, -1, new UnsafeBuffer(bytes), 0, bytes.length, true);
                return null;
            }
            catch (final SwitchboardException ex)
            {
                return ex.errorCode() + " " + ex.getMessage();
            }
        }

        public void clear(final String subject)
        {
            client.publish(subject, subject, -1, buffer, 0, 0, true);
        }

        public void publish(final String subject, final String json, final boolean retain)
        {
            if (retain)
            {
                assertNull(tryRetain(subject, json));
                return;
            }
            final byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            buffer.putBytes(0, bytes);
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            long result;
            while ((result = client.publish(subject, subject, -1, buffer, 0, bytes.length)) < 0)
            {
                // not connected yet, or back-pressured: not published, so try again
                assertTrue(System.nanoTime() - deadline < 0, "publish refused for " + TIMEOUT_MS + " ms: " + result);
                Thread.yield();
            }
        }

        public void close()
        {
            client.close();
        }
    }

    private static final class SocketPublisher implements Publisher
    {
        private final RawSocketClient client = socket();

        SocketPublisher() throws IOException
        {
        }

        public void publish(final String subject, final String json, final boolean retain) throws Exception
        {
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (true)
            {
                final String id = "publish-" + nextId++;
                client.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"" + id + "\",\"message_type\":\"" +
                    subject + "\",\"payload\":" + json + (retain ? ",\"retain\":true" : "") + "}");
                final RawSocketClient.Frame answer = SocketServicePeer.answer(client, id, TIMEOUT_MS);
                if (RawSocketClient.RESPONSE == answer.type)
                {
                    return;
                }
                // shared-memory subscribers behind (TARGET_BUSY): not published, so try again, as the Java
                // publisher does; a retained one is kept all the same, so it is not tried again
                assertEquals("TARGET_BUSY", answer.body.path("error_code").asText(), answer.toString());
                if (retain)
                {
                    return;
                }
                assertTrue(System.nanoTime() - deadline < 0, "publish refused for " + TIMEOUT_MS + " ms: " + answer);
                Thread.yield();
            }
        }

        public String tryRetain(final String subject, final String json) throws Exception
        {
            final String id = "retain-" + nextId++;
            client.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"" + id + "\",\"message_type\":\"" + subject +
                "\",\"payload\":" + json + ",\"retain\":true}");
            final RawSocketClient.Frame answer = SocketServicePeer.answer(client, id, TIMEOUT_MS);
            final String code = answer.body.path("error_code").asText();
            // TARGET_BUSY: retained, and pushed to sockets, but the shared-memory log pushed back (as the Java
            // publisher's negative result): not tried again
            return RawSocketClient.RESPONSE == answer.type || "TARGET_BUSY".equals(code) ? null :
                code + " " + answer.body.path("error").asText();
        }

        public void clear(final String subject) throws Exception
        {
            publish(subject, "null", true);
        }

        public void close() throws IOException
        {
            client.close();
        }
    }

    private static final class JavaSubscriber implements Subscriber
    {
        private final Switchboard client = broker.connect("matrix-subscriber-" + nextId++);
        private final List<String> received = new CopyOnWriteArrayList<>();

        public void subscribe(final String pattern)
        {
            client.subscribe(pattern, (push, b, o, l) ->
                received.add(push.subject() + " " + b.getStringWithoutLengthUtf8(o, l)));
        }

        public void poll(final long timeoutMs)
        {
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            final int seen = received.size();
            while (received.size() == seen && System.nanoTime() - deadline < 0)
            {
                Thread.yield();
            }
        }

        public List<String> received()
        {
            return received;
        }

        public void close()
        {
            client.close();
        }
    }

    private static final class SocketSubscriber implements Subscriber
    {
        private final RawSocketClient client = socket();
        private final List<String> received = new ArrayList<>();

        SocketSubscriber() throws IOException
        {
        }

        public void subscribe(final String pattern) throws Exception
        {
            final String id = "subscribe-" + nextId++;
            client.send(RawSocketClient.SUBSCRIBE, "{\"correlation_id\":\"" + id + "\",\"message_types\":[\"" +
                pattern + "\"]}");
            // a retained message may come right behind the answer, so read frames one at a time from here on
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (true)
            {
                final RawSocketClient.Frame frame = client.read(TIMEOUT_MS);
                assertNotNull(frame, "no answer to SUBSCRIBE " + pattern);
                if (RawSocketClient.PUSH == frame.type)
                {
                    record(frame);
                }
                else if (id.equals(frame.body.path("correlation_id").asText()))
                {
                    assertEquals(RawSocketClient.RESPONSE, frame.type, frame.toString());
                    return;
                }
                assertTrue(System.nanoTime() - deadline < 0, "no answer to SUBSCRIBE " + pattern);
            }
        }

        private void record(final RawSocketClient.Frame push)
        {
            received.add(push.body.path("message_type").asText() + " " + push.body.path("payload"));
        }

        public void poll(final long timeoutMs) throws IOException
        {
            final RawSocketClient.Frame frame = client.read(timeoutMs);
            if (null != frame && RawSocketClient.PUSH == frame.type)
            {
                record(frame);
            }
        }

        public List<String> received()
        {
            return received;
        }

        public void close() throws IOException
        {
            client.close();
        }
    }

    /** A stream's frames, decoded as the demo countdown's SBE {@code Tick} or a socket service's JSON. */
    private static final class RecordingStream implements StreamListener
    {
        final List<Integer> remaining = new CopyOnWriteArrayList<>();
        final List<Long> sequences = new CopyOnWriteArrayList<>();
        final CompletableFuture<String> outcome = new CompletableFuture<>();
        private final boolean sbe;
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();
        private final TickDecoder tick = new TickDecoder();

        RecordingStream(final boolean sbe)
        {
            this.sbe = sbe;
        }

        public void onFrame(final long id, final long sequence, final DirectBuffer b, final int o, final int l)
        {
            try
            {
                remaining.add(sbe ? tick.wrapAndApplyHeader(b, o, header).remaining() :
                    JSON.readTree(b.getStringWithoutLengthUtf8(o, l)).path("remaining").asInt());
            }
            catch (final IOException ex)
            {
                outcome.completeExceptionally(ex);
            }
            sequences.add(sequence);
        }

        public void onEnd(final long id, final long frameCount)
        {
            outcome.complete("end:" + frameCount);
        }

        public void onError(final long id, final String errorCode, final String message)
        {
            outcome.complete("error:" + errorCode + " " + message);
        }
    }
}
