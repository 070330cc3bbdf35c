package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.transport.Push;
import io.switchboard.transport.PushHandler;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.CachedEpochClock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Publish-subscribe for socket clients: SUBSCRIBE / UNSUBSCRIBE within the per-connection pattern bound, a pattern
 * route announced to the broker through the gateway's own client for each pattern some connection holds, PUBLISH
 * fanned out to the matching sockets and published on shared memory, and Java publications pushed to the sockets
 * whose patterns match, once per connection.
 * <p>
 * PUBLISH goes to the {@link PublishBridge}. Nothing here waits for the broker. A SUBSCRIBE is answered at once, and
 * the connection takes live pushes of its new patterns from then on; each new pattern is also subscribed through the
 * gateway's client once more for the connection (a {@link SubscribeJoin}), so the broker sends it the retained values
 * of the subjects the pattern matches, pushed as they come: one per subject, none for a subject a live push already
 * reached the connection with (it is newer), and a live publication already pushed as retained is not pushed again.
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
    private final PushPayloads payloads;
    private final PublishBridge publishes;
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
        this.payloads = new PushPayloads(client, codec, transcoders);
        this.publishes = new PublishBridge(client, codec, proxy, counters, sessions, epochClock, ctx.nanoClock());
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
            if (!added.isEmpty())
            {
                join(session, added);
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
    }

    /**
     * A connection's new patterns: it holds them, and joins their routes (each announced to the broker the first
     * time some connection holds it), at once; and a {@link SubscribeJoin} subscribed for it through the gateway's
     * client takes the retained values the broker sends for them, to be pushed as they come.
     */
    private void join(final GatewaySession session, final List<SubjectPattern> added)
    {
        final List<SubjectPattern> heldBefore = new ArrayList<>(session.subscriptions.size());
        for (final GatewaySession.Subscription s : session.subscriptions.values())
        {
            heldBefore.add(s.pattern);
        }
        for (int i = 0, size = added.size(); i < size; i++)
        {
            final SubjectPattern compiled = added.get(i);
            final String pattern = compiled.pattern();
            session.subscriptions.put(pattern, new GatewaySession.Subscription(compiled));
            PatternRoute route = routes.get(pattern);
            if (null == route)
            {
                route = new PatternRoute(pattern);
                routes.put(pattern, route);
                // read from the shared log once the broker acknowledged; a refusal is only counted and logged
                client.subscribe(pattern, route).whenComplete(this::onRouteAnswer);
            }
            route.sessions.add(session);
        }
        final SubscribeJoin join = new SubscribeJoin(this, session, added, heldBefore);
        session.beginJoin();
        for (int i = 0, size = added.size(); i < size; i++)
        {
            final String pattern = added.get(i).pattern();
            client.subscribe(pattern, join).whenComplete((ignored, failure) -> join.onAnswer());
        }
    }

    /**
     * The broker answered every pattern of a join: its subscriptions go (the routes' stay).
     *
     * @param join whose patterns were all answered.
     */
    void onJoined(final SubscribeJoin join)
    {
        join.session.endJoin();
        for (int i = 0, size = join.patterns.size(); i < size; i++)
        {
            client.unsubscribe(join.patterns.get(i).pattern(), join).whenComplete(this::onRouteAnswer);
        }
    }

    /**
     * A retained value the broker sent for a joining connection's pattern, pushed to it at once.
     *
     * @param session of the join.
     * @param p the retained publication.
     * @param buffer holding its payload.
     * @param offset of the payload.
     * @param length of the payload.
     */
    void pushRetained(
        final GatewaySession session, final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        session.onRetained(p.logId(), p.sequence());
        proxy.push(session, p.subject().toString(), payloads.payloadOf(p, buffer, offset, length), p.timestampMs(),
            null);
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

    /**
     * A PUBLISH frame: see {@link PublishBridge}.
     *
     * @param session that sent it.
     * @param format of the frame.
     * @param correlationId of the frame, or null.
     * @param body of the frame.
     */
    void onPublish(
        final GatewaySession session, final FrameFormat format, final String correlationId, final JsonNode body)
    {
        publishes.onPublish(session, format, correlationId, body);
    }

    /**
     * Try again what the shared-memory log could not take: see {@link PublishBridge#retryBackPressured()}.
     *
     * @return work done.
     */
    int retryBackPressured()
    {
        return publishes.retryBackPressured();
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
                return; // owed to a connection joining, which its SubscribeJoin takes; not to the route
            }
            if (p.publisherId() == client.clientId())
            {
                return; // a socket client's publication: already fanned out to the sockets
            }
            final JsonNode payload = payloads.payloadOf(p, buffer, offset, length);
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
                session.onLivePush(subject);
                proxy.push(session, subject, payload, p.timestampMs(), null);
            }
        }
    }
}
