package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameEncoder;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHeader;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.frame.PushWriter;
import org.agrona.ErrorHandler;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every frame the gateway sends to a connection goes through here: encoded once (the frame's version and format
 * chosen for the connection, the v2 header written by {@link FrameEncoder#writeHeader}, the v1 header here), queued
 * within the connection's bounds, and flushed once per step of the duty cycle. A reply that cannot be encoded is
 * replaced by an error that keeps its correlation_id; a push over a bound is dropped, counted, and reported by a
 * loss notice once the connection's queue has drained; limits reached are logged once per connection.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SessionProxy
{
    static final int LOGGED_IN_FLIGHT = 1;
    static final int LOGGED_PATTERNS = 2;
    static final int LOGGED_RETAINED = 4;
    static final int LOGGED_PUSHES_DROPPED = 8;
    static final int LOGGED_SLOW_CONSUMER = 16;
    static final int LOGGED_READ_BUFFERS = 32;
    static final int LOGGED_ENCODE = 64;
    static final int LOGGED_SIZE = 128;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final GatewayContext ctx;
    private final PayloadCodec codec;
    private final GatewayCounters counters;
    private final ErrorHandler errorHandler;
    private final GatewaySession.QueueBudget queueBudget;
    private final ArrayList<GatewaySession> dirty = new ArrayList<>();
    private final List<GatewaySession> toClose;
    private GatewaySession current;
    /** Set by {@link #send} when a frame could not be encoded and an error was sent in its place. */
    private boolean replaced;
    private long nextNotificationId = 1;

    /**
     * @param ctx settings of the gateway (queue bounds, error handler).
     * @param codec to serialise payload trees with.
     * @param counters of the gateway.
     * @param queueBudget bytes queued for all connections together.
     * @param toClose connections whose socket failed on a write, closed by the conductor.
     */
    SessionProxy(
        final GatewayContext ctx,
        final PayloadCodec codec,
        final GatewayCounters counters,
        final GatewaySession.QueueBudget queueBudget,
        final List<GatewaySession> toClose)
    {
        this.ctx = ctx;
        this.codec = codec;
        this.counters = counters;
        this.errorHandler = ctx.errorHandler();
        this.queueBudget = queueBudget;
        this.toClose = toClose;
    }

    /**
     * The connection whose bytes are being decoded: what is sent to it is flushed once they are consumed, not put on
     * the dirty list.
     *
     * @param session being read, or null.
     * @return the one it replaces.
     */
    GatewaySession current(final GatewaySession session)
    {
        final GatewaySession saved = current;
        current = session;
        return saved;
    }

    /**
     * The connection whose bytes are being decoded.
     *
     * @return it, or null between reads.
     */
    GatewaySession current()
    {
        return current;
    }

    /**
     * Whether the last {@link #send} replaced its frame with a SERIALIZATION_ERROR; cleared by {@link #clearReplaced}.
     *
     * @return true if it did.
     */
    boolean replaced()
    {
        return replaced;
    }

    void clearReplaced()
    {
        replaced = false;
    }

    /**
     * Answer a request with an error: an ERROR frame, or a final STREAM frame for a stream request. Counted.
     */
    void fail(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final boolean stream,
        final String code,
        final String message)
    {
        fail(session, format, correlationId, stream, 0, code, message);
    }

    /**
     * Answer a request with an error: an ERROR frame, or a final STREAM frame at a sequence for a stream request.
     */
    void fail(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final boolean stream,
        final long sequence,
        final String code,
        final String message)
    {
        counters.error(code);
        if (stream)
        {
            send(session, FrameType.STREAM, format,
                FrameBodies.streamError(correlationId, sequence, code, message), false);
        }
        else
        {
            send(session, FrameType.ERROR, format, FrameBodies.error(correlationId, code, message), false);
        }
    }

    /**
     * Send an ERROR frame, counted by its code.
     */
    void sendError(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final ErrorCode code,
        final String message)
    {
        counters.error(code.name());
        send(session, FrameType.ERROR, format, FrameBodies.error(correlationId, code, message), false);
    }

    /**
     * Send a frame that is written now, with the connection's own flush (not put on the dirty list).
     */
    void sendNow(final GatewaySession session, final FrameType type, final FrameFormat format, final JsonNode body)
    {
        final GatewaySession saved = current;
        current = session;
        try
        {
            send(session, type, format, body, false);
        }
        finally
        {
            current = saved;
        }
    }

    /**
     * Queue a frame for a connection; flushed at the end of this step of the duty cycle.
     *
     * @param session to send to.
     * @param type of the frame.
     * @param format asked for (a v1 connection always gets JSON).
     * @param body of the frame.
     * @param droppable whether it is a push, dropped over a bound; a reply over a bound closes the connection.
     * @return true if queued.
     */
    boolean send(
        final GatewaySession session,
        final FrameType type,
        final FrameFormat format,
        final JsonNode body,
        final boolean droppable)
    {
        if (session.closed)
        {
            return false;
        }
        final FrameFormat sent = 1 == session.version ? FrameFormat.JSON : format;
        byte[] frame;
        try
        {
            frame = frame(session.version, type, sent, body);
        }
        catch (final RuntimeException ex)
        {
            if (droppable)
            {
                throw ex; // a push: the caller counts it dropped
            }
            frame = replacement(session, type, sent, body, ex);
        }
        return enqueue(session, frame, droppable);
    }

    /**
     * Queue a reply frame already encoded for this connection (its version and format); flushed at the end of this
     * step of the duty cycle.
     *
     * @param session to send to.
     * @param frame header and body.
     * @return true if queued.
     */
    boolean sendFrame(final GatewaySession session, final byte[] frame)
    {
        return !session.closed && enqueue(session, frame, false);
    }

    private boolean enqueue(final GatewaySession session, final byte[] frame, final boolean droppable)
    {
        final int result = session.enqueue(frame, droppable);
        final boolean queued = GatewaySession.QUEUED == result;
        if (queued)
        {
            counters.framesOut++;
        }
        else if (!droppable && session.overflowed && 0 == (session.loggedLimits & LOGGED_SLOW_CONSUMER))
        {
            counters.slowConsumersClosed++;
            logLimit(session, LOGGED_SLOW_CONSUMER, "closed: a reply of " + frame.length + " bytes did not fit its " +
                "outbound queue (bound " + ctx.maxQueuedBytes() + " bytes per connection, " +
                ctx.maxTotalQueuedBytes() + " for all; the gateway holds " + queueBudget.queuedBytes + ")");
        }
        if (session != current && !session.dirty)
        {
            // flushed at the end of this step of the duty cycle: one write for all the replies a poll brought
            // (replies to the connection being read are flushed once its bytes are consumed)
            session.dirty = true;
            dirty.add(session);
        }
        return queued;
    }

    /**
     * Push a publication to a subscriber, unless its push bounds are reached (then dropped and counted; the next loss
     * notice reports it).
     */
    void push(
        final GatewaySession session,
        final String subject,
        final JsonNode payload,
        final long timestampMs,
        final String sourceActor)
    {
        final long sequence = ++session.pushSequence; // a dropped push still takes its number: the gap shows it
        if (session.closed || session.closeAfterFlush)
        {
            return;
        }
        if (session.pushWouldDrop(0))
        {
            session.lostSinceNotice++;
            dropped(session, subject);
            return; // a stopped subscriber costs no encoding
        }
        final ObjectNode body = FrameBodies.push(
            "n-" + nextNotificationId++, subject, payload, timestampMs, sourceActor, sequence);
        final boolean queued;
        try
        {
            queued = send(session, FrameType.PUSH, FrameFormat.JSON, body, true);
        }
        catch (final RuntimeException ex)
        {
            session.lostSinceNotice++;
            dropped(session, subject);
            return;
        }
        if (queued)
        {
            counters.pushed(subject);
        }
        else
        {
            dropped(session, subject);
        }
    }

    /**
     * Push a publication whose payload the writer holds (streamed, no tree), unless its push bounds are reached: as
     * {@link #push(GatewaySession, String, JsonNode, long, String)} in every other respect.
     */
    void push(
        final GatewaySession session,
        final String subject,
        final PushWriter writer,
        final long timestampMs,
        final String sourceActor)
    {
        final long sequence = ++session.pushSequence; // a dropped push still takes its number: the gap shows it
        if (session.closed || session.closeAfterFlush)
        {
            return;
        }
        if (session.pushWouldDrop(0))
        {
            session.lostSinceNotice++;
            dropped(session, subject);
            return; // a stopped subscriber costs no encoding
        }
        final byte[] frame;
        try
        {
            frame = writer.frame(session.version, "n-" + nextNotificationId++, subject, timestampMs, sourceActor,
                sequence);
        }
        catch (final RuntimeException ex)
        {
            session.lostSinceNotice++;
            dropped(session, subject);
            return;
        }
        if (enqueue(session, frame, true))
        {
            counters.pushed(subject);
        }
        else
        {
            dropped(session, subject);
        }
    }

    /**
     * A push that is not even tried (over a bound of its own): it takes its number, so the gap shows it, is counted,
     * and the next loss notice reports it.
     *
     * @param session the subscriber.
     * @param subject of the dropped publication.
     */
    void drop(final GatewaySession session, final String subject)
    {
        ++session.pushSequence;
        if (session.closed || session.closeAfterFlush)
        {
            return;
        }
        session.lostSinceNotice++;
        dropped(session, subject);
    }

    private void dropped(final GatewaySession session, final String subject)
    {
        counters.dropped(subject);
        session.pushesDropped++;
        logLimit(session, LOGGED_PUSHES_DROPPED, "pushes dropped: the connection does not read them fast enough " +
            "(queued " + session.queuedBytes() + " bytes; bounds " + ctx.maxQueuedPushBytes() + " bytes of pushes per " +
            "connection, " + ctx.maxQueuedPushes() + " pushes)");
    }

    /**
     * Flush every connection that was sent to since the last call.
     */
    void flushDirty()
    {
        final ArrayList<GatewaySession> dirty = this.dirty;
        for (int i = 0, size = dirty.size(); i < size; i++)
        {
            final GatewaySession session = dirty.get(i);
            session.dirty = false;
            if (!session.closed)
            {
                flush(session);
            }
        }
        dirty.clear();
    }

    /**
     * Write what the socket takes of a connection's queue; once it has drained, a loss notice if pushes were dropped.
     * A connection whose write fails is put on the list to close.
     *
     * @param session to flush.
     * @return bytes written.
     */
    int flush(final GatewaySession session)
    {
        try
        {
            int written = session.flush();
            if (0 != session.lostSinceNotice && !session.hasQueued() && !session.closeAfterFlush && !session.closed)
            {
                sendLossNotice(session);
                written += session.flush();
            }
            return written;
        }
        catch (final IOException ex)
        {
            toClose.add(session);
            return 0;
        }
    }

    /**
     * Tell a subscriber, once its queue has drained, that pushes were dropped: a RESPONSE with an empty
     * correlation_id (which clients of protocol v2 ignore), {@code notice: "pushes_lost"}, the number dropped since
     * the last notice and the last PUSH sequence assigned, so the loss at the tail is known without a later PUSH.
     */
    private void sendLossNotice(final GatewaySession session)
    {
        final ObjectNode notice = NODES.objectNode();
        notice.put("correlation_id", "");
        notice.put("success", true);
        notice.put("notice", "pushes_lost");
        notice.put("lost", session.lostSinceNotice);
        notice.put("sequence", session.pushSequence);
        session.lostSinceNotice = 0;
        counters.lossNotices++;
        sendNow(session, FrameType.RESPONSE, FrameFormat.JSON, notice); // flushed by the caller
    }

    /**
     * Log a limit reached by a connection, once per connection and kind: repeated abuse is counted, not logged.
     */
    void logLimit(final GatewaySession session, final int kind, final String message)
    {
        if (0 == (session.loggedLimits & kind))
        {
            session.loggedLimits |= kind;
            errorHandler.onError(new GatewayLimitException("connection " + session.id + ": " + message +
                " (logged once per connection; see STATS for counts)"));
        }
    }

    /**
     * A frame that cannot be encoded in the caller's format (a MessagePack caller whose reply holds an integer
     * MessagePack cannot carry, say) is answered with an ERROR (or, for a STREAM frame, a final STREAM error) that
     * keeps its correlation_id, so the request still gets exactly one answer.
     */
    private byte[] replacement(
        final GatewaySession session,
        final FrameType type,
        final FrameFormat format,
        final JsonNode body,
        final RuntimeException ex)
    {
        replaced = true;
        counters.replyEncodeFailures++;
        counters.error(ErrorCode.SERIALIZATION_ERROR.name());
        logLimit(session, LOGGED_ENCODE, "a " + type + " frame could not be encoded as " + format + ": " + ex);
        final String correlationId = orEmpty(text(body, "correlation_id"));
        final String message = "the reply could not be converted to " + format + ": " + ex.getMessage();
        final ObjectNode error = FrameType.STREAM == type ?
            FrameBodies.streamError(correlationId, body.path("sequence").asLong(0),
                ErrorCode.SERIALIZATION_ERROR.name(), message) :
            FrameBodies.error(correlationId, ErrorCode.SERIALIZATION_ERROR, message);
        return frame(session.version, FrameType.STREAM == type ? FrameType.STREAM : FrameType.ERROR, format, error);
    }

    /**
     * Encode a whole frame: header of the given protocol version, then the body in the given format. No bound on the
     * payload's length here: what the gateway answers was bounded where it came in.
     *
     * @param version of the protocol, 1 or 2.
     * @param type of the frame.
     * @param format of the payload (a v1 header carries none: JSON).
     * @param body to serialise.
     * @return header and payload.
     */
    byte[] frame(final int version, final FrameType type, final FrameFormat format, final JsonNode body)
    {
        final byte[] payload = codec.write(format, body);
        if (1 == version)
        {
            final byte[] frame = new byte[FrameHeader.LENGTH_V1 + payload.length];
            frame[0] = (byte)(payload.length >>> 24);
            frame[1] = (byte)(payload.length >>> 16);
            frame[2] = (byte)(payload.length >>> 8);
            frame[3] = (byte)payload.length;
            frame[FrameHeader.VERSION_OFFSET] = (byte)FrameHeader.VERSION_1;
            frame[FrameHeader.TYPE_OFFSET] = (byte)type.code();
            System.arraycopy(payload, 0, frame, FrameHeader.LENGTH_V1, payload.length);
            return frame;
        }
        final byte[] frame = new byte[FrameHeader.LENGTH_V2 + payload.length];
        FrameEncoder.writeHeader(frame, 0, type, format, payload.length);
        System.arraycopy(payload, 0, frame, FrameHeader.LENGTH_V2, payload.length);
        return frame;
    }

    static String text(final JsonNode body, final String field)
    {
        final JsonNode node = body.get(field);
        return null != node && node.isTextual() ? node.asText() : null;
    }

    static String orEmpty(final String s)
    {
        return null == s ? "" : s;
    }
}
