package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.broker.view.RegistrySnapshot;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.json.TranscodeException;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.transport.Push;
import io.switchboard.transport.PushHandler;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Publish-subscribe for socket clients: SUBSCRIBE / UNSUBSCRIBE within the per-connection pattern bound, a pattern
 * route announced to the broker through the gateway's own client for each pattern some connection holds, PUBLISH
 * fanned out to the matching sockets and published on shared memory, and Java publications pushed to the sockets
 * whose patterns match, once per connection.
 * <p>
 * Retained values live in the broker, as for any Java peer: a PUBLISH with {@code retain} is a retained publish of the
 * gateway's client (refused whole, {@code PAYLOAD_TOO_LARGE}, over the broker's bound), and a connection's new
 * pattern is subscribed through the gateway's client once more (a second handler while the pattern's route already
 * exists, dropped at once), so the broker sends it the retained values of the subjects it matches; they are pushed
 * right after the SUBSCRIBE's answer, before any live push of the new pattern, and a live publication already pushed
 * as retained is not pushed again.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SubjectBridge
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int SBE_HEADER_LENGTH = 8;
    private static final byte[] EMPTY = new byte[0];

    private final GatewayContext ctx;
    private final GatewayClient client;
    private final Supplier<RegistrySnapshot> registry;
    private final PayloadCodec codec;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final ErrorHandler errorHandler;
    private final List<GatewaySession> sessions;
    private final Transcoders transcoders;
    private final CachedEpochClock epochClock;
    /** Takes the retained values of a pattern whose route exists already, for the connection subscribing. */
    private final PushHandler retainedProbe = this::onRetained;
    /** The connection whose SUBSCRIBE is being answered, and the retained values owed to it; else null. */
    private GatewaySession retainedTarget;
    /** By subject: one push per subject however many new patterns match it; a value sent again replaces it. */
    private final java.util.LinkedHashMap<String, RetainedPush> retainedPushes = new java.util.LinkedHashMap<>();
    private final UnsafeBuffer jsonBuffer = new UnsafeBuffer(new byte[0]);
    private final Map<String, PatternRoute> routes = new HashMap<>();
    private int routeFailures;
    private String lastRouteFailure;

    /**
     * @param ctx settings of the gateway.
     * @param client the gateway's own Java client.
     * @param registry supplies the latest snapshot of the broker's registry (the schemas of Java publications).
     * @param codec to read and write payloads with.
     * @param proxy through which frames are sent.
     * @param counters of the gateway.
     * @param sessions the open connections, for fan-out.
     * @param transcoders of the schemas met.
     * @param epochClock the duty cycle's cached wall clock.
     */
    SubjectBridge(
        final GatewayContext ctx,
        final GatewayClient client,
        final Supplier<RegistrySnapshot> registry,
        final PayloadCodec codec,
        final SessionProxy proxy,
        final GatewayCounters counters,
        final List<GatewaySession> sessions,
        final Transcoders transcoders,
        final CachedEpochClock epochClock)
    {
        this.ctx = ctx;
        this.client = client;
        this.registry = registry;
        this.codec = codec;
        this.proxy = proxy;
        this.counters = counters;
        this.errorHandler = ctx.errorHandler();
        this.sessions = sessions;
        this.transcoders = transcoders;
        this.epochClock = epochClock;
    }

    /**
     * Patterns announced for the socket subscribers together.
     *
     * @return how many distinct patterns the connections hold.
     */
    int patternCount()
    {
        return routes.size();
    }

    /**
     * Release what a closing connection subscribed to.
     *
     * @param session that closes.
     */
    void onSessionClosed(final GatewaySession session)
    {
        for (final String pattern : session.subscriptions.keySet())
        {
            releaseRoute(pattern, session); // at most maxPatterns of them
        }
        logRouteFailures(session);
        session.subscriptions.clear();
    }

    void onSubscribe(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final JsonNode body,
        final boolean subscribe)
    {
        final JsonNode types = body.get("message_types");
        if (null == correlationId || null == types || !types.isArray())
        {
            proxy.sendError(session, format, SessionProxy.orEmpty(correlationId), ErrorCode.INVALID_REQUEST,
                "needs correlation_id and message_types: [pattern...]");
            return;
        }
        if (subscribe && types.size() > ctx.maxPatterns())
        {
            refusePatterns(session, format, correlationId, types.size() + " patterns in one SUBSCRIBE");
            return; // refused before its patterns are read: the cost is the frame's parse, nothing more
        }
        final List<String> patterns = new ArrayList<>();
        for (final JsonNode t : types)
        {
            if (!t.isTextual())
            {
                proxy.sendError(session, format, correlationId, ErrorCode.INVALID_REQUEST,
                    "message_types holds a non-string: " + t);
                return;
            }
            final String problem = SubjectPattern.validatePattern(t.asText());
            if (null != problem)
            {
                proxy.sendError(session, format, correlationId, ErrorCode.INVALID_REQUEST,
                    "invalid pattern '" + t.asText() + "': " + problem);
                return;
            }
            patterns.add(t.asText());
        }

        if (subscribe)
        {
            final List<SubjectPattern> added = new ArrayList<>();
            for (final String pattern : patterns)
            {
                if (!session.subscriptions.containsKey(pattern) && !contains(added, pattern))
                {
                    added.add(SubjectPattern.compile(pattern));
                }
            }
            if (session.subscriptions.size() + added.size() > ctx.maxPatterns())
            {
                refusePatterns(session, format, correlationId,
                    "holds " + session.subscriptions.size() + " patterns and asked for " + added.size() + " more");
                return;
            }
            // each new pattern is subscribed through the gateway's client, which takes the retained values the
            // broker sends for it; the connection joins the routes only afterwards, so no live push of a new
            // pattern comes before them
            retainedTarget = session;
            final List<PatternRoute> joined = new ArrayList<>(added.size());
            try
            {
                for (int i = 0, size = added.size(); i < size; i++)
                {
                    joined.add(subscribeRoute(added.get(i).pattern(), session));
                }
            }
            finally
            {
                retainedTarget = null;
            }
            for (int i = 0, size = added.size(); i < size; i++)
            {
                final SubjectPattern compiled = added.get(i);
                session.subscriptions.put(compiled.pattern(), new GatewaySession.Subscription(compiled));
                joined.get(i).sessions.add(session);
            }
        }
        else
        {
            final List<String> removed = patterns.isEmpty() ?
                new ArrayList<>(session.subscriptions.keySet()) : patterns;
            for (final String pattern : removed)
            {
                if (null != session.subscriptions.remove(pattern))
                {
                    releaseRoute(pattern, session);
                }
            }
            logRouteFailures(session);
        }

        final ObjectNode reply = NODES.objectNode();
        reply.put("correlation_id", correlationId);
        reply.put("success", true);
        final ArrayNode held = reply.putArray("subscribed_types");
        for (final String pattern : session.subscriptions.keySet())
        {
            held.add(pattern);
        }
        proxy.send(session, FrameType.RESPONSE, format, reply, false);

        for (final RetainedPush r : retainedPushes.values())
        {
            session.onRetained(r.logId, r.sequence);
            proxy.push(session, r.subject, r.payload, r.timestampMs, null);
        }
        retainedPushes.clear();
    }

    /** A retained value owed to the connection whose SUBSCRIBE is being answered. */
    private static final class RetainedPush
    {
        final String subject;
        final JsonNode payload;
        final long timestampMs;
        final long logId;
        final long sequence;

        RetainedPush(final Push p, final String subject, final JsonNode payload)
        {
            this.subject = subject;
            this.payload = payload;
            this.timestampMs = p.timestampMs();
            this.logId = p.logId();
            this.sequence = p.sequence();
        }
    }

    /**
     * A retained value the broker sent for a pattern the gateway's client subscribed on behalf of a connection: kept
     * for that connection, unless a pattern it held before matches the subject (it had its chance then) or it is
     * owed the same one already.
     */
    private void onRetained(final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        final GatewaySession session = retainedTarget;
        if (null == session || !p.isRetained())
        {
            return; // patterns announced again after a reconnection: nothing is owed to anyone
        }
        final String subject = p.subject().toString();
        if (session.matches(subject))
        {
            return;
        }
        retainedPushes.put(subject, new RetainedPush(p, subject, payloadOf(p, buffer, offset, length)));
    }

    private void refusePatterns(
        final GatewaySession session, final FrameFormat format, final String correlationId, final String found)
    {
        counters.patternsRefused++;
        final String message = "over the limit of " + ctx.maxPatterns() + " subscription patterns per connection: " +
            found + "; use wildcards (* and >) or another connection";
        proxy.logLimit(session, SessionProxy.LOGGED_PATTERNS, message);
        proxy.sendError(session, format, correlationId, ErrorCode.INVALID_REQUEST, message);
    }

    private static boolean contains(final List<SubjectPattern> patterns, final String pattern)
    {
        for (int i = 0, size = patterns.size(); i < size; i++)
        {
            if (patterns.get(i).pattern().equals(pattern))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesAny(final List<SubjectPattern> patterns, final String subject)
    {
        for (int i = 0, size = patterns.size(); i < size; i++)
        {
            if (patterns.get(i).matches(subject))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Subscribe a pattern for a connection through the gateway's client, which hands the retained values the broker
     * sends to {@link #onRetained}: as the new route's subscription, or, if the route exists, as a second one
     * dropped at once. Cold path, bounded by the frame's new patterns: waits for the broker's ack.
     *
     * @return the pattern's route, which the connection is to join.
     */
    private PatternRoute subscribeRoute(final String pattern, final GatewaySession session)
    {
        PatternRoute route = routes.get(pattern);
        final boolean exists = null != route;
        if (!exists)
        {
            route = new PatternRoute(pattern);
            routes.put(pattern, route);
        }
        try
        {
            client.subscribe(pattern, exists ? retainedProbe : route);
        }
        catch (final SwitchboardException ex)
        {
            // socket subscribers are still served; Java publications and retained values may be missed
            proxy.logLimit(session, SessionProxy.LOGGED_ROUTES, "pattern '" + pattern + "' not announced to the broker: " + ex);
        }
        finally
        {
            if (exists)
            {
                dropProbe(pattern, session);
            }
        }
        return route;
    }

    /** The route's subscription stays: the broker is told nothing unless the route has none (it was refused). */
    private void dropProbe(final String pattern, final GatewaySession session)
    {
        try
        {
            client.unsubscribe(pattern, retainedProbe);
        }
        catch (final SwitchboardException ex)
        {
            proxy.logLimit(session, SessionProxy.LOGGED_ROUTES, "pattern '" + pattern + "': " + ex);
        }
    }

    /** One line for the patterns of a connection that could not be withdrawn, however many they were. */
    private void logRouteFailures(final GatewaySession session)
    {
        if (0 != routeFailures)
        {
            errorHandler.onError(new GatewayLimitException("connection " + session.id + ": " + routeFailures +
                " of its patterns could not be withdrawn from the broker; last: " + lastRouteFailure));
            routeFailures = 0;
            lastRouteFailure = null;
        }
    }

    private void releaseRoute(final String pattern, final GatewaySession session)
    {
        final PatternRoute route = routes.get(pattern);
        if (null != route && route.sessions.remove(session) && route.sessions.isEmpty())
        {
            routes.remove(pattern);
            try
            {
                client.unsubscribe(pattern);
            }
            catch (final SwitchboardException ex)
            {
                routeFailures++; // logged once by the caller
                lastRouteFailure = pattern + ": " + ex.getMessage();
            }
        }
    }

    void onPublish(
        final GatewaySession session, final FrameFormat format, final String correlationId, final JsonNode body)
    {
        final String subject = SessionProxy.text(body, "message_type");
        if (null == subject || !body.has("payload"))
        {
            proxy.sendError(session, format, SessionProxy.orEmpty(correlationId), ErrorCode.INVALID_REQUEST,
                "a PUBLISH needs message_type and payload");
            return;
        }
        final String problem = SubjectPattern.validateSubject(subject);
        if (null != problem)
        {
            proxy.sendError(session, format, SessionProxy.orEmpty(correlationId), ErrorCode.INVALID_REQUEST,
                "invalid subject '" + subject + "': " + problem);
            return;
        }
        final JsonNode payload = body.get("payload");
        final boolean retain = body.path("retain").asBoolean(false);
        // a retained null clears the subject: it travels as an empty payload, which subscribers read back as null
        final byte[] json = retain && payload.isNull() ? EMPTY : codec.write(FrameFormat.JSON, payload);
        jsonBuffer.wrap(json);
        if (retain)
        {
            // kept by the broker first (a round trip): refused, it is neither retained nor published
            final long result;
            try
            {
                result = client.publish(subject, subject, -1, jsonBuffer, 0, json.length, true);
            }
            catch (final SwitchboardException ex)
            {
                refuseRetain(session, format, correlationId, subject, ex);
                return;
            }
            counters.published(subject);
            fanOut(subject, payload);
            answerPublish(session, format, correlationId, result);
            return;
        }
        counters.published(subject);
        fanOut(subject, payload);

        final long result;
        try
        {
            result = client.publish(subject, subject, -1, jsonBuffer, 0, json.length);
        }
        catch (final SwitchboardException ex)
        {
            // no log for the gateway's publications (the media driver's disk is full): this publish is refused
            counters.publishFailures++;
            if (null != correlationId)
            {
                proxy.fail(session, format, correlationId, false, ex.errorCode(), ex.getMessage());
            }
            return;
        }
        answerPublish(session, format, correlationId, result);
    }

    private void fanOut(final String subject, final JsonNode payload)
    {
        for (int i = 0, size = sessions.size(); i < size; i++)
        {
            final GatewaySession s = sessions.get(i);
            if (s.matches(subject))
            {
                proxy.push(s, subject, payload, epochClock.time(), null);
            }
        }
    }

    private void answerPublish(
        final GatewaySession session, final FrameFormat format, final String correlationId, final long result)
    {
        if (result < 0)
        {
            counters.publishFailures++;
        }
        if (null != correlationId)
        {
            if (result < 0)
            {
                proxy.sendError(session, format, correlationId, ErrorCode.TARGET_BUSY,
                    "shared-memory subscribers are not keeping up; publication result " + result);
            }
            else
            {
                proxy.send(session, FrameType.RESPONSE, format, FrameBodies.response(correlationId, null), false);
            }
        }
    }

    /**
     * The broker refused a retained PUBLISH (over its bound: PAYLOAD_TOO_LARGE), or did not answer: the PUBLISH is
     * answered with its code, or counted if it has no correlation id.
     */
    private void refuseRetain(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final String subject,
        final SwitchboardException ex)
    {
        final ErrorCode code = errorCode(ex.errorCode());
        if (ErrorCode.PAYLOAD_TOO_LARGE == code)
        {
            counters.retainsRefused++;
            proxy.logLimit(session, SessionProxy.LOGGED_RETAINED, "retain on '" + subject + "': " + ex.getMessage());
        }
        else
        {
            counters.publishFailures++;
        }
        if (null == correlationId)
        {
            counters.error(code.name());
        }
        else
        {
            proxy.sendError(session, format, correlationId, code, ex.getMessage());
        }
    }

    private static ErrorCode errorCode(final String name)
    {
        try
        {
            return ErrorCode.valueOf(name);
        }
        catch (final IllegalArgumentException ex)
        {
            return ErrorCode.INTERNAL_ERROR;
        }
    }

    /**
     * The schema of a typed publication: the one with the schema id and version of the SBE message header its payload
     * begins with (blockLength, templateId, schemaId, version: little-endian uint16 each), declared by any peer or
     * registered with any service; failing that, the schema of a service its publisher serves.
     */
    private byte[] schemaOf(final int publisherId, final DirectBuffer buffer, final int offset, final int length)
    {
        final RegistrySnapshot snapshot = registry.get();
        if (length >= SBE_HEADER_LENGTH)
        {
            final int schemaId = buffer.getShort(offset + 4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            final int version = buffer.getShort(offset + 6, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            final byte[] ir = snapshot.schemaIr(schemaId, version);
            if (null != ir)
            {
                return ir;
            }
        }
        return snapshot.schemaIrOf(publisherId);
    }

    /** A publication's payload as JSON: opaque JSON read as such, SBE transcoded with its schema, else null. */
    private JsonNode payloadOf(final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        JsonNode payload = null;
        if (p.templateId() < 0)
        {
            final byte[] bytes = new byte[length];
            buffer.getBytes(offset, bytes);
            try
            {
                payload = length > 0 ? codec.read(FrameFormat.JSON, bytes, 0, length) : null;
            }
            catch (final FrameException ex)
            {
                payload = null;
            }
        }
        else
        {
            final byte[] ir = schemaOf(p.publisherId(), buffer, offset, length);
            if (null != ir)
            {
                try
                {
                    payload = transcoders.of(ir).decode(buffer, offset, length);
                }
                catch (final TranscodeException ex)
                {
                    payload = null;
                }
            }
        }
        return payload;
    }

    private final class PatternRoute implements PushHandler
    {
        final String pattern;
        final List<GatewaySession> sessions = new ArrayList<>();

        PatternRoute(final String pattern)
        {
            this.pattern = pattern;
        }

        public void onPush(final Push p, final DirectBuffer buffer, final int offset, final int length)
        {
            if (p.isRetained())
            {
                onRetained(p, buffer, offset, length); // owed to the connection subscribing, not to the route
                return;
            }
            if (p.publisherId() == client.clientId())
            {
                return; // a socket client's publication: already fanned out to the sockets
            }
            final JsonNode payload = payloadOf(p, buffer, offset, length);
            final String subject = p.subject().toString();
            for (int i = 0, size = sessions.size(); i < size; i++)
            {
                final GatewaySession session = sessions.get(i);
                if (session.lastPushedLog == p.logId() && session.lastPushedSequence == p.sequence())
                {
                    continue; // another of its patterns matched the same publication: one push per connection
                }
                if (session.wasRetained(p.logId(), p.sequence()))
                {
                    continue; // pushed to it as a retained value already
                }
                session.lastPushedLog = p.logId();
                session.lastPushedSequence = p.sequence();
                proxy.push(session, subject, payload, p.timestampMs(), null);
            }
        }
    }
}
