package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.transport.Push;
import io.switchboard.transport.PushHandler;
import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * One connection's SUBSCRIBE of new patterns while the broker answers it: subscribed through the gateway's client
 * once more for this connection, it keeps the retained values the broker sends before its answer, one per subject
 * however many of the new patterns match it (the newest), and none whose subject a pattern the connection held before
 * matches (it had its chance then). They are kept within the connection's bound on queued push bytes (what passes it
 * is dropped and counted, as a push to a full queue is). When the broker has answered every pattern
 * ({@link SubjectBridge#onJoined}), the SUBSCRIBE is answered and they are pushed, before any live push of the new
 * patterns.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SubscribeJoin implements PushHandler
{
    final GatewaySession session;
    final FrameFormat format;
    final String correlationId;
    final List<SubjectPattern> patterns;
    private final SubjectBridge bridge;
    private final List<SubjectPattern> heldBefore;
    private final long maxBytes;
    private final LinkedHashMap<String, Retained> retained = new LinkedHashMap<>();
    private long bytes;
    private int unanswered;

    SubscribeJoin(
        final SubjectBridge bridge,
        final GatewaySession session,
        final FrameFormat format,
        final String correlationId,
        final List<SubjectPattern> patterns,
        final List<SubjectPattern> heldBefore,
        final long maxBytes)
    {
        this.bridge = bridge;
        this.session = session;
        this.format = format;
        this.correlationId = correlationId;
        this.patterns = patterns;
        this.heldBefore = heldBefore;
        this.maxBytes = maxBytes;
        this.unanswered = patterns.size();
    }

    public void onPush(final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!p.isRetained() || session.closed)
        {
            return; // live publications come through the routes once joined
        }
        final String subject = p.subject().toString();
        if (matchesAny(heldBefore, subject))
        {
            return;
        }
        final Retained previous = retained.remove(subject);
        if (null != previous)
        {
            bytes -= previous.bytes;
        }
        final long size = (long)length + subject.length();
        if (bytes + size > maxBytes)
        {
            bridge.dropRetained(session, subject);
            return;
        }
        bytes += size;
        retained.put(subject, new Retained(
            subject, bridge.payloadOf(p, buffer, offset, length), p.timestampMs(), p.logId(), p.sequence(), size));
    }

    /** The broker answered one pattern's Subscribe (or refused it, or was lost: the routes decide what is read). */
    void onAnswer()
    {
        if (0 == --unanswered)
        {
            bridge.onJoined(this);
        }
    }

    /** Push what was kept, in the order it came, and forget it. */
    void pushRetained()
    {
        final List<Retained> values = new ArrayList<>(retained.values());
        retained.clear();
        bytes = 0;
        for (int i = 0, size = values.size(); i < size; i++)
        {
            final Retained r = values.get(i);
            bridge.pushRetained(session, r.subject, r.payload, r.timestampMs, r.logId, r.sequence);
        }
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

    private static final class Retained
    {
        final String subject;
        final JsonNode payload;
        final long timestampMs;
        final long logId;
        final long sequence;
        final long bytes;

        Retained(
            final String subject, final JsonNode payload, final long timestampMs, final long logId,
            final long sequence, final long bytes)
        {
            this.subject = subject;
            this.payload = payload;
            this.timestampMs = timestampMs;
            this.logId = logId;
            this.sequence = sequence;
            this.bytes = bytes;
        }
    }
}
