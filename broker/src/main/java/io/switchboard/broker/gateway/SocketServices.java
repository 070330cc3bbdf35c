package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.transport.RouteTable;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.ServiceRequest;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Services that socket clients serve (REGISTER): the gateway holds each name as a Java service of its own client,
 * forwards every request for it to one of the connections that registered it, as a REQUEST frame with a
 * gateway-chosen correlation id, and relays that connection's RESPONSE / ERROR / STREAM frames back to the caller.
 * <p>
 * A connection may join, mode shared, a name Java peers already serve with an SBE schema: the gateway then serves its
 * share with that schema and the same template ids, turns each SBE request into JSON for the connection and each
 * JSON answer back into SBE ({@link SchemaReplies}). Types that differ by name are refused, naming both lists.
 * <p>
 * A reply from a connection the request was not routed to is refused. When a serving connection closes, what it
 * had in flight is answered {@code SERVICE_UNAVAILABLE}, and a name no connection serves any more is withdrawn.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle (the client's handlers are invoked from its {@code poll()}).
 */
final class SocketServices
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long REPLY_MARGIN_MS = 2_000;

    private final GatewayClient client;
    private final Transcoders transcoders;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final Map<String, ServedName> byName = new HashMap<>();
    private final Map<String, ForwardedRequest> inFlight = new HashMap<>();
    /** Names being withdrawn at the broker: a REGISTER for one waits for the withdrawal's answer. */
    private final Map<String, CompletableFuture<Void>> withdrawing = new HashMap<>();
    /** REGISTER frames to handle again on the next duty cycle, once a withdrawal was answered. */
    private final List<Runnable> retries = new ArrayList<>();
    private final SocketPayloads payloads;
    private long nextId = 1;
    private long nowMs;

    /**
     * @param client the gateway's own Java client, which serves the names for the connections; its route table tells
     * which names Java peers serve, with which types and schema.
     * @param transcoders of the schemas met.
     * @param codec of JSON and MessagePack payloads.
     * @param proxy through which frames go out.
     * @param counters of the gateway.
     */
    SocketServices(
        final GatewayClient client,
        final Transcoders transcoders,
        final PayloadCodec codec,
        final SessionProxy proxy,
        final GatewayCounters counters)
    {
        this.client = client;
        this.transcoders = transcoders;
        this.payloads = new SocketPayloads(codec);
        this.proxy = proxy;
        this.counters = counters;
    }

    boolean isSocketService(final String name)
    {
        return byName.containsKey(name);
    }

    /** The names socket clients serve; do not modify. */
    Set<String> names()
    {
        return byName.keySet();
    }

    /** The connections that serve a name, in round-robin order; empty when none; do not modify. */
    List<GatewaySession> owners(final String name)
    {
        final ServedName served = byName.get(name);
        return null == served ? List.of() : served.owners;
    }

    void onRegister(final GatewaySession session, final FrameFormat format, final String correlationId,
        final JsonNode body)
    {
        final SocketRegistration registration = SocketRegistration.parse(correlationId, body);
        if (null != registration.problem)
        {
            error(session, format, correlationId, ErrorCode.INVALID_REQUEST, registration.problem);
            return;
        }
        final String name = registration.name;
        final boolean shared = registration.shared;
        final Set<String> types = registration.types;

        final ServedName existing = byName.get(name);
        if (null != existing)
        {
            if (existing.owners.contains(session))
            {
                error(session, format, correlationId, ErrorCode.NAME_IN_USE, "this connection already serves '" + name + "'");
                return;
            }
            if (!existing.shared || !shared)
            {
                error(session, format, correlationId, ErrorCode.NAME_IN_USE, "'" + name + "' is held " +
                    (existing.shared ? "shared" : "exclusive") + " by another connection");
                return;
            }
            if (types.isEmpty() && null != existing.schema)
            {
                types.addAll(existing.messageTypes); // joining a name Java peers share with SBE: adopt its types
            }
            if (!existing.messageTypes.equals(types))
            {
                error(session, format, correlationId, ErrorCode.INVALID_REQUEST, "shared service '" + name +
                    "' takes " + existing.messageTypes + ", this connection offered " + types);
                return;
            }
            existing.owners.add(session);
            if (existing.registered)
            {
                registered(session, format, correlationId, name);
            }
            else
            {
                existing.waiting.add(new ServedName.Waiting(session, format, correlationId));
            }
            return;
        }
        final CompletableFuture<Void> withdrawal = withdrawing.get(name);
        if (null != withdrawal)
        {
            // the last connection serving it just left and the broker has not yet answered the withdrawal: register
            // the name again once it has, from the duty cycle (never from inside the client's poll)
            withdrawal.whenComplete((v, ex) -> retries.add(() ->
            {
                if (!session.closed)
                {
                    onRegister(session, format, correlationId, body);
                }
            }));
            return;
        }

        final RouteTable.Route javaServedName = client.routes().route(name);
        final ServiceDefinition definition = registration.definition(javaServedName,
            null == javaServedName ? null : client.routes().schemaIr(javaServedName), transcoders, this::onRequest,
            this::onStream);
        if (null == definition)
        {
            error(session, format, correlationId, ErrorCode.INVALID_REQUEST, registration.problem);
            return;
        }
        final ServedName served = new ServedName(name, shared, types, registration.schema);
        served.owners.add(session);
        served.waiting.add(new ServedName.Waiting(session, format, correlationId));
        byName.put(name, served);
        // answered when the broker's answer arrives (inside a later poll of the client): nothing here waits for it
        client.serve(definition).whenComplete((v, ex) -> onServeAnswer(served, ex));
    }

    private void onServeAnswer(final ServedName served, final Throwable failure)
    {
        if (null == failure)
        {
            served.registered = true;
            for (final ServedName.Waiting w : served.waiting)
            {
                if (!w.session.closed)
                {
                    registered(w.session, w.format, w.correlationId, served.name);
                }
            }
            served.waiting.clear();
            return;
        }
        // refused by the broker (NAME_IN_USE: a Java peer holds it; INVALID_REQUEST: other types), or the broker was
        // lost: every connection that asked gets that answer, and nobody serves the name from here
        if (byName.get(served.name) == served)
        {
            byName.remove(served.name);
        }
        served.owners.clear();
        final Throwable cause = failure instanceof CompletionException && null != failure.getCause() ?
            failure.getCause() : failure;
        final ErrorCode code = cause instanceof SwitchboardException ?
            codeOf(((SwitchboardException)cause).errorCode()) : ErrorCode.INTERNAL_ERROR;
        for (final ServedName.Waiting w : served.waiting)
        {
            if (!w.session.closed)
            {
                error(w.session, w.format, w.correlationId, code, cause.getMessage());
            }
        }
        served.waiting.clear();
    }

    /**
     * REGISTER frames that waited for a withdrawal of their name, handled again now, on the duty cycle.
     *
     * @return how many.
     */
    int retryRegistrations()
    {
        final int size = retries.size();
        for (int i = 0; i < size; i++)
        {
            retries.get(i).run();
        }
        retries.subList(0, size).clear();
        return size;
    }

    void onUnregister(final GatewaySession session, final FrameFormat format, final String correlationId,
        final JsonNode body)
    {
        final String name = text(body, "service");
        final ServedName served = null == name ? null : byName.get(name);
        if (null == served || !served.owners.contains(session))
        {
            error(session, format, correlationId, ErrorCode.ACTOR_NOT_FOUND,
                "this connection does not serve '" + name + "'");
            return;
        }
        answerWaiting(served, session); // its REGISTER, answered before its UNREGISTER
        final ObjectNode reply = FrameBodies.response(null == correlationId ? "" : correlationId, null);
        reply.put("service", name);
        final CompletableFuture<Void> withdrawal = withdraw(served, session);
        if (null == withdrawal || withdrawal.isDone())
        {
            proxy.send(session, FrameType.RESPONSE, format, reply, false);
            return;
        }
        // the last connection serving it: answered once the broker withdrew the name (its route removal comes
        // first), so that a request after the answer is ACTOR_NOT_FOUND; nothing waits for it meanwhile
        withdrawal.whenComplete((v, ex) ->
        {
            if (!session.closed)
            {
                proxy.send(session, FrameType.RESPONSE, format, reply, false);
            }
        });
    }

    /**
     * A RESPONSE, ERROR or STREAM frame from a serving connection.
     */
    void onReply(final GatewaySession session, final FrameType type, final FrameFormat format, final JsonNode body)
    {
        final String id = text(body, "correlation_id");
        final ForwardedRequest forwarded = null == id ? null : inFlight.get(id);
        if (null == forwarded && isIssued(id))
        {
            counters.lateReplies++; // cancelled, timed out or already answered: the race is the service's to lose
            return;
        }
        if (null == forwarded)
        {
            error(session, format, id, ErrorCode.INVALID_REQUEST,
                "no request with correlation_id '" + id + "' is waiting for an answer from this connection");
            return;
        }
        if (forwarded.session != session)
        {
            error(session, format, id, ErrorCode.FORBIDDEN,
                "request '" + id + "' was not routed to this connection; its reply is refused");
            return;
        }

        if (FrameType.STREAM == type)
        {
            if (null == forwarded.stream)
            {
                error(session, format, id, ErrorCode.INVALID_REQUEST, "request '" + id + "' is not a stream");
                return;
            }
            if (!body.path("is_final").asBoolean(false))
            {
                forwarded.frames++;
                final int length = payloads.reply(forwarded.schema, id, body);
                if (length < 0)
                {
                    inFlight.remove(id);
                    forwarded.stream.fail(ErrorCode.SERIALIZATION_ERROR.name(), payloads.problem());
                    error(session, format, id, ErrorCode.SERIALIZATION_ERROR, payloads.problem());
                    return;
                }
                try
                {
                    if (!forwarded.stream.send(payloads.replyBuffer(), 0, length))
                    {
                        inFlight.remove(id); // cancelled or the caller is gone: the connection was told by CANCEL
                    }
                }
                catch (final SwitchboardException ex)
                {
                    // over the maximum: the caller's stream ended with the code, the serving connection is told
                    inFlight.remove(id);
                    error(session, format, id, ErrorCode.PAYLOAD_TOO_LARGE, ex.getMessage());
                }
                return;
            }
            inFlight.remove(id);
            if (body.hasNonNull("error_code") || body.hasNonNull("error"))
            {
                forwarded.stream.fail(body.path("error_code").asText(ErrorCode.INTERNAL_ERROR.name()),
                    body.path("error").asText(""));
            }
            else
            {
                forwarded.stream.end();
            }
            return;
        }

        if (null == forwarded.reply)
        {
            error(session, format, id, ErrorCode.INVALID_REQUEST,
                "request '" + id + "' is a stream: answer with STREAM frames");
            return;
        }
        inFlight.remove(id);
        if (FrameType.RESPONSE == type && body.path("success").asBoolean(true))
        {
            final int length = payloads.reply(forwarded.schema, id, body);
            if (length < 0)
            {
                forwarded.reply.fail(ErrorCode.SERIALIZATION_ERROR.name(), payloads.problem());
                error(session, format, id, ErrorCode.SERIALIZATION_ERROR, payloads.problem());
                return;
            }
            try
            {
                forwarded.reply.reply(payloads.replyBuffer(), 0, length);
            }
            catch (final SwitchboardException ex)
            {
                // over the maximum: the caller got the code in its place, the serving connection is told
                error(session, format, id, ErrorCode.PAYLOAD_TOO_LARGE, ex.getMessage());
            }
        }
        else
        {
            forwarded.reply.fail(body.path("error_code").asText(ErrorCode.INTERNAL_ERROR.name()),
                body.path("error").asText(""));
        }
    }

    /**
     * A connection closed: answer what it had in flight and withdraw what only it served.
     */
    void onSessionClosed(final GatewaySession session)
    {
        final Iterator<ForwardedRequest> it = inFlight.values().iterator();
        while (it.hasNext())
        {
            final ForwardedRequest forwarded = it.next();
            if (forwarded.session == session)
            {
                it.remove();
                forwarded.fail(ErrorCode.SERVICE_UNAVAILABLE.name(), "the serving connection closed");
            }
        }
        for (final ServedName served : new ArrayList<>(byName.values()))
        {
            if (served.owners.contains(session))
            {
                withdraw(served, session);
            }
        }
    }

    /**
     * Requests forwarded to serving connections and not yet answered.
     */
    int inFlight()
    {
        return inFlight.size();
    }

    /**
     * The broker is shutting down: answer every forwarded request still in flight {@code SHUTTING_DOWN}, and tell
     * each serving connection (CANCEL) that its answer is no longer awaited.
     */
    void shutDown()
    {
        if (inFlight.isEmpty())
        {
            return;
        }
        final List<ForwardedRequest> left = new ArrayList<>(inFlight.values());
        inFlight.clear();
        for (final ForwardedRequest forwarded : left)
        {
            forwarded.fail(ErrorCode.SHUTTING_DOWN.name(), "the broker is shutting down");
            if (!forwarded.session.closed)
            {
                proxy.send(forwarded.session, FrameType.CANCEL, FrameFormat.JSON,
                    NODES.objectNode().put("correlation_id", forwarded.id), false);
            }
        }
    }

    /**
     * Forget forwarded requests whose caller has given up (its own deadline answers it with TIMEOUT).
     */
    int expire(final long nowMs)
    {
        this.nowMs = nowMs;
        int expired = 0;
        final Iterator<ForwardedRequest> it = inFlight.values().iterator();
        while (it.hasNext())
        {
            final ForwardedRequest forwarded = it.next();
            if (nowMs - forwarded.deadlineMs > 0)
            {
                it.remove();
                forwarded.fail(ErrorCode.TIMEOUT.name(), "the serving connection did not answer in time");
                expired++;
            }
        }
        return expired;
    }

    private boolean isIssued(final String id)
    {
        if (null == id || !id.startsWith("sb-"))
        {
            return false;
        }
        try
        {
            final long n = Long.parseLong(id.substring(3));
            return n > 0 && n < nextId;
        }
        catch (final NumberFormatException ex)
        {
            return false;
        }
    }

    private void answerWaiting(final ServedName served, final GatewaySession session)
    {
        for (int i = served.waiting.size() - 1; i >= 0; i--)
        {
            final ServedName.Waiting w = served.waiting.get(i);
            if (w.session == session)
            {
                served.waiting.remove(i);
                registered(w.session, w.format, w.correlationId, served.name);
            }
        }
    }

    /**
     * @return the broker's answer to the withdrawal of the name, or null when other connections still serve it.
     */
    private CompletableFuture<Void> withdraw(final ServedName served, final GatewaySession session)
    {
        served.owners.remove(session);
        CompletableFuture<Void> answer = null;
        if (served.owners.isEmpty())
        {
            byName.remove(served.name);
            // the broker's answer is awaited by nobody; if the broker already dropped it (reconnecting), nothing is
            // left to withdraw. A REGISTER of the name meanwhile waits for it (see onRegister).
            final CompletableFuture<Void> withdrawal = client.unserve(served.name);
            if (!withdrawal.isDone())
            {
                withdrawing.put(served.name, withdrawal);
                withdrawal.whenComplete((v, ex) -> withdrawing.remove(served.name, withdrawal));
            }
            answer = withdrawal;
        }
        return answer;
    }

    private void onRequest(final ServiceRequest request, final DirectBuffer buffer, final int offset, final int length)
    {
        final ServedName served = byName.get(request.service().toString());
        final GatewaySession owner = null == served ? null : served.nextOwner();
        if (null == owner)
        {
            request.fail(ErrorCode.SERVICE_UNAVAILABLE.name(), "no connection serves '" + request.service() + "'");
            return;
        }
        final JsonNode payload = payloads.request(served.schema, served.name, buffer, offset, length);
        if (null == payload)
        {
            request.fail(ErrorCode.SERIALIZATION_ERROR.name(), payloads.problem());
            return;
        }
        final String id = "sb-" + nextId++;
        final boolean expectsReply = request.expectsReply();
        final ObjectNode frame = requestFrame(id, request.service(), request.messageType(), payload,
            request.timeoutMs());
        frame.put(expectsReply ? "expects_reply" : "expects_stream", expectsReply);
        if (expectsReply)
        {
            final ForwardedRequest forwarded = new ForwardedRequest(id, owner, request.defer(), null,
                nowMs + request.timeoutMs() + REPLY_MARGIN_MS);
            forwarded.schema = served.schema;
            inFlight.put(id, forwarded);
        }
        counters.forwarded++;
        proxy.send(owner, FrameType.REQUEST, FrameFormat.JSON, frame, false);
    }

    private void onStream(final StreamSession stream, final DirectBuffer buffer, final int offset, final int length)
    {
        final ServedName served = byName.get(stream.service());
        final GatewaySession owner = null == served ? null : served.nextOwner();
        if (null == owner)
        {
            stream.fail(ErrorCode.SERVICE_UNAVAILABLE.name(), "no connection serves this stream");
            return;
        }
        final JsonNode payload = payloads.request(served.schema, served.name, buffer, offset, length);
        if (null == payload)
        {
            stream.fail(ErrorCode.SERIALIZATION_ERROR.name(), payloads.problem());
            return;
        }
        final String id = "sb-" + nextId++;
        final ObjectNode frame = requestFrame(id, served.name, stream.messageType(), payload, stream.timeoutMs());
        frame.put("expects_stream", true);
        final ForwardedRequest forwarded = new ForwardedRequest(id, owner, null, stream, Long.MAX_VALUE);
        forwarded.schema = served.schema;
        inFlight.put(id, forwarded);
        stream.onCancel(() ->
        {
            if (null != inFlight.remove(id) && !owner.closed)
            {
                proxy.send(owner, FrameType.CANCEL, FrameFormat.JSON, NODES.objectNode().put("correlation_id", id), false);
            }
        });
        counters.forwarded++;
        proxy.send(owner, FrameType.REQUEST, FrameFormat.JSON, frame, false);
    }

    private ObjectNode requestFrame(final String id, final CharSequence service, final CharSequence messageType,
        final JsonNode payload, final long timeoutMs)
    {
        final ObjectNode frame = NODES.objectNode();
        frame.put("correlation_id", id);
        frame.put("target", service.toString());
        frame.put("message_type", messageType.toString());
        frame.set("payload", payload);
        frame.put("response_timeout_ms", timeoutMs);
        return frame;
    }


    private void registered(
        final GatewaySession session, final FrameFormat format, final String correlationId, final String name)
    {
        final ObjectNode reply = FrameBodies.response(correlationId, null);
        reply.put("service", name);
        proxy.send(session, FrameType.RESPONSE, format, reply, false);
    }

    private void error(final GatewaySession session, final FrameFormat format, final String correlationId,
        final ErrorCode code, final String message)
    {
        counters.error(code.name());
        proxy.send(session, FrameType.ERROR, format, FrameBodies.error(null == correlationId ? "" : correlationId,
            code, message), false);
    }

    private static ErrorCode codeOf(final String code)
    {
        final ErrorCode known = ErrorCode.fromText(code);
        return null == known ? ErrorCode.INTERNAL_ERROR : known;
    }

    private static String text(final JsonNode body, final String field)
    {
        final JsonNode node = body.get(field);
        return null != node && node.isTextual() ? node.asText() : null;
    }
}
