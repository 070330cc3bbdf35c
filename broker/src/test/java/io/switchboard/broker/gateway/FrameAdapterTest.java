package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHeader;
import io.switchboard.codec.frame.FrameType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The frame adapter driven with encoded frames and a cached clock, no socket and no process: admission (shutdown,
 * rate limit), refusal of what cannot be read, and the frames a client may not send.
 */
class FrameAdapterTest
{
    @Test
    void shouldRefuseNewWorkShuttingDownAndStillAnswerDiscover()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession session = gw.connect();
        gw.admitting = false;

        gw.feed(session, FrameType.REQUEST,
            "{\"correlation_id\":\"r1\",\"target\":\"calc\",\"message_type\":\"Add\",\"expects_reply\":true}");
        final AdapterHarness.Sent refused = gw.one(session);
        assertEquals(FrameType.ERROR, refused.type);
        assertEquals("r1", refused.body.get("correlation_id").asText());
        assertEquals("SHUTTING_DOWN", refused.body.get("error_code").asText());

        gw.feed(session, FrameType.REQUEST,
            "{\"correlation_id\":\"s1\",\"target\":\"calc\",\"message_type\":\"Count\",\"expects_stream\":true}");
        final AdapterHarness.Sent streamRefused = gw.one(session);
        assertEquals(FrameType.STREAM, streamRefused.type, "a stream request is refused with a final STREAM frame");
        assertTrue(streamRefused.body.get("is_final").asBoolean());
        assertEquals("SHUTTING_DOWN", streamRefused.body.get("error_code").asText());

        gw.feed(session, FrameType.PUBLISH, "{\"message_type\":\"prices.x\",\"payload\":1}");
        assertTrue(gw.sent(session).isEmpty(), "a PUBLISH without a correlation_id expects no answer");
        assertTrue(gw.client.publishes.isEmpty());

        gw.feed(session, FrameType.SUBSCRIBE, "{\"correlation_id\":\"sub\",\"message_types\":[\"a.*\"]}");
        assertEquals("SHUTTING_DOWN", gw.one(session).body.get("error_code").asText());
        assertTrue(gw.client.subscribes.isEmpty());

        gw.feed(session, FrameType.DISCOVER, "{\"correlation_id\":\"d\"}");
        final AdapterHarness.Sent discovered = gw.one(session);
        assertEquals(FrameType.RESPONSE, discovered.type, "DISCOVER starts no work: still answered");
        assertEquals(2, discovered.body.get("protocol_version").get("current").asInt());
        assertEquals(4, gw.counters.refusedShuttingDown);
        assertTrue(gw.client.calls.isEmpty());
    }

    @Test
    void shouldRateLimitByTheCachedClockAndAdmitAgainWhenItAdvances()
    {
        final AdapterHarness gw = new AdapterHarness((ctx) -> ctx.rateLimit(2).rateLimitBurst(2));
        final GatewaySession session = gw.connect();
        final String request =
            "{\"correlation_id\":\"%s\",\"target\":\"nobody\",\"message_type\":\"Add\",\"expects_reply\":true}";

        gw.feed(session, gw.frame(FrameType.REQUEST, String.format(request, "a")),
            gw.frame(FrameType.REQUEST, String.format(request, "b")),
            gw.frame(FrameType.REQUEST, String.format(request, "c")));
        final List<AdapterHarness.Sent> answers = gw.sent(session);
        assertEquals(3, answers.size());
        assertEquals("ACTOR_NOT_FOUND", answers.get(0).body.get("error_code").asText(), "admitted: routed");
        assertEquals("ACTOR_NOT_FOUND", answers.get(1).body.get("error_code").asText(), "admitted: routed");
        assertEquals("c", answers.get(2).body.get("correlation_id").asText());
        assertEquals("RATE_LIMITED", answers.get(2).body.get("error_code").asText(), "over the burst of 2");
        assertEquals(1, gw.counters.rateLimited);

        gw.feed(session, FrameType.REQUEST, String.format(request, "d"));
        assertEquals("RATE_LIMITED", gw.one(session).body.get("error_code").asText(), "the clock has not moved");

        gw.nanoClock.advance(TimeUnit.MILLISECONDS.toNanos(500)); // one token at 2 a second
        gw.feed(session, FrameType.REQUEST, String.format(request, "e"));
        assertEquals("ACTOR_NOT_FOUND", gw.one(session).body.get("error_code").asText(), "admitted again");
        assertEquals(2, gw.counters.rateLimited);
    }

    @Test
    void shouldAnswerAnUnreadablePayloadWithTheCorrelationIdItCarried()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession session = gw.connect();

        final String deep = "[".repeat(100_000) + "]".repeat(100_000); // past the reader's depth bound
        gw.feed(session, FrameType.REQUEST, "{\"correlation_id\":\"c7\",\"target\":\"x\",\"payload\":" + deep + "}");
        final AdapterHarness.Sent error = gw.one(session);
        assertEquals(FrameType.ERROR, error.type);
        assertEquals("c7", error.body.get("correlation_id").asText(), "salvaged from the refused bytes");
        assertEquals("SERIALIZATION_ERROR", error.body.get("error_code").asText());

        gw.feed(session, FrameType.REQUEST,
            "{\"correlation_id\":\"s7\",\"expects_stream\":true,\"payload\":" + deep + "}");
        final AdapterHarness.Sent streamError = gw.one(session);
        assertEquals(FrameType.STREAM, streamError.type, "a stream request's refusal is a final STREAM frame");
        assertEquals("s7", streamError.body.get("correlation_id").asText());
        assertTrue(streamError.body.get("is_final").asBoolean());
        assertEquals(2, gw.counters.badPayloads);

        gw.feed(session, FrameType.REQUEST, "[1,2,3]");
        final AdapterHarness.Sent notObject = gw.one(session);
        assertEquals("INVALID_REQUEST", notObject.body.get("error_code").asText());
        assertTrue(notObject.body.get("error").asText().contains("ARRAY"), notObject.body.toString());
        assertFalse(session.closeAfterFlush, "a bad payload costs its request, not the connection");
    }

    @Test
    void shouldEchoHeartbeatsAndRefuseFramesOnlyTheGatewaySends()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession session = gw.connect();

        gw.feed(session, FrameType.HEARTBEAT, "{}");
        final AdapterHarness.Sent echo = gw.one(session);
        assertEquals(FrameType.HEARTBEAT, echo.type);
        assertEquals("{}", echo.body.toString());

        gw.feed(session, FrameType.PUSH, "{\"correlation_id\":\"p\"}");
        final AdapterHarness.Sent refused = gw.one(session);
        assertEquals("INVALID_REQUEST", refused.body.get("error_code").asText());
        assertTrue(refused.body.get("error").asText().contains("PUSH"), refused.body.toString());
    }

    @Test
    void shouldAnswerAVersionOneClientInJsonWithAVersionOneHeader()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession session = gw.connect();
        final byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
        final byte[] v1 = new byte[FrameHeader.LENGTH_V1 + payload.length];
        v1[3] = (byte)payload.length;
        v1[FrameHeader.VERSION_OFFSET] = (byte)FrameHeader.VERSION_1;
        v1[FrameHeader.TYPE_OFFSET] = (byte)FrameType.HEARTBEAT.code();
        System.arraycopy(payload, 0, v1, FrameHeader.LENGTH_V1, payload.length);

        gw.feed(session, v1);
        final AdapterHarness.Sent echo = gw.one(session);
        assertEquals(FrameHeader.VERSION_1, echo.version);
        assertEquals(FrameFormat.JSON, echo.format);
    }

    @Test
    void shouldPollTheClientBetweenFramesOfOneLongRead()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession session = gw.connect();
        final byte[][] frames = new byte[2 * FrameAdapter.FRAMES_PER_CLIENT_POLL + 1][];
        for (int i = 0; i < frames.length; i++)
        {
            frames[i] = gw.frame(FrameType.HEARTBEAT, "{}");
        }

        assertEquals(frames.length, gw.feed(session, frames));
        assertEquals(2, gw.client.polls, "its inbox drains every " + FrameAdapter.FRAMES_PER_CLIENT_POLL + " frames");
        assertEquals(frames.length, gw.sent(session).size());
    }

    @Test
    void shouldCloseAConnectionWhoseFrameStreamIsBroken()
    {
        final AdapterHarness gw = new AdapterHarness((ctx) -> ctx.maxPayloadLength(1024 * 1024));
        final GatewaySession session = gw.connect();
        final byte[] header = new byte[FrameHeader.LENGTH_V2];
        header[1] = 0x20; // a length of 2 MiB, over the maximum of 1 MiB
        header[FrameHeader.VERSION_OFFSET] = (byte)FrameHeader.VERSION_2;
        header[FrameHeader.TYPE_OFFSET] = (byte)FrameType.REQUEST.code();
        header[FrameHeader.FORMAT_OFFSET] = (byte)FrameFormat.JSON.code();

        gw.feed(session, header);
        final AdapterHarness.Sent error = gw.one(session);
        assertEquals(FrameType.ERROR, error.type);
        assertEquals("PAYLOAD_TOO_LARGE", error.body.get("error_code").asText());
        assertTrue(session.closeAfterFlush, "closed once the error is written");
        assertEquals(1, gw.counters.protocolErrors);
    }
}
