package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.frame.RequestEnvelope;
import io.switchboard.codec.frame.ResponseWriter;
import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.json.TranscodeException;
import io.switchboard.codec.json.UnknownMessageTypeException;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.RouteTable;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Socket REQUESTs to services, through the gateway's own client: admission within the in-flight bounds, the payload
 * transcoded to SBE by the service's schema (or passed as JSON to an opaque type), one pending call per request
 * (keyed by the client's correlation id on its connection and by the gateway's id), the answers relayed back as
 * RESPONSE, ERROR or STREAM frames, CANCEL, and the fail-all of a closing connection or a shutdown.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle (the client's listeners are invoked from its {@code poll()}).
 */
final class RequestBridge
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long DEFAULT_TIMEOUT_MS = 30_000;

    private final GatewayContext ctx;
    private final GatewayClient client;
    private final PayloadCodec codec;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final Transcoders transcoders;
    private final ExpandableArrayBuffer sbeBuffer = new ExpandableArrayBuffer(4096);
    private final UnsafeBuffer jsonBuffer = new UnsafeBuffer(new byte[0]);
    private final Long2ObjectHashMap<PendingCall> pendingById = new Long2ObjectHashMap<>();
    private final Listener listener = new Listener();
    private final ResponseWriter responseWriter;
    private PendingCall callInProgress;
    /** Calls whose request the client holds for a full Java inbox, their connections not read meanwhile. */
    private final ArrayList<PendingCall> heldCalls = new ArrayList<>();

    /**
     * @param ctx settings of the gateway (in-flight bounds).
     * @param client the gateway's own Java client, whose route table (services, their types and schemas) is the one
     * view a request is checked against and then routed by.
     * @param codec to read and write payloads with.
     * @param proxy through which frames are sent.
     * @param counters of the gateway.
     * @param transcoders of the schemas met.
     */
    RequestBridge(
        final GatewayContext ctx,
        final GatewayClient client,
        final PayloadCodec codec,
        final SessionProxy proxy,
        final GatewayCounters counters,
        final Transcoders transcoders)
    {
        this.ctx = ctx;
        this.client = client;
        this.codec = codec;
        this.proxy = proxy;
        this.counters = counters;
        this.transcoders = transcoders;
        this.responseWriter = new ResponseWriter(codec);
    }

    /**
     * Calls waiting for a Java answer.
     *
     * @return how many.
     */
    int inFlight()
    {
        return pendingById.size();
    }

    /**
     * Answer every call still in flight SHUTTING_DOWN (a stream is also cancelled at its service).
     */
    void answerAllShuttingDown()
    {
        if (pendingById.isEmpty())
        {
            return;
        }
        for (final PendingCall call : new ArrayList<>(pendingById.values()))
        {
            if (call.done)
            {
                continue;
            }
            finish(call);
            if (call.stream)
            {
                client.cancel(call.gatewayId); // tell the service; the listener's CANCELLED finds the call done
            }
            proxy.fail(call.session, call.format, call.clientCorrelationId, call.stream, call.frames,
                ErrorCode.SHUTTING_DOWN.name(), "the broker is shutting down");
        }
    }

    /**
     * Forget the calls of a closing connection now rather than at their timeouts (a stream is also cancelled).
     *
     * @param session that closes.
     */
    void onSessionClosed(final GatewaySession session)
    {
        for (final PendingCall call : new ArrayList<>(session.pendingByClientId.values()))
        {
            if (!call.done)
            {
                // nobody is left to answer: forget it now rather than at its timeout (a stream is also cancelled)
                client.abandon(call.gatewayId);
                finish(call);
            }
        }
        session.pendingByClientId.clear();
    }

    void onRequest(final GatewaySession session, final FrameFormat format, final ObjectNode body)
    {
        final JsonNode timeout = body.path("response_timeout_ms");
        onRequest(session, format, SessionProxy.text(body, "correlation_id"), SessionProxy.text(body, "target"),
            SessionProxy.text(body, "message_type"), body.path("expects_stream").asBoolean(false),
            body.path("expects_reply").asBoolean(false), timeout.asLong(DEFAULT_TIMEOUT_MS), body, null);
    }

    /**
     * A REQUEST read by the streaming fast path: no tree unless the service's type is transcoded from one.
     *
     * @param session the request came from.
     * @param format of its body.
     * @param envelope the body, read.
     */
    void onRequest(final GatewaySession session, final FrameFormat format, final RequestEnvelope envelope)
    {
        final long timeoutMs = envelope.timeoutMs();
        onRequest(session, format, envelope.correlationId(), envelope.target(), envelope.messageType(),
            envelope.expectsStream(), envelope.expectsReply(),
            RequestEnvelope.NO_TIMEOUT == timeoutMs ? DEFAULT_TIMEOUT_MS : timeoutMs, null, envelope);
    }

    private void onRequest(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final String target,
        final String messageType,
        final boolean expectsStream,
        final boolean expectsReply,
        final long timeoutMs,
        final ObjectNode body,
        final RequestEnvelope envelope)
    {
        if (null == correlationId || null == target || null == messageType)
        {
            proxy.fail(session, format, SessionProxy.orEmpty(correlationId), expectsStream, ErrorCode.INVALID_REQUEST.name(),
                "a REQUEST needs string fields correlation_id, target and message_type");
            return;
        }
        if (timeoutMs <= 0)
        {
            proxy.fail(session, format, correlationId, expectsStream, ErrorCode.INVALID_REQUEST.name(),
                "response_timeout_ms must be positive, found " + timeoutMs);
            return;
        }
        if (session.pendingByClientId.containsKey(correlationId))
        {
            proxy.fail(session, format, correlationId, expectsStream, ErrorCode.INVALID_REQUEST.name(),
                "correlation_id '" + correlationId + "' is already in flight on this connection");
            return;
        }
        if ((expectsReply || expectsStream) && (session.pendingByClientId.size() >= ctx.maxRequestsInFlight() ||
            pendingById.size() >= ctx.maxTotalRequestsInFlight()))
        {
            counters.inFlightLimited++;
            final boolean mine = session.pendingByClientId.size() >= ctx.maxRequestsInFlight();
            final String message = mine ?
                "this connection has " + session.pendingByClientId.size() + " requests in flight, its limit is " +
                ctx.maxRequestsInFlight() + "; wait for answers" :
                "the gateway has " + pendingById.size() + " requests in flight, its limit is " +
                ctx.maxTotalRequestsInFlight();
            proxy.logLimit(session, SessionProxy.LOGGED_IN_FLIGHT, message);
            proxy.fail(session, format, correlationId, expectsStream, ErrorCode.RATE_LIMITED.name(), message);
            return;
        }
        counters.request(target);

        final RouteTable.Route service = client.routes().route(target);
        if (null == service)
        {
            proxy.fail(session, format, correlationId, expectsStream, ErrorCode.ACTOR_NOT_FOUND.name(),
                "no service named '" + target + "'");
            return;
        }
        final int templateId = service.templateId(messageType);
        if (Integer.MIN_VALUE == templateId)
        {
            proxy.fail(session, format, correlationId, expectsStream, ErrorCode.UNKNOWN_MESSAGE_TYPE.name(),
                "service '" + target + "' has no message type '" + messageType + "'; it has " +
                service.messageTypes().keySet());
            return;
        }

        final DirectBuffer buffer;
        final int length;
        SbeJsonTranscoder transcoder = null;
        if (templateId < 0)
        {
            if (null != envelope)
            {
                // compact JSON, as the tree path writes it; often the frame's own bytes, not copied
                length = envelope.payloadJsonLength();
                jsonBuffer.wrap(envelope.payloadJson(), envelope.payloadJsonOffset(), length);
            }
            else
            {
                final byte[] json = codec.write(FrameFormat.JSON, body.has("payload") ? body.get("payload") :
                    NODES.nullNode());
                jsonBuffer.wrap(json);
                length = json.length;
            }
            buffer = jsonBuffer;
        }
        else
        {
            try
            {
                final byte[] ir = client.routes().schemaIr(service);
                if (null == ir)
                {
                    proxy.fail(session, format, correlationId, expectsStream, ErrorCode.SERIALIZATION_ERROR.name(),
                        "service '" + target + "' takes SBE (schema id " + service.schemaId() + " version " +
                        service.schemaVersion() + ") and the gateway does not hold that schema");
                    return;
                }
                transcoder = transcoders.of(ir);
                final JsonNode payload = null != envelope ? envelope.payloadTree() :
                    body.has("payload") ? body.get("payload") : NODES.nullNode();
                length = transcoder.encode(messageType, payload, sbeBuffer, 0);
                buffer = sbeBuffer;
            }
            catch (final UnknownMessageTypeException ex)
            {
                proxy.fail(session, format, correlationId, expectsStream, ErrorCode.UNKNOWN_MESSAGE_TYPE.name(),
                    ex.getMessage());
                return;
            }
            catch (final TranscodeException ex)
            {
                proxy.fail(session, format, correlationId, expectsStream, ErrorCode.SERIALIZATION_ERROR.name(),
                    ex.getMessage());
                return;
            }
        }

        final long timeoutNs = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        if (!expectsStream && !expectsReply)
        {
            try
            {
                client.send(target, messageType, buffer, 0, length);
                final ObjectNode status = NODES.objectNode().put("status", "delivered");
                proxy.send(session, FrameType.RESPONSE, format, FrameBodies.response(correlationId, status), false);
            }
            catch (final SwitchboardException ex)
            {
                proxy.fail(session, format, correlationId, false, ex.errorCode(), ex.getMessage());
            }
            return;
        }

        final PendingCall call = new PendingCall(session, correlationId, target, expectsStream, format, transcoder);
        callInProgress = call;
        final long id;
        try
        {
            id = expectsStream ?
                client.stream(target, messageType, buffer, 0, length, timeoutNs, listener) :
                client.request(target, messageType, buffer, 0, length, timeoutNs, listener);
        }
        finally
        {
            callInProgress = null;
        }
        call.gatewayId = id;
        if (!call.done)
        {
            pendingById.put(id, call);
            session.pendingByClientId.put(correlationId, call);
            if (client.isRequestHeld(id))
            {
                // the service's inbox has no room yet: the client resumes it each duty cycle (or fails the call
                // TARGET_BUSY), and this connection is not read meanwhile, so one slow service slows only its callers
                call.held = true;
                heldCalls.add(call);
                if (1 == ++session.heldRequests)
                {
                    session.updateInterest();
                }
            }
        }
    }

    /**
     * Read again the connections none of whose requests is held any longer (taken by the service's inbox, or
     * failed). Called each duty cycle; costs nothing when none is held.
     *
     * @return how many were let go.
     */
    int releaseHeld()
    {
        if (heldCalls.isEmpty())
        {
            return 0;
        }
        int work = 0;
        for (int i = heldCalls.size() - 1; i >= 0; i--)
        {
            final PendingCall call = heldCalls.get(i);
            if (call.done || !client.isRequestHeld(call.gatewayId))
            {
                heldCalls.remove(i);
                call.held = false;
                if (0 == --call.session.heldRequests)
                {
                    call.session.updateInterest();
                }
                work++;
            }
        }
        return work;
    }

    /**
     * Calls whose request waits for room in a Java inbox.
     *
     * @return how many.
     */
    int heldRequests()
    {
        return heldCalls.size();
    }

    void onCancel(final GatewaySession session, final FrameFormat format, final String correlationId)
    {
        if (null == correlationId)
        {
            proxy.sendError(session, format, "", ErrorCode.INVALID_REQUEST, "a CANCEL needs a correlation_id");
            return;
        }
        final PendingCall call = session.pendingByClientId.get(correlationId);
        if (null == call || call.done)
        {
            return; // already answered: nothing to cancel
        }
        counters.cancels++;
        if (call.stream)
        {
            client.cancel(call.gatewayId); // the listener sends the final CANCELLED frame at once
        }
        if (!call.done)
        {
            finish(call);
            if (call.stream)
            {
                proxy.send(session, FrameType.STREAM, call.format, FrameBodies.streamError(
                    correlationId, call.frames, ErrorCode.CANCELLED.name(), "cancelled by the client"), false);
            }
            else
            {
                proxy.send(session, FrameType.ERROR, call.format, FrameBodies.error(
                    correlationId, ErrorCode.CANCELLED, "cancelled by the client"), false);
            }
        }
    }

    private PendingCall take(final long id, final boolean terminal)
    {
        PendingCall call = pendingById.get(id);
        if (null == call && null != callInProgress && !callInProgress.done)
        {
            call = callInProgress; // answered from inside request()/stream(), before its id was known
        }
        if (null == call || call.done)
        {
            return null;
        }
        if (terminal)
        {
            finish(call);
        }
        return call.session.closed ? null : call;
    }

    private void finish(final PendingCall call)
    {
        call.done = true;
        if (Long.MIN_VALUE != call.gatewayId)
        {
            pendingById.remove(call.gatewayId);
        }
        call.session.pendingByClientId.remove(call.clientCorrelationId);
    }

    private JsonNode decodeReply(final PendingCall call, final DirectBuffer buffer, final int offset, final int length)
    {
        if (0 == length)
        {
            return null;
        }
        if (null != call.transcoder)
        {
            try
            {
                return call.transcoder.decode(buffer, offset, length);
            }
            catch (final TranscodeException ex)
            {
                // not a message of the service's schema: perhaps JSON after all
            }
        }
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        try
        {
            return codec.read(FrameFormat.JSON, bytes, 0, length);
        }
        catch (final FrameException ex)
        {
            return NODES.textNode(new String(bytes, StandardCharsets.UTF_8));
        }
    }

    /**
     * A reply that could not be built (its conversion threw): the caller still gets exactly one answer.
     */
    private void answerFailed(final PendingCall call, final RuntimeException ex)
    {
        counters.replyEncodeFailures++;
        proxy.logLimit(call.session, SessionProxy.LOGGED_ENCODE, "a reply for '" + call.target + "' could not be converted: " + ex);
        if (!call.done)
        {
            finish(call);
            if (call.stream)
            {
                client.cancel(call.gatewayId); // tell the service; its CANCELLED finds the call done
            }
        }
        if (!call.session.closed)
        {
            proxy.fail(call.session, call.format, call.clientCorrelationId, call.stream, call.frames,
                ErrorCode.SERIALIZATION_ERROR.name(), "the reply could not be converted to " + call.format + ": " +
                ex.getMessage());
        }
    }

    private final class Listener implements ResponseListener, StreamListener
    {
        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
            final PendingCall call = take(correlationId, true);
            if (null != call)
            {
                counters.response(call.target, System.nanoTime() - call.startNs);
                try
                {
                    if (null == call.transcoder && length > 0 && !call.session.closed)
                    {
                        // an opaque reply: JSON text streamed into the frame, no tree (null: the tree path decides)
                        // copied once, into its place in the frame, and checked there
                        final int version = call.session.version;
                        final byte[] frame = responseWriter.response(
                            version, 1 == version ? FrameFormat.JSON : call.format, call.clientCorrelationId, buffer,
                            offset, length);
                        if (null != frame)
                        {
                            proxy.sendFrame(call.session, frame);
                            return;
                        }
                    }
                    proxy.send(call.session, FrameType.RESPONSE, call.format,
                        FrameBodies.response(call.clientCorrelationId, decodeReply(call, buffer, offset, length)), false);
                }
                catch (final RuntimeException ex)
                {
                    answerFailed(call, ex);
                }
            }
        }

        public void onFrame(
            final long correlationId, final long sequence, final DirectBuffer buffer, final int offset, final int length)
        {
            final PendingCall call = take(correlationId, false);
            if (null != call)
            {
                try
                {
                    proxy.clearReplaced();
                    proxy.send(call.session, FrameType.STREAM, call.format, FrameBodies.streamData(
                        call.clientCorrelationId, call.frames, decodeReply(call, buffer, offset, length)), false);
                    call.frames++;
                    if (proxy.replaced() && !call.done)
                    {
                        // the frame went out as a final SERIALIZATION_ERROR frame: the stream is over for the caller
                        finish(call);
                        client.cancel(call.gatewayId);
                    }
                }
                catch (final RuntimeException ex)
                {
                    answerFailed(call, ex);
                }
            }
        }

        public void onEnd(final long correlationId, final long frameCount)
        {
            final PendingCall call = take(correlationId, true);
            if (null != call)
            {
                counters.response(call.target, System.nanoTime() - call.startNs);
                proxy.send(call.session, FrameType.STREAM, call.format,
                    FrameBodies.streamEnd(call.clientCorrelationId, call.frames), false);
            }
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            final PendingCall call = take(correlationId, true);
            if (null != call)
            {
                counters.serviceError(call.target, errorCode);
                if (call.stream)
                {
                    proxy.send(call.session, FrameType.STREAM, call.format, FrameBodies.streamError(
                        call.clientCorrelationId, call.frames, errorCode, message), false);
                }
                else
                {
                    proxy.send(call.session, FrameType.ERROR, call.format,
                        FrameBodies.error(call.clientCorrelationId, errorCode, message), false);
                }
            }
        }
    }
}
