package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.examples.RawSocketClient.Frame;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.Push;
import io.switchboard.transport.PushHandler;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Messages of every size on every path pair (issue 11): a call's request and its reply, a reply alone, stream
 * frames and publications, each just under and over 64 KiB, 128 KiB (one message of the default 1 MiB term) and
 * 1 MiB, of the maximum, and one byte more, from Java to Java, Java to a socket, a socket to Java and a socket to a
 * socket, against one real broker at its default settings. Payloads are opaque JSON strings, so that a size is the
 * same on both paths (the payload's JSON bytes) and the answer is compared byte for byte; over the maximum the
 * answer is {@code PAYLOAD_TOO_LARGE}, typed, whichever side is over it.
 * <p>
 * "J" is a {@link Switchboard} peer in this JVM (one client calls or publishes, another serves or subscribes: two
 * peers, each with its own inbox), "S" a socket connection speaking docs/PROTOCOL.md frames.
 */
@Timeout(600)
class MessageSizeSystemTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX = Configuration.MAX_MESSAGE_LENGTH_DEFAULT;
    private static final int[] SIZES = {
        64 * 1024 - 1, 64 * 1024 + 1, 128 * 1024 - 1, 128 * 1024 + 1, 1024 * 1024 - 1, 1024 * 1024 + 1, MAX, MAX + 1};
    private static final int REQUEST = 0x01;
    private static final int RESPONSE = 0x02;
    private static final int ERROR = 0x03;
    private static final int PUSH = 0x05;
    private static final int SUBSCRIBE = 0x06;
    private static final int STREAM = 0x09;
    private static final int REGISTER = 0x0A;
    private static final int PUBLISH = 0x0C;
    private static final long TIMEOUT_MS = 30_000;
    private static final byte[] WARM_UP = "\"w\"".getBytes(StandardCharsets.US_ASCII);

    private static BrokerProcess broker;
    private static ProcessHarness demoServices;
    private static Switchboard javaCaller;
    private static Switchboard javaServer;
    private static SocketPeer socketServer;
    private static int nextId;

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

        String service()
        {
            return toJava() ? "size_java" : "size_socket";
        }

        public String toString()
        {
            return name().charAt(0) + "->" + name().charAt(2);
        }
    }

    @BeforeAll
    static void start() throws Exception
    {
        broker = new BrokerProcess(List.of("-Xmx1g"));
        demoServices = broker.startDemoServices();
        javaCaller = broker.connect("size-caller");
        javaServer = broker.connect("size-server");
        javaServer.serve(ServiceDefinition.named("size_java")
            .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length))
            .onOpaqueRequest("Make", (request, buffer, offset, length) ->
            {
                final byte[] made = made(sizeAsked(buffer, offset, length), 'r');
                try
                {
                    request.reply(new UnsafeBuffer(made), 0, made.length);
                }
                catch (final SwitchboardException ex)
                {
                    assertEquals("PAYLOAD_TOO_LARGE", ex.errorCode(), ex.toString()); // the handler learns it
                    throw ex;
                }
            })
            .onOpaqueStream("MakeStream", MessageSizeSystemTest::makeStream));
        socketServer = new SocketPeer();
        final ObjectNode register = JSON.createObjectNode().put("correlation_id", "reg").put("service", "size_socket");
        register.putArray("message_types").add("Echo").add("Make").add("MakeStream");
        socketServer.send(REGISTER, register);
        assertEquals(RESPONSE, socketServer.await("reg").type);
        socketServer.serve();
        JavaPathSystemTest.awaitService(javaCaller, "size_java");
        JavaPathSystemTest.awaitService(javaCaller, "size_socket");
    }

    @AfterAll
    static void stop() throws Exception
    {
        try
        {
            if (null != socketServer)
            {
                socketServer.close();
            }
            if (null != javaCaller)
            {
                javaCaller.close();
            }
            if (null != javaServer)
            {
                javaServer.close();
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

    @TestFactory
    Stream<DynamicTest> shouldCarryACallOfEverySizeThereAndBack()
    {
        return cells("echo", this::echo);
    }

    @TestFactory
    Stream<DynamicTest> shouldCarryAReplyOfEverySize()
    {
        return cells("reply", this::reply);
    }

    @TestFactory
    Stream<DynamicTest> shouldCarryStreamFramesOfEverySize()
    {
        return cells("stream", this::stream);
    }

    @TestFactory
    Stream<DynamicTest> shouldCarryAPublicationOfEverySize()
    {
        return cells("publish", this::publish);
    }

    private interface Cell
    {
        void run(Pair pair, int size) throws Exception;
    }

    private static Stream<DynamicTest> cells(final String what, final Cell cell)
    {
        final List<DynamicTest> tests = new ArrayList<>();
        for (final Pair pair : Pair.values())
        {
            for (final int size : SIZES)
            {
                tests.add(DynamicTest.dynamicTest(what + " " + pair + " " + size, () -> cell.run(pair, size)));
            }
        }
        return tests.stream();
    }

    @org.junit.jupiter.api.Test
    void shouldStoreAndGetBackTheLargestValueTheKvStoreSchemaAllows() throws Exception
    {
        final int largest = 1024 * 1024; // the length's maxValue in examples.xml
        try (SocketPeer client = new SocketPeer())
        {
            final String value = "k".repeat(largest);
            final ObjectNode set = JSON.createObjectNode().put("correlation_id", "set").put("target", "kv_store")
                .put("message_type", "Set").put("expects_reply", true);
            set.putObject("payload").put("key", "largest").put("value", value);
            client.send(REQUEST, set);
            final Frame stored = client.await("set");
            assertEquals(RESPONSE, stored.type, stored.toString());

            final ObjectNode get = JSON.createObjectNode().put("correlation_id", "get").put("target", "kv_store")
                .put("message_type", "Get").put("expects_reply", true);
            get.putObject("payload").put("key", "largest");
            client.send(REQUEST, get);
            final Frame got = client.await("get");
            assertEquals(RESPONSE, got.type, got.toString());
            assertTrue(got.body.path("payload").path("found").asBoolean(), got.toString());
            assertEquals(value, got.body.path("payload").path("value").asText(), "the value comes back whole");

            set.put("correlation_id", "set-over").putObject("payload").put("key", "over").put("value", value + "k");
            client.send(REQUEST, set);
            final Frame refused = client.await("set-over");
            assertEquals(ERROR, refused.type, "one byte over the schema's bound: " + refused);
            assertFalse(refused.body.path("error_code").asText().isEmpty(), refused.toString());
        }
    }

    /** A call whose request and reply are both the size: the service echoes the request. */
    private void echo(final Pair pair, final int size) throws Exception
    {
        final byte[] payload = made(size, 'e');
        final Answer answer = call(pair, "Echo", payload);
        if (size > MAX)
        {
            answer.assertTooLarge(pair + " echo " + size);
            return;
        }
        answer.assertBytes(payload, pair + " echo " + size);
    }

    /** A small request, answered with a reply of the size (over the maximum: the caller gets the typed error). */
    private void reply(final Pair pair, final int size) throws Exception
    {
        final Answer answer = call(pair, "Make", ("{\"n\":" + size + "}").getBytes(StandardCharsets.US_ASCII));
        if (size > MAX)
        {
            answer.assertTooLarge(pair + " reply " + size);
            return;
        }
        answer.assertBytes(made(size, 'r'), pair + " reply " + size);
    }

    /** Two stream frames of the size, then the end (over the maximum: the stream ends with the typed error). */
    private void stream(final Pair pair, final int size) throws Exception
    {
        final byte[] request = ("{\"n\":" + size + "}").getBytes(StandardCharsets.US_ASCII);
        final List<byte[]> frames = new ArrayList<>();
        final String end;
        if (pair.fromJava())
        {
            final CompletableFuture<String> outcome = new CompletableFuture<>();
            javaCaller.stream(pair.service(), "MakeStream", new UnsafeBuffer(request), 0, request.length,
                TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS), new StreamListener()
                {
                    public void onFrame(final long id, final long seq, final DirectBuffer b, final int o, final int l)
                    {
                        frames.add(bytes(b, o, l));
                    }

                    public void onEnd(final long correlationId, final long frameCount)
                    {
                        outcome.complete("END " + frameCount);
                    }

                    public void onError(final long correlationId, final String errorCode, final String message)
                    {
                        outcome.complete(errorCode);
                    }
                });
            end = outcome.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        else
        {
            try (SocketPeer caller = new SocketPeer())
            {
                final String id = "st-" + nextId++;
                caller.send(REQUEST, request(id, pair.service(), "MakeStream", request).put("expects_stream", true));
                String result = null;
                while (null == result)
                {
                    final Frame frame = caller.await(id);
                    if (STREAM == frame.type && !frame.body.path("is_final").asBoolean(false))
                    {
                        frames.add(JSON.writeValueAsBytes(frame.body.get("payload")));
                    }
                    else if (STREAM == frame.type && !frame.body.hasNonNull("error_code"))
                    {
                        result = "END " + frames.size();
                    }
                    else
                    {
                        result = frame.body.path("error_code").asText(frame.toString());
                    }
                }
                end = result;
            }
        }
        if (size > MAX)
        {
            assertEquals("PAYLOAD_TOO_LARGE", end, pair + " stream " + size);
            assertEquals(0, frames.size(), pair + " stream " + size + ": no frame over the maximum");
            return;
        }
        assertEquals("END 2", end, pair + " stream " + size);
        final byte[] expected = made(size, 's');
        for (final byte[] frame : frames)
        {
            assertArrayEquals(expected, frame, pair + " stream " + size + ": a frame differs");
        }
    }

    /** A publication of the size from one path, read by a subscriber on the other. */
    private void publish(final Pair pair, final int size) throws Exception
    {
        final String subject = "size." + pair.name().toLowerCase() + "." + size;
        final byte[] payload = made(size, 'p');
        final LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        final PushHandler handler = (Push push, DirectBuffer b, int o, int l) -> received.add(bytes(b, o, l));
        SocketPeer subscriber = null;
        try
        {
            if (pair.toJava())
            {
                javaServer.subscribe(subject, handler);
            }
            else
            {
                subscriber = new SocketPeer();
                final ObjectNode subscribe = JSON.createObjectNode().put("correlation_id", "sub");
                subscribe.putArray("message_types").add(subject);
                subscriber.send(SUBSCRIBE, subscribe);
                assertEquals(RESPONSE, subscriber.await("sub").type);
            }

            // a subscriber joins a publisher's log at its tail: publish a small warm-up until one is seen
            warmUp(pair, subject, subscriber, received);

            String refused = null;
            if (pair.fromJava())
            {
                try
                {
                    final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
                    long result;
                    do
                    {
                        result = javaCaller.publish(subject, subject, -1, new UnsafeBuffer(payload), 0, size);
                    }
                    while (result < 0 && System.nanoTime() - deadline < 0 && yielded());
                    assertTrue(result > 0, pair + " publish " + size + ": result " + result);
                }
                catch (final SwitchboardException ex)
                {
                    refused = ex.errorCode();
                }
            }
            else
            {
                try (SocketPeer publisher = new SocketPeer())
                {
                    final String id = "pub-" + nextId++;
                    final ObjectNode publish = JSON.createObjectNode().put("correlation_id", id)
                        .put("message_type", subject);
                    publish.set("payload", JSON.readTree(payload));
                    publisher.send(PUBLISH, publish);
                    final Frame answer = publisher.await(id);
                    refused = RESPONSE == answer.type ? null : answer.body.path("error_code").asText(answer.toString());
                }
            }

            if (size > MAX)
            {
                assertEquals("PAYLOAD_TOO_LARGE", refused, pair + " publish " + size);
                return;
            }
            assertNull(refused, pair + " publish " + size);
            final byte[] got;
            if (pair.toJava())
            {
                byte[] next;
                do
                {
                    next = received.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                }
                while (null != next && Arrays.equals(WARM_UP, next));
                got = next;
            }
            else
            {
                Frame push;
                do
                {
                    push = subscriber.read(TIMEOUT_MS);
                }
                while (null != push && (PUSH != push.type || "\"w\"".equals(push.body.path("payload").toString())));
                got = null == push ? null : JSON.writeValueAsBytes(push.body.get("payload"));
            }
            assertNotNull(got, pair + " publish " + size + ": never arrived");
            assertArrayEquals(payload, got, pair + " publish " + size);
        }
        finally
        {
            if (pair.toJava())
            {
                javaServer.unsubscribe(subject, handler);
            }
            if (null != subscriber)
            {
                subscriber.close();
            }
        }
    }

    private static void warmUp(
        final Pair pair, final String subject, final SocketPeer subscriber, final LinkedBlockingQueue<byte[]> received)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        try (SocketPeer publisher = pair.fromJava() ? null : new SocketPeer())
        {
            while (true)
            {
                assertTrue(System.nanoTime() - deadline < 0, pair + ": the subscriber never saw a warm-up on " + subject);
                if (pair.fromJava())
                {
                    javaCaller.publish(subject, subject, -1, new UnsafeBuffer(WARM_UP), 0, WARM_UP.length);
                }
                else
                {
                    final ObjectNode publish = JSON.createObjectNode().put("message_type", subject).put("payload", "w");
                    publisher.send(PUBLISH, publish);
                }
                if (pair.toJava())
                {
                    if (null != received.poll(50, TimeUnit.MILLISECONDS))
                    {
                        received.clear();
                        return;
                    }
                }
                else
                {
                    final Frame push = subscriber.read(50);
                    if (null != push && PUSH == push.type)
                    {
                        return;
                    }
                }
            }
        }
    }

    private static boolean yielded()
    {
        Thread.yield();
        return true;
    }

    private static void makeStream(final StreamSession stream, final DirectBuffer buffer, final int offset,
        final int length)
    {
        final byte[] made = made(sizeAsked(buffer, offset, length), 's');
        try
        {
            for (int i = 0; i < 2; i++)
            {
                assertTrue(stream.send(new UnsafeBuffer(made), 0, made.length), "frame " + i + " not sent");
            }
            stream.end();
        }
        catch (final SwitchboardException ex)
        {
            assertEquals("PAYLOAD_TOO_LARGE", ex.errorCode(), ex.toString()); // the handler learns it
        }
    }

    /** The {@code n} of a request {@code {"n": size}}. */
    private static int sizeAsked(final DirectBuffer buffer, final int offset, final int length)
    {
        final String text = new String(bytes(buffer, offset, length), StandardCharsets.US_ASCII);
        return Integer.parseInt(text.replaceAll("[^0-9]", ""));
    }

    /** The outcome of a call: the reply's payload bytes, or an error code. */
    private static final class Answer
    {
        final byte[] payload;
        final String errorCode;

        Answer(final byte[] payload, final String errorCode)
        {
            this.payload = payload;
            this.errorCode = errorCode;
        }

        void assertBytes(final byte[] expected, final String what)
        {
            assertNull(errorCode, what);
            assertEquals(expected.length, payload.length, what + ": length");
            assertTrue(Arrays.equals(expected, payload), what + ": bytes differ");
        }

        void assertTooLarge(final String what)
        {
            assertEquals("PAYLOAD_TOO_LARGE", errorCode, what);
        }
    }

    private Answer call(final Pair pair, final String type, final byte[] payload) throws Exception
    {
        if (pair.fromJava())
        {
            try
            {
                final io.switchboard.transport.Reply reply = javaCaller.requestAsync(pair.service(), type,
                    new UnsafeBuffer(payload), 0, payload.length, Duration.ofMillis(TIMEOUT_MS))
                    .get(TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
                return new Answer(bytes(reply.buffer(), 0, reply.length()), null);
            }
            catch (final java.util.concurrent.ExecutionException ex)
            {
                final Throwable cause = ex.getCause();
                assertInstanceOf(SwitchboardException.class, cause, "a typed error");
                return new Answer(null, ((SwitchboardException)cause).errorCode());
            }
        }
        try (SocketPeer caller = new SocketPeer())
        {
            final String id = "call-" + nextId++;
            caller.send(REQUEST, request(id, pair.service(), type, payload).put("expects_reply", true));
            final Frame answer = caller.await(id);
            return RESPONSE == answer.type ? new Answer(JSON.writeValueAsBytes(answer.body.get("payload")), null) :
                new Answer(null, answer.body.path("error_code").asText(answer.toString()));
        }
    }

    private static ObjectNode request(final String id, final String service, final String type, final byte[] payload)
        throws IOException
    {
        final ObjectNode request = JSON.createObjectNode().put("correlation_id", id).put("target", service)
            .put("message_type", type);
        request.set("payload", JSON.readTree(payload));
        return request;
    }

    /** A JSON string whose encoding is exactly {@code size} bytes: quotes around size - 2 letters. */
    static byte[] made(final int size, final char letter)
    {
        final byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte)letter);
        bytes[0] = '"';
        bytes[size - 1] = '"';
        return bytes;
    }

    static byte[] bytes(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return bytes;
    }

    /**
     * A socket connection with room for the largest frame, reading on the caller's thread; {@link #serve()} answers
     * the service's requests on a thread of its own instead.
     */
    private static final class SocketPeer implements AutoCloseable
    {
        private final RawSocketClient client;
        private volatile boolean running = true;
        private Thread thread;
        private volatile Throwable failure;

        SocketPeer() throws IOException
        {
            client = new RawSocketClient(broker.socketDir.resolve("broker.sock"));
        }

        void send(final int type, final JsonNode body) throws IOException
        {
            client.send(type, JSON.writeValueAsBytes(body));
        }

        Frame read(final long timeoutMs) throws IOException
        {
            return client.read(timeoutMs);
        }

        Frame await(final String correlationId) throws IOException
        {
            return client.await(correlationId, TIMEOUT_MS);
        }

        void serve()
        {
            thread = new Thread(() ->
            {
                try
                {
                    while (running)
                    {
                        final Frame frame = read(20);
                        if (null != frame && REQUEST == frame.type)
                        {
                            answer(frame.body);
                        }
                    }
                }
                catch (final Throwable t)
                {
                    failure = t;
                }
            }, "size-socket-server");
            thread.setDaemon(true);
            thread.start();
        }

        private void answer(final JsonNode request) throws IOException
        {
            final String id = request.path("correlation_id").asText();
            final JsonNode payload = request.path("payload");
            switch (request.path("message_type").asText())
            {
                case "Echo":
                    final ObjectNode echo = JSON.createObjectNode().put("correlation_id", id).put("success", true);
                    echo.set("payload", payload);
                    send(RESPONSE, echo);
                    break;

                case "Make":
                    final ObjectNode made = JSON.createObjectNode().put("correlation_id", id).put("success", true);
                    made.set("payload", JSON.readTree(made(payload.path("n").asInt(), 'r')));
                    send(RESPONSE, made);
                    // over the maximum the broker tells this service it failed; it reads that as any other frame
                    break;

                default:
                    final JsonNode frame = JSON.readTree(made(payload.path("n").asInt(), 's'));
                    for (int i = 0; i < 2; i++)
                    {
                        final ObjectNode stream = JSON.createObjectNode().put("correlation_id", id)
                            .put("sequence", i).put("is_final", false);
                        stream.set("payload", frame);
                        send(STREAM, stream);
                    }
                    send(STREAM, JSON.createObjectNode().put("correlation_id", id).put("sequence", 2)
                        .put("is_final", true));
                    break;
            }
        }

        public void close() throws Exception
        {
            running = false;
            if (null != thread)
            {
                thread.join(10_000);
            }
            client.close();
            if (null != failure)
            {
                throw new AssertionError("socket peer failed", failure);
            }
        }
    }
}
