package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aeron.Publication;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.transport.SwitchboardException;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * PUBLISH for socket clients: fanned out to the sockets whose patterns match and published on shared memory through
 * the gateway's own client. A PUBLISH with {@code retain} is a retained publish of that client (refused whole,
 * {@code PAYLOAD_TOO_LARGE}, over the broker's bound); nothing here waits for the broker: the retained publish is
 * answered, fanned out and followed by the PUBLISH frames that came after it (held in order, bounded in bytes) in
 * the duty cycle that reads the broker's answer.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class PublishBridge
{
    private static final byte[] EMPTY = new byte[0];
    /**
     * Bound on the bytes of PUBLISH frames held behind an unanswered retained publish (their JSON payloads); over it
     * a PUBLISH is refused TARGET_BUSY. The broker answers in microseconds: only a paused broker fills it.
     */
    static final long MAX_HELD_PUBLISH_BYTES = 8L * 1024 * 1024;
    /**
     * Longest a back-pressured PUBLISH waits for the shared-memory subscribers (past the untethered window, after
     * which the media driver lets a stopped subscriber go): then it is answered TARGET_BUSY.
     */
    static final long MAX_BACK_PRESSURE_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    private final GatewayClient client;
    private final PayloadCodec codec;
    private final SessionProxy proxy;
    private final GatewayCounters counters;
    private final List<GatewaySession> sessions;
    private final CachedEpochClock epochClock;
    private final org.agrona.concurrent.NanoClock nanoClock;
    /** PUBLISH frames that came after a retained publish the broker has not answered: published in order after it. */
    private final ArrayDeque<HeldPublish> held = new ArrayDeque<>();
    private long heldBytes;
    private boolean retainInFlight;
    private boolean draining;
    private boolean backPressured;
    private long backPressuredSinceNs;
    private final UnsafeBuffer jsonBuffer = new UnsafeBuffer(new byte[0]);

    /**
     * @param client the gateway's own Java client, which publishes on shared memory.
     * @param codec to write payloads with.
     * @param proxy through which frames are sent.
     * @param counters of the gateway.
     * @param sessions the open connections, for fan-out.
     * @param epochClock the duty cycle's cached wall clock.
     * @param nanoClock the duty cycle's clock, which times a back-pressured publication.
     */
    PublishBridge(
        final GatewayClient client,
        final PayloadCodec codec,
        final SessionProxy proxy,
        final GatewayCounters counters,
        final List<GatewaySession> sessions,
        final CachedEpochClock epochClock,
        final org.agrona.concurrent.NanoClock nanoClock)
    {
        this.nanoClock = nanoClock;
        this.client = client;
        this.codec = codec;
        this.proxy = proxy;
        this.counters = counters;
        this.sessions = sessions;
        this.epochClock = epochClock;
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
        if (json.length > client.maxMessageLength())
        {
            // refused before anything is sent: neither fanned out to the sockets nor published
            counters.publishFailures++;
            proxy.logLimit(session, SessionProxy.LOGGED_SIZE, "a PUBLISH on '" + subject + "' of " + json.length +
                " bytes: expected at most maxMessageLength=" + client.maxMessageLength());
            if (null != correlationId)
            {
                proxy.sendError(session, format, correlationId, ErrorCode.PAYLOAD_TOO_LARGE, "a publication on '" +
                    subject + "' of " + json.length + " bytes: expected at most maxMessageLength=" +
                    client.maxMessageLength());
            }
            return;
        }
        final HeldPublish publish = new HeldPublish(session, format, correlationId, subject, payload, json, retain);
        if (retainInFlight || backPressured)
        {
            // behind a retained publish the broker has not answered, or a publication the log could not take yet:
            // held, so that one client's publications (and the gateway's, which all socket clients share) go out in
            // the order they came; a connection whose publication waits is not read meanwhile, so what is held is
            // what one read brought, bounded
            if (heldBytes + json.length > MAX_HELD_PUBLISH_BYTES + client.maxMessageLength())
            {
                counters.publishFailures++;
                final String message = (retainInFlight ?
                    "publications wait behind a retained publish the broker has not answered, " :
                    "publications wait for shared-memory subscribers to keep up, ") +
                    "over " + (MAX_HELD_PUBLISH_BYTES + client.maxMessageLength()) + " bytes of them: not published";
                proxy.logLimit(session, SessionProxy.LOGGED_RETAINED, message);
                if (null != correlationId)
                {
                    proxy.sendError(session, format, correlationId, ErrorCode.TARGET_BUSY, message);
                }
                return;
            }
            held.add(publish);
            heldBytes += json.length;
            session.heldPublishes++;
            return;
        }
        session.heldPublishes++;
        publish(publish);
    }

    private void publish(final HeldPublish p)
    {
        if (p.retain)
        {
            // kept by the broker first (a round trip, not waited for): refused, it is neither retained nor published
            retainInFlight = true;
            client.publishRetained(p.subject, p.subject, -1, new UnsafeBuffer(p.json), 0, p.json.length)
                .whenComplete((result, failure) -> onRetainAnswer(p, result, failure));
            return;
        }
        final long result;
        try
        {
            jsonBuffer.wrap(p.json);
            result = client.publish(p.subject, p.subject, -1, jsonBuffer, 0, p.json.length);
        }
        catch (final SwitchboardException ex)
        {
            // no log for the gateway's publications (the media driver's disk is full): this publish is refused
            released(p);
            counters.publishFailures++;
            if (null != p.correlationId)
            {
                proxy.fail(p.session, p.format, p.correlationId, false, ex.errorCode(), ex.getMessage());
            }
            return;
        }
        if (Publication.BACK_PRESSURED == result || Publication.ADMIN_ACTION == result)
        {
            // the shared-memory subscribers are behind: not lost, tried again on the next duty cycles, its
            // connection not read meanwhile (the publisher is slowed), and the PUBLISH frames after it held
            backPressured = true;
            backPressuredSinceNs = nanoClock.nanoTime();
            held.addFirst(p);
            heldBytes += p.json.length;
            return;
        }
        released(p);
        counters.published(p.subject);
        fanOut(p.subject, p.payload);
        answerPublish(p.session, p.format, p.correlationId, result);
    }

    /**
     * Try again the publication the log could not take, and the ones held behind it; called on each duty cycle.
     * After the back-pressure bound it is answered as failed (TARGET_BUSY) and the next ones go on.
     *
     * @return work done.
     */
    int retryBackPressured()
    {
        if (!backPressured || retainInFlight)
        {
            return 0;
        }
        final long sinceNs = backPressuredSinceNs;
        backPressured = false;
        final HeldPublish first = held.poll();
        heldBytes -= first.json.length;
        publish(first);
        if (backPressured)
        {
            backPressuredSinceNs = sinceNs; // the same publication, still waiting
            if (nanoClock.nanoTime() - sinceNs < MAX_BACK_PRESSURE_NS)
            {
                return 0;
            }
            // subscribers that have not moved for so long: this one fails, typed, and the ones after it are tried
            backPressured = false;
            final HeldPublish failed = held.poll();
            heldBytes -= failed.json.length;
            released(failed);
            answerPublish(failed.session, failed.format, failed.correlationId, Publication.BACK_PRESSURED);
        }
        drainHeld();
        return 1;
    }

    /** A PUBLISH is answered: its connection is read again once none of its publications waits. */
    private void released(final HeldPublish p)
    {
        if (0 == --p.session.heldPublishes)
        {
            p.session.updateInterest();
        }
    }

    private void onRetainAnswer(final HeldPublish p, final Long result, final Throwable failure)
    {
        retainInFlight = false;
        released(p);
        if (null == failure)
        {
            counters.published(p.subject);
            fanOut(p.subject, p.payload);
            answerPublish(p.session, p.format, p.correlationId, result);
        }
        else
        {
            final Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
            refuseRetain(p.session, p.format, p.correlationId, p.subject, cause instanceof SwitchboardException ?
                (SwitchboardException)cause : new SwitchboardException(ErrorCode.INTERNAL_ERROR.name(), cause.toString()));
        }
        drainHeld();
    }

    private void drainHeld()
    {
        if (!draining)
        {
            draining = true;
            try
            {
                while (!retainInFlight && !backPressured && !held.isEmpty())
                {
                    final HeldPublish next = held.poll();
                    heldBytes -= next.json.length;
                    publish(next); // a held PUBLISH of a connection closed since is published all the same
                }
            }
            finally
            {
                draining = false;
            }
        }
    }

    /** A PUBLISH frame read, its payload written as JSON. */
    private static final class HeldPublish
    {
        final GatewaySession session;
        final FrameFormat format;
        final String correlationId;
        final String subject;
        final JsonNode payload;
        final byte[] json;
        final boolean retain;

        HeldPublish(
            final GatewaySession session,
            final FrameFormat format,
            final String correlationId,
            final String subject,
            final JsonNode payload,
            final byte[] json,
            final boolean retain)
        {
            this.session = session;
            this.format = format;
            this.correlationId = correlationId;
            this.subject = subject;
            this.payload = payload;
            this.json = json;
            this.retain = retain;
        }
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
}
