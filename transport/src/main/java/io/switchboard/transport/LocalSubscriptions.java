package io.switchboard.transport;

import io.switchboard.codec.subject.SubjectPattern;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;

import java.util.ArrayList;
import java.util.LinkedHashSet;

/**
 * The subscriptions this peer holds: a pattern and a handler each, in the order they were made.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class LocalSubscriptions
{
    private final ArrayList<Subscription> subscriptions = new ArrayList<>();
    private final ErrorHandler errorHandler;

    private static final class Subscription
    {
        final SubjectPattern pattern;
        final PushHandler handler;

        Subscription(final SubjectPattern pattern, final PushHandler handler)
        {
            this.pattern = pattern;
            this.handler = handler;
        }
    }

    LocalSubscriptions(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
    }

    void add(final SubjectPattern pattern, final PushHandler handler)
    {
        subscriptions.add(new Subscription(pattern, handler));
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
        return subscriptions.removeIf((s) -> s.pattern.equals(pattern) && (null == handler || s.handler == handler));
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
            if (s.pattern.matches(buffer, subjectOffset, subjectLength))
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
