package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static io.switchboard.broker.gateway.SocketClient.ERROR;
import static io.switchboard.broker.gateway.SocketClient.PUBLISH;
import static io.switchboard.broker.gateway.SocketClient.REQUEST;
import static io.switchboard.broker.gateway.SocketClient.RESPONSE;
import static io.switchboard.broker.gateway.SocketClient.STATS;
import static io.switchboard.broker.gateway.SocketClient.STREAM;
import static io.switchboard.broker.gateway.SocketClient.TIMEOUT_NS;
import static io.switchboard.broker.gateway.SocketClient.request;
import static io.switchboard.broker.gateway.SocketClient.streamRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-connection rate limit of the gateway, over a real socket, against a broker of its own.
 */
class GatewayRateLimitTest
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
        IoUtil.delete(new File(aeronDir), true);
        IoUtil.delete(socketDir.toFile(), true);
    }

    @Test
    void shouldAnswerRateLimitedOverTheBucketAndStayOpen() throws Exception
    {
        socketDir = Files.createTempDirectory("sb-gw-rate");
        aeronDir = "/dev/shm/sb-gw-rate-" + System.nanoTime();
        final Broker.Context ctx = new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron") // in a parent of its own (0700): the broker refuses /dev/shm itself
            .termLength(1 << 20)
            .logger((msg) -> {});
        ctx.gatewayContext().rateLimit(10).rateLimitBurst(10);
        broker = Broker.launch(ctx);
        service = Switchboard.connect(new Switchboard.Context().controlSocket(broker.context().controlSocket()));
        service.serve(ServiceDefinition.named("echo")
            .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length))
            .onOpaqueStream("Feed", (stream, buffer, offset, length) ->
            {
                stream.send(buffer, offset, length);
                stream.end();
            }));

        final Path socket = broker.context().gatewaySocket();
        try (SocketClient route = new SocketClient(socket))
        {
            awaitResponse(route, "echo"); // the gateway's client learns the route asynchronously
        }

        try (SocketClient conn = new SocketClient(socket))
        {
            // pipelined: 35 requests, 5 publishes, 10 stream requests, all written before anything is read
            for (int i = 0; i < 50; i++)
            {
                if (i < 35)
                {
                    conn.send(REQUEST, request("q" + i, "echo", "Echo", String.valueOf(i)));
                }
                else if (i < 40)
                {
                    conn.send(PUBLISH, "{\"correlation_id\":\"q" + i + "\",\"message_type\":\"rl.test\",\"payload\":1}");
                }
                else
                {
                    conn.send(REQUEST, streamRequest("q" + i, "echo", "Feed", String.valueOf(i)));
                }
            }

            final Set<String> finished = new HashSet<>();
            int limited = 0;
            int served = 0;
            while (finished.size() < 50)
            {
                final SocketClient.Frame f = conn.read();
                final JsonNode body = f.json();
                final String id = body.get("correlation_id").asText();
                final int n = Integer.parseInt(id.substring(1));
                final boolean stream = n >= 40;
                if ("RATE_LIMITED".equals(body.path("error_code").asText()))
                {
                    assertEquals(stream ? STREAM : ERROR, f.type, "a refused stream request ends with a final frame");
                    if (stream)
                    {
                        assertTrue(body.get("is_final").asBoolean());
                    }
                    assertTrue(finished.add(id), "answered once: " + id);
                    limited++;
                    continue;
                }
                if (stream)
                {
                    assertEquals(STREAM, f.type, f.text());
                    if (body.get("is_final").asBoolean())
                    {
                        assertTrue(finished.add(id), "answered once: " + id);
                        served++;
                    }
                    continue;
                }
                assertEquals(RESPONSE, f.type, f.text());
                assertTrue(finished.add(id), "answered once: " + id);
                served++;
            }
            assertTrue(limited >= 30, "expected at least 30 RATE_LIMITED, found " + limited);
            assertTrue(served >= 10, "the burst of 10 is served, found " + served);
            assertEquals(50, limited + served);

            conn.send(STATS, "{\"correlation_id\":\"st\"}"); // not a limited frame
            final JsonNode stats = conn.expect(RESPONSE).get("payload");
            assertEquals(limited, stats.get("rate_limited").asLong());
            assertEquals(limited, stats.get("errors_by_code").get("RATE_LIMITED").asLong());

            awaitResponse(conn, "echo"); // the connection stays open and is served once the bucket refills
        }
    }

    private static void awaitResponse(final SocketClient conn, final String target) throws IOException
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            conn.send(REQUEST, request("probe", target, "Echo", "{}"));
            final SocketClient.Frame f = conn.read();
            if (RESPONSE == f.type)
            {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "never answered: " + f.text());
            Thread.yield();
        }
    }
}
