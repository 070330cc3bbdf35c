package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.transport.Switchboard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input against a live broker process: truncated frames, lengths promised and never sent, connections that say
 * nothing, and a seeded stream of random garbage, while a well-behaved client keeps being served.
 */
@Timeout(180)
class AbuseSystemTest
{
    @Test
    void shouldCloseConnectionsThatLeaveAFrameUnfinishedAndServeOthersMeanwhile() throws Exception
    {
        try (BrokerProcess broker = new BrokerProcess("--frame-timeout-ms", "500");
            ProcessHarness services = broker.startDemoServices();
            Switchboard java = broker.connect("abuse-test"))
        {
            JavaPathSystemTest.awaitService(java, "calculator");
            final java.nio.file.Path socket = broker.socketDir.resolve("broker.sock");
            final List<RawSocketClient> abusers = new ArrayList<>();
            for (int i = 0; i < 20; i++)
            {
                final RawSocketClient c = new RawSocketClient(socket);
                final ByteBuffer promise = ByteBuffer.allocate(7 + 10);
                promise.putInt(1024 * 1024).put((byte)2).put((byte)1).put((byte)1).put(new byte[10]).flip();
                c.sendRaw(i % 2 == 0 ? promise : ByteBuffer.wrap(new byte[]{ 0, 0, 0 })); // half a header
                abusers.add(c);
            }
            final List<RawSocketClient> silent = new ArrayList<>();
            for (int i = 0; i < 20; i++)
            {
                silent.add(new RawSocketClient(socket)); // connect and say nothing
            }

            try (RawSocketClient good = new RawSocketClient(socket))
            {
                for (int i = 0; i < 20; i++)
                {
                    good.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"g" + i + "\",\"target\":\"calculator\"," +
                        "\"message_type\":\"Add\",\"payload\":{\"a\":" + i + ",\"b\":1},\"expects_reply\":true}");
                    assertEquals(i + 1, good.await(RawSocketClient.RESPONSE, "g" + i, 10_000)
                        .body.get("payload").get("value").asInt(), "served while others misbehave");
                }
            }

            for (final RawSocketClient c : abusers)
            {
                final RawSocketClient.Frame error = c.read(10_000);
                assertNotNull(error, "an unfinished frame is answered");
                assertEquals(RawSocketClient.ERROR, error.type);
                assertEquals("PROTOCOL_ERROR", error.body.get("error_code").asText());
                assertTrue(error.body.get("error").asText().contains("incomplete frame"), error.toString());
                assertNull(c.read(5_000), "then the connection is closed");
                c.close();
            }
            for (final RawSocketClient c : silent)
            {
                c.send(RawSocketClient.STATS, "{\"correlation_id\":\"alive\"}");
                c.await(RawSocketClient.RESPONSE, "alive", 10_000); // a quiet connection is not an abuser
                c.close();
            }
        }
    }

    @Test
    void shouldSurviveASeededStreamOfGarbageFramesWithTypedErrorsOnly() throws Exception
    {
        final long seed = 20261127L;
        final Random random = new Random(seed);
        final int connections = 200;
        int protocolErrors = 0;
        int otherErrors = 0;
        try (BrokerProcess broker = new BrokerProcess("--frame-timeout-ms", "300");
            ProcessHarness services = broker.startDemoServices();
            Switchboard java = broker.connect("fuzz-test"))
        {
            JavaPathSystemTest.awaitService(java, "calculator");
            final java.nio.file.Path socket = broker.socketDir.resolve("broker.sock");
            for (int c = 0; c < connections; c++)
            {
                try (RawSocketClient fuzz = new RawSocketClient(socket))
                {
                    // a few well-framed but malformed frames, then raw garbage
                    for (int f = 0; f < 20; f++)
                    {
                        final byte[] body = new byte[random.nextInt(64)];
                        random.nextBytes(body);
                        final ByteBuffer frame = ByteBuffer.allocate(7 + body.length);
                        frame.putInt(body.length).put((byte)2).put((byte)(1 + random.nextInt(14)))
                            .put((byte)(1 + random.nextInt(2))).put(body).flip();
                        fuzz.sendRaw(frame);
                    }
                    final byte[] garbage = new byte[1 + random.nextInt(256)];
                    random.nextBytes(garbage);
                    fuzz.sendRaw(ByteBuffer.wrap(garbage));
                    RawSocketClient.Frame f;
                    while (null != (f = fuzz.read(2_000)))
                    {
                        final JsonNode code = f.body.get("error_code");
                        if (null != code)
                        {
                            final String c2 = code.asText();
                            if ("PROTOCOL_ERROR".equals(c2) || "PAYLOAD_TOO_LARGE".equals(c2))
                            {
                                protocolErrors++;
                            }
                            else
                            {
                                otherErrors++;
                                assertTrue(List.of("SERIALIZATION_ERROR", "INVALID_REQUEST", "ACTOR_NOT_FOUND",
                                    "UNKNOWN_MESSAGE_TYPE", "FORBIDDEN").contains(c2), "untyped error: " + f);
                            }
                        }
                    }
                }
            }
            assertTrue(broker.process.process().isAlive(), "the broker survived");
            try (RawSocketClient good = new RawSocketClient(socket))
            {
                good.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"after\",\"target\":\"calculator\"," +
                    "\"message_type\":\"Add\",\"payload\":{\"a\":2,\"b\":3},\"expects_reply\":true}");
                assertEquals(5, good.await(RawSocketClient.RESPONSE, "after", 10_000).body.get("payload").get("value")
                    .asInt());
            }
            System.out.println("garbage from " + connections + " connections (seed " + seed + "): " + protocolErrors +
                " connection-ending protocol errors, " + otherErrors + " typed request errors, broker alive");
            assertTrue(protocolErrors > 0 && otherErrors > 0);
            assertFalse(broker.process.output().contains("Exception in thread"), broker.process.output());
        }
    }
}
