package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.transport.SwitchboardException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway as an ordinary peer, driven through its frame adapter with a fake client: what it lists, counts and
 * routes comes from its client's route table alone (fed here with encoded route updates), and REGISTER / UNREGISTER
 * never wait for the broker on the duty cycle: a REGISTER is answered when the broker's answer arrives.
 */
class GatewayPeerTest
{
    private static final String DISCOVER = "{\"correlation_id\":\"d\"}";
    private static final String CALL =
        "{\"correlation_id\":\"%s\",\"target\":\"%s\",\"message_type\":\"Who\",\"expects_reply\":true,\"payload\":{}}";

    private final AdapterHarness gw = new AdapterHarness();

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

    private void javaRoute(final RouteAction action, final String service, final int clientId, final String peer)
    {
        gw.client.route(action, service, ServiceMode.SHARED, clientId, Map.of("Who", -1), null, 0, 0, peer,
            5000 + clientId, false);
    }

    private void gatewayRoute(final RouteAction action, final String service)
    {
        gw.client.route(action, service, ServiceMode.SHARED, AdapterHarness.GATEWAY_CLIENT_ID, Map.of("Who", -1), null,
            0, 0, "switchboard-gateway", 1, true);
    }

    @Test
    void shouldDiscoverAndRouteFromTheOneRouteTable()
    {
        final GatewaySession session = gw.connect();
        javaRoute(RouteAction.ADD, "who", 3, "who-java");

        gw.feed(session, gw.frame(FrameType.DISCOVER, DISCOVER),
            gw.frame(FrameType.REQUEST, String.format(CALL, "c1", "who")));
        final JsonNode who = service(gw.one(session).body, "who");
        assertEquals(1, who.path("instances").asInt(), String.valueOf(who));
        assertEquals("shared", who.path("mode").asText());
        final JsonNode instance = who.path("instances_detail").get(0);
        assertEquals("shared-memory", instance.path("path").asText());
        assertEquals("who-java", instance.path("peer").asText(), "who serves, as the route update named it");
        assertEquals(5003, instance.path("pid").asLong());
        assertEquals(1, gw.client.calls.size(), "listed, and the request was routed to it");

        javaRoute(RouteAction.REMOVE, "who", 3, "who-java");
        gw.feed(session, gw.frame(FrameType.DISCOVER, DISCOVER),
            gw.frame(FrameType.REQUEST, String.format(CALL, "c2", "who")));
        final List<AdapterHarness.Sent> sent = gw.sent(session);
        assertEquals(2, sent.size(), sent.toString());
        assertNull(service(sent.get(0).body, "who"), "not listed once its route is removed");
        assertEquals(FrameType.ERROR, sent.get(1).type);
        assertEquals("ACTOR_NOT_FOUND", sent.get(1).body.path("error_code").asText(), "and not found");
        assertEquals(1, gw.client.calls.size());
    }

    @Test
    void shouldAnswerRegisterOnlyWhenTheBrokerHasAnsweredAndNeverWaitForIt()
    {
        final GatewaySession first = gw.connect();
        final GatewaySession second = gw.connect();
        gw.feed(first, FrameType.REGISTER, "{\"correlation_id\":\"r1\",\"service\":\"s\",\"mode\":\"shared\"," +
            "\"message_types\":[\"Who\"]}");
        gw.feed(second, FrameType.REGISTER, "{\"correlation_id\":\"r2\",\"service\":\"s\",\"mode\":\"shared\"," +
            "\"message_types\":[\"Who\"]}");
        assertTrue(gw.sent(first).isEmpty(), "the duty cycle went on: no answer before the broker's");
        assertTrue(gw.sent(second).isEmpty());
        assertEquals(1, gw.client.serves.size(), "one registration at the broker for the name");

        gatewayRoute(RouteAction.ADD, "s"); // the route comes before the ack, as the broker sends them
        gw.client.serves.get("s").complete(null);
        assertEquals(FrameType.RESPONSE, gw.one(first).type);
        assertEquals(FrameType.RESPONSE, gw.one(second).type);

        final GatewaySession asker = gw.connect();
        gw.feed(asker, FrameType.DISCOVER, DISCOVER);
        final JsonNode s = service(gw.one(asker).body, "s");
        assertEquals(2, s.path("instances").asInt(), "two connections serve it: " + s);
        assertEquals("socket", s.path("transport").asText());
        assertEquals(2, s.path("instances_detail").size());
        gw.feed(asker, FrameType.STATS, "{\"correlation_id\":\"st\"}");
        assertEquals(2, gw.one(asker).body.path("payload").path("service_instances").path("s").asInt(),
            "STATS counts as DISCOVER does");
    }

    @Test
    void shouldAnswerEveryWaitingRegisterWithTheBrokersRefusal()
    {
        final GatewaySession session = gw.connect();
        gw.feed(session, FrameType.REGISTER, "{\"correlation_id\":\"r1\",\"service\":\"held\",\"mode\":\"exclusive\"}");
        final CompletableFuture<Void> answer = gw.client.serves.get("held");
        answer.completeExceptionally(new SwitchboardException("NAME_IN_USE", "'held' is held exclusive by peer 3"));

        final AdapterHarness.Sent refusal = gw.one(session);
        assertEquals(FrameType.ERROR, refusal.type);
        assertEquals("NAME_IN_USE", refusal.body.path("error_code").asText());
        assertTrue(refusal.body.path("error").asText().contains("peer 3"), refusal.toString());

        gw.feed(session, FrameType.REGISTER, "{\"correlation_id\":\"r2\",\"service\":\"held\",\"mode\":\"exclusive\"}");
        assertNotSame(answer, gw.client.serves.get("held"), "the refused name is not kept: the broker is asked again");
        assertFalse(gw.client.serves.get("held").isDone());
        assertTrue(gw.sent(session).isEmpty(), "and that REGISTER waits for its own answer");
    }

    @Test
    void shouldRegisterANameAgainOnlyOnceItsWithdrawalIsAnswered()
    {
        final GatewaySession session = gw.connect();
        gw.feed(session, FrameType.REGISTER, "{\"correlation_id\":\"r1\",\"service\":\"s\"}");
        gw.client.serves.get("s").complete(null);
        assertEquals(FrameType.RESPONSE, gw.one(session).type);

        gw.feed(session, FrameType.UNREGISTER, "{\"correlation_id\":\"u1\",\"service\":\"s\"}");
        assertTrue(gw.sent(session).isEmpty(), "UNREGISTER of the last instance waits for the broker's withdrawal");
        final CompletableFuture<Void> withdrawal = gw.client.unserves.get("s");
        gw.client.serves.clear();

        gw.feed(session, FrameType.REGISTER, "{\"correlation_id\":\"r2\",\"service\":\"s\"}");
        assertTrue(gw.client.serves.isEmpty(), "waits for the withdrawal");
        withdrawal.complete(null);
        final AdapterHarness.Sent unregistered = gw.one(session);
        assertEquals(FrameType.RESPONSE, unregistered.type);
        assertEquals("u1", unregistered.body.path("correlation_id").asText());
        assertTrue(gw.client.serves.isEmpty(), "not from inside the client's completion");
        assertEquals(1, gw.socketServices.retryRegistrations());
        gw.client.serves.get("s").complete(null);
        final AdapterHarness.Sent registered = gw.one(session);
        assertEquals(FrameType.RESPONSE, registered.type);
        assertEquals("r2", registered.body.path("correlation_id").asText());
    }
}
