package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.broker.Broker;
import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.switchboard.broker.gateway.SocketClient.ERROR;
import static io.switchboard.broker.gateway.SocketClient.JSON;
import static io.switchboard.broker.gateway.SocketClient.REGISTER;
import static io.switchboard.broker.gateway.SocketClient.REQUEST;
import static io.switchboard.broker.gateway.SocketClient.RESPONSE;
import static io.switchboard.broker.gateway.SocketClient.STATS;
import static io.switchboard.broker.gateway.SocketClient.STREAM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One set of naming rules for both paths, over real sockets and Aeron IPC against a broker in this JVM: a socket
 * connection joins a shared name a Java peer serves with SBE (and is transcoded both ways), two sockets share a name,
 * exclusive names refuse a second owner from either path, and DISCOVER and STATS count every instance the same way.
 */
class SharedNameGatewayTest
{
    private static final int DISCOVER = 0x08;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    /** A socket instance adds this to its sums, so the caller can tell which instance answered. */
    private static final long SOCKET_MARK = 1000;

    private static Path socketDir;
    private static String aeronDir;
    private static Broker broker;
    private static MessageSchema schema;
    private static SbeJsonTranscoder transcoder;
    private static Switchboard javaPeer;
    private static Switchboard javaCaller;
    private static final AtomicInteger JAVA_SERVED = new AtomicInteger();

    @BeforeAll
    static void startBroker() throws Exception
    {
        socketDir = Files.createTempDirectory("sb-names-test");
        aeronDir = "/dev/shm/sb-names-test-" + System.nanoTime();
        final Broker.Context ctx = new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron")
            .termLength(1 << 20)
            .logger((msg) -> {});
        broker = Broker.launch(ctx);
        try (InputStream xml = SharedNameGatewayTest.class.getResourceAsStream("/gateway-test.xml"))
        {
            schema = MessageSchema.fromXml(xml);
        }
        transcoder = new SbeJsonTranscoder(schema.ir());
        final ExpandableArrayBuffer out = new ExpandableArrayBuffer(256);
        final ExpandableArrayBuffer streamOut = new ExpandableArrayBuffer(256);
        javaPeer = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket()).clientName("calc-java"));
        javaPeer.serve(ServiceDefinition.named("calc").shared().schema(schema)
            .onRequest("Add", (request, buffer, offset, length) ->
            {
                JAVA_SERVED.incrementAndGet();
                final JsonNode in = transcoder.decode(buffer, offset, length);
                final int n = transcoder.encode(
                    "Result", JSON.createObjectNode().put("value", in.get("a").asLong() + in.get("b").asLong()), out, 0);
                request.reply(out, 0, n);
            })
            .onStream("Count", (stream, buffer, offset, length) ->
            {
                final int count = transcoder.decode(buffer, offset, length).get("n").asInt();
                for (int i = 0; i < count; i++)
                {
                    final int n = transcoder.encode("Tick", JSON.createObjectNode().put("i", i), streamOut, 0);
                    stream.send(streamOut, 0, n);
                }
                stream.end();
            }));
        javaCaller = Switchboard.connect(new Switchboard.Context().controlSocket(broker.context().controlSocket()));
    }

    @AfterAll
    static void stopBroker()
    {
        for (final AutoCloseable c : new AutoCloseable[]{ javaCaller, javaPeer, broker })
        {
            try
            {
                if (null != c)
                {
                    c.close();
                }
            }
            catch (final Exception ignore)
            {
            }
        }
        IoUtil.delete(new File(aeronDir), true);
        IoUtil.delete(socketDir.toFile(), true);
    }

    /** A socket server on a thread of its own: answers Add with the sum plus a mark, Count with ticks from 100. */
    private static final class SocketServer implements AutoCloseable
    {
        final SocketClient conn;
        final AtomicInteger served = new AtomicInteger();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;
        volatile Throwable failure;

        SocketServer(final String service, final String registerExtra, final long mark) throws IOException
        {
            conn = new SocketClient(socketDir.resolve("broker.sock"));
            conn.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"" + service + "\",\"mode\":\"shared\"" +
                registerExtra + "}");
            final SocketClient.Frame answer = conn.read();
            assertEquals(RESPONSE, answer.type, () -> "REGISTER refused: " + answer.text());
            thread = new Thread(() -> serve(mark), "socket-server-" + service);
            thread.start();
        }

        private void serve(final long mark)
        {
            try
            {
                while (running.get())
                {
                    final SocketClient.Frame f = conn.tryReadBriefly();
                    if (null == f || REQUEST != f.type)
                    {
                        continue;
                    }
                    served.incrementAndGet();
                    final JsonNode req = f.json();
                    final String id = req.get("correlation_id").asText();
                    final JsonNode payload = req.get("payload");
                    if ("Count".equals(req.get("message_type").asText()))
                    {
                        for (int i = 0; i < payload.get("n").asInt(); i++)
                        {
                            conn.send(STREAM, "{\"correlation_id\":\"" + id + "\",\"payload\":{\"i\":" + (100 + i) +
                                "},\"is_final\":false}");
                        }
                        conn.send(STREAM, "{\"correlation_id\":\"" + id + "\",\"is_final\":true}");
                    }
                    else if (payload.has("a"))
                    {
                        conn.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":{\"value\":" +
                            (payload.get("a").asLong() + payload.get("b").asLong() + mark) + "}}");
                    }
                    else
                    {
                        conn.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":" +
                            JSON.writeValueAsString(JSON.createObjectNode().put("from", mark)) + "}");
                    }
                }
            }
            catch (final Throwable t)
            {
                failure = t;
            }
        }

        public void close() throws Exception
        {
            running.set(false);
            thread.join(TimeUnit.NANOSECONDS.toMillis(TIMEOUT_NS));
            conn.close();
            if (null != failure)
            {
                throw new AssertionError("socket server failed", failure);
            }
        }
    }

    private static JsonNode discover(final SocketClient conn) throws IOException
    {
        conn.send(DISCOVER, "{\"correlation_id\":\"d\"}");
        return conn.expect(RESPONSE);
    }

    private static JsonNode awaitInstances(final SocketClient caller, final String name, final int instances)
        throws IOException, InterruptedException
    {
        final long deadlineNs = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (true)
        {
            final JsonNode found = service(discover(caller), name);
            if ((null != found && instances == found.path("instances").asInt()) || System.nanoTime() - deadlineNs > 0)
            {
                return found;
            }
            Thread.sleep(5); // polled until the condition holds or the deadline passes
        }
    }

    private static JsonNode service(final JsonNode discovered, final String name)
    {
        for (final JsonNode s : discovered.path("services"))
        {
            if (name.equals(s.path("name").asText()))
            {
                return s;
            }
        }
        return null;
    }

    private static long socketAdd(final SocketClient caller, final long a, final long b) throws IOException
    {
        caller.send(REQUEST, SocketClient.request("c", "calc", "Add", "{\"a\":" + a + ",\"b\":" + b + "}"));
        final JsonNode reply = caller.expect(RESPONSE);
        return reply.path("payload").path("value").asLong();
    }

    private static long javaAdd(final long a, final long b) throws Exception
    {
        final ExpandableArrayBuffer request = new ExpandableArrayBuffer(64);
        final int n = transcoder.encode("Add", JSON.createObjectNode().put("a", a).put("b", b), request, 0);
        final Reply reply = javaCaller.requestAsync("calc", "Add", request, 0, n, Duration.ofSeconds(10))
            .get(10, TimeUnit.SECONDS);
        return transcoder.decode(reply.buffer(), 0, reply.length()).get("value").asLong();
    }

    @Test
    void shouldJoinJavaServedSharedNameFromSocketAndCountBothInstances() throws Exception
    {
        try (SocketServer server = new SocketServer("calc", ",\"message_types\":[\"Add\",\"Count\"]",
            SOCKET_MARK);
            SocketClient caller = new SocketClient(socketDir.resolve("broker.sock")))
        {
            // DISCOVER: two instances, one per path, each named
            final JsonNode calc = service(discover(caller), "calc");
            assertNotNull(calc);
            assertEquals(2, calc.path("instances").asInt(), calc::toString);
            assertEquals("mixed", calc.path("transport").asText());
            final JsonNode detail = calc.path("instances_detail");
            assertEquals(2, detail.size(), detail::toString);
            int javaDetails = 0;
            int socketDetails = 0;
            for (final JsonNode instance : detail)
            {
                if ("shared-memory".equals(instance.path("path").asText()))
                {
                    javaDetails++;
                    assertEquals(javaPeer.clientId(), instance.path("client_id").asInt());
                    assertEquals("calc-java", instance.path("peer").asText());
                    assertEquals(ProcessHandle.current().pid(), instance.path("pid").asLong());
                }
                else
                {
                    socketDetails++;
                    assertEquals("socket", instance.path("path").asText());
                    assertTrue(instance.path("connection").asLong() > 0, instance::toString);
                }
            }
            assertEquals(1, javaDetails);
            assertEquals(1, socketDetails);

            // STATS counts the same way
            caller.send(STATS, "{\"correlation_id\":\"s\"}");
            assertEquals(2, caller.expect(RESPONSE).path("payload").path("service_instances").path("calc").asInt());

            // a socket caller reaches both instances, in turn (the marked sums come from the socket server)
            final int javaBefore = JAVA_SERVED.get();
            int fromSocket = 0;
            int fromJava = 0;
            for (int i = 0; i < 10; i++)
            {
                final long sum = socketAdd(caller, i, 2);
                if (sum == i + 2 + SOCKET_MARK)
                {
                    fromSocket++;
                }
                else
                {
                    assertEquals(i + 2, sum);
                    fromJava++;
                }
            }
            assertEquals(fromJava, JAVA_SERVED.get() - javaBefore);
            assertEquals(5, fromSocket, "socket caller: " + fromSocket + " from the socket, " + fromJava + " from Java");
            assertEquals(5, fromJava);

            // a Java caller too, in SBE both ways: its route to the gateway's instance arrives by route update
            int javaFromSocket = 0;
            int javaFromJava = 0;
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            while (javaFromSocket < 3 || javaFromJava < 3)
            {
                assertTrue(System.nanoTime() - deadline < 0,
                    "Java caller: " + javaFromSocket + " from the socket, " + javaFromJava + " from Java");
                final long sum = javaAdd(40, 2);
                if (42 + SOCKET_MARK == sum)
                {
                    javaFromSocket++;
                }
                else
                {
                    assertEquals(42, sum);
                    javaFromJava++;
                }
            }

            // streams reach both instances; the socket instance's ticks go out as SBE Ticks and back as JSON
            boolean socketStreamed = false;
            boolean javaStreamed = false;
            for (int i = 0; i < 4; i++)
            {
                final int first = socketStreamFirstTick(caller, "st" + i);
                socketStreamed |= 100 == first;
                javaStreamed |= 0 == first;
            }
            assertTrue(socketStreamed && javaStreamed, "streams from the socket " + socketStreamed + ", from Java " +
                javaStreamed);
        }
        // the socket server left: one instance again, counted the same way
        try (SocketClient caller = new SocketClient(socketDir.resolve("broker.sock")))
        {
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            while (service(discover(caller), "calc").path("instances").asInt() != 1)
            {
                assertTrue(System.nanoTime() - deadline < 0, "calc still has a socket instance");
                Thread.yield();
            }
            assertEquals("shared-memory", service(discover(caller), "calc").path("transport").asText());
        }
    }

    /** A Count stream of two ticks: the first tick tells the instance (0 from Java, 100 from the socket). */
    private static int socketStreamFirstTick(final SocketClient caller, final String id) throws IOException
    {
        caller.send(REQUEST, SocketClient.streamRequest(id, "calc", "Count", "{\"n\":2}"));
        int first = -1;
        int ticks = 0;
        while (true)
        {
            final SocketClient.Frame f = caller.read();
            assertEquals(STREAM, f.type, f::text);
            final JsonNode body = f.json();
            if (body.path("is_final").asBoolean())
            {
                assertEquals(2, ticks, f::text);
                assertTrue(body.path("error_code").isMissingNode() || body.path("error_code").isNull(), f::text);
                return first;
            }
            final int tick = body.path("payload").path("i").asInt();
            if (first < 0)
            {
                first = tick;
            }
            assertEquals(first + ticks, tick, f::text);
            ticks++;
        }
    }

    @Test
    void shouldAdoptJavaMessageTypesWhenSocketsOfferNone() throws Exception
    {
        try (SocketServer server = new SocketServer("calc", "", SOCKET_MARK + 1);
            SocketServer second = new SocketServer("calc", "", SOCKET_MARK + 1);
            SocketClient caller = new SocketClient(socketDir.resolve("broker.sock")))
        {
            final JsonNode calc = service(discover(caller), "calc");
            assertEquals(3, calc.path("instances").asInt(), calc::toString);
            final List<String> types = new ArrayList<>();
            calc.path("message_types").forEach((t) -> types.add(t.asText()));
            assertEquals(List.of("Add", "Count"), types);
            boolean reachedSocket = false;
            for (int i = 0; i < 6 && !reachedSocket; i++)
            {
                reachedSocket = socketAdd(caller, 1, 1) == 2 + SOCKET_MARK + 1;
            }
            assertTrue(reachedSocket, "the socket instance was never called");
        }
    }

    @Test
    void shouldRefuseSocketJoiningJavaSharedNameWithOtherTypes() throws IOException
    {
        try (SocketClient conn = new SocketClient(socketDir.resolve("broker.sock")))
        {
            conn.send(REGISTER,
                "{\"correlation_id\":\"r\",\"service\":\"calc\",\"mode\":\"shared\",\"message_types\":[\"Add\",\"Sub\"]}");
            final JsonNode error = conn.expect(ERROR);
            assertEquals("INVALID_REQUEST", error.path("error_code").asText(), error::toString);
            final String message = error.path("error").asText();
            assertTrue(message.contains("[Add, Count]") && message.contains("[Add, Sub]"), message);
        }
    }

    @Test
    void shouldCountTwoSocketServersOfOneSharedName() throws Exception
    {
        try (SocketServer first = new SocketServer("pair", ",\"message_types\":[\"Echo\"]", 1);
            SocketServer second = new SocketServer("pair", ",\"message_types\":[\"Echo\"]", 2);
            SocketClient caller = new SocketClient(socketDir.resolve("broker.sock")))
        {
            final JsonNode pair = service(discover(caller), "pair");
            assertEquals(2, pair.path("instances").asInt(), pair::toString);
            assertEquals("socket", pair.path("transport").asText());
            assertEquals(2, pair.path("instances_detail").size());
            for (final JsonNode instance : pair.path("instances_detail"))
            {
                assertEquals("socket", instance.path("path").asText());
            }
            caller.send(STATS, "{\"correlation_id\":\"s\"}");
            assertEquals(2, caller.expect(RESPONSE).path("payload").path("service_instances").path("pair").asInt());
            for (int i = 0; i < 4; i++)
            {
                caller.send(REQUEST, SocketClient.request("e" + i, "pair", "Echo", "{}"));
                caller.expect(RESPONSE);
            }
            assertEquals(2, first.served.get());
            assertEquals(2, second.served.get());
        }
    }

    @Test
    void shouldLetOpaqueJavaPeerJoinSocketSharedName() throws Exception
    {
        try (SocketServer server = new SocketServer("opaque_pair", ",\"message_types\":[\"Echo\"]", 7);
            SocketClient caller = new SocketClient(socketDir.resolve("broker.sock"));
            Switchboard peer = Switchboard.connect(
                new Switchboard.Context().controlSocket(broker.context().controlSocket())))
        {
            peer.serve(ServiceDefinition.named("opaque_pair").shared()
                .onOpaqueRequest("Echo", (request, buffer, offset, length) ->
                    request.reply(buffer, offset, length)));
            // the gateway learns the Java instance from the broker's route update, a control message after the ack
            final JsonNode pair = awaitInstances(caller, "opaque_pair", 2);
            assertEquals(2, pair.path("instances").asInt(), pair::toString);
            assertEquals("mixed", pair.path("transport").asText());
            int fromSocket = 0;
            int fromJava = 0;
            for (int i = 0; i < 6; i++)
            {
                caller.send(REQUEST, SocketClient.request("o" + i, "opaque_pair", "Echo", "{\"from\":0}"));
                final long from = caller.expect(RESPONSE).path("payload").path("from").asLong();
                if (7 == from)
                {
                    fromSocket++;
                }
                else
                {
                    fromJava++;
                }
            }
            assertEquals(3, fromSocket);
            assertEquals(3, fromJava);
        }
    }

    @Test
    void shouldRefuseSbeJavaPeerJoiningOpaqueSocketSharedNameNamingBothSides() throws Exception
    {
        // not built: the socket instance would have to switch to the schema under its callers (see the report)
        try (SocketServer server = new SocketServer("opaque_calc", ",\"message_types\":[\"Add\"]", 7))
        {
            final SwitchboardException refused = assertThrows(SwitchboardException.class, () -> javaPeer.serve(
                ServiceDefinition.named("opaque_calc").shared().schema(schema)
                    .onRequest("Add", (request, buffer, offset, length) -> {})));
            assertEquals("INVALID_REQUEST", refused.errorCode(), refused::getMessage);
            assertTrue(refused.getMessage().contains("[Add=opaque JSON]") &&
                refused.getMessage().contains("[Add=SBE template 1]"), refused.getMessage());
        }
    }

    @Test
    void shouldRefuseSecondOwnerOfExclusiveNameFromEitherPath() throws Exception
    {
        // Java holds, socket tries (exclusive and shared)
        javaPeer.serve(ServiceDefinition.named("java_only")
            .onOpaqueRequest("Ping", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
        try (SocketClient conn = new SocketClient(socketDir.resolve("broker.sock")))
        {
            for (final String mode : new String[]{ "exclusive", "shared" })
            {
                conn.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"java_only\",\"mode\":\"" + mode +
                    "\",\"message_types\":[\"Ping\"]}");
                final JsonNode error = conn.expect(ERROR);
                assertEquals("NAME_IN_USE", error.path("error_code").asText(), error::toString);
            }

            // socket holds, Java tries; and a second socket tries
            conn.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"socket_only\",\"message_types\":[\"Ping\"]}");
            conn.expect(RESPONSE);
            final SwitchboardException refused = assertThrows(SwitchboardException.class, () -> javaPeer.serve(
                ServiceDefinition.named("socket_only").onOpaqueRequest("Ping", (request, buffer, offset, length) -> {})));
            assertEquals("NAME_IN_USE", refused.errorCode(), refused::getMessage);
            final SwitchboardException refusedShared = assertThrows(SwitchboardException.class, () -> javaPeer.serve(
                ServiceDefinition.named("socket_only").shared()
                    .onOpaqueRequest("Ping", (request, buffer, offset, length) -> {})));
            assertEquals("NAME_IN_USE", refusedShared.errorCode(), refusedShared::getMessage);
            try (SocketClient other = new SocketClient(socketDir.resolve("broker.sock")))
            {
                other.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"socket_only\",\"mode\":\"shared\"}");
                assertEquals("NAME_IN_USE", other.expect(ERROR).path("error_code").asText());
            }
        }
        finally
        {
            javaPeer.unserve("java_only");
        }
    }
}
