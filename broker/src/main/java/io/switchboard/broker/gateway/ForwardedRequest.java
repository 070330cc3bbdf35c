package io.switchboard.broker.gateway;

import io.switchboard.transport.DeferredReply;
import io.switchboard.transport.StreamSession;

/**
 * A request of a Java caller forwarded by {@link SocketServices} to a serving socket connection, waiting for its
 * answer: the deferred reply of a call, or the stream session of a stream.
 * <p>
 * Not thread-safe: used on the gateway's duty cycle.
 */
final class ForwardedRequest
{
    final String id;
    SchemaReplies schema; // null when the name is opaque JSON
    final GatewaySession session;
    final DeferredReply reply;
    final StreamSession stream;
    final long deadlineMs;
    long frames;

    ForwardedRequest(final String id, final GatewaySession session, final DeferredReply reply,
        final StreamSession stream, final long deadlineMs)
    {
        this.id = id;
        this.session = session;
        this.reply = reply;
        this.stream = stream;
        this.deadlineMs = deadlineMs;
    }

    /**
     * Answer the Java caller with an error: the call's reply or the stream's end.
     *
     * @param code of the error.
     * @param message naming what happened.
     */
    void fail(final String code, final String message)
    {
        if (null != reply)
        {
            reply.fail(code, message);
        }
        else
        {
            stream.fail(code, message);
        }
    }
}
