package io.switchboard.examples;

import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attacks on the broker's retained values, against a real broker with small bounds: payloads too large to retain, a
 * pipelined flood of retains from one socket, a Java peer filling the byte bound, and new subscribers on both paths
 * that are owed every retained value at once. The broker must answer each retain once, stay within its bounds,
 * deliver the retained values without dropping its peers, and go on serving.
 */
@Timeout(120)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetainedAbuseSystemTest
{
    private static final int MAX_SUBJECTS = 2_000;
    private static final long MAX_BYTES = 16L << 20;
    private static final long TIMEOUT_MS = 30_000;

    private static BrokerProcess broker;

    @BeforeAll
    static void start() throws Exception
    {
        broker = new BrokerProcess(List.of(
            "-Dswitchboard.max.retained.subjects=" + MAX_SUBJECTS, "-Dswitchboard.max.retained.bytes=" + MAX_BYTES));
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    private static Path socketPath()
    {
        return broker.socketDir.resolve("broker.sock");
    }

    @Test
    @Order(1)
    void shouldRefuseRetainedPayloadsTooLargeToTravelOnEitherPathAndGoOn() throws Exception
    {
        try (Switchboard java = broker.connect("huge-retainer"); RawSocketClient socket = new RawSocketClient(socketPath()))
        {
            // over one control message (4 MiB): refused before anything is sent
            final UnsafeBuffer huge = new UnsafeBuffer(new byte[5 << 20]);
            final SwitchboardException refused = assertThrows(SwitchboardException.class,
                () -> java.publish("huge.a", "huge.a", -1, huge, 0, huge.capacity(), true));
            assertEquals("PAYLOAD_TOO_LARGE", refused.errorCode(), refused.getMessage());
            // over one message of the publication log (an eighth of its term) but within a control message: kept,
            // and its live copy travels in pieces
            java.publish("huge.b", "huge.b", -1, huge, 0, 1 << 20, true);
            clear(java, "huge.b");

            socket.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"h\",\"message_type\":\"huge.c\",\"payload\":\"" +
                "h".repeat(4_500_000) + "\",\"retain\":true}");
            final RawSocketClient.Frame answer = SocketServicePeer.answer(socket, "h", TIMEOUT_MS);
            assertEquals(RawSocketClient.ERROR, answer.type, answer.toString());
            assertEquals("PAYLOAD_TOO_LARGE", answer.body.path("error_code").asText(), answer.toString());

            // both go on: a small retained value from each is kept and reaches a new subscriber
            final byte[] small = "{\"ok\":1}".getBytes(StandardCharsets.UTF_8);
            java.publish("huge.ok.java", "huge.ok.java", -1, new UnsafeBuffer(small), 0, small.length, true);
            socket.send(RawSocketClient.PUBLISH,
                "{\"correlation_id\":\"s\",\"message_type\":\"huge.ok.socket\",\"payload\":2,\"retain\":true}");
            assertEquals(RawSocketClient.RESPONSE, SocketServicePeer.answer(socket, "s", TIMEOUT_MS).type);
            final Set<String> seen = ConcurrentHashMap.newKeySet();
            try (Switchboard subscriber = broker.connect("huge-subscriber"))
            {
                subscriber.subscribe("huge.>", (push, b, o, l) -> seen.add(push.subject().toString()));
                assertEquals(Set.of("huge.ok.java", "huge.ok.socket"), seen, "retained before subscribe returns");
            }
            clear(java, "huge.ok.java");
            clear(java, "huge.ok.socket");
        }
    }

    @Test
    @Order(2)
    void shouldAnswerEveryRetainOfAFloodFromOneSocketAndKeepTheSubjectBound() throws Exception
    {
        final int flood = 5_000;
        final String value = "v".repeat(1_000);
        try (RawSocketClient socket = new RawSocketClient(socketPath()))
        {
            final long startNs = System.nanoTime();
            for (int i = 0; i < flood; i++) // pipelined: no answer awaited
            {
                socket.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"f" + i + "\",\"message_type\":\"flood." + i +
                    "\",\"payload\":\"" + value + "\",\"retain\":true}");
            }
            int kept = 0;
            int refused = 0;
            final Set<String> answered = new HashSet<>();
            while (answered.size() < flood)
            {
                final RawSocketClient.Frame frame = socket.read(TIMEOUT_MS);
                assertNotNull(frame, "answers stopped after " + answered.size() + " of " + flood);
                assertTrue(answered.add(frame.body.path("correlation_id").asText()), "answered twice: " + frame);
                if (RawSocketClient.RESPONSE == frame.type)
                {
                    kept++;
                }
                else
                {
                    assertEquals("PAYLOAD_TOO_LARGE", frame.body.path("error_code").asText(), frame.toString());
                    refused++;
                }
            }
            final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
            System.out.println("retained flood: " + flood + " retains of 1 KB from one socket answered in " +
                elapsedMs + " ms; kept " + kept + ", refused " + refused);
            assertEquals(MAX_SUBJECTS, kept, "kept up to the subject bound");
            assertEquals(flood - MAX_SUBJECTS, refused);
        }
    }

    @Test
    @Order(3)
    void shouldRefuseAJavaPeerPastTheByteBoundAndDeliverEveryRetainedValueToNewSubscribersOnBothPaths()
        throws Exception
    {
        // replacing held subjects with 100 KB values does not add subjects: the byte bound refuses
        int replaced = 0;
        final byte[] big = new byte[100_000];
        java.util.Arrays.fill(big, (byte)'b');
        try (Switchboard java = broker.connect("byte-filler"))
        {
            SwitchboardException refusal = null;
            while (null == refusal)
            {
                assertTrue(replaced < MAX_SUBJECTS, "the byte bound never refused");
                try
                {
                    java.publish("flood." + replaced, "flood", -1, new UnsafeBuffer(big), 0, big.length, true);
                    replaced++;
                }
                catch (final SwitchboardException ex)
                {
                    refusal = ex;
                }
            }
            assertEquals("PAYLOAD_TOO_LARGE", refusal.errorCode(), refusal.getMessage());
            assertTrue(replaced > 100 && replaced < 170, "replaced " + replaced + ": " + refusal.getMessage());
            assertTrue(broker.rssKb() < 1_000_000, "broker RSS " + broker.rssKb() + " KB");
        }

        // a new Java subscription is owed all 2,000 (over 13 MB): sent as its control socket drains, each once
        final ConcurrentHashMap<String, AtomicInteger> javaSeen = new ConcurrentHashMap<>();
        final long startNs = System.nanoTime();
        try (Switchboard subscriber = broker.connect("owed-everything"))
        {
            subscriber.subscribe("flood.*", (push, b, o, l) ->
            {
                assertTrue(push.isRetained());
                javaSeen.computeIfAbsent(push.subject().toString(), (k) -> new AtomicInteger()).incrementAndGet();
            });
            System.out.println("retained delivery: " + javaSeen.size() + " retained values to a new Java " +
                "subscription in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs) + " ms");
            assertEquals(MAX_SUBJECTS, javaSeen.size());
            assertTrue(javaSeen.values().stream().allMatch((n) -> n.get() == 1), "each once");
        }

        // a socket subscriber: every one is either pushed or counted lost by its bounded push queue
        try (RawSocketClient socket = new RawSocketClient(socketPath()))
        {
            socket.send(RawSocketClient.SUBSCRIBE, "{\"correlation_id\":\"all\",\"message_types\":[\"flood.*\"]}");
            int pushed = 0;
            long lost = 0;
            boolean answered = false;
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (pushed + lost < MAX_SUBJECTS || !answered)
            {
                assertTrue(System.nanoTime() - deadline < 0, "pushed " + pushed + ", lost " + lost);
                final RawSocketClient.Frame frame = socket.read(TIMEOUT_MS);
                assertNotNull(frame, "pushed " + pushed + ", lost " + lost);
                if (RawSocketClient.PUSH == frame.type)
                {
                    pushed++;
                }
                else if ("pushes_lost".equals(frame.body.path("notice").asText()))
                {
                    lost += frame.body.path("lost").asLong();
                }
                else
                {
                    assertEquals("all", frame.body.path("correlation_id").asText(), frame.toString());
                    answered = true;
                }
            }
            System.out.println("retained delivery: socket subscriber pushed " + pushed + ", lost " + lost);
            assertEquals(MAX_SUBJECTS, pushed + lost);
        }

        // the broker goes on: a retained value still fits once one is cleared
        try (Switchboard java = broker.connect("after-the-flood"))
        {
            clear(java, "flood.0");
            final byte[] small = "1".getBytes(StandardCharsets.UTF_8);
            java.publish("after.flood", "after.flood", -1, new UnsafeBuffer(small), 0, 1, true);
            final Set<String> seen = ConcurrentHashMap.newKeySet();
            java.subscribe("after.*", (push, b, o, l) -> seen.add(push.subject().toString()));
            assertEquals(Set.of("after.flood"), seen);
        }
    }

    private static void clear(final Switchboard java, final String subject)
    {
        java.publish(subject, subject, -1, new UnsafeBuffer(new byte[0]), 0, 0, true);
    }
}
