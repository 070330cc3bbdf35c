package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.broker.Broker;
import io.switchboard.transport.DeferredReply;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.gateway.SocketClient.CANCEL;
import static io.switchboard.broker.gateway.SocketClient.ERROR;
import static io.switchboard.broker.gateway.SocketClient.REGISTER;
import static io.switchboard.broker.gateway.SocketClient.REQUEST;
import static io.switchboard.broker.gateway.SocketClient.RESPONSE;
import static io.switchboard.broker.gateway.SocketClient.STREAM;
import static io.switchboard.broker.gateway.SocketClient.TIMEOUT_NS;
import static io.switchboard.broker.gateway.SocketClient.request;
import static io.switchboard.broker.gateway.SocketClient.streamRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graceful shutdown of the gateway, over real sockets, against a broker of its own (closing it is the test).
 */
class GatewayShutdownTest
{
    private Path socketDir;
    private String aeronDir;
    private Broker broker;
    private Switchboard service;

    @AfterEach
    void tearDown()
    {
        if (null != service)
        {
            service.close();
        }
        if (null != broker)
        {
            broker.close();
        }
        if (null != aeronDir)
        {
            IoUtil.delete(new File(aeronDir), true);
        }
        if (null != socketDir)
        {
            IoUtil.delete(socketDir.toFile(), true);
        }
    }

    @Test
    void shouldDrainThenAnswerShuttingDownBeforeClosing() throws Exception
    {
        socketDir = Files.createTempDirectory("sb-gw-shutdown");
        aeronDir = "/dev/shm/sb-gw-shutdown-" + System.nanoTime();
        broker = Broker.launch(new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron") // in a parent of its own (0700): the broker refuses /dev/shm itself
            .termLength(1 << 20)
            .logger((msg) -> {}));
        final Path socket = broker.context().gatewaySocket();

        final BlockingQueue<DeferredReply> waiting = new LinkedBlockingQueue<>();
        final BlockingQueue<StreamSession> feeds = new LinkedBlockingQueue<>();
        service = Switchboard.connect(new Switchboard.Context().controlSocket(broker.context().controlSocket()));
        service.serve(ServiceDefinition.named("slow")
            .onOpaqueRequest("Ping", (request, buffer, offset, length) -> request.reply(buffer, offset, length))
            .onOpaqueRequest("Wait", (request, buffer, offset, length) -> waiting.add(request.defer()))
            .onOpaqueStream("Feed", (stream, buffer, offset, length) -> feeds.add(stream)));

        try (SocketClient caller = new SocketClient(socket); SocketClient server = new SocketClient(socket))
        {
            awaitAnswered(caller, request("probe", "slow", "Ping", "{}"));
            server.send(REGISTER, "{\"correlation_id\":\"r\",\"service\":\"sockserv\"}");
            assertTrue(server.expect(RESPONSE).get("success").asBoolean());
            awaitForwarded(caller, server);

            // in flight: two requests and a stream to a Java service, one request to a socket-served service
            caller.send(REQUEST, request("w1", "slow", "Wait", "1"));
            caller.send(REQUEST, request("w2", "slow", "Wait", "2"));
            caller.send(REQUEST, streamRequest("f1", "slow", "Feed", "{}"));
            caller.send(REQUEST, request("s1", "sockserv", "Op", "{}"));
            final String forwardedId = server.expect(REQUEST).get("correlation_id").asText();
            final DeferredReply w1 = waiting.poll(10, TimeUnit.SECONDS);
            final DeferredReply w2 = waiting.poll(10, TimeUnit.SECONDS);
            assertNotNull(w2, "both Wait requests reached the service");
            assertNotNull(feeds.poll(10, TimeUnit.SECONDS), "the stream reached the service");
            // and a Java caller waits on the socket-served service
            final byte[] json = "{}".getBytes(StandardCharsets.UTF_8);
            final CompletableFuture<Reply> javaCall = service.requestAsync(
                "sockserv", "Op", new UnsafeBuffer(json), 0, json.length, Duration.ofSeconds(30));
            final String javaForwardedId = server.expect(REQUEST).get("correlation_id").asText();

            final long closeStartNs = System.nanoTime();
            final Thread closer = new Thread(broker::close, "closer");
            closer.start();

            awaitConnectRefused(socket);
            caller.send(REQUEST, request("n1", "slow", "Ping", "{}"));
            caller.send(REQUEST, streamRequest("n2", "slow", "Feed", "{}"));
            final byte[] late = "\"late\"".getBytes(StandardCharsets.UTF_8);
            assertTrue(w2.reply(new UnsafeBuffer(late), 0, late.length), "answered within the drain period");

            final Map<String, SocketClient.Frame> answers = new HashMap<>();
            SocketClient.Frame f;
            while (null != (f = caller.readOrEof()))
            {
                assertNull(answers.put(f.json().get("correlation_id").asText(), f), "one answer per request");
            }
            assertEquals(6, answers.size(), () -> "answers " + answers.keySet());
            assertShuttingDown(answers.get("n1"), ERROR);
            assertShuttingDown(answers.get("n2"), STREAM);
            assertEquals(RESPONSE, answers.get("w2").type, "a call that finishes within the drain period is answered");
            assertEquals("late", answers.get("w2").json().get("payload").asText());
            assertShuttingDown(answers.get("w1"), ERROR);
            assertShuttingDown(answers.get("f1"), STREAM);
            assertShuttingDown(answers.get("s1"), ERROR);
            assertTrue(System.nanoTime() - closeStartNs >= TimeUnit.MILLISECONDS.toNanos(1_900),
                "in-flight calls got the default drain period of 2 s");

            final java.util.Set<String> cancelled = new java.util.HashSet<>();
            while (null != (f = server.readOrEof()))
            {
                assertEquals(CANCEL, f.type, f.text());
                cancelled.add(f.json().get("correlation_id").asText());
            }
            assertEquals(java.util.Set.of(forwardedId, javaForwardedId), cancelled,
                "the serving connection is told its answers are no longer awaited");

            final ExecutionException ex = assertThrows(ExecutionException.class, () -> javaCall.get(10, TimeUnit.SECONDS));
            assertEquals("SHUTTING_DOWN", ((SwitchboardException)ex.getCause()).errorCode());

            closer.join(TimeUnit.NANOSECONDS.toMillis(TIMEOUT_NS));
            assertFalse(closer.isAlive(), "close() returned");
            assertFalse(Files.exists(socket), "gateway socket removed on shutdown");
            assertNotNull(w1);
        }
    }

    private static void assertShuttingDown(final SocketClient.Frame f, final int type) throws IOException
    {
        assertNotNull(f);
        assertEquals(type, f.type, f.text());
        final JsonNode body = f.json();
        assertEquals("SHUTTING_DOWN", body.get("error_code").asText(), f.text());
        if (STREAM == type)
        {
            assertTrue(body.get("is_final").asBoolean(), "a stream ends with a final frame");
        }
    }

    private static void awaitAnswered(final SocketClient conn, final String request) throws IOException
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            conn.send(REQUEST, request);
            final SocketClient.Frame f = conn.read();
            if (RESPONSE == f.type)
            {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "never answered: " + f.text());
            Thread.yield();
        }
    }

    /** The gateway's client learns routes asynchronously: wait until a request reaches the serving connection. */
    private static void awaitForwarded(final SocketClient caller, final SocketClient server) throws IOException
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            caller.send(REQUEST, request("probe", "sockserv", "Op", "{}"));
            // a route not yet known is answered at once; a known one is forwarded
            caller.send(SocketClient.HEARTBEAT, "{}");
            final SocketClient.Frame f = caller.read();
            if (SocketClient.HEARTBEAT == f.type)
            {
                final String id = server.expect(REQUEST).get("correlation_id").asText();
                server.send(RESPONSE, "{\"correlation_id\":\"" + id + "\",\"success\":true,\"payload\":1}");
                assertEquals(RESPONSE, caller.read().type);
                return;
            }
            assertEquals(ERROR, f.type, f.text());
            assertEquals(SocketClient.HEARTBEAT, caller.read().type);
            assertTrue(System.nanoTime() - deadline < 0, "sockserv never routed");
            Thread.yield();
        }
    }

    private static void awaitConnectRefused(final Path socket)
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            try (SocketClient probe = new SocketClient(socket))
            {
                assertTrue(System.nanoTime() - deadline < 0, "the gateway kept accepting");
                Thread.yield();
            }
            catch (final IOException ex)
            {
                return; // refused, or the socket file is gone: no longer accepting
            }
        }
    }
}
