package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session proxy with no socket: pushes over a connection's bound are dropped and numbered, a reply over it closes
 * the connection, and a reply that cannot be encoded is replaced by an error that keeps its correlation_id.
 */
class SessionProxyTest
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Test
    void shouldDropPushesOverTheBoundAndLeaveTheGapInTheirSequence()
    {
        final AdapterHarness gw = new AdapterHarness((ctx) -> ctx.maxQueuedPushes(2));
        final GatewaySession session = gw.connect();
        for (int i = 0; i < 3; i++)
        {
            gw.proxy.push(session, "s.x", NODES.numberNode(i), 0, null);
        }
        assertEquals(1, gw.counters.pushesDropped());
        assertEquals(1, session.lostSinceNotice, "reported by a loss notice once the queue drains");
        gw.proxy.sendError(session, FrameFormat.JSON, "r", io.switchboard.codec.frame.ErrorCode.TIMEOUT, "late");
        gw.proxy.push(session, "s.x", NODES.numberNode(3), 0, null);

        final List<AdapterHarness.Sent> frames = gw.sent(session);
        assertEquals(3, frames.size(), "a reply is never dropped: " + frames);
        assertEquals(1, frames.get(0).body.get("sequence").asLong());
        assertEquals(2, frames.get(1).body.get("sequence").asLong());
        assertEquals(FrameType.ERROR, frames.get(2).type);

        gw.proxy.push(session, "s.x", NODES.numberNode(4), 0, null);
        assertEquals(5, gw.one(session).body.get("sequence").asLong(), "pushes 3 and 4 were dropped: the gap");
        assertEquals(1, gw.logged.size(), "dropping logged once per connection");
    }

    @Test
    void shouldCloseAConnectionWhoseReplyDoesNotFitItsQueue()
    {
        final AdapterHarness gw = new AdapterHarness((ctx) -> ctx.maxPayloadLength(1024 * 1024)
            .maxQueuedBytes(1024 * 1024 + 64));
        final GatewaySession session = gw.connect();
        final ObjectNode body = FrameBodies.response("big", NODES.textNode("x".repeat(700 * 1024)));

        assertTrue(gw.proxy.send(session, FrameType.RESPONSE, FrameFormat.JSON, body, false));
        assertFalse(gw.proxy.send(session, FrameType.RESPONSE, FrameFormat.JSON, body, false));
        assertTrue(session.overflowed);
        assertTrue(session.closeAfterFlush);
        assertEquals(0, session.queuedBytes(), "its queue is given back");
        assertEquals(0, gw.budget.queuedBytes);
        assertEquals(1, gw.counters.slowConsumersClosed);
    }

    @Test
    void shouldReplaceAReplyMessagePackCannotCarryWithAnErrorKeepingItsId()
    {
        final AdapterHarness gw = new AdapterHarness();
        final GatewaySession session = gw.connect();
        final ObjectNode payload = NODES.objectNode().put("n", new BigInteger("18446744073709551616123"));

        gw.proxy.clearReplaced();
        gw.proxy.send(session, FrameType.STREAM, FrameFormat.MSGPACK, FrameBodies.streamData("m1", 4, payload), false);
        assertTrue(gw.proxy.replaced());
        final AdapterHarness.Sent error = gw.one(session);
        assertEquals(FrameType.STREAM, error.type);
        assertEquals(FrameFormat.MSGPACK, error.format);
        assertEquals("m1", error.body.get("correlation_id").asText());
        assertEquals(4, error.body.get("sequence").asLong());
        assertTrue(error.body.get("is_final").asBoolean());
        assertEquals("SERIALIZATION_ERROR", error.body.get("error_code").asText());
        assertEquals(1, gw.counters.replyEncodeFailures);
    }
}
