package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.json.SbeJsonTranscoder;

/**
 * A request from a socket client in flight through the gateway's Java client: the gateway's correlation id mapped
 * back to the connection and the client's own correlation id.
 * <p>
 * Not thread-safe: owned by the {@link GatewayConductor}'s duty cycle.
 */
final class PendingCall
{
    final GatewaySession session;
    final String clientCorrelationId;
    final String target;
    final boolean stream;
    final FrameFormat format;
    final SbeJsonTranscoder transcoder;
    long gatewayId = Long.MIN_VALUE;
    /** When the gateway took the request, for the per-service latency (switchboard top). */
    final long startNs = System.nanoTime();
    long frames;
    boolean done;
    /** Its request is held by the gateway's client for a full Java inbox: its connection is not read meanwhile. */
    boolean held;

    PendingCall(
        final GatewaySession session,
        final String clientCorrelationId,
        final String target,
        final boolean stream,
        final FrameFormat format,
        final SbeJsonTranscoder transcoder)
    {
        this.session = session;
        this.clientCorrelationId = clientCorrelationId;
        this.target = target;
        this.stream = stream;
        this.format = format;
        this.transcoder = transcoder;
    }
}
