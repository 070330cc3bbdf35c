package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.EnvelopeSalvage;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHandler;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.frame.RequestEnvelope;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.CachedNanoClock;

import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * Decodes the frames a connection sent and hands each to the part that serves it, after admission: a payload that
 * cannot be read is answered SERIALIZATION_ERROR (with the request's correlation_id when it can be salvaged), a body
 * that is not an object INVALID_REQUEST, and a frame that starts new work is refused SHUTTING_DOWN while the gateway
 * shuts down, or RATE_LIMITED over its connection's rate limit. A HEARTBEAT is echoed; a frame the protocol does not
 * let a client send is answered INVALID_REQUEST; a broken frame stream (a fatal decoding error) is answered and the
 * connection closed once flushed.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class FrameAdapter implements FrameHandler
{
    /** Frames that may offer to the gateway's own client between two polls of it, so its inbox keeps draining. */
    static final int FRAMES_PER_CLIENT_POLL = 8;

    private final GatewayContext ctx;
    private final IntSupplier pollClient;
    private final PayloadCodec codec;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final ErrorHandler errorHandler;
    private final CachedNanoClock nanoClock;
    private final BooleanSupplier admitting;
    private final RequestBridge requests;
    private final SubjectBridge subjects;
    private final Discovery discovery;
    private final GatewayStats stats;
    private final SocketServices socketServices;
    private final RequestEnvelope envelope;
    private int framesSincePoll;

    /**
     * @param ctx settings of the gateway (rate limit, error handler).
     * @param pollClient polls the gateway's own client (its duty cycle's work).
     * @param codec to read payloads with.
     * @param proxy through which answers are sent.
     * @param counters of the gateway.
     * @param nanoClock the duty cycle's cached monotonic clock (rate limits).
     * @param admitting whether frames that start new work are admitted (false once shutdown begins).
     * @param requests serves REQUEST and CANCEL.
     * @param subjects serves SUBSCRIBE, UNSUBSCRIBE and PUBLISH.
     * @param discovery serves DISCOVER.
     * @param stats serves STATS.
     * @param socketServices serves REGISTER, UNREGISTER and the replies of socket-served services.
     */
    FrameAdapter(
        final GatewayContext ctx,
        final IntSupplier pollClient,
        final PayloadCodec codec,
        final SessionProxy proxy,
        final GatewayCounters counters,
        final CachedNanoClock nanoClock,
        final BooleanSupplier admitting,
        final RequestBridge requests,
        final SubjectBridge subjects,
        final Discovery discovery,
        final GatewayStats stats,
        final SocketServices socketServices)
    {
        this.ctx = ctx;
        this.pollClient = pollClient;
        this.codec = codec;
        this.proxy = proxy;
        this.counters = counters;
        this.errorHandler = ctx.errorHandler();
        this.nanoClock = nanoClock;
        this.admitting = admitting;
        this.requests = requests;
        this.subjects = subjects;
        this.discovery = discovery;
        this.stats = stats;
        this.socketServices = socketServices;
        this.envelope = new RequestEnvelope(codec);
    }

    /**
     * Decode and handle the whole frames among bytes a connection sent; the rest stays in its decoder. What is sent to
     * this connection meanwhile is flushed by the caller, once, afterwards.
     *
     * @param session the bytes came from.
     * @param bytes read from it, in read mode.
     * @return the number of whole frames handled.
     */
    int decode(final GatewaySession session, final ByteBuffer bytes)
    {
        final GatewaySession saved = proxy.current(session);
        framesSincePoll = 0;
        try
        {
            return session.decoder.decode(bytes, this);
        }
        finally
        {
            proxy.current(saved);
        }
    }

    /**
     * {@inheritDoc}
     */
    public void onFrame(
        final int version, final FrameType type, final FrameFormat format, final byte[] payload, final int offset,
        final int length)
    {
        final GatewaySession session = proxy.current();
        session.version = version;
        if (++framesSincePoll >= FRAMES_PER_CLIENT_POLL)
        {
            // many frames in one read: let the gateway's own client drain its inbox between them, so requests it
            // sends to the socket services it holds itself (and their replies) never back-pressure its offers
            framesSincePoll = 0;
            pollClient.getAsInt();
        }
        if (FrameType.HEARTBEAT == type)
        {
            proxy.send(session, FrameType.HEARTBEAT, FrameFormat.JSON, FrameBodies.heartbeat(), false);
            return;
        }

        if (FrameType.REQUEST == type && envelope.read(format, payload, offset, length))
        {
            onRequest(session, format, envelope); // a well-formed REQUEST: read with no tree
            return;
        }

        final JsonNode body;
        try
        {
            body = codec.read(format, payload, offset, length);
        }
        catch (final FrameException ex)
        {
            counters.badPayloads++;
            // answer the request the refused bytes belong to, when its correlation id can still be read (a stream
            // request with a final STREAM frame, as every refusal of a stream)
            final EnvelopeSalvage.Result salvaged = EnvelopeSalvage.salvage(format, payload, offset, length);
            if (FrameType.REQUEST == type && salvaged.expectsStream && !salvaged.correlationId.isEmpty())
            {
                proxy.fail(session, format, salvaged.correlationId, true, 0, ErrorCode.SERIALIZATION_ERROR.name(),
                    ex.getMessage());
            }
            else
            {
                proxy.sendError(session, format, salvaged.correlationId, ErrorCode.SERIALIZATION_ERROR, ex.getMessage());
            }
            return;
        }
        if (!body.isObject())
        {
            counters.badPayloads++;
            proxy.sendError(session, format, "", ErrorCode.INVALID_REQUEST, "expected an object, found " + body.getNodeType());
            return;
        }
        final String correlationId = SessionProxy.text(body, "correlation_id");
        if (isLimited(type) && refused(session, type, format, correlationId,
            FrameType.REQUEST == type && body.path("expects_stream").asBoolean(false)))
        {
            return;
        }
        try
        {
            switch (type)
            {
                case REQUEST:
                    requests.onRequest(session, format, (ObjectNode)body);
                    counters.requestTaken = null; // refusals of this request are told to monitors up to here
                    break;
                case CANCEL:
                    requests.onCancel(session, format, correlationId);
                    break;
                case SUBSCRIBE:
                    subjects.onSubscribe(session, format, correlationId, body, true);
                    break;
                case UNSUBSCRIBE:
                    subjects.onSubscribe(session, format, correlationId, body, false);
                    break;
                case PUBLISH:
                    subjects.onPublish(session, format, correlationId, body);
                    break;
                case DISCOVER:
                    discovery.onDiscover(session, format, correlationId, body);
                    break;
                case STATS:
                    stats.onStats(session, format, correlationId, body);
                    break;
                case REGISTER:
                    socketServices.onRegister(session, format, correlationId, body);
                    break;
                case UNREGISTER:
                    socketServices.onUnregister(session, format, correlationId, body);
                    break;
                case RESPONSE:
                case ERROR:
                case STREAM:
                    socketServices.onReply(session, type, format, body);
                    break;
                default:
                    proxy.sendError(session, format, SessionProxy.orEmpty(correlationId), ErrorCode.INVALID_REQUEST,
                        "no request was routed to this connection; a client does not send " + type);
                    break;
            }
        }
        catch (final RuntimeException ex)
        {
            errorHandler.onError(ex);
            proxy.sendError(session, format, SessionProxy.orEmpty(correlationId), ErrorCode.INTERNAL_ERROR, ex.toString());
        }
    }

    private void onRequest(final GatewaySession session, final FrameFormat format, final RequestEnvelope envelope)
    {
        final String correlationId = envelope.correlationId();
        if (refused(session, FrameType.REQUEST, format, correlationId, envelope.expectsStream()))
        {
            return;
        }
        try
        {
            requests.onRequest(session, format, envelope);
            counters.requestTaken = null; // refusals of this request are told to monitors up to here
        }
        catch (final RuntimeException ex)
        {
            errorHandler.onError(ex);
            proxy.sendError(session, format, correlationId, ErrorCode.INTERNAL_ERROR, ex.toString());
        }
    }

    /**
     * {@inheritDoc}
     */
    public void onFatalError(final ErrorCode code, final String reason)
    {
        final GatewaySession session = proxy.current();
        counters.protocolErrors++;
        proxy.send(session, FrameType.ERROR, FrameFormat.JSON, FrameBodies.error("", code, reason), false);
        session.closeAfterFlush = true;
    }

    private static boolean isLimited(final FrameType type)
    {
        return FrameType.REQUEST == type || FrameType.PUBLISH == type || FrameType.SUBSCRIBE == type ||
            FrameType.REGISTER == type;
    }

    /**
     * Refuse a frame that starts new work when the gateway is shutting down (REQUEST, PUBLISH, SUBSCRIBE, REGISTER)
     * or the connection is over its rate limit (REQUEST, PUBLISH, SUBSCRIBE). A PUBLISH without a correlation_id
     * expects no answer and is only counted.
     */
    private boolean refused(
        final GatewaySession session,
        final FrameType type,
        final FrameFormat format,
        final String correlationId,
        final boolean stream)
    {
        final String code;
        final String message;
        if (!admitting.getAsBoolean())
        {
            counters.refusedShuttingDown++;
            code = ErrorCode.SHUTTING_DOWN.name();
            message = "the broker is shutting down";
        }
        else if (null != session.rateLimit && FrameType.REGISTER != type &&
            !session.rateLimit.tryAcquire(nanoClock.nanoTime()))
        {
            counters.rateLimited++;
            code = ErrorCode.RATE_LIMITED.name();
            message = "over this connection's limit of " + ctx.rateLimit() + " frames/s (burst " +
                ctx.rateLimitBurst() + ")";
        }
        else
        {
            return false;
        }
        if (FrameType.PUBLISH == type && null == correlationId)
        {
            counters.error(code);
            return true;
        }
        proxy.fail(session, format, SessionProxy.orEmpty(correlationId), stream, 0, code, message);
        return true;
    }
}
