package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request bridge driven through the frame adapter with a fake client: what a socket REQUEST becomes, how each
 * answer of the Java side is relayed, and that every request gets exactly one answer when the bounds refuse it, when
 * it is answered at once, when its connection closes and when the gateway shuts down.
 */
class RequestBridgeTest
{
    private static final String CALL =
        "{\"correlation_id\":\"%s\",\"target\":\"echo\",\"message_type\":\"Say\",\"expects_reply\":true," +
        "\"payload\":{\"text\":\"hi\"}}";
    private static final String STREAM =
        "{\"correlation_id\":\"%s\",\"target\":\"echo\",\"message_type\":\"Say\",\"expects_stream\":true," +
        "\"payload\":{\"n\":2}}";

    private static AdapterHarness gatewayWithEcho(final java.util.function.Consumer<GatewayContext> settings)
    {
        final AdapterHarness gw = new AdapterHarness(settings);
        gw.client.route(RouteAction.ADD, "echo", ServiceMode.SHARED, 3, Map.of("Say", -1), null, 0, 0, "echo-java",
            3003, false); // opaque: JSON as is
        return gw;
    }

    private static UnsafeBuffer json(final String text)
    {
        return new UnsafeBuffer(FakeGatewayClient.utf8(text));
    }

    @Test
    void shouldCallTheServiceAndRelayItsResponseOnce()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> {});
        final GatewaySession session = gw.connect();

        gw.feed(session, FrameType.REQUEST, String.format(CALL, "c1"));
        assertTrue(gw.sent(session).isEmpty(), "waits for the service");
        assertEquals(1, gw.client.calls.size());
        final FakeGatewayClient.Call call = gw.client.calls.get(0);
        assertEquals("echo", call.service);
        assertEquals("{\"text\":\"hi\"}", call.payload, "an opaque type gets the payload's JSON");
        assertEquals(1, gw.requests.inFlight());

        final UnsafeBuffer reply = json("{\"text\":\"HI\"}");
        call.responses.onResponse(call.id, reply, 0, reply.capacity());
        final AdapterHarness.Sent response = gw.one(session);
        assertEquals(FrameType.RESPONSE, response.type);
        assertEquals("c1", response.body.get("correlation_id").asText());
        assertEquals("HI", response.body.get("payload").get("text").asText());
        assertEquals(0, gw.requests.inFlight());

        call.responses.onError(call.id, "TIMEOUT", "late"); // a second answer for the same call
        assertTrue(gw.sent(session).isEmpty(), "exactly one answer");
    }

    @Test
    void shouldRelayAStreamFrameByFrameAndCancelItOnRequest()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> {});
        final GatewaySession session = gw.connect();

        gw.feed(session, FrameType.REQUEST, String.format(STREAM, "s1"));
        final FakeGatewayClient.Call call = gw.client.calls.get(0);
        final UnsafeBuffer frame = json("1");
        call.frames.onFrame(call.id, 0, frame, 0, frame.capacity());
        call.frames.onFrame(call.id, 1, frame, 0, frame.capacity());
        final List<AdapterHarness.Sent> frames = gw.sent(session);
        assertEquals(2, frames.size());
        assertEquals(1, frames.get(1).body.get("sequence").asLong());
        assertEquals(false, frames.get(1).body.get("is_final").asBoolean());

        gw.feed(session, FrameType.CANCEL, "{\"correlation_id\":\"s1\"}");
        assertEquals(List.of(call.id), gw.client.cancelled, "the service is told");
        final AdapterHarness.Sent end = gw.one(session);
        assertEquals(FrameType.STREAM, end.type);
        assertTrue(end.body.get("is_final").asBoolean());
        assertEquals("CANCELLED", end.body.get("error_code").asText());
        assertEquals(2, end.body.get("sequence").asLong(), "after the two data frames");

        call.frames.onError(call.id, "CANCELLED", "cancelled"); // the service's own CANCELLED finds the call done
        assertTrue(gw.sent(session).isEmpty());
    }

    @Test
    void shouldAnswerACallThatIsAnsweredBeforeItsIdIsKnown()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> {});
        final GatewaySession session = gw.connect();
        gw.client.answerInside = (id) ->
            gw.client.calls.get(gw.client.calls.size() - 1).responses.onError(id, "TARGET_BUSY", "inbox full");

        gw.feed(session, FrameType.REQUEST, String.format(CALL, "b1"));
        final AdapterHarness.Sent error = gw.one(session);
        assertEquals("b1", error.body.get("correlation_id").asText());
        assertEquals("TARGET_BUSY", error.body.get("error_code").asText());
        assertEquals(0, gw.requests.inFlight(), "nothing left pending");
        assertTrue(session.pendingByClientId.isEmpty());
    }

    @Test
    void shouldRefuseOverTheConnectionsInFlightBoundAndADuplicateId()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> ctx.maxRequestsInFlight(2));
        final GatewaySession session = gw.connect();

        gw.feed(session, gw.frame(FrameType.REQUEST, String.format(CALL, "a")),
            gw.frame(FrameType.REQUEST, String.format(CALL, "a")),
            gw.frame(FrameType.REQUEST, String.format(CALL, "b")),
            gw.frame(FrameType.REQUEST, String.format(CALL, "c")));
        final List<AdapterHarness.Sent> answers = gw.sent(session);
        assertEquals(2, answers.size(), "a and b wait for the service: " + answers);
        assertEquals("a", answers.get(0).body.get("correlation_id").asText());
        assertEquals("INVALID_REQUEST", answers.get(0).body.get("error_code").asText(), "a is already in flight");
        assertEquals("c", answers.get(1).body.get("correlation_id").asText());
        assertEquals("RATE_LIMITED", answers.get(1).body.get("error_code").asText());
        assertTrue(answers.get(1).body.get("error").asText().contains("its limit is 2"));
        assertEquals(1, gw.counters.inFlightLimited);
        assertEquals(1, gw.logged.size(), "logged once per connection");
        assertEquals(2, gw.client.calls.size());
    }

    @Test
    void shouldRouteNothingForAnUnknownServiceOrMessageType()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> {});
        final GatewaySession session = gw.connect();

        gw.feed(session, FrameType.REQUEST,
            "{\"correlation_id\":\"u1\",\"target\":\"nobody\",\"message_type\":\"Say\",\"expects_reply\":true}");
        assertEquals("ACTOR_NOT_FOUND", gw.one(session).body.get("error_code").asText());
        gw.feed(session, FrameType.REQUEST,
            "{\"correlation_id\":\"u2\",\"target\":\"echo\",\"message_type\":\"Shout\",\"expects_reply\":true}");
        final AdapterHarness.Sent unknown = gw.one(session);
        assertEquals("UNKNOWN_MESSAGE_TYPE", unknown.body.get("error_code").asText());
        assertTrue(unknown.body.get("error").asText().contains("[Say]"), unknown.body.toString());
        gw.feed(session, FrameType.REQUEST, "{\"correlation_id\":\"u3\",\"target\":\"echo\",\"message_type\":\"Say\"," +
            "\"expects_reply\":true,\"response_timeout_ms\":0}");
        assertEquals("INVALID_REQUEST", gw.one(session).body.get("error_code").asText());
        assertTrue(gw.client.calls.isEmpty());
    }

    @Test
    void shouldSendFireAndForgetAndAnswerDelivered()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> {});
        final GatewaySession session = gw.connect();

        gw.feed(session, FrameType.REQUEST,
            "{\"correlation_id\":\"f1\",\"target\":\"echo\",\"message_type\":\"Say\",\"payload\":[1]}");
        assertEquals(List.of("echo/Say:[1]"), gw.client.sends);
        final AdapterHarness.Sent delivered = gw.one(session);
        assertEquals("delivered", delivered.body.get("payload").get("status").asText());
        assertEquals(0, gw.requests.inFlight());
    }

    @Test
    void shouldAbandonTheCallsOfAClosedConnectionAndAnswerTheRestShuttingDown()
    {
        final AdapterHarness gw = gatewayWithEcho((ctx) -> {});
        final GatewaySession leaving = gw.connect();
        final GatewaySession staying = gw.connect();
        gw.feed(leaving, FrameType.REQUEST, String.format(CALL, "l1"));
        gw.feed(staying, FrameType.REQUEST, String.format(CALL, "k1"));
        gw.feed(staying, FrameType.REQUEST, String.format(STREAM, "k2"));
        assertEquals(3, gw.requests.inFlight());

        gw.close(leaving);
        assertEquals(List.of(gw.client.calls.get(0).id), gw.client.abandoned, "forgotten now, not at its timeout");
        assertEquals(2, gw.requests.inFlight());

        gw.requests.answerAllShuttingDown();
        final List<AdapterHarness.Sent> answers = gw.sent(staying);
        assertEquals(2, answers.size());
        for (final AdapterHarness.Sent answer : answers)
        {
            assertEquals("SHUTTING_DOWN", answer.body.get("error_code").asText());
            final boolean stream = "k2".equals(answer.body.get("correlation_id").asText());
            assertEquals(stream ? FrameType.STREAM : FrameType.ERROR, answer.type, answer.toString());
        }
        assertEquals(List.of(gw.client.calls.get(2).id), gw.client.cancelled, "the stream's service is told");
        assertEquals(0, gw.requests.inFlight());
    }
}
