package io.switchboard.broker.link;

import io.switchboard.broker.SubjectTable;
import io.switchboard.codec.wire.RouteAction;
import org.agrona.collections.IntHashSet;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Hands the patterns the broker's subscribers take and drop from the broker conductor's thread to the link
 * conductor's, through a queue (the link never reads the conductor's state); there, counts the subscribers of each
 * pattern on this host and tells the peers when a pattern's first one comes or its last one goes.
 * <p>
 * {@link #onInterest} is called by the broker conductor; {@link #drain} and {@link #patterns()} by the link
 * conductor only.
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

    /** Subscribers of each pattern on this host (not the links' own), on the link conductor's thread. */
    private final Map<String, Integer> local = new LinkedHashMap<>();

    /**
     * Take the changes queued since the last call; tell the peers that are up of each pattern that came or went.
     *
     * @param linkClientIds the links' own clients, whose subscriptions are for peers, not this host's interest.
     * @param peers to tell.
     * @return the changes taken.
     */
    int drain(final IntHashSet linkClientIds, final PeerLink[] peers)
    {
        int work = 0;
        Change change;
        while (null != (change = changes.poll()))
        {
            work++;
            if (linkClientIds.contains(change.clientId))
            {
                continue; // a link's own subscription, for a peer: not this host's interest
            }
            final Integer count = local.get(change.pattern);
            final int was = null == count ? 0 : count;
            final int now = Math.max(0, was + (change.held ? 1 : -1));
            if (0 == now)
            {
                local.remove(change.pattern);
            }
            else
            {
                local.put(change.pattern, now);
            }
            if ((0 == was) != (0 == now))
            {
                final RouteAction action = 0 == now ? RouteAction.REMOVE : RouteAction.ADD;
                for (final PeerLink peer : peers)
                {
                    if (peer.up)
                    {
                        peer.sender.interest(action, change.pattern);
                    }
                }
            }
        }
        return work;
    }

    /**
     * The patterns someone on this host holds, for a link that comes up.
     *
     * @return the patterns.
     */
    Set<String> patterns()
    {
        return local.keySet();
    }
}
