package io.switchboard.broker.link;

import io.switchboard.broker.SubjectTable;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Hands the patterns the broker's subscribers take and drop from the broker conductor's thread to the link
 * conductor's, through a queue (the link never reads the conductor's state).
 * <p>
 * Thread-safe: {@link #onInterest} is called by the broker conductor, {@link #poll()} by the link conductor.
 */
public final class LinkInterest implements SubjectTable.InterestListener
{
    /** One pattern that came or went. */
    static final class Change
    {
        final int clientId;
        final String pattern;
        final boolean held;

        Change(final int clientId, final String pattern, final boolean held)
        {
            this.clientId = clientId;
            this.pattern = pattern;
            this.held = held;
        }
    }

    private final ConcurrentLinkedQueue<Change> changes = new ConcurrentLinkedQueue<>();

    /**
     * {@inheritDoc}
     */
    public void onInterest(final int clientId, final String pattern, final boolean held)
    {
        changes.add(new Change(clientId, pattern, held));
    }

    Change poll()
    {
        return changes.poll();
    }
}
