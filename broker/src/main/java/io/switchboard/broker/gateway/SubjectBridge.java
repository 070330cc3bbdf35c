package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

/**
 * Publish-subscribe for socket clients: SUBSCRIBE / UNSUBSCRIBE within the per-connection pattern bound, a pattern
 * route announced to the broker through the gateway's own client for each pattern some connection holds, PUBLISH
 * fanned out to the matching sockets and published on shared memory, the retained store (pushed to a new pattern's
 * subscriber at once), and Java publications pushed to the sockets whose patterns match, once per connection.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SubjectBridge
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int SBE_HEADER_LENGTH = 8;

    private final GatewayContext ctx;
    private final GatewayClient client;
    private final PayloadCodec codec;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final ErrorHandler errorHandler;
    private final List<GatewaySession> sessions;
    private final Transcoders transcoders;
    private final RetainedStore retained;
    private final CachedEpochClock epochClock;
    private final UnsafeBuffer jsonBuffer = new UnsafeBuffer(new byte[0]);
    private final Map<String, PatternRoute> routes = new HashMap<>();
    private int routeFailures;
    private String lastRouteFailure;

    /**
     * @param ctx settings of the gateway.
     * @param client the gateway's own Java client, whose route table holds the schemas of Java publications.
     * @param codec to read and write payloads with.
     * @param proxy through which frames are sent.
     * @param counters of the gateway.
     * @param sessions the open connections, for fan-out.
     * @param transcoders of the schemas met.
     * @param retained the retained store.
     * @param epochClock the duty cycle's cached wall clock.
     */
    SubjectBridge(
        final GatewayContext ctx,
        final GatewayClient client,
        final PayloadCodec codec,
        final SessionProxy proxy,
        final GatewayCounters counters,
        final List<GatewaySession> sessions,
        final Transcoders transcoders,
        final RetainedStore retained,
        final CachedEpochClock epochClock)
    {
        this.ctx = ctx;
        this.client = client;
        this.codec = codec;
        this.proxy = proxy;
        this.counters = counters;
        this.errorHandler = ctx.errorHandler();
        this.sessions = sessions;
        this.transcoders = transcoders;
        this.retained = retained;
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

        final List<String> retainedToPush = new ArrayList<>();
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
            if (!added.isEmpty() && !retained.isEmpty())
            {
                // retained subjects that one of the new patterns matches and none of the held ones did: the cost is
                // the retained subjects times the new patterns, not times every pattern the connection holds
                for (final String subject : retained.subjects())
                {
                    if (matchesAny(added, subject) && !session.matches(subject))
                    {
                        retainedToPush.add(subject);
                    }
                }
            }
            for (int i = 0, size = added.size(); i < size; i++)
            {
                final SubjectPattern compiled = added.get(i);
                session.subscriptions.put(compiled.pattern(), new GatewaySession.Subscription(compiled));
                acquireRoute(compiled.pattern(), session);
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

        for (final String subject : retainedToPush)
        {
            final RetainedStore.Retained r = retained.get(subject);
            proxy.push(session, subject, r.payload(codec), r.timestampMs, null);
        }
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

    private void acquireRoute(final String pattern, final GatewaySession session)
    {
        PatternRoute route = routes.get(pattern);
        if (null == route)
        {
            route = new PatternRoute(pattern);
            routes.put(pattern, route);
            // read from the shared log from the next duty cycle on; the broker's answer is waited for by nobody (the
            // SUBSCRIBE is answered now): a refusal is only counted and logged, the sockets are served either way
            client.subscribe(pattern, route).whenComplete(this::onRouteAnswer);
        }
        route.sessions.add(session);
    }

    private void onRouteAnswer(final Void ignored, final Throwable failure)
    {
        if (null != failure)
        {
            routeFailures++;
            lastRouteFailure = failure.getMessage();
        }
    }

    /**
     * One line for the pattern announcements and withdrawals the broker refused or never answered since the last
     * call (after losing it, every one in flight): called on each duty cycle, logs only when there were some.
     *
     * @return the number of failures logged.
     */
    int logRouteFailures()
    {
        final int failures = routeFailures;
        if (0 != failures)
        {
            errorHandler.onError(new GatewayLimitException(failures + " subscription pattern(s) of socket " +
                "subscribers could not be announced to or withdrawn from the broker; last: " + lastRouteFailure));
            routeFailures = 0;
            lastRouteFailure = null;
        }
        return failures;
    }

    private void releaseRoute(final String pattern, final GatewaySession session)
    {
        final PatternRoute route = routes.get(pattern);
        if (null != route && route.sessions.remove(session) && route.sessions.isEmpty())
        {
            routes.remove(pattern);
            client.unsubscribe(pattern).whenComplete(this::onRouteAnswer);
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
        final byte[] json = codec.write(FrameFormat.JSON, payload);
        if (body.path("retain").asBoolean(false) && !retain(session, format, correlationId, subject, json))
        {
            return;
        }
        counters.published(subject);

        for (int i = 0, size = sessions.size(); i < size; i++)
        {
            final GatewaySession s = sessions.get(i);
            if (s.matches(subject))
            {
                proxy.push(s, subject, payload, epochClock.time(), null);
            }
        }

        jsonBuffer.wrap(json);
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
     * Keep the last message of a subject, within the store's byte bound; over it the PUBLISH is refused whole
     * (neither retained nor published) with PAYLOAD_TOO_LARGE, and nothing already retained is evicted.
     *
     * @return true if retained (or replaced).
     */
    private boolean retain(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final String subject,
        final byte[] json)
    {
        final long bytesBefore = retained.bytes();
        final int subjectsBefore = retained.size();
        if (!retained.put(subject, json, epochClock.time()))
        {
            counters.retainsRefused++;
            final String message = "the retained store holds " + bytesBefore + " bytes in " + subjectsBefore +
                " subjects; retaining '" + subject + "' (" + RetainedStore.size(subject, json) + " bytes) would " +
                "pass its bound of " + retained.maxBytes() + " bytes; not published";
            proxy.logLimit(session, SessionProxy.LOGGED_RETAINED, message);
            if (null == correlationId)
            {
                counters.error(ErrorCode.PAYLOAD_TOO_LARGE.name());
            }
            else
            {
                proxy.sendError(session, format, correlationId, ErrorCode.PAYLOAD_TOO_LARGE, message);
            }
            return false;
        }
        return true;
    }

    /**
     * The schema of a typed publication: the one with the schema id and version of the SBE message header its payload
     * begins with (blockLength, templateId, schemaId, version: little-endian uint16 each), as the broker's schema
     * updates gave it to the gateway's client, whoever declared it (a publisher) or handed it over (a service).
     */
    private byte[] schemaOf(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < SBE_HEADER_LENGTH)
        {
            return null;
        }
        final int schemaId = buffer.getShort(offset + 4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        final int version = buffer.getShort(offset + 6, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return client.routes().schemaIr(schemaId, version);
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
            if (p.publisherId() == client.clientId())
            {
                return; // a socket client's publication: already fanned out to the sockets
            }
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
                final byte[] ir = schemaOf(buffer, offset, length);
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
            final String subject = p.subject().toString();
            for (int i = 0, size = sessions.size(); i < size; i++)
            {
                final GatewaySession session = sessions.get(i);
                if (session.lastPushedLog == p.logId() && session.lastPushedSequence == p.sequence())
                {
                    continue; // another of its patterns matched the same publication: one push per connection
                }
                session.lastPushedLog = p.logId();
                session.lastPushedSequence = p.sequence();
                proxy.push(session, subject, payload, p.timestampMs(), null);
            }
        }
    }
}
