package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.frame.PushWriter;
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
 * Retained values live in the broker, as for any Java peer: PUBLISH, with or without {@code retain}, is
 * {@link PublishBridge}'. Nothing here waits for the broker. A SUBSCRIBE's new patterns are
 * subscribed through the gateway's client once more for the connection (a {@link SubscribeJoin}), so the broker
 * sends it the retained values of the subjects they match; when the broker has answered, the SUBSCRIBE is answered,
 * its retained values pushed, and the connection joins the patterns' live routes: retained values come before live
 * ones, once, and a live publication already pushed as retained is not pushed again. The connection's later
 * SUBSCRIBE/UNSUBSCRIBE frames wait, in order, behind it.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SubjectBridge
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** SUBSCRIBE/UNSUBSCRIBE frames of one connection held behind its SUBSCRIBE the broker has not answered. */
    static final int MAX_HELD_SUBSCRIPTIONS = 16;

    private final GatewayContext ctx;
    private final GatewayClient client;
    private final PayloadCodec codec;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final ErrorHandler errorHandler;
    private final List<GatewaySession> sessions;
    private final Transcoders transcoders;
    private final CachedEpochClock epochClock;
    private final PushPayloads payloads;
    private final PushWriter pushWriter;
    private final PublishBridge publications;
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
        this.epochClock = epochClock;
        this.payloads = new PushPayloads(client, codec, transcoders);
        this.pushWriter = new PushWriter(codec);
        this.publications = new PublishBridge(client, codec, proxy, counters, sessions, epochClock, ctx.nanoClock());
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
        session.heldSubscriptions.clear(); // a pending join releases its routes when the broker has answered it
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

        if (null != session.pendingJoin)
        {
            // after a SUBSCRIBE whose retained values the broker is still sending: answered in order, after it
            if (session.heldSubscriptions.size() >= MAX_HELD_SUBSCRIPTIONS)
            {
                proxy.sendError(session, format, correlationId, ErrorCode.RATE_LIMITED, "over " +
                    MAX_HELD_SUBSCRIPTIONS + " SUBSCRIBE/UNSUBSCRIBE frames wait for the broker's answer to an " +
                    "earlier SUBSCRIBE of this connection; send again once it is answered");
                return;
            }
            session.heldSubscriptions.add(new GatewaySession.HeldSubscription(format, correlationId, patterns, subscribe));
            return;
        }
        apply(session, format, correlationId, patterns, subscribe);
    }

    private void apply(
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final List<String> patterns,
        final boolean subscribe)
    {
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
                join(session, format, correlationId, added);
                return; // answered when the broker has answered
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
        answerSubscription(session, format, correlationId);
    }

    private void answerSubscription(final GatewaySession session, final FrameFormat format, final String correlationId)
    {
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
     * Subscribe a connection's new patterns: each pattern's route, announced to the broker the first time some
     * connection holds it, and for this connection a {@link SubscribeJoin} through the gateway's client, which takes
     * the retained values the broker sends for the patterns. The connection joins the routes, and the SUBSCRIBE is
     * answered, when the broker has answered every pattern ({@link #onJoined}); nothing waits for it meanwhile.
     */
    private void join(
        final GatewaySession session, final FrameFormat format, final String correlationId,
        final List<SubjectPattern> added)
    {
        final List<SubjectPattern> heldBefore = new ArrayList<>(session.subscriptions.size());
        for (final GatewaySession.Subscription s : session.subscriptions.values())
        {
            heldBefore.add(s.pattern);
        }
        for (int i = 0, size = added.size(); i < size; i++)
        {
            final String pattern = added.get(i).pattern();
            PatternRoute route = routes.get(pattern);
            if (null == route)
            {
                route = new PatternRoute(pattern);
                routes.put(pattern, route);
                // read from the shared log once the broker acknowledged; a refusal is only counted and logged
                client.subscribe(pattern, route).whenComplete(this::onRouteAnswer);
            }
            route.joining++;
        }
        final SubscribeJoin join = new SubscribeJoin(
            this, session, format, correlationId, added, heldBefore, ctx.maxQueuedPushBytes());
        session.pendingJoin = join;
        for (int i = 0, size = added.size(); i < size; i++)
        {
            client.subscribe(added.get(i).pattern(), join).whenComplete((ignored, failure) -> join.onAnswer());
        }
    }

    /**
     * The broker answered every pattern of a join (or refused, or was lost: the routes decide what is read): its
     * subscriptions go, the connection joins the routes, its SUBSCRIBE is answered, the retained values follow, and
     * then the SUBSCRIBE/UNSUBSCRIBE frames it sent meanwhile are taken in order.
     *
     * @param join whose patterns were all answered.
     */
    void onJoined(final SubscribeJoin join)
    {
        final GatewaySession session = join.session;
        session.pendingJoin = null;
        for (int i = 0, size = join.patterns.size(); i < size; i++)
        {
            final SubjectPattern compiled = join.patterns.get(i);
            final String pattern = compiled.pattern();
            client.unsubscribe(pattern, join).whenComplete(this::onRouteAnswer);
            final PatternRoute route = routes.get(pattern);
            if (null == route)
            {
                continue;
            }
            route.joining--;
            if (!session.closed)
            {
                session.subscriptions.put(pattern, new GatewaySession.Subscription(compiled));
                route.sessions.add(session);
            }
            else
            {
                removeIfUnused(route);
            }
        }
        if (session.closed)
        {
            return;
        }
        answerSubscription(session, join.format, join.correlationId);
        join.pushRetained();
        if (!session.applyingHeld)
        {
            session.applyingHeld = true;
            try
            {
                while (null == session.pendingJoin && !session.heldSubscriptions.isEmpty() && !session.closed)
                {
                    final GatewaySession.HeldSubscription h = session.heldSubscriptions.poll();
                    apply(session, h.format, h.correlationId, h.patterns, h.subscribe);
                }
            }
            finally
            {
                session.applyingHeld = false;
            }
        }
    }

    /**
     * A retained value owed to a connection whose SUBSCRIBE was answered.
     *
     * @param session to push to.
     * @param subject of the value.
     * @param payload of the value, as JSON.
     * @param timestampMs of its publication.
     * @param logId of its publication.
     * @param sequence of its publication.
     */
    void pushRetained(
        final GatewaySession session, final String subject, final JsonNode payload, final long timestampMs,
        final long logId, final long sequence)
    {
        session.onRetained(logId, sequence);
        proxy.push(session, subject, payload, timestampMs, null);
    }

    /** A retained value over the connection's push bound while its SUBSCRIBE is answered: dropped and counted. */
    void dropRetained(final GatewaySession session, final String subject)
    {
        proxy.drop(session, subject);
    }

    JsonNode payloadOf(final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        return payloads.payloadOf(p, buffer, offset, length);
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
        if (null != route && route.sessions.remove(session))
        {
            removeIfUnused(route);
        }
    }

    /** A route no connection holds or is joining goes, and the broker is told (without waiting). */
    private void removeIfUnused(final PatternRoute route)
    {
        if (route.sessions.isEmpty() && 0 == route.joining && routes.get(route.pattern) == route)
        {
            routes.remove(route.pattern);
            client.unsubscribe(route.pattern).whenComplete(this::onRouteAnswer);
        }
    }

    void onPublish(
        final GatewaySession session, final FrameFormat format, final String correlationId, final JsonNode body)
    {
        publications.onPublish(session, format, correlationId, body);
    }

    /**
     * Try again what the shared-memory log could not take: see {@link PublishBridge#retryBackPressured()}.
     *
     * @return work done.
     */
    int retryBackPressured()
    {
        return publications.retryBackPressured();
    }

    private final class PatternRoute implements PushHandler
    {
        final String pattern;
        final List<GatewaySession> sessions = new ArrayList<>();
        /** Connections whose SUBSCRIBE of this pattern the broker has not answered yet: they join then. */
        int joining;

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
            // an opaque payload: checked and made compact once, each subscriber's frame streamed (no tree); null: the
            // tree path (a typed payload, or one the fast path is not sure of)
            final PushWriter writer = p.templateId() < 0 ? payloads.prepare(pushWriter, buffer, offset, length) : null;
            final JsonNode payload = null == writer ? payloads.payloadOf(p, buffer, offset, length) : null;
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
                if (null != writer)
                {
                    proxy.push(session, subject, writer, p.timestampMs(), null);
                }
                else
                {
                    proxy.push(session, subject, payload, p.timestampMs(), null);
                }
            }
        }
    }
}
