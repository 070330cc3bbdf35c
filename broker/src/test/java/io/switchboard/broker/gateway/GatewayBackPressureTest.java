package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.IoUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.switchboard.broker.gateway.SocketClient.REQUEST;
import static io.switchboard.broker.gateway.SocketClient.RESPONSE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A Java service that stops reading its inbox: the gateway holds a request the full inbox cannot take, retries it each
 * duty cycle without waiting, and answers TARGET_BUSY after the send timeout, instead of retrying for the send timeout
 * on its duty cycle while every other socket client waits.
 */
@Timeout(90)
class GatewayBackPressureTest
{
    private static final int CONNECTIONS = 4;
    private static final int REQUESTS_PER_CONNECTION = 600;

    @Test
    void shouldAnswerTargetBusyForAJavaServiceWhoseInboxIsFullAndKeepServingOthers() throws Exception
    {
        final Path socketDir = Files.createTempDirectory("sb-gw-backpressure");
        final String aeronRoot = "/dev/shm/sb-gw-backpressure-" + System.nanoTime();
        final Broker broker = Broker.launch(new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronRoot + "/aeron")
            .termLength(64 * 1024) // a small inbox window: it fills after a few hundred requests
            .logger((msg) -> {}));
        final Switchboard echo = Switchboard.connect(
            new Switchboard.Context().controlSocket(broker.context().controlSocket()));
        // polled by nobody once serve() returns: its inbox is never read again
        final Switchboard stalled = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket())
            .useConductorAgentInvoker(true));
        try
        {
            echo.serve(ServiceDefinition.named("echo")
                .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
            stalled.serve(ServiceDefinition.named("stalled")
                .onOpaqueRequest("Any", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
            final Path socket = broker.context().gatewaySocket();
            try (SocketClient other = new SocketClient(socket))
            {
                assertEcho(other, "before");
                final List<SocketClient> floods = new ArrayList<>();
                final String pad = "x".repeat(100);
                try
                {
                    for (int c = 0; c < CONNECTIONS; c++)
                    {
                        final SocketClient flood = new SocketClient(socket);
                        floods.add(flood);
                        for (int i = 0; i < REQUESTS_PER_CONNECTION; i++)
                        {
                            flood.send(REQUEST, "{\"correlation_id\":\"c" + c + "-" + i + "\",\"target\":\"stalled\"," +
                                "\"message_type\":\"Any\",\"payload\":{\"pad\":\"" + pad + "\"},\"expects_reply\":true," +
                                "\"response_timeout_ms\":3000}");
                        }
                    }
                    assertEcho(other, "during"); // another client is served while the floods are refused

                    final Map<String, Integer> codes = new HashMap<>();
                    for (int c = 0; c < CONNECTIONS; c++)
                    {
                        final Set<String> seen = new HashSet<>();
                        while (seen.size() < REQUESTS_PER_CONNECTION)
                        {
                            final SocketClient.Frame f = floods.get(c).read();
                            final JsonNode body = f.json();
                            final String id = body.path("correlation_id").asText();
                            assertTrue(id.startsWith("c" + c + "-"), f.text());
                            assertTrue(seen.add(id), "two answers to " + id);
                            codes.merge(body.path("error_code").asText("RESPONSE"), 1, Integer::sum);
                        }
                    }
                    System.out.println("GatewayBackPressureTest: " + CONNECTIONS * REQUESTS_PER_CONNECTION +
                        " requests to a Java service that stopped reading: " + codes);
                    assertTrue(codes.getOrDefault("TARGET_BUSY", 0) > 0, "the inbox never filled: " + codes);
                    assertEquals(CONNECTIONS * REQUESTS_PER_CONNECTION,
                        codes.getOrDefault("TARGET_BUSY", 0) + codes.getOrDefault("TIMEOUT", 0), codes.toString());
                    assertEcho(other, "after");
                }
                finally
                {
                    for (final SocketClient flood : floods)
                    {
                        flood.close();
                    }
                }
            }
        }
        finally
        {
            stalled.close();
            echo.close();
            broker.close();
            IoUtil.delete(new File(aeronRoot), true);
            IoUtil.delete(socketDir.toFile(), true);
        }
    }

    private static void assertEcho(final SocketClient conn, final String id) throws Exception
    {
        while (true)
        {
            conn.send(REQUEST, SocketClient.request(id, "echo", "Echo", "{\"hello\":1}"));
            final SocketClient.Frame f = conn.read();
            if (RESPONSE == f.type)
            {
                assertEquals(id, f.json().get("correlation_id").asText());
                return;
            }
            assertEquals("ACTOR_NOT_FOUND", f.json().path("error_code").asText(), f.text()); // route not yet learnt
            Thread.yield();
        }
    }
}
