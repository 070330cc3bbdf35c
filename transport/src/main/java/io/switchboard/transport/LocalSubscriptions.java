package io.switchboard.transport;

import io.switchboard.codec.subject.SubjectPattern;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.collections.Long2LongHashMap;

import java.util.ArrayList;
import java.util.LinkedHashSet;

/**
 * The subscriptions this peer holds: a pattern and a handler each, in the order they were made.
 * <p>
 * A new subscription is <i>pending</i> until the broker acknowledges its Subscribe: it receives the retained values
 * the broker sends before that ack, and no live publication, so the retained values come first. Once active, a live
 * publication already handed to it as a retained value (same publisher log, sequence not newer) is not handed again.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class LocalSubscriptions
{
    private final ArrayList<Subscription> subscriptions = new ArrayList<>();
    private final ErrorHandler errorHandler;

    private static final long ACTIVE = 0;
    private static final long NONE = -1;

    private static final class Subscription
    {
        final SubjectPattern pattern;
        final PushHandler handler;
        /** Correlation id of the Subscribe not yet acknowledged, or {@link #ACTIVE}. */
        long pendingCorrelationId;
        /** Per publisher log, the newest sequence handed over as retained and not yet passed by a live one. */
        Long2LongHashMap retainedSequenceByLog;
        /** The retained values handed over while pending (subject, log, sequence), to hand none over twice. */
        java.util.HashSet<String> retainedWhilePending;

        Subscription(final SubjectPattern pattern, final PushHandler handler, final long pendingCorrelationId)
        {
            this.pattern = pattern;
            this.handler = handler;
            this.pendingCorrelationId = pendingCorrelationId;
        }

        /** Whether a live publication was handed over already as retained; forgets the log once passed. */
        boolean wasRetained(final Push push)
        {
            final Long2LongHashMap retained = retainedSequenceByLog;
            if (null == retained || retained.isEmpty())
            {
                return false;
            }
            final long sequence = retained.get(push.logId);
            if (NONE == sequence)
            {
                return false;
            }
            if (push.sequence <= sequence)
            {
                return true;
            }
            retained.remove(push.logId);
            return false;
        }
    }

    private int pending;

    LocalSubscriptions(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
    }

    /**
     * Add a subscription, pending until its Subscribe is acknowledged.
     *
     * @param pattern of the subscription.
     * @param handler of its publications.
     * @param correlationId of the Subscribe announcing it.
     */
    void add(final SubjectPattern pattern, final PushHandler handler, final long correlationId)
    {
        subscriptions.add(new Subscription(pattern, handler, correlationId));
        pending++;
    }

    /**
     * Announce a subscription to the broker and add it, pending until the broker answers: acknowledged, it takes live
     * publications; refused, it goes; with the broker lost (not a refusal) it stays, as it always did, to be
     * announced again on reconnecting.
     *
     * @param controlProxy through which the Subscribe is sent.
     * @param pattern of the subscription.
     * @param handler of its publications.
     * @return completed by the broker's answer, in the duty cycle that reads it, after the retained values before it.
     */
    java.util.concurrent.CompletableFuture<Void> subscribe(
        final ControlProxy controlProxy, final SubjectPattern pattern, final PushHandler handler)
    {
        final java.util.concurrent.CompletableFuture<Void> answer = controlProxy.subscription(pattern.pattern(), true);
        final long correlationId = controlProxy.lastCorrelationId();
        add(pattern, handler, correlationId);
        return answer.whenComplete((v, ex) ->
        {
            if (null == ex || isBrokerLoss(ex))
            {
                activate(correlationId);
            }
            else
            {
                removePending(correlationId);
            }
        });
    }

    private static boolean isBrokerLoss(final Throwable ex)
    {
        final Throwable cause = ex instanceof java.util.concurrent.CompletionException ? ex.getCause() : ex;
        return cause instanceof SwitchboardException &&
            ErrorCodes.SERVICE_UNAVAILABLE.equals(((SwitchboardException)cause).errorCode());
    }

    /**
     * The broker acknowledged a Subscribe: its subscription receives live publications from now on.
     *
     * @param correlationId of the Subscribe.
     */
    void activate(final long correlationId)
    {
        for (int i = 0, size = subscriptions.size(); i < size; i++)
        {
            final Subscription s = subscriptions.get(i);
            if (correlationId == s.pendingCorrelationId)
            {
                s.pendingCorrelationId = ACTIVE;
                s.retainedWhilePending = null;
                pending--;
            }
        }
    }

    /**
     * The broker refused a Subscribe, or was lost before answering: its subscription goes.
     *
     * @param correlationId of the Subscribe.
     */
    void removePending(final long correlationId)
    {
        subscriptions.removeIf((s) ->
        {
            if (correlationId == s.pendingCorrelationId)
            {
                pending--;
                return true;
            }
            return false;
        });
    }

    /**
     * Whether a subscription waits for its Subscribe's ack (the control connection is then read every duty cycle).
     *
     * @return true if one is pending.
     */
    boolean hasPending()
    {
        return 0 != pending;
    }

    /**
     * Drop subscriptions with a pattern.
     *
     * @param pattern of the subscriptions.
     * @param handler to drop only this handler's, or null for all.
     * @return true if any was dropped.
     */
    boolean remove(final SubjectPattern pattern, final PushHandler handler)
    {
        return subscriptions.removeIf((s) ->
        {
            if (s.pattern.equals(pattern) && (null == handler || s.handler == handler))
            {
                if (ACTIVE != s.pendingCorrelationId)
                {
                    pending--;
                }
                return true;
            }
            return false;
        });
    }

    /**
     * Whether a subscription with this pattern is held.
     *
     * @param pattern of the subscription.
     * @return true if at least one is held.
     */
    boolean holds(final SubjectPattern pattern)
    {
        for (int i = 0, size = subscriptions.size(); i < size; i++)
        {
            if (subscriptions.get(i).pattern.equals(pattern))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Hand a subject's retained value to the pending subscription whose Subscribe the broker answers with it, unless
     * that subscription was handed this log's publication or a newer one already.
     *
     * @param correlationId of the Subscribe.
     * @param push the retained publication's fields.
     * @param buffer holding it.
     * @param subjectOffset at which the subject begins.
     * @param subjectLength of the subject.
     * @param payloadOffset at which the payload begins.
     * @param payloadLength of the payload.
     * @return how many handlers it was handed to.
     */
    int onRetained(
        final long correlationId,
        final Push push,
        final DirectBuffer buffer,
        final int subjectOffset,
        final int subjectLength,
        final int payloadOffset,
        final int payloadLength)
    {
        int pushes = 0;
        for (int i = 0, size = subscriptions.size(); i < size; i++)
        {
            final Subscription s = subscriptions.get(i);
            if (correlationId != s.pendingCorrelationId || !s.pattern.matches(buffer, subjectOffset, subjectLength))
            {
                continue;
            }
            if (null == s.retainedSequenceByLog)
            {
                s.retainedSequenceByLog = new Long2LongHashMap(NONE);
                s.retainedWhilePending = new java.util.HashSet<>();
            }
            // cold path: a subject may come twice, retained again while the values were being sent; the same value
            // (same log and sequence) is handed over once, a newer one is handed over too
            if (!s.retainedWhilePending.add(push.subject + " " + push.logId + " " + push.sequence))
            {
                continue;
            }
            final long held = s.retainedSequenceByLog.get(push.logId);
            if (NONE == held || push.sequence > held)
            {
                s.retainedSequenceByLog.put(push.logId, push.sequence);
            }
            pushes++;
            try
            {
                s.handler.onPush(push, buffer, payloadOffset, payloadLength);
            }
            catch (final Throwable ex)
            {
                errorHandler.onError(ex);
            }
        }
        return pushes;
    }

    boolean isEmpty()
    {
        return subscriptions.isEmpty();
    }

    int size()
    {
        return subscriptions.size();
    }

    /**
     * The distinct patterns held, to announce again in a new session.
     *
     * @return the patterns in the order first subscribed.
     */
    LinkedHashSet<String> patterns()
    {
        final LinkedHashSet<String> patterns = new LinkedHashSet<>();
        for (final Subscription s : subscriptions)
        {
            patterns.add(s.pattern.pattern());
        }
        return patterns;
    }

    /**
     * Hand a publication to every subscription whose pattern matches its subject; what a handler throws goes to the
     * error handler.
     *
     * @param push the publication's fields.
     * @param buffer holding the publication.
     * @param subjectOffset at which the subject begins.
     * @param subjectLength of the subject.
     * @param payloadOffset at which the payload begins.
     * @param payloadLength of the payload.
     * @return how many handlers it was handed to.
     */
    int onPush(
        final Push push,
        final DirectBuffer buffer,
        final int subjectOffset,
        final int subjectLength,
        final int payloadOffset,
        final int payloadLength)
    {
        int pushes = 0;
        final ArrayList<Subscription> subscriptions = this.subscriptions;
        for (int i = 0, size = subscriptions.size(); i < size; i++)
        {
            final Subscription s = subscriptions.get(i);
            if (ACTIVE == s.pendingCorrelationId && s.pattern.matches(buffer, subjectOffset, subjectLength) &&
                !s.wasRetained(push))
            {
                pushes++;
                try
                {
                    s.handler.onPush(push, buffer, payloadOffset, payloadLength);
                }
                catch (final Throwable ex)
                {
                    errorHandler.onError(ex);
                }
            }
        }
        return pushes;
    }
}
