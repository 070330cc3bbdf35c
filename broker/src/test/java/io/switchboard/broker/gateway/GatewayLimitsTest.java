package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.broker.Broker;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.gateway.SocketClient.ERROR;
import static io.switchboard.broker.gateway.SocketClient.HEARTBEAT;
import static io.switchboard.broker.gateway.SocketClient.JSON;
import static io.switchboard.broker.gateway.SocketClient.PUBLISH;
import static io.switchboard.broker.gateway.SocketClient.PUSH;
import static io.switchboard.broker.gateway.SocketClient.REGISTER;
import static io.switchboard.broker.gateway.SocketClient.REQUEST;
import static io.switchboard.broker.gateway.SocketClient.RESPONSE;
import static io.switchboard.broker.gateway.SocketClient.STATS;
import static io.switchboard.broker.gateway.SocketClient.SUBSCRIBE;
import static io.switchboard.broker.gateway.SocketClient.TIMEOUT_NS;
import static io.switchboard.broker.gateway.SocketClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway's bounds against hostile or stalled clients, over real sockets, against a broker of its own with the
 * gateway's default limits: each limit refused with its typed error and counted, a stopped subscriber held to its
 * byte bound, a never-answering socket service that cannot freeze the gateway, every request answered once.
 */
class GatewayLimitsTest
{
    private static final int MSGPACK = 0x02;
    private static Path socketDir;
    private static String aeronDir;
    private static Broker broker;
    private static Switchboard service;
    private static Path socket;

    @BeforeAll
    static void startBroker() throws Exception
    {
        socketDir = Files.createTempDirectory("sb-gw-limits");
        aeronDir = "/dev/shm/sb-gw-limits-" + System.nanoTime();
        broker = Broker.launch(new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron") // in a parent of its own (0700): the broker refuses /dev/shm itself
            .termLength(1 << 20)
            .logger((msg) -> {}));
        service = Switchboard.connect(new Switchboard.Context().controlSocket(broker.context().controlSocket()));
        service.serve(ServiceDefinition.named("echo")
            .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
        socket = broker.context().gatewaySocket();
        try (SocketClient conn = new SocketClient(socket))
        {
            assertEcho(conn, "probe"); // the gateway's client learns the route asynchronously
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
        IoUtil.delete(new File(aeronDir), true);
        IoUtil.delete(socketDir.toFile(), true);
    }

    @Test
    void shouldRefuseASubscribeOverThePatternLimitUpFrontAndServeOthers() throws Exception
    {
        try (SocketClient hog = new SocketClient(socket); SocketClient other = new SocketClient(socket))
        {
            final long refusedBefore = stats(other).get("patterns_refused").asLong();
            final StringBuilder many = new StringBuilder("{\"correlation_id\":\"many\",\"message_types\":[");
            for (int i = 0; i < 100_000; i++)
            {
                many.append(i > 0 ? "," : "").append("\"p.").append(i).append('"');
            }
            hog.send(SUBSCRIBE, many.append("]}").toString());
            assertEcho(other, "while-hog"); // another client is served

            final JsonNode refused = hog.expect(ERROR);
            assertEquals("many", refused.get("correlation_id").asText());
            assertEquals("INVALID_REQUEST", refused.get("error_code").asText());
            assertTrue(refused.get("error").asText().contains(String.valueOf(GatewayConfiguration.MAX_PATTERNS_DEFAULT)),
                refused.toString());

            // up to the limit is fine; one more new pattern is refused whole, a pattern already held is not new
            final List<String> full = new ArrayList<>();
            for (int i = 0; i < GatewayConfiguration.MAX_PATTERNS_DEFAULT; i++)
            {
                full.add("\"q." + i + "\"");
            }
            hog.send(SUBSCRIBE, "{\"correlation_id\":\"full\",\"message_types\":[" + String.join(",", full) + "]}");
            final JsonNode held = hog.expect(RESPONSE);
            assertEquals(GatewayConfiguration.MAX_PATTERNS_DEFAULT, held.get("subscribed_types").size());
            hog.send(SUBSCRIBE, "{\"correlation_id\":\"one-more\",\"message_types\":[\"q.0\",\"r.new\"]}");
            final JsonNode over = hog.expect(ERROR);
            assertEquals("one-more", over.get("correlation_id").asText());
            assertEquals("INVALID_REQUEST", over.get("error_code").asText());
            hog.send(SUBSCRIBE, "{\"correlation_id\":\"again\",\"message_types\":[\"q.0\"]}");
            assertEquals(GatewayConfiguration.MAX_PATTERNS_DEFAULT, hog.expect(RESPONSE).get("subscribed_types").size());

            assertEquals(refusedBefore + 2, stats(other).get("patterns_refused").asLong());
            hog.send(HEARTBEAT, "{}");
            hog.expect(HEARTBEAT); // still open
        }
        try (SocketClient after = new SocketClient(socket))
        {
            assertEcho(after, "after-close"); // closing the connection with its patterns left the gateway serving
        }
    }

    @Test
    void shouldAnswerEveryRequestOnceWhenASocketServiceNeverAnswers() throws Exception
    {
        final int count = 20_000;
        final int limit = GatewayConfiguration.MAX_REQUESTS_IN_FLIGHT_DEFAULT;
        try (SocketClient sink = new SocketClient(socket);
            SocketClient caller = new SocketClient(socket);
            SocketClient other = new SocketClient(socket))
        {
            sink.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"sink\"}");
            sink.expect(RESPONSE); // and from here on the sink reads nothing
            final long limitedBefore = stats(other).get("in_flight_limited").asLong();

            final List<String> requests = new ArrayList<>(count);
            for (int i = 0; i < count; i++)
            {
                requests.add("{\"correlation_id\":\"c" + i + "\",\"target\":\"sink\",\"message_type\":\"Any\"," +
                    "\"payload\":{\"i\":" + i + "},\"expects_reply\":true,\"response_timeout_ms\":2000}");
            }
            caller.write(SocketClient.frames(REQUEST, requests)); // one write of 20,000 requests

            assertEcho(other, "unrelated"); // answered while the sink holds its requests unanswered

            final Map<String, Integer> answers = new HashMap<>();
            final Map<String, Integer> codes = new HashMap<>();
            while (answers.size() < count)
            {
                final SocketClient.Frame f = caller.read();
                final JsonNode body = f.json();
                assertEquals(ERROR, f.type, () -> "unexpected: " + f.text());
                final String id = body.get("correlation_id").asText();
                assertNull(answers.put(id, 1), () -> "answered twice: " + id);
                codes.merge(body.get("error_code").asText(), 1, Integer::sum);
            }
            final int limited = codes.getOrDefault("RATE_LIMITED", 0);
            assertTrue(limited >= 1 && count - limited >= limit, codes::toString);
            assertEquals(count - limited, codes.getOrDefault("TIMEOUT", 0), codes::toString);
            assertEquals(limitedBefore + limited, stats(other).get("in_flight_limited").asLong());
            assertNull(caller.tryReadBriefly(), "no answer beyond one per request");
        }
    }

    @Test
    void shouldHoldStoppedSubscribersToTheirByteBoundAndSendALossNoticeOnceTheyRead() throws Exception
    {
        final String big = "x".repeat(120 * 1024);
        final List<SocketClient> subscribers = new ArrayList<>();
        try (SocketClient publisher = new SocketClient(socket))
        {
            for (int i = 0; i < 3; i++)
            {
                final SocketClient s = new SocketClient(socket);
                subscribers.add(s);
                s.send(SUBSCRIBE, "{\"correlation_id\":\"s\",\"message_types\":[\"big.>\"]}");
                s.expect(RESPONSE); // and from here on it reads nothing
            }
            final long droppedBefore = stats(publisher).get("pushes_dropped").asLong();
            final Runtime rt = Runtime.getRuntime();
            System.gc();
            final long heapBefore = rt.totalMemory() - rt.freeMemory();

            long published = 0;
            long peakQueued = 0;
            final long endNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(
                Long.getLong("switchboard.test.stoppedSubscriberSeconds", 3));
            // on for the time asked, and at least until the stopped subscribers' queues can have filled (a publisher
            // is slowed, not refused, while the shared-memory log is back-pressured), within a hard bound
            final long needed = 3L * GatewayConfiguration.MAX_QUEUED_PUSH_BYTES_DEFAULT / (big.length() + 200) + 1;
            final long hardEndNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((System.nanoTime() - endNs < 0 || published < needed) && System.nanoTime() - hardEndNs < 0)
            {
                publisher.send(PUBLISH, "{\"correlation_id\":\"p\",\"message_type\":\"big.one\",\"payload\":\"" +
                    big + "\"}");
                final SocketClient.Frame answer = publisher.read();
                // pushed to the sockets either way; TARGET_BUSY says the shared-memory log was back-pressured
                assertTrue(RESPONSE == answer.type || answer.text().contains("TARGET_BUSY"), answer::text);
                published++;
                if (0 == published % 50)
                {
                    peakQueued = Math.max(peakQueued, stats(publisher).get("queued_bytes").asLong());
                }
            }
            final JsonNode stats = stats(publisher);
            peakQueued = Math.max(peakQueued, stats.get("queued_bytes").asLong());
            System.gc();
            final long heapAfter = rt.totalMemory() - rt.freeMemory();
            System.out.println("stopped subscribers: published " + published + " x 120 KiB to 3 stopped " +
                "subscribers (" + (3 * published * 120 / 1024) + " MiB unbounded); peak queued " +
                (peakQueued >> 10) + " KiB; dropped " + (stats.get("pushes_dropped").asLong() - droppedBefore) +
                "; heap used before " + (heapBefore >> 20) + " MiB, after " + (heapAfter >> 20) + " MiB");

            final long frame = big.length() + 200;
            assertTrue(published > 3L * GatewayConfiguration.MAX_QUEUED_PUSH_BYTES_DEFAULT / frame,
                "published too little to fill the queues: " + published);
            assertTrue(peakQueued <= 3 * (GatewayConfiguration.MAX_QUEUED_PUSH_BYTES_DEFAULT + frame) + 64 * 1024,
                "queued " + peakQueued);
            assertTrue(stats.get("pushes_dropped").asLong() > droppedBefore);

            // the first subscriber reads again: what it received plus what the gaps and the notice say it lost is
            // every publication, without another PUSH after them
            final SocketClient reader = subscribers.get(0);
            long last = 0;
            long lost = 0;
            long received = 0;
            JsonNode notice = null;
            while (null == notice)
            {
                final SocketClient.Frame f = reader.read();
                final JsonNode body = f.json();
                if (PUSH == f.type)
                {
                    final long sequence = body.get("sequence").asLong();
                    lost += sequence - last - 1;
                    last = sequence;
                    received++;
                }
                else
                {
                    assertEquals(RESPONSE, f.type, f::text);
                    assertEquals("", body.get("correlation_id").asText());
                    assertEquals("pushes_lost", body.get("notice").asText());
                    notice = body;
                }
            }
            assertEquals(published, notice.get("sequence").asLong());
            lost += notice.get("sequence").asLong() - last;
            assertEquals(published, received + lost);
            assertTrue(notice.get("lost").asLong() > 0);
        }
        finally
        {
            subscribers.forEach(SocketClient::close);
        }
    }

    @Test
    void shouldRefuseARetainOverTheBrokersBoundAndKeepWhatIsRetained() throws Exception
    {
        // under the longest message of a publication log (an eighth of its term), which a retained value must fit
        final String value = "v".repeat(100_000);
        try (SocketClient publisher = new SocketClient(socket); SocketClient subscriber = new SocketClient(socket))
        {
            final long refusedBefore = stats(publisher).get("retains_refused").asLong();
            int retained = 0;
            JsonNode refusal = null;
            while (null == refusal)
            {
                assertTrue(retained < 2_000, "the broker's retained values never refused");
                publisher.send(PUBLISH, "{\"correlation_id\":\"k" + retained + "\",\"message_type\":\"keep." +
                    retained + "\",\"payload\":\"" + value + "\",\"retain\":true}");
                final SocketClient.Frame f = publisher.read();
                if (ERROR == f.type && "TARGET_BUSY".equals(f.json().path("error_code").asText()))
                {
                    retained++; // kept by the broker, not delivered live: the shared-memory log pushed back
                }
                else if (ERROR == f.type)
                {
                    refusal = f.json();
                }
                else
                {
                    assertEquals(RESPONSE, f.type, f::text);
                    retained++;
                }
            }
            assertEquals("PAYLOAD_TOO_LARGE", refusal.get("error_code").asText(), refusal::toString);
            // each is counted for its JSON payload (two quotes more), its subject, its encoding and a fixed overhead
            final long bound = io.switchboard.broker.Broker.Context.MAX_RETAINED_BYTES_DEFAULT;
            assertTrue(retained >= bound / (value.length() + 2 + 400) && retained <= bound / (value.length() + 2),
                "retained " + retained);
            final JsonNode stats = stats(publisher);
            assertEquals(refusedBefore + 1, stats.get("retains_refused").asLong());

            // replacing a retained subject with a value of the same size still fits; its new value is what is kept
            publisher.send(PUBLISH, "{\"correlation_id\":\"again\",\"message_type\":\"keep.1\",\"payload\":\"" +
                "w".repeat(100_000) + "\",\"retain\":true}");
            publisher.expect(RESPONSE);
            subscriber.send(SUBSCRIBE, "{\"correlation_id\":\"s\",\"message_types\":[\"keep.1\"]}");
            subscriber.expect(RESPONSE);
            final JsonNode push = subscriber.expect(PUSH);
            assertEquals("keep.1", push.get("message_type").asText());
            assertTrue(push.get("payload").asText().startsWith("www"));
        }
    }

    @Test
    void shouldAnswerAHalfClosedConnectionBeforeClosingIt() throws Exception
    {
        try (SocketClient server = new SocketClient(socket);
            SocketClient caller = new SocketClient(socket);
            SocketClient other = new SocketClient(socket))
        {
            server.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"later\"}");
            server.expect(RESPONSE);
            final long halfClosedBefore = stats(other).get("half_closed").asLong();
            for (int i = 0; i < 3; i++)
            {
                caller.send(REQUEST, request("h" + i, "later", "Any", String.valueOf(i)));
            }
            caller.shutdownOutput(); // end of stream for the gateway, with three requests in flight
            assertEquals("{}", caller.expect(HEARTBEAT).toString(), "the gateway's probe: is the peer still reading?");

            for (int i = 0; i < 3; i++)
            {
                final JsonNode forwarded = server.expect(REQUEST);
                server.send(RESPONSE, "{\"correlation_id\":\"" + forwarded.get("correlation_id").asText() +
                    "\",\"success\":true,\"payload\":" + forwarded.get("payload") + "}");
            }
            final Map<String, JsonNode> answers = new HashMap<>();
            for (int i = 0; i < 3; i++)
            {
                final JsonNode answer = caller.expect(RESPONSE);
                answers.put(answer.get("correlation_id").asText(), answer.get("payload"));
            }
            assertEquals(3, answers.size());
            assertEquals(2, answers.get("h2").asInt());
            assertNull(caller.readOrEof(), "closed by the gateway once its answers were written");
            assertEquals(halfClosedBefore + 1, stats(other).get("half_closed").asLong());
        }
    }

    @Test
    void shouldAnswerSerializationErrorWhenAReplyCannotBeConvertedToMessagePack() throws Exception
    {
        final PayloadCodec codec = new PayloadCodec();
        try (SocketClient server = new SocketClient(socket); SocketClient caller = new SocketClient(socket))
        {
            server.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"huge\"}");
            server.expect(RESPONSE);
            for (final String id : new String[]{ "m1", "m2" })
            {
                final ObjectNode req = JSON.createObjectNode().put("correlation_id", id).put("target", "huge")
                    .put("message_type", "Any").put("expects_reply", true);
                req.putObject("payload");
                caller.send(REQUEST, MSGPACK, codec.write(FrameFormat.MSGPACK, req));
                final JsonNode forwarded = server.expect(REQUEST);
                final String payload = "m1".equals(id) ? "{\"n\":18446744073709551616123}" : "{\"n\":1}";
                server.send(RESPONSE, "{\"correlation_id\":\"" + forwarded.get("correlation_id").asText() +
                    "\",\"success\":true,\"payload\":" + payload + "}");
                final SocketClient.Frame f = caller.read();
                assertEquals(MSGPACK, f.format);
                final JsonNode answer = codec.read(FrameFormat.MSGPACK, f.payload, 0, f.payload.length);
                assertEquals(id, answer.get("correlation_id").asText());
                if ("m1".equals(id))
                {
                    assertEquals(ERROR, f.type, answer::toString);
                    assertEquals("SERIALIZATION_ERROR", answer.get("error_code").asText());
                }
                else
                {
                    assertEquals(RESPONSE, f.type, answer::toString); // the connection goes on
                    assertEquals(1, answer.get("payload").get("n").asInt());
                }
            }
            assertNull(caller.tryReadBriefly(), "exactly one answer each");
            assertTrue(stats(caller).get("reply_encode_failures").asLong() >= 1);
        }
    }

    private static void assertEcho(final SocketClient conn, final String id) throws IOException
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            conn.send(REQUEST, request(id, "echo", "Echo", "{\"hello\":1}"));
            final SocketClient.Frame f = conn.read();
            if (RESPONSE == f.type)
            {
                assertEquals(id, f.json().get("correlation_id").asText());
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "never answered: " + f.text());
            Thread.yield();
        }
    }

    private static JsonNode stats(final SocketClient conn) throws IOException
    {
        conn.send(STATS, "{\"correlation_id\":\"stats\"}");
        while (true)
        {
            final SocketClient.Frame f = conn.read();
            final JsonNode body = f.json();
            if (RESPONSE == f.type && "stats".equals(body.path("correlation_id").asText()))
            {
                final JsonNode payload = body.get("payload");
                assertNotNull(payload);
                return payload;
            }
        }
    }
}
