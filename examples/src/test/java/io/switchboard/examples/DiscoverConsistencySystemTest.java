package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway answers DISCOVER and routes REQUEST from one view of the registry (its own client's route table, fed by
 * the broker's control stream): a service DISCOVER lists is one the next REQUEST reaches, and one it does not list is
 * one the next REQUEST does not find, even while a Java peer serves and withdraws the name as fast as it can. Each
 * DISCOVER and its REQUEST go in one write, so that the gateway reads them in one go with no poll of its client
 * between them.
 */
class DiscoverConsistencySystemTest
{
    private static final int DISCOVER = 0x08;
    private static final long TIMEOUT_MS = 10_000;
    private static final int EACH_CASE_AT_LEAST = 10;

    private static BrokerProcess broker;

    @BeforeAll
    static void start() throws Exception
    {
        broker = new BrokerProcess();
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void shouldNeverDiscoverAServiceThatTheNextRequestDoesNotFind() throws Exception
    {
        final String service = "flicker";
        final byte[] who = "{\"by\":\"flicker\"}".getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer reply = new UnsafeBuffer(who);
        final ServiceDefinition definition = ServiceDefinition.named(service)
            .onOpaqueRequest("Who", (request, b, o, l) -> request.reply(reply, 0, who.length));
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong toggles = new AtomicLong();
        final AtomicReference<Throwable> churnFailure = new AtomicReference<>();

        try (Switchboard peer = broker.connect("flicker-peer");
            RawSocketClient socket = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
        {
            final Thread churn = new Thread(() ->
            {
                try
                {
                    while (!stop.get())
                    {
                        peer.serve(definition); // waits for the broker each time: a route ADD, then a REMOVE
                        peer.unserve(service);
                        toggles.incrementAndGet();
                    }
                }
                catch (final Throwable ex)
                {
                    churnFailure.set(ex);
                }
            }, "flicker-churn");
            churn.start();
            int listed = 0;
            int notListed = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try
            {
                for (int i = 0; listed < EACH_CASE_AT_LEAST || notListed < EACH_CASE_AT_LEAST; i++)
                {
                    assertTrue(System.nanoTime() - deadline < 0, "in 30 s saw the service listed " + listed +
                        " and not listed " + notListed + " times (" + toggles.get() + " serve/unserve toggles); " +
                        "expected " + EACH_CASE_AT_LEAST + " of each");
                    assertNull(churnFailure.get(), "the serving peer failed");
                    final String discoverId = "d-" + i;
                    final String requestId = "r-" + i;
                    socket.sendRaw(frames(
                        frame(DISCOVER, "{\"correlation_id\":\"" + discoverId + "\"}"),
                        frame(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + requestId + "\",\"target\":\"" +
                            service + "\",\"message_type\":\"Who\",\"payload\":{},\"expects_reply\":true," +
                            "\"response_timeout_ms\":5000}")));
                    final RawSocketClient.Frame discovered = SocketServicePeer.answer(socket, discoverId, TIMEOUT_MS);
                    final RawSocketClient.Frame answer = SocketServicePeer.answer(socket, requestId, TIMEOUT_MS);
                    assertEquals(RawSocketClient.RESPONSE, discovered.type, discovered.toString());
                    final boolean isListed = lists(discovered.body, service);
                    final String code = RawSocketClient.ERROR == answer.type ?
                        answer.body.path("error_code").asText() : "OK";
                    if (isListed)
                    {
                        listed++;
                        // SERVICE_UNAVAILABLE may come: the peer withdrew it after the request was sent to it
                        assertNotEquals("ACTOR_NOT_FOUND", code, "round " + i + ": DISCOVER listed '" + service +
                            "' and the REQUEST read right after it did not find it: " + answer);
                    }
                    else
                    {
                        notListed++;
                        assertEquals("ACTOR_NOT_FOUND", code, "round " + i + ": DISCOVER did not list '" + service +
                            "' and the REQUEST read right after it found it: " + answer);
                    }
                }
            }
            finally
            {
                stop.set(true);
                churn.join(TIMEOUT_MS);
            }
            assertNull(churnFailure.get(), "the serving peer failed");
        }
    }

    private static boolean lists(final JsonNode discovered, final String service)
    {
        for (final JsonNode s : discovered.path("services"))
        {
            if (service.equals(s.path("name").asText()))
            {
                assertTrue(s.path("instances").asInt() >= 1, "a listed service has an instance: " + s);
                return true;
            }
        }
        return false;
    }

    private static byte[] frame(final int type, final String json)
    {
        final byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = ByteBuffer.allocate(7 + payload.length);
        frame.putInt(payload.length).put((byte)2).put((byte)type).put((byte)1).put(payload);
        return frame.array();
    }

    private static ByteBuffer frames(final byte[] first, final byte[] second)
    {
        return ByteBuffer.allocate(first.length + second.length).put(first).put(second).flip();
    }
}
