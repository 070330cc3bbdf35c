package io.switchboard.transport;

import io.aeron.Publication;
import io.switchboard.codec.wire.RequestKind;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.NanoClock;

/**
 * Sends this peer's calls: picks the service's next instance from the route table, hands the request to the
 * {@link PeerInboxProxy}, and tracks it in the {@link PendingCalls} until answered; a call that cannot be sent is
 * failed at once, through its listener, with a typed code. Also cancels and abandons calls in flight.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class CallRouter
{
    private final BrokerSession session;
    private final RouteTable routes;
    private final PendingCalls calls;
    private final PeerInboxProxy peers;
    private final LogFactory logs;
    private final ClientCounters counters;
    private final NanoClock clock;
    private final int maxMessageLength;

    CallRouter(
        final BrokerSession session,
        final RouteTable routes,
        final PendingCalls calls,
        final PeerInboxProxy peers,
        final LogFactory logs,
        final ClientCounters counters,
        final NanoClock clock,
        final int maxMessageLength)
    {
        this.maxMessageLength = maxMessageLength;
        this.session = session;
        this.routes = routes;
        this.calls = calls;
        this.peers = peers;
        this.logs = logs;
        this.counters = counters;
        this.clock = clock;
    }

    /**
     * Send a request or a stream request, or a message with no reply; the outcome goes to the listener.
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param timeoutNs after which the call fails with {@code TIMEOUT}.
     * @param listener of a request, or null.
     * @param streamListener of a stream, or null.
     * @param kind of the call.
     * @return the correlation id of the call.
     */
    long send(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long timeoutNs,
        final ResponseListener listener,
        final StreamListener streamListener,
        final RequestKind kind)
    {
        final long correlationId = calls.nextCorrelationId();
        counters.requests.incrementOrdered();

        if (length > maxMessageLength)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.PAYLOAD_TOO_LARGE, "a request to '" +
                service + "' of " + length + " bytes: expected at most maxMessageLength=" + maxMessageLength);
            return correlationId;
        }
        final RouteTable.Route route = routes.get(service);
        if (session.isLost())
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.SERVICE_UNAVAILABLE, "lost the broker");
            return correlationId;
        }
        if (null == route)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.ACTOR_NOT_FOUND,
                "no service named '" + service + "'");
            return correlationId;
        }
        final int templateId = route.templateId(messageType);
        if (RouteTable.UNKNOWN_TYPE == templateId)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.UNKNOWN_MESSAGE_TYPE,
                "service '" + service + "' does not take message type '" + messageType + "'");
            return correlationId;
        }
        final RouteTable.Instance instance = route.next();

        final long result = peers.sendRequest(
            instance, correlationId, kind, templateId, timeoutNs, service, messageType, buffer, offset, length);
        if (PeerInboxProxy.LOG_REFUSED == result)
        {
            calls.fail(correlationId, listener, streamListener, ErrorCodes.SERVICE_UNAVAILABLE,
                "could not send to service '" + service + "' (peer " + instance.clientId + "): " + logs.refusal());
            return correlationId;
        }
        if (result < 0 && PeerInboxProxy.HELD != result) // a held request is in flight: it is finished or failed later
        {
            calls.fail(correlationId, listener, streamListener, PeerInboxProxy.offerErrorCode(result),
                "could not send to service '" + service + "' (peer " + instance.clientId + "): " +
                Publication.errorString(result));
            return correlationId;
        }

        if (RequestKind.FIRE_AND_FORGET != kind)
        {
            calls.add(correlationId, instance.clientId, timeoutNs, clock.nanoTime(), listener, streamListener);
        }

        return correlationId;
    }

    /**
     * A request that was held ({@link PeerInboxProxy#HELD}) could not be finished: its call fails now.
     *
     * @param correlationId of the call.
     * @param errorCode of the failure.
     * @param message of the failure.
     */
    void onHeldRequestFailed(final long correlationId, final String errorCode, final String message)
    {
        final PendingCall call = calls.get(correlationId);
        if (null != call)
        {
            calls.complete(call, errorCode, "could not send to peer " + call.targetClientId + ": " + message);
        }
    }

    boolean cancel(final long correlationId)
    {
        final PendingCall call = calls.get(correlationId);
        if (null == call || null == call.streamListener)
        {
            return false;
        }
        peers.sendCancel(call.targetClientId, call.correlationId);
        calls.complete(call, ErrorCodes.CANCELLED, "cancelled by the caller");
        return true;
    }

    boolean abandon(final long correlationId)
    {
        final PendingCall call = calls.get(correlationId);
        if (null == call)
        {
            return false;
        }
        if (null != call.streamListener)
        {
            peers.sendCancel(call.targetClientId, call.correlationId);
        }
        calls.forget(call);
        return true;
    }
}
