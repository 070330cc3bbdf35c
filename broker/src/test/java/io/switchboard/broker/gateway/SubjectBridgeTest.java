package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.FrameType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subject bridge driven through the frame adapter with a fake client and a cached clock: socket fan-out, one
 * shared-memory publication per PUBLISH, the retained store and its bound, the pattern bound, and one pattern route
 * per pattern however many connections hold it.
 */
class SubjectBridgeTest
{
    private static void subscribe(final AdapterHarness gw, final GatewaySession session, final String... patterns)
    {
        gw.feed(session, FrameType.SUBSCRIBE,
            "{\"correlation_id\":\"sub\",\"message_types\":[\"" + String.join("\",\"", patterns) + "\"]}");
    }

    @Test
    void shouldPushASocketPublicationToMatchingSocketsAndPublishItOnce()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession prices = gw.connect();
        final GatewaySession orders = gw.connect();
        final GatewaySession publisher = gw.connect();
        subscribe(gw, prices, "prices.*", "prices.>");
        subscribe(gw, orders, "orders.>");
        assertEquals("[\"prices.*\",\"prices.>\"]", gw.one(prices).body.get("subscribed_types").toString());
        gw.one(orders);

        gw.epochClock.update(1_234_567);
        gw.feed(publisher, FrameType.PUBLISH,
            "{\"correlation_id\":\"p1\",\"message_type\":\"prices.acme\",\"payload\":{\"bid\":10}}");
        assertEquals(FrameType.RESPONSE, gw.one(publisher).type);
        final AdapterHarness.Sent push = gw.one(prices); // two patterns match: one push
        assertEquals(FrameType.PUSH, push.type);
        assertEquals("prices.acme", push.body.get("message_type").asText());
        assertEquals(10, push.body.get("payload").get("bid").asInt());
        assertEquals(1_234_567, push.body.get("timestamp_ms").asLong(), "the duty cycle's cached clock");
        assertEquals(1, push.body.get("sequence").asLong());
        assertTrue(gw.sent(orders).isEmpty());
        assertEquals(List.of("prices.acme:{\"bid\":10}"), gw.client.publishes, "once, for the Java subscribers");
    }

    @Test
    void shouldHaveTheBrokerKeepARetainedPublishBeforeFanningItOut()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession publisher = gw.connect();
        final GatewaySession subscriber = gw.connect();
        subscribe(gw, subscriber, "config.*");
        assertEquals(FrameType.RESPONSE, gw.one(subscriber).type);
        gw.feed(publisher, FrameType.PUBLISH,
            "{\"correlation_id\":\"r1\",\"message_type\":\"config.a\",\"payload\":1,\"retain\":true}");
        assertEquals(FrameType.RESPONSE, gw.one(publisher).type);
        assertEquals(1, gw.one(subscriber).body.get("payload").asInt());
        assertEquals(List.of("retained config.a:1"), gw.client.publishes, "a retained publish of the client");

        // a retained null clears the subject: an empty payload for the core, null for the subscribers
        gw.feed(publisher, FrameType.PUBLISH, "{\"message_type\":\"config.a\",\"payload\":null,\"retain\":true}");
        assertEquals(List.of("retained config.a:1", "retained config.a:"), gw.client.publishes);
        assertTrue(gw.one(subscriber).body.get("payload").isNull());
    }

    @Test
    void shouldRefuseARetainTheBrokerRefusesWholeAndCountIt()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession publisher = gw.connect();
        final GatewaySession subscriber = gw.connect();
        subscribe(gw, subscriber, "k.>");
        assertEquals(FrameType.RESPONSE, gw.one(subscriber).type);
        gw.client.retainRefusal = new io.switchboard.transport.SwitchboardException(
            "PAYLOAD_TOO_LARGE", "the broker retains at most 200 bytes");
        gw.feed(publisher, FrameType.PUBLISH, "{\"correlation_id\":\"k2\",\"message_type\":\"k.2\",\"payload\":\"" +
            "x".repeat(200) + "\",\"retain\":true}");
        final AdapterHarness.Sent refused = gw.one(publisher);
        assertEquals("k2", refused.body.get("correlation_id").asText());
        assertEquals("PAYLOAD_TOO_LARGE", refused.body.get("error_code").asText());
        assertTrue(refused.body.get("error").asText().contains("at most 200 bytes"), refused.toString());
        assertTrue(gw.sent(subscriber).isEmpty(), "refused whole: not fanned out");
        assertTrue(gw.client.publishes.isEmpty(), "nor published");
        assertEquals(1, gw.counters.retainsRefused);

        gw.feed(publisher, FrameType.PUBLISH, "{\"message_type\":\"k.3\",\"payload\":1,\"retain\":true}");
        assertEquals(2, gw.counters.retainsRefused, "without a correlation id: counted");
        assertTrue(gw.sent(publisher).isEmpty());
    }

    @Test
    void shouldSubscribeAJoiningConnectionOnceMoreForItsRetainedValuesAndKeepTheRoute()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession first = gw.connect();
        final GatewaySession second = gw.connect();
        subscribe(gw, first, "config.*");
        subscribe(gw, second, "config.*");
        // the route's subscription, then one per connection for its retained values, dropped once answered
        assertEquals(List.of("config.*", "config.*", "config.*"), gw.client.subscribes);
        assertEquals(List.of("config.* (one handler)", "config.* (one handler)"), gw.client.unsubscribes);
        assertTrue(gw.client.subscribed.containsKey("config.*"), "the route's subscription stays");
    }

    @Test
    void shouldRefuseSubscriptionsOverThePatternBoundBeforeAnnouncingAny()
    {
        final AdapterHarness gw = new AdapterHarness((ctx) -> ctx.maxPatterns(2));
        final GatewaySession session = gw.connect();

        subscribe(gw, session, "a.*", "b.*", "c.*");
        final AdapterHarness.Sent refused = gw.one(session);
        assertEquals("INVALID_REQUEST", refused.body.get("error_code").asText());
        assertTrue(refused.body.get("error").asText().contains("3 patterns in one SUBSCRIBE"), refused.toString());

        subscribe(gw, session, "a.*", "b.*");
        assertEquals(FrameType.RESPONSE, gw.one(session).type);
        subscribe(gw, session, "c.*");
        assertTrue(gw.one(session).body.get("error").asText().contains("holds 2 patterns and asked for 1 more"));
        // each pattern's route, then the connection's subscriptions for their retained values
        assertEquals(List.of("a.*", "b.*", "a.*", "b.*"), gw.client.subscribes);
        assertEquals(2, gw.counters.patternsRefused);

        subscribe(gw, session, "bad..pattern");
        assertEquals("INVALID_REQUEST", gw.one(session).body.get("error_code").asText());
    }

    @Test
    void shouldAnnounceAPatternOnceAndWithdrawItWithItsLastSubscriber()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession first = gw.connect();
        final GatewaySession second = gw.connect();
        subscribe(gw, first, "news.>");
        subscribe(gw, second, "news.>");
        // the route once; each connection's subscribe asks the broker for its retained values, dropped once answered
        assertEquals(List.of("news.>", "news.>", "news.>"), gw.client.subscribes);
        final List<String> probes = List.of("news.> (one handler)", "news.> (one handler)");
        assertEquals(probes, gw.client.unsubscribes);
        assertEquals(1, gw.subjects.patternCount());

        gw.close(first);
        assertEquals(probes, gw.client.unsubscribes, "the second still holds it");
        gw.feed(second, FrameType.UNSUBSCRIBE, "{\"correlation_id\":\"u\",\"message_types\":[]}");
        assertEquals("[]", gw.sent(second).get(1).body.get("subscribed_types").toString());
        assertEquals(List.of("news.> (one handler)", "news.> (one handler)", "news.>"), gw.client.unsubscribes);
        assertEquals(0, gw.subjects.patternCount());
    }

    @Test
    void shouldAnswerTargetBusyWhenSharedMemorySubscribersAreBehind()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession publisher = gw.connect();
        gw.client.publishResult = -2; // back-pressured
        gw.feed(publisher, FrameType.PUBLISH, "{\"correlation_id\":\"b\",\"message_type\":\"x.y\",\"payload\":0}");
        gw.subjects.retryBackPressured();
        assertEquals(0, gw.sent(publisher).size(), "held while the log is back-pressured, not answered yet");
        assertEquals(1, publisher.heldPublishes, "its connection is not read meanwhile");
        gw.nanoClock.advance(PublishBridge.MAX_BACK_PRESSURE_NS + 1);
        gw.subjects.retryBackPressured();
        assertEquals("TARGET_BUSY", gw.one(publisher).body.get("error_code").asText());
        assertEquals(1, gw.counters.publishFailures);
        assertEquals(0, publisher.heldPublishes, "read again once answered");
    }

    @Test
    void shouldPublishABackPressuredPublicationOnceTheLogTakesIt()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession publisher = gw.connect();
        gw.client.publishResult = -2; // back-pressured
        gw.feed(publisher, FrameType.PUBLISH, "{\"correlation_id\":\"p1\",\"message_type\":\"x.y\",\"payload\":1}");
        gw.feed(publisher, FrameType.PUBLISH, "{\"correlation_id\":\"p2\",\"message_type\":\"x.y\",\"payload\":2}");
        assertEquals(0, gw.sent(publisher).size(), "both wait, in order");
        gw.client.publishResult = 64;
        gw.subjects.retryBackPressured();
        final java.util.List<AdapterHarness.Sent> answers = gw.sent(publisher);
        assertEquals(2, answers.size(), answers::toString);
        assertEquals("p1", answers.get(0).body.get("correlation_id").asText());
        assertEquals("p2", answers.get(1).body.get("correlation_id").asText());
        assertEquals(0, gw.counters.publishFailures);
        assertEquals(0, publisher.heldPublishes);
    }
}
