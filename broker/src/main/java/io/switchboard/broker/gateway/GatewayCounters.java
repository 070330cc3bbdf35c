package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Counters of the gateway, reported by STATS.
 * <p>
 * Written on the gateway's duty-cycle thread only; other threads may read them racily for display.
 */
public final class GatewayCounters
{
    long connectionsAccepted;
    long connectionsClosed;
    long connectionsRefused;
    long framesIn;
    long framesOut;
    long requests;
    long responses;
    long errors;
    long cancels;
    long publishes;
    long publishFailures;
    long pushes;
    long pushesDropped;
    long protocolErrors;
    long badPayloads;
    long forwarded;

    /**
     * Pushes dropped because a subscriber's queue was full.
     *
     * @return the count.
     */
    public long pushesDropped()
    {
        return pushesDropped;
    }

    ObjectNode toJson(final ObjectNode node)
    {
        return node
            .put("connections_accepted", connectionsAccepted)
            .put("connections_closed", connectionsClosed)
            .put("connections_refused", connectionsRefused)
            .put("frames_in", framesIn)
            .put("frames_out", framesOut)
            .put("requests", requests)
            .put("responses", responses)
            .put("errors", errors)
            .put("cancels", cancels)
            .put("publishes", publishes)
            .put("publish_failures", publishFailures)
            .put("pushes", pushes)
            .put("pushes_dropped", pushesDropped)
            .put("protocol_errors", protocolErrors)
            .put("bad_payloads", badPayloads)
            .put("forwarded_to_sockets", forwarded);
    }
}
