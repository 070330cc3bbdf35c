package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.broker.Broker;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.Switchboard;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway over real sockets against a broker started in-process and a Java service over Aeron IPC.
 */
class GatewayTest
{
    private static final int REQUEST = 0x01;
    private static final int RESPONSE = 0x02;
    private static final int ERROR = 0x03;
    private static final int HEARTBEAT = 0x04;
    private static final int PUSH = 0x05;
    private static final int SUBSCRIBE = 0x06;
    private static final int UNSUBSCRIBE = 0x07;
    private static final int DISCOVER = 0x08;
    private static final int STREAM = 0x09;
    private static final int REGISTER = 0x0A;
    private static final int PUBLISH = 0x0C;
    private static final int CANCEL = 0x0D;
    private static final int STATS = 0x0E;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private static Path socketDir;
    private static String aeronDir;
    private static Broker broker;
    private static Switchboard service;
    private static final Set<StreamSession> OPEN_STREAMS = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void startBroker() throws Exception
    {
        socketDir = Files.createTempDirectory("sb-gw-test");
        aeronDir = "/dev/shm/sb-gw-test-" + System.nanoTime();
        final Broker.Context ctx = new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron") // in a parent of its own (0700): the broker refuses /dev/shm itself
            .termLength(1 << 20)
            .logger((msg) -> {});
        ctx.gatewayContext().maxConnections(8);
        broker = Broker.launch(ctx);

        final MessageSchema schema;
        try (InputStream xml = GatewayTest.class.getResourceAsStream("/gateway-test.xml"))
        {
            schema = MessageSchema.fromXml(xml);
        }
        final SbeJsonTranscoder transcoder = new SbeJsonTranscoder(schema.ir());
        final ExpandableArrayBuffer out = new ExpandableArrayBuffer(256);
        final ExpandableArrayBuffer streamOut = new ExpandableArrayBuffer(256);

        service = Switchboard.connect(new Switchboard.Context().controlSocket(broker.context().controlSocket()));
        service.serve(ServiceDefinition.named("calc").schema(schema)
            .onRequest("Add", (request, buffer, offset, length) ->
            {
                final JsonNode in = transcoder.decode(buffer, offset, length);
                final long sum = in.get("a").asLong() + in.get("b").asLong();
                final int n = transcoder.encode("Result", JSON.createObjectNode().put("value", sum), out, 0);
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
            })
            .onStream("Forever", (stream, buffer, offset, length) -> OPEN_STREAMS.add(stream)));
        service.serve(ServiceDefinition.named("echo")
            .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));

        // the gateway's client learns routes asynchronously: wait until it can reach both services
        try (Conn conn = new Conn())
        {
            for (final String target : new String[]{ "calc", "echo" })
            {
                final long deadline = System.nanoTime() + TIMEOUT_NS;
                while (true)
                {
                    final String req = "calc".equals(target) ?
                        request("probe", "calc", "Add", "{\"a\":1,\"b\":1}") :
                        request("probe", "echo", "Echo", "{}");
                    conn.send(REQUEST, req);
                    final Frame f = conn.read();
                    if (f.type == RESPONSE)
                    {
                        break;
                    }
                    assertTrue(System.nanoTime() - deadline < 0, "gateway never reached " + target + ": " + f.json());
                    Thread.yield();
                }
            }
        }
    }

    @AfterAll
    static void stopBroker()
    {
        if (null != service)
        {
            service.close();
        }
        if (null != broker)
        {
            broker.close();
        }
        assertFalse(Files.exists(socketDir.resolve("broker.sock")), "gateway socket removed on shutdown");
        IoUtil.delete(new File(aeronDir), true);
        IoUtil.delete(socketDir.toFile(), true);
    }

    private static String request(final String id, final String target, final String type, final String payload)
    {
        return "{\"correlation_id\":\"" + id + "\",\"target\":\"" + target + "\",\"message_type\":\"" + type +
            "\",\"payload\":" + payload + ",\"expects_reply\":true}";
    }

    @Test
    void shouldBindSocketOwnerOnly() throws IOException
    {
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(socketDir.resolve("broker.sock"))));
    }

    @Test
    void shouldAnswerHeartbeatWithEmptyObject() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(HEARTBEAT, "{}");
            final Frame f = conn.read();
            assertEquals(HEARTBEAT, f.type);
            assertEquals("{}", f.text());
        }
    }

    @Test
    void shouldTranscodeRequestToSbeServiceAndBack() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, request("r1", "calc", "Add", "{\"a\":40,\"b\":2}"));
            final JsonNode body = conn.expect(RESPONSE).json();
            assertEquals("r1", body.get("correlation_id").asText());
            assertTrue(body.get("success").asBoolean());
            assertEquals(42, body.get("payload").get("value").asLong());
            assertFalse(body.has("error"));
        }
    }

    @Test
    void shouldPassOpaqueJsonThrough() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, request("o1", "echo", "Echo", "{\"x\":[1,2,\"three\"]}"));
            final JsonNode body = conn.expect(RESPONSE).json();
            assertEquals("three", body.get("payload").get("x").get(2).asText());
        }
    }

    @Test
    void shouldReportLookupErrorsInOrder() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, request("e1", "nobody", "Nothing", "{\"a\":\"x\"}"));
            assertEquals("ACTOR_NOT_FOUND", conn.expect(ERROR).json().get("error_code").asText());
            conn.send(REQUEST, request("e2", "calc", "Nothing", "{\"a\":\"x\"}"));
            assertEquals("UNKNOWN_MESSAGE_TYPE", conn.expect(ERROR).json().get("error_code").asText());
            conn.send(REQUEST, request("e3", "calc", "Add", "{\"a\":\"x\",\"b\":1}"));
            final JsonNode err = conn.expect(ERROR).json();
            assertEquals("e3", err.get("correlation_id").asText());
            assertEquals("SERIALIZATION_ERROR", err.get("error_code").asText());
            assertTrue(err.get("error").asText().contains("a"), err.toString());
            conn.send(REQUEST, "{\"correlation_id\":\"e4\",\"target\":\"calc\"}");
            final JsonNode invalid = conn.expect(ERROR).json();
            assertEquals("INVALID_REQUEST", invalid.get("error_code").asText());
            assertEquals("e4", invalid.get("correlation_id").asText());
        }
    }

    @Test
    void shouldAnswerBadJsonAndStayOpen() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, "{not json");
            assertEquals("SERIALIZATION_ERROR", conn.expect(ERROR).json().get("error_code").asText());
            conn.send(HEARTBEAT, "{}");
            assertEquals(HEARTBEAT, conn.read().type);
        }
    }

    @Test
    void shouldAnswerInvalidHeaderOnceThenClose() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.sendRaw(new byte[]{ 0, 0, 0, 2, 0x07, 0x01, 0x01, '{', '}' });
            final JsonNode err = conn.expect(ERROR).json();
            assertEquals("", err.get("correlation_id").asText());
            assertEquals("PROTOCOL_ERROR", err.get("error_code").asText());
            assertTrue(conn.isClosedByPeer());
        }
        try (Conn conn = new Conn())
        {
            conn.sendRaw(new byte[]{ 0, 0, 0, 2, 0x02, 0x7F, 0x01, '{', '}' });
            assertEquals("PROTOCOL_ERROR", conn.expect(ERROR).json().get("error_code").asText());
            assertTrue(conn.isClosedByPeer());
        }
    }

    @Test
    void shouldRefuseOversizePayloadThenClose() throws IOException
    {
        try (Conn conn = new Conn())
        {
            final int tooLarge = io.switchboard.codec.frame.FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH + 1;
            conn.sendRaw(new byte[]{ (byte)(tooLarge >>> 24), (byte)(tooLarge >>> 16), (byte)(tooLarge >>> 8),
                (byte)tooLarge, 0x02, 0x01, 0x01 });
            final JsonNode err = conn.expect(ERROR).json();
            assertEquals("", err.get("correlation_id").asText());
            assertEquals("PAYLOAD_TOO_LARGE", err.get("error_code").asText());
            assertTrue(conn.isClosedByPeer());
        }
    }

    @Test
    void shouldAcceptVersionOneFrames() throws IOException
    {
        try (Conn conn = new Conn())
        {
            final byte[] payload = request("v1", "calc", "Add", "{\"a\":1,\"b\":2}").getBytes(StandardCharsets.UTF_8);
            final ByteBuffer frame = ByteBuffer.allocate(6 + payload.length);
            frame.putInt(payload.length).put((byte)1).put((byte)REQUEST).put(payload).flip();
            conn.sendRaw(frame);
            final Frame f = conn.read();
            assertEquals(1, f.version);
            assertEquals(RESPONSE, f.type);
            assertEquals(3, f.json().get("payload").get("value").asLong());
        }
    }

    @Test
    void shouldAnswerMessagePackInMessagePack() throws IOException
    {
        final PayloadCodec codec = new PayloadCodec();
        try (Conn conn = new Conn())
        {
            final byte[] payload = codec.write(FrameFormat.MSGPACK,
                JSON.readTree(request("m1", "calc", "Add", "{\"a\":5,\"b\":6}")));
            conn.send(REQUEST, FrameFormat.MSGPACK, payload);
            final Frame f = conn.expect(RESPONSE);
            assertEquals(FrameFormat.MSGPACK.code(), f.format);
            final JsonNode body = codec.read(FrameFormat.MSGPACK, f.payload, 0, f.payload.length);
            assertEquals(11, body.get("payload").get("value").asLong());
        }
    }

    @Test
    void shouldAnswerEachOfManyPipelinedRequestsExactlyOnce() throws IOException
    {
        final int count = 1000;
        try (Conn conn = new Conn())
        {
            final ByteBuffer frames = ByteBuffer.allocate(count * 200);
            for (int i = 0; i < count; i++)
            {
                final byte[] p = (i % 2 == 0 ?
                    request("p" + i, "calc", "Add", "{\"a\":" + i + ",\"b\":1}") :
                    request("p" + i, "echo", "Echo", "{\"i\":" + i + "}")).getBytes(StandardCharsets.UTF_8);
                frames.putInt(p.length).put((byte)2).put((byte)REQUEST).put((byte)1).put(p);
            }
            frames.flip();
            conn.sendRaw(frames);
            final Set<String> seen = new HashSet<>();
            for (int i = 0; i < count; i++)
            {
                final JsonNode body = conn.expect(RESPONSE).json();
                final String id = body.get("correlation_id").asText();
                assertTrue(seen.add(id), "answered twice: " + id);
                final int n = Integer.parseInt(id.substring(1));
                if (n % 2 == 0)
                {
                    assertEquals(n + 1, body.get("payload").get("value").asLong());
                }
                else
                {
                    assertEquals(n, body.get("payload").get("i").asInt());
                }
            }
            assertEquals(count, seen.size());
        }
    }

    @Test
    void shouldStreamThenEnd() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, "{\"correlation_id\":\"s1\",\"target\":\"calc\",\"message_type\":\"Count\"," +
                "\"payload\":{\"n\":3},\"expects_stream\":true}");
            for (int i = 0; i < 3; i++)
            {
                final JsonNode f = conn.expect(STREAM).json();
                assertEquals(i, f.get("sequence").asInt());
                assertFalse(f.get("is_final").asBoolean());
                assertEquals(i, f.get("payload").get("i").asInt());
            }
            final JsonNode end = conn.expect(STREAM).json();
            assertTrue(end.get("is_final").asBoolean());
            assertEquals(3, end.get("sequence").asInt());
            assertFalse(end.has("payload"));
            assertFalse(end.has("error_code"));
        }
    }

    @Test
    void shouldEndStreamWithCancelledOnCancel() throws IOException
    {
        try (Conn conn = new Conn())
        {
            OPEN_STREAMS.clear();
            conn.send(REQUEST, "{\"correlation_id\":\"c1\",\"target\":\"calc\",\"message_type\":\"Forever\"," +
                "\"payload\":{\"n\":1},\"expects_stream\":true}");
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            while (OPEN_STREAMS.isEmpty())
            {
                assertTrue(System.nanoTime() - deadline < 0, "stream never reached the service");
                Thread.yield();
            }
            conn.send(CANCEL, "{\"correlation_id\":\"c1\"}");
            final JsonNode end = conn.expect(STREAM).json();
            assertEquals("c1", end.get("correlation_id").asText());
            assertTrue(end.get("is_final").asBoolean());
            assertEquals("CANCELLED", end.get("error_code").asText());
            final StreamSession session = OPEN_STREAMS.iterator().next();
            while (!session.isCancelled())
            {
                assertTrue(System.nanoTime() - deadline < 0, "service never told of the cancel");
                Thread.yield();
            }
        }
    }

    @Test
    void shouldReportUnknownTargetOfStreamAsFinalStreamFrame() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, "{\"correlation_id\":\"s2\",\"target\":\"nobody\",\"message_type\":\"Count\"," +
                "\"payload\":{},\"expects_stream\":true}");
            final JsonNode end = conn.expect(STREAM).json();
            assertTrue(end.get("is_final").asBoolean());
            assertEquals("ACTOR_NOT_FOUND", end.get("error_code").asText());
        }
    }

    @Test
    void shouldAnswerFireAndForgetDelivered() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(REQUEST, "{\"correlation_id\":\"f1\",\"target\":\"echo\",\"message_type\":\"Echo\",\"payload\":{}}");
            assertEquals("delivered", conn.expect(RESPONSE).json().get("payload").get("status").asText());
        }
    }

    @Test
    void shouldPushPublicationsToSocketAndJavaSubscribers() throws Exception
    {
        final java.util.concurrent.CompletableFuture<String> javaSaw = new java.util.concurrent.CompletableFuture<>();
        service.subscribe("quotes.*", (push, buffer, offset, length) ->
            javaSaw.complete(push.subject() + " " + buffer.getStringWithoutLengthUtf8(offset, length)));
        try (Conn sub = new Conn(); Conn pub = new Conn())
        {
            sub.send(SUBSCRIBE, "{\"correlation_id\":\"sub1\",\"message_types\":[\"quotes.*\",\"other\"]}");
            final JsonNode reply = sub.expect(RESPONSE).json();
            assertEquals(2, reply.get("subscribed_types").size());
            assertTrue(reply.get("success").asBoolean());

            final long deadline = System.nanoTime() + TIMEOUT_NS;
            String seen = null;
            int published = 0;
            while (null == seen)
            {
                pub.send(PUBLISH, "{\"correlation_id\":\"pub" + published + "\",\"message_type\":\"quotes.ACME\"," +
                    "\"payload\":{\"px\":" + published + "}}");
                published++;
                assertTrue(pub.expect(RESPONSE).json().get("success").asBoolean());
                seen = javaSaw.getNow(null);
                assertTrue(System.nanoTime() - deadline < 0, "Java subscriber never saw a socket publication");
                if (null == seen)
                {
                    Thread.yield();
                }
            }
            assertTrue(seen.startsWith("quotes.ACME {\"px\":"), seen);
            for (int i = 0; i < published; i++)
            {
                final JsonNode push = sub.expect(PUSH).json();
                assertEquals("quotes.ACME", push.get("message_type").asText());
                assertEquals(i + 1, push.get("sequence").asLong());
                assertEquals(i, push.get("payload").get("px").asInt());
                assertTrue(push.has("notification_id") && push.has("timestamp_ms"));
            }

            final byte[] javaPayload = "{\"from\":\"java\"}".getBytes(StandardCharsets.UTF_8);
            final long deadline2 = System.nanoTime() + TIMEOUT_NS;
            JsonNode javaPush = null;
            while (null == javaPush)
            {
                service.publish("quotes.JAVA", "Quote", -1, new UnsafeBuffer(javaPayload), 0, javaPayload.length);
                javaPush = sub.poll(TimeUnit.MILLISECONDS.toNanos(50));
                assertTrue(System.nanoTime() - deadline2 < 0, "socket subscriber never saw a Java publication");
            }
            assertEquals("quotes.JAVA", javaPush.get("message_type").asText());
            assertEquals("java", javaPush.get("payload").get("from").asText());

            sub.send(UNSUBSCRIBE, "{\"correlation_id\":\"u1\",\"message_types\":[]}");
            JsonNode unsub;
            do
            {
                unsub = sub.expectAny().json();
            }
            while (!unsub.has("subscribed_types"));
            assertEquals(0, unsub.get("subscribed_types").size());
        }
        finally
        {
            service.unsubscribe("quotes.*");
        }
    }

    @Test
    void shouldPushEachPublicationOncePerConnectionWhateverPatternsOverlap() throws Exception
    {
        try (Conn sub = new Conn(); Conn pub = new Conn())
        {
            sub.send(SUBSCRIBE, "{\"correlation_id\":\"o1\",\"message_types\":[\"ov.*\",\"ov.>\",\"ov.a\"]}");
            sub.expect(RESPONSE);
            for (int i = 0; i < 3; i++)
            {
                pub.send(PUBLISH, "{\"correlation_id\":\"p" + i + "\",\"message_type\":\"ov.a\",\"payload\":" + i + "}");
                pub.expect(RESPONSE);
            }
            // and from shared memory: the gateway's client sees it once per matching pattern, the socket once
            final byte[] body = "7".getBytes(StandardCharsets.UTF_8);
            awaitPublish(body);
            for (int i = 0; i < 4; i++)
            {
                final JsonNode push = sub.expect(PUSH).json();
                assertEquals(i + 1, push.get("sequence").asInt(), "one push per publication: " + push);
                assertEquals(i < 3 ? i : 7, push.get("payload").asInt());
            }
            assertNull(sub.poll(TimeUnit.MILLISECONDS.toNanos(300)), "no duplicates follow");
        }
    }

    private static void awaitPublish(final byte[] body)
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (service.publish("ov.a", "ov.a", -1, new org.agrona.concurrent.UnsafeBuffer(body), 0, 1) < 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "publish never accepted");
            Thread.yield();
        }
    }

    @Test
    void shouldPushARetainedMessageOnlyToPatternsThatDidNotAlreadyHaveIt() throws Exception
    {
        try (Conn pub = new Conn(); Conn sub = new Conn())
        {
            pub.send(PUBLISH, "{\"correlation_id\":\"r\",\"message_type\":\"keep.x\",\"payload\":1,\"retain\":true}");
            pub.expect(RESPONSE);
            sub.send(SUBSCRIBE, "{\"correlation_id\":\"k1\",\"message_types\":[\"keep.x\"]}");
            sub.expect(RESPONSE);
            assertEquals(1, sub.expect(PUSH).json().get("payload").asInt());
            sub.send(SUBSCRIBE, "{\"correlation_id\":\"k2\",\"message_types\":[\"keep.x\",\"keep.*\"]}");
            sub.expect(RESPONSE);
            assertNull(sub.poll(TimeUnit.MILLISECONDS.toNanos(300)), "the connection already had the retained message");
        }
    }

    @Test
    void shouldPushARetainedValueAndThenItsNewerLiveOne() throws Exception
    {
        try (Conn pub = new Conn(); Conn sub = new Conn())
        {
            pub.send(PUBLISH, "{\"correlation_id\":\"r\",\"message_type\":\"again.x\",\"payload\":1,\"retain\":true}");
            pub.expect(RESPONSE);
            sub.send(SUBSCRIBE, "{\"correlation_id\":\"k1\",\"message_types\":[\"again.>\"]}");
            sub.expect(RESPONSE);
            assertEquals(1, sub.expect(PUSH).json().get("payload").asInt());
            pub.send(PUBLISH, "{\"correlation_id\":\"r2\",\"message_type\":\"again.x\",\"payload\":2,\"retain\":true}");
            pub.expect(RESPONSE);
            assertEquals(2, sub.expect(PUSH).json().get("payload").asInt(), "the newer one, live");
            service.publish("again.y", "again.y", -1, new org.agrona.concurrent.UnsafeBuffer("3".getBytes()), 0, 1, true);
            assertEquals(3, sub.expect(PUSH).json().get("payload").asInt(), "a Java peer's retained one, live");
        }
    }

    @Test
    void shouldDiscoverServicesAtTopLevel() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(DISCOVER, "{\"correlation_id\":\"d1\"}");
            final JsonNode body = conn.expect(RESPONSE).json();
            assertEquals("d1", body.get("correlation_id").asText());
            assertEquals(2, body.get("protocol_version").get("current").asInt());
            assertTrue(body.get("protocol_version").get("capabilities").get("messagepack").asBoolean());
            assertTrue(body.get("actors").toString().contains("\"calc\""));
            assertTrue(body.get("message_types").toString().contains("\"Add\""));
            assertTrue(body.get("services").toString().contains("\"echo\""));
            assertNull(body.get("payload"));
        }
    }

    @Test
    void shouldReportCounters() throws IOException
    {
        try (Conn conn = new Conn())
        {
            conn.send(STATS, "{\"correlation_id\":\"st0\"}");
            final JsonNode before = conn.expect(RESPONSE).json().get("payload");
            conn.send(REQUEST, request("s1", "calc", "Add", "{\"a\":1,\"b\":2}"));
            conn.expect(RESPONSE);
            conn.send(REQUEST, request("s2", "nobody", "Add", "{}"));
            conn.expect(ERROR);
            conn.send(PUBLISH, "{\"correlation_id\":\"p\",\"message_type\":\"stats.subject\",\"payload\":1}");
            conn.expect(RESPONSE);

            conn.send(STATS, "{\"correlation_id\":\"st\"}");
            final JsonNode payload = conn.expect(RESPONSE).json().get("payload");
            assertEquals(before.get("requests").asLong() + 2, payload.get("requests").asLong());
            assertTrue(payload.has("pushes_dropped"));
            assertEquals(before.path("per_service").path("calc").path("responses").asLong() + 1,
                payload.get("per_service").get("calc").get("responses").asLong());
            assertEquals(before.path("errors_by_code").path("ACTOR_NOT_FOUND").asLong() + 1,
                payload.get("errors_by_code").get("ACTOR_NOT_FOUND").asLong());
            assertEquals(1, payload.get("per_subject").get("stats.subject").get("publishes").asLong());
        }
    }

    private static final int UNREGISTER = 0x0B;

    private static void register(final Conn conn, final String id, final String body) throws IOException
    {
        conn.send(REGISTER, body);
        final JsonNode reply = conn.expect(RESPONSE).json();
        assertEquals(id, reply.get("correlation_id").asText());
        assertTrue(reply.get("success").asBoolean());
    }

    private static void awaitRoute(final Conn caller, final String target, final String type) throws IOException
    {
        // the gateway's own client learns the new route asynchronously, like every peer
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            caller.send(DISCOVER, "{\"correlation_id\":\"d\"}");
            final JsonNode d = caller.expect(RESPONSE).json();
            for (final JsonNode svc : d.get("services"))
            {
                if (target.equals(svc.get("name").asText()))
                {
                    assertEquals("socket", svc.get("transport").asText());
                    return;
                }
            }
            assertTrue(System.nanoTime() - deadline < 0, target + " never appeared in DISCOVER");
            Thread.yield();
        }
    }

    @Test
    void shouldServeFromASocketToSocketAndJavaCallers() throws Exception
    {
        try (Conn server = new Conn(); Conn caller = new Conn())
        {
            register(server, "r1", "{\"correlation_id\":\"r1\",\"service\":\"upper\",\"message_types\":[\"Upper\"]}");
            awaitRoute(caller, "upper", "Upper");

            caller.send(REQUEST, request("c1", "upper", "Upper", "{\"text\":\"abc\"}"));
            final JsonNode forwarded = server.expect(REQUEST).json();
            assertEquals("upper", forwarded.get("target").asText());
            assertEquals("Upper", forwarded.get("message_type").asText());
            assertEquals("abc", forwarded.get("payload").get("text").asText());
            assertTrue(forwarded.get("expects_reply").asBoolean());
            final String id = forwarded.get("correlation_id").asText();
            server.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":{\"text\":\"ABC\"}}");
            final JsonNode reply = caller.expect(RESPONSE).json();
            assertEquals("c1", reply.get("correlation_id").asText());
            assertEquals("ABC", reply.get("payload").get("text").asText());

            caller.send(REQUEST, request("c2", "upper", "Lower", "{}"));
            assertEquals("UNKNOWN_MESSAGE_TYPE", caller.expect(ERROR).json().get("error_code").asText());

            // a Java peer calls the socket-served service with opaque JSON
            final byte[] json = "{\"text\":\"java\"}".getBytes(StandardCharsets.UTF_8);
            // the Java peer learns the route from its own route update, which may come after the gateway's answer
            final java.util.concurrent.CompletableFuture<io.switchboard.transport.Reply> javaCall =
                requestOnceRouted(json);
            final JsonNode fromJava = server.expect(REQUEST).json();
            server.send(ERROR, "{\"correlation_id\":\"" + fromJava.get("correlation_id").asText() +
                "\",\"success\":false,\"error\":\"no shouting\",\"error_code\":\"TOO_LOUD\"}");
            final java.util.concurrent.ExecutionException ex = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> javaCall.get(10, TimeUnit.SECONDS));
            assertEquals("TOO_LOUD", ((io.switchboard.transport.SwitchboardException)ex.getCause()).errorCode(),
                "the service's own code travels unchanged");
        }
    }

    /** Call "upper" from the Java peer, again while its route table does not know the name yet (until a deadline). */
    private java.util.concurrent.CompletableFuture<io.switchboard.transport.Reply> requestOnceRouted(final byte[] json)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true)
        {
            final java.util.concurrent.CompletableFuture<io.switchboard.transport.Reply> call = service.requestAsync(
                "upper", "Upper", new org.agrona.concurrent.UnsafeBuffer(json), 0, json.length,
                java.time.Duration.ofSeconds(10));
            try
            {
                call.getNow(null);
                return call; // in flight, or answered
            }
            catch (final java.util.concurrent.CompletionException ex)
            {
                final boolean unrouted = ex.getCause() instanceof io.switchboard.transport.SwitchboardException &&
                    "ACTOR_NOT_FOUND".equals(((io.switchboard.transport.SwitchboardException)ex.getCause()).errorCode());
                if (!unrouted || System.nanoTime() - deadline > 0)
                {
                    return call;
                }
            }
            Thread.sleep(5); // polled until the route is known or the deadline passes
        }
    }

    @Test
    void shouldRouteACallMadeTheMomentARegisterIsAcknowledged() throws Exception
    {
        // the broker sends a new route before its ack, so the ack means the gateway can route to the name
        try (Conn server = new Conn(); Conn caller = new Conn())
        {
            for (int i = 0; i < 50; i++)
            {
                final String name = "fresh" + i;
                register(server, "r" + i, "{\"correlation_id\":\"r" + i + "\",\"service\":\"" + name + "\"}");
                caller.send(REQUEST, request("c" + i, name, "Anything", String.valueOf(i)));
                final JsonNode forwarded = server.expect(REQUEST).json();
                assertEquals(name, forwarded.get("target").asText(), "call " + i + " was not routed");
                server.send(RESPONSE, "{\"correlation_id\":\"" + forwarded.get("correlation_id").asText() +
                    "\",\"success\":true,\"payload\":" + i + "}");
                final JsonNode reply = caller.expect(RESPONSE).json();
                assertEquals("c" + i, reply.get("correlation_id").asText());
                assertEquals(i, reply.get("payload").asInt());
            }
        }
    }

    @Test
    void shouldRefuseAReplyFromAConnectionTheRequestWasNotRoutedTo() throws Exception
    {
        try (Conn server = new Conn(); Conn caller = new Conn(); Conn intruder = new Conn())
        {
            register(server, "r2", "{\"correlation_id\":\"r2\",\"service\":\"guarded\"}");
            awaitRoute(caller, "guarded", "Anything");
            caller.send(REQUEST, request("c1", "guarded", "Anything", "1"));
            final String id = server.expect(REQUEST).json().get("correlation_id").asText();

            intruder.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":\"forged\"}");
            assertEquals("FORBIDDEN", intruder.expect(ERROR).json().get("error_code").asText());

            server.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":\"genuine\"}");
            assertEquals("genuine", caller.expect(RESPONSE).json().get("payload").asText());
        }
    }

    @Test
    void shouldHoldNamesExclusiveOrSharedAcrossConnections() throws Exception
    {
        try (Conn a = new Conn(); Conn b = new Conn(); Conn c = new Conn(); Conn caller = new Conn())
        {
            register(a, "x1", "{\"correlation_id\":\"x1\",\"service\":\"solo\"}");
            b.send(REGISTER, "{\"correlation_id\":\"x2\",\"service\":\"solo\"}");
            assertEquals("NAME_IN_USE", b.expect(ERROR).json().get("error_code").asText());
            c.send(REGISTER, "{\"correlation_id\":\"x3\",\"service\":\"calc\"}");
            assertEquals("NAME_IN_USE", c.expect(ERROR).json().get("error_code").asText(), "held by a Java peer");

            register(b, "s1", "{\"correlation_id\":\"s1\",\"service\":\"pool\",\"mode\":\"shared\"}");
            register(c, "s2", "{\"correlation_id\":\"s2\",\"service\":\"pool\",\"mode\":\"shared\"}");
            awaitRoute(caller, "pool", "Job");
            for (int i = 0; i < 4; i++)
            {
                caller.send(REQUEST, request("j" + i, "pool", "Job", String.valueOf(i)));
                final Conn owner = i % 2 == 0 ? b : c;
                final String id = owner.expect(REQUEST).json().get("correlation_id").asText();
                owner.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":" + i + "}");
                assertEquals(i, caller.expect(RESPONSE).json().get("payload").asInt(), "round-robin over connections");
            }

            b.send(UNREGISTER, "{\"correlation_id\":\"u1\",\"service\":\"pool\"}");
            assertEquals("pool", b.expect(RESPONSE).json().get("service").asText());
        }
    }

    @Test
    void shouldStreamFromASocketServiceAndPassCancelOn() throws Exception
    {
        try (Conn server = new Conn(); Conn caller = new Conn())
        {
            register(server, "r3", "{\"correlation_id\":\"r3\",\"service\":\"ticker\",\"message_types\":[\"Ticks\"]}");
            awaitRoute(caller, "ticker", "Ticks");

            caller.send(REQUEST, "{\"correlation_id\":\"s1\",\"target\":\"ticker\",\"message_type\":\"Ticks\"," +
                "\"payload\":{},\"expects_stream\":true}");
            final JsonNode forwarded = server.expect(REQUEST).json();
            assertTrue(forwarded.get("expects_stream").asBoolean());
            final String id = forwarded.get("correlation_id").asText();
            for (int i = 0; i < 3; i++)
            {
                server.send(STREAM, "{\"correlation_id\":\"" + id + "\",\"sequence\":" + i +
                    ",\"is_final\":false,\"payload\":{\"n\":" + i + "}}");
                final JsonNode frame = caller.expect(STREAM).json();
                assertEquals(i, frame.get("sequence").asInt());
                assertEquals(i, frame.get("payload").get("n").asInt());
            }
            caller.send(CANCEL, "{\"correlation_id\":\"s1\"}");
            final JsonNode last = caller.expect(STREAM).json();
            assertTrue(last.get("is_final").asBoolean());
            assertEquals("CANCELLED", last.get("error_code").asText());
            final JsonNode cancel = server.expect(CANCEL).json();
            assertEquals(id, cancel.get("correlation_id").asText(), "the serving connection is told of the cancel");
            // the service's own final frame, crossing the CANCEL on the wire, is dropped without an error
            server.send(STREAM, "{\"correlation_id\":\"" + id + "\",\"sequence\":3,\"is_final\":true}");
            server.send(HEARTBEAT, "{}");
            assertEquals(HEARTBEAT, server.read().type, "no ERROR for a late frame");
        }
    }

    @Test
    void shouldAnswerServiceUnavailableWhenTheServingConnectionDropsMidRequest() throws Exception
    {
        try (Conn caller = new Conn())
        {
            final Conn server = new Conn();
            register(server, "r4", "{\"correlation_id\":\"r4\",\"service\":\"fragile\"}");
            awaitRoute(caller, "fragile", "Op");
            caller.send(REQUEST, request("c1", "fragile", "Op", "{}"));
            server.expect(REQUEST);
            caller.send(REQUEST, "{\"correlation_id\":\"c2\",\"target\":\"fragile\",\"message_type\":\"Op\"," +
                "\"payload\":{},\"expects_stream\":true}");
            server.expect(REQUEST);
            server.close();

            final java.util.Map<String, JsonNode> answers = new java.util.HashMap<>();
            for (int i = 0; i < 2; i++)
            {
                final JsonNode f = caller.read().json();
                answers.put(f.get("correlation_id").asText(), f);
            }
            assertEquals("SERVICE_UNAVAILABLE", answers.get("c1").get("error_code").asText());
            assertEquals("SERVICE_UNAVAILABLE", answers.get("c2").get("error_code").asText());
            assertTrue(answers.get("c2").get("is_final").asBoolean(), "a stream ends with its final frame");

            // the name is withdrawn once no connection serves it
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            while (true)
            {
                caller.send(REQUEST, request("c3", "fragile", "Op", "{}"));
                final JsonNode f = caller.read().json();
                if ("ACTOR_NOT_FOUND".equals(f.path("error_code").asText()))
                {
                    break;
                }
                assertTrue(System.nanoTime() - deadline < 0, "fragile never withdrawn: " + f);
            }
        }
    }

    @Test
    void shouldRefuseConnectionsOverTheLimit() throws IOException
    {
        final java.util.List<Conn> conns = new java.util.ArrayList<>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                final Conn c = new Conn();
                conns.add(c);
                c.send(HEARTBEAT, "{}");
                assertEquals(HEARTBEAT, c.read().type); // accepted and served
            }
            try (Conn extra = new Conn())
            {
                final JsonNode err = extra.expect(ERROR).json();
                assertEquals("CONNECTION_LIMIT_REACHED", err.get("error_code").asText());
                assertTrue(extra.isClosedByPeer());
            }
        }
        finally
        {
            conns.forEach(Conn::close);
        }
        // the gateway frees the slots as it sees the connections close
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            try (Conn c = new Conn())
            {
                c.send(HEARTBEAT, "{}");
                if (c.read().type == HEARTBEAT)
                {
                    break;
                }
            }
            catch (final AssertionError | IOException ex)
            {
                assertTrue(System.nanoTime() - deadline < 0, "slots never freed");
            }
        }
    }

    static final class Frame
    {
        final int version;
        final int type;
        final int format;
        final byte[] payload;

        Frame(final int version, final int type, final int format, final byte[] payload)
        {
            this.version = version;
            this.type = type;
            this.format = format;
            this.payload = payload;
        }

        String text()
        {
            return new String(payload, StandardCharsets.UTF_8);
        }

        JsonNode json() throws IOException
        {
            return JSON.readTree(payload);
        }
    }

    /** A raw socket client: writes frames byte by byte, reads with deadlines, never sleeps. */
    static final class Conn implements AutoCloseable
    {
        private final SocketChannel channel;
        private final ByteBuffer in = ByteBuffer.allocate(1 << 21);

        Conn() throws IOException
        {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socketDir.resolve("broker.sock")));
            channel.configureBlocking(false);
            in.flip();
        }

        void send(final int type, final String json) throws IOException
        {
            send(type, FrameFormat.JSON, json.getBytes(StandardCharsets.UTF_8));
        }

        void send(final int type, final FrameFormat format, final byte[] payload) throws IOException
        {
            final ByteBuffer frame = ByteBuffer.allocate(7 + payload.length);
            frame.putInt(payload.length).put((byte)2).put((byte)type).put((byte)format.code()).put(payload).flip();
            sendRaw(frame);
        }

        void sendRaw(final byte[] bytes) throws IOException
        {
            sendRaw(ByteBuffer.wrap(bytes));
        }

        void sendRaw(final ByteBuffer bytes) throws IOException
        {
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            while (bytes.hasRemaining())
            {
                if (0 == channel.write(bytes))
                {
                    assertTrue(System.nanoTime() - deadline < 0, "write timed out");
                    Thread.yield();
                }
            }
        }

        Frame read() throws IOException
        {
            final Frame f = tryRead(TIMEOUT_NS);
            assertTrue(null != f, "no frame within the deadline");
            return f;
        }

        Frame expect(final int type) throws IOException
        {
            final Frame f = read();
            assertEquals(type, f.type, () -> "unexpected frame: " + f.text());
            return f;
        }

        Frame expectAny() throws IOException
        {
            return read();
        }

        JsonNode poll(final long timeoutNs) throws IOException
        {
            final Frame f = tryRead(timeoutNs);
            return null == f ? null : f.json();
        }

        private Frame tryRead(final long timeoutNs) throws IOException
        {
            final long deadline = System.nanoTime() + timeoutNs;
            while (true)
            {
                if (in.remaining() >= 6)
                {
                    final int length = in.getInt(in.position());
                    final int version = in.get(in.position() + 4);
                    final int headerLength = 1 == version ? 6 : 7;
                    if (in.remaining() >= headerLength + length)
                    {
                        in.getInt();
                        in.get();
                        final int type = in.get();
                        final int format = 1 == version ? 1 : in.get();
                        final byte[] payload = new byte[length];
                        in.get(payload);
                        return new Frame(version, type, format, payload);
                    }
                }
                in.compact();
                final int n = channel.read(in);
                in.flip();
                if (n < 0)
                {
                    return null;
                }
                if (n == 0)
                {
                    if (System.nanoTime() - deadline > 0)
                    {
                        return null;
                    }
                    Thread.yield();
                }
            }
        }

        boolean isClosedByPeer() throws IOException
        {
            final long deadline = System.nanoTime() + TIMEOUT_NS;
            final ByteBuffer b = ByteBuffer.allocate(1024);
            while (System.nanoTime() - deadline < 0)
            {
                b.clear();
                try
                {
                    if (channel.read(b) < 0)
                    {
                        return true;
                    }
                }
                catch (final IOException ex)
                {
                    return true; // reset by peer
                }
                Thread.yield();
            }
            return false;
        }

        public void close()
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
            }
        }
    }
}
