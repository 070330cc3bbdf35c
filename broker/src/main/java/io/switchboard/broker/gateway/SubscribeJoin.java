package io.switchboard.broker.gateway;

import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.transport.Push;
import io.switchboard.transport.PushHandler;
import org.agrona.DirectBuffer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One connection's SUBSCRIBE of new patterns while the broker answers it: subscribed through the gateway's client
 * once more for this connection, it takes the retained values the broker sends before its answer and has them pushed
 * at once, one per subject however many of the new patterns match it, and none whose subject a pattern the
 * connection held before matches (it had its chance then), and none whose subject reached the connection live since
 * its SUBSCRIBE (that value is newer). When the broker has answered every pattern, these subscriptions go
 * ({@link SubjectBridge#onJoined}).
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SubscribeJoin implements PushHandler
{
    final GatewaySession session;
    final List<SubjectPattern> patterns;
    private final SubjectBridge bridge;
    private final List<SubjectPattern> heldBefore;
    private final Set<String> pushedSubjects = new HashSet<>();
    private int unanswered;

    SubscribeJoin(
        final SubjectBridge bridge,
        final GatewaySession session,
        final List<SubjectPattern> patterns,
        final List<SubjectPattern> heldBefore)
    {
        this.bridge = bridge;
        this.session = session;
        this.patterns = patterns;
        this.heldBefore = heldBefore;
        this.unanswered = patterns.size();
    }

    public void onPush(final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!p.isRetained() || session.closed)
        {
            return; // live publications come through the routes once joined
        }
        final String subject = p.subject().toString();
        if (!session.matches(subject) || matchesAny(heldBefore, subject) || session.pushedLiveDuringJoin(subject) ||
            !pushedSubjects.add(subject))
        {
            return; // unsubscribed since; had its chance; a newer value reached it live; or owed once only
        }
        bridge.pushRetained(session, p, buffer, offset, length);
    }

    /** The broker answered one pattern's Subscribe (or refused it, or was lost: the routes decide what is read). */
    void onAnswer()
    {
        if (0 == --unanswered)
        {
            pushedSubjects.clear();
            bridge.onJoined(this);
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
}
