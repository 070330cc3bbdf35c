package io.switchboard.broker;

import io.switchboard.codec.subject.SubjectPattern;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The last retained publication of each subject, kept by the broker for new subscribers, bounded in subjects and in
 * bytes. Each is kept as the encoded {@code RetainedPublication} message it is sent as, so a delivery is a copy.
 * Over either bound a retain is refused whole and nothing already retained is evicted; a value replacing another
 * is counted for the difference. What is retained stays after its publisher is gone (not across a restart).
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
final class RetainedMessages
{
    /** Heap a retained message costs besides its encoded bytes and its subject (map entry, objects, headers). */
    static final int OVERHEAD = 128;

    /**
     * One subject's retained publication, immutable once kept.
     */
    static final class Retained
    {
        final String subject;
        /** The encoded RetainedPublication, header included; its correlation id is set per delivery. */
        final byte[] message;
        final long size;

        Retained(final String subject, final byte[] message)
        {
            this.subject = subject;
            this.message = message;
            this.size = size(subject, message.length);
        }
    }

    private final Map<String, Retained> bySubject = new HashMap<>();
    private final int maxSubjects;
    private final long maxBytes;
    private long bytes;

    /**
     * An empty store.
     *
     * @param maxSubjects bound on the subjects held (0: nothing is retained).
     * @param maxBytes bound on the bytes held (0: nothing is retained).
     */
    RetainedMessages(final int maxSubjects, final long maxBytes)
    {
        this.maxSubjects = maxSubjects;
        this.maxBytes = maxBytes;
    }

    /**
     * The bytes a retained message is counted for.
     *
     * @param subject of the message.
     * @param messageLength of the encoded message.
     * @return message, subject (two bytes a char) and overhead.
     */
    static long size(final String subject, final int messageLength)
    {
        return messageLength + 2L * subject.length() + OVERHEAD;
    }

    /**
     * Keep (or replace) the last publication of a subject, if the store stays within its bounds.
     *
     * @param subject of the publication.
     * @param message the encoded RetainedPublication, which the store keeps (not copied).
     * @return null if kept, else why not (naming the bound, what is held and what was asked).
     */
    String put(final String subject, final byte[] message)
    {
        final Retained old = bySubject.get(subject);
        final long size = size(subject, message.length);
        final long after = bytes - (null == old ? 0 : old.size) + size;
        if (null == old && bySubject.size() >= maxSubjects)
        {
            return "the broker retains values of at most " + maxSubjects + " subjects and holds " +
                bySubject.size() + "; '" + subject + "' would be one more";
        }
        if (after > maxBytes)
        {
            return "the broker retains at most " + maxBytes + " bytes and holds " + bytes + " in " +
                bySubject.size() + " subjects; retaining '" + subject + "' (" + size + " bytes" +
                (null == old ? "" : ", replacing " + old.size) + ") would pass it";
        }
        bySubject.put(subject, new Retained(subject, message));
        bytes = after;
        return null;
    }

    /**
     * Forget a subject's retained publication.
     *
     * @param subject to clear.
     * @return true if one was held.
     */
    boolean clear(final String subject)
    {
        final Retained old = bySubject.remove(subject);
        if (null != old)
        {
            bytes -= old.size;
            return true;
        }
        return false;
    }

    /**
     * The retained publication of a subject.
     *
     * @param subject of the publication.
     * @return it, or null if none.
     */
    Retained get(final String subject)
    {
        return bySubject.get(subject);
    }

    /**
     * The subjects that a pattern matches and that hold a retained publication (cold path: one pass over the store).
     *
     * @param pattern of a new subscription.
     * @return the subjects, possibly empty.
     */
    List<String> matching(final SubjectPattern pattern)
    {
        final List<String> subjects = new ArrayList<>();
        for (final String subject : bySubject.keySet())
        {
            if (pattern.matches(subject))
            {
                subjects.add(subject);
            }
        }
        return subjects;
    }

    int size()
    {
        return bySubject.size();
    }

    long bytes()
    {
        return bytes;
    }

    boolean isEmpty()
    {
        return bySubject.isEmpty();
    }
}
