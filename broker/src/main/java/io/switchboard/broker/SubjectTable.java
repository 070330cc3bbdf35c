package io.switchboard.broker;

import io.switchboard.codec.subject.SubjectPattern;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Which peer holds which subscription patterns, and who matches a subject.
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
public final class SubjectTable
{
    /** How a refusal for the per-peer pattern limit begins. */
    public static final String PER_PEER_LIMIT = "per-peer subscription limit";

    private final Map<String, Entry> byPattern = new LinkedHashMap<>();
    private final int maxPatternsPerClient;
    private final Map<Integer, Set<String>> patternsByClient = new LinkedHashMap<>();
    private InterestListener interestListener;

    /** Told each time a peer starts or stops holding a pattern (the links send it on); on the conductor thread. */
    @FunctionalInterface
    public interface InterestListener
    {
        /**
         * A peer's pattern came or went.
         *
         * @param clientId of the peer.
         * @param pattern it holds or dropped.
         * @param held true when it came, false when it went.
         */
        void onInterest(int clientId, String pattern, boolean held);
    }

    private static final class Entry
    {
        final SubjectPattern pattern;
        final Set<Integer> clients = new LinkedHashSet<>();

        Entry(final SubjectPattern pattern)
        {
            this.pattern = pattern;
        }
    }

    /**
     * Create an empty table.
     *
     * @param maxPatternsPerClient bound on the patterns one peer may hold.
     */
    public SubjectTable(final int maxPatternsPerClient)
    {
        this.maxPatternsPerClient = maxPatternsPerClient;
    }

    /**
     * Set the one listener told of patterns coming and going; before the conductor runs.
     *
     * @param listener to tell, or null.
     */
    public void interestListener(final InterestListener listener)
    {
        this.interestListener = listener;
    }

    /**
     * Add a subscription.
     *
     * @param clientId of the subscriber.
     * @param pattern to hold.
     * @return null on success, else what is wrong.
     */
    public String subscribe(final int clientId, final String pattern)
    {
        return subscribe(clientId, pattern, maxPatternsPerClient);
    }

    /**
     * Add a subscription with a bound of the caller's choosing.
     *
     * @param clientId of the subscriber.
     * @param pattern to hold.
     * @param maxPatterns the peer may hold.
     * @return null on success, else what is wrong.
     */
    public String subscribe(final int clientId, final String pattern, final int maxPatterns)
    {
        final String problem = SubjectPattern.validatePattern(pattern);
        if (null != problem)
        {
            return "invalid pattern '" + pattern + "': " + problem;
        }
        final Set<String> held = patternsByClient.computeIfAbsent(clientId, (k) -> new LinkedHashSet<>());
        if (!held.contains(pattern) && held.size() >= maxPatterns)
        {
            if (held.isEmpty())
            {
                patternsByClient.remove(clientId);
            }
            return PER_PEER_LIMIT + ": expected at most " + maxPatterns + " patterns per peer, this peer holds " +
                held.size();
        }
        if (held.add(pattern) && null != interestListener)
        {
            interestListener.onInterest(clientId, pattern, true);
        }
        byPattern.computeIfAbsent(pattern, (p) -> new Entry(SubjectPattern.compile(p))).clients.add(clientId);
        return null;
    }

    /**
     * Drop a subscription; an empty pattern drops every subscription of the peer.
     *
     * @param clientId of the subscriber.
     * @param pattern to drop, or empty for all.
     */
    public void unsubscribe(final int clientId, final String pattern)
    {
        final Set<String> held = patternsByClient.get(clientId);
        if (null == held)
        {
            return;
        }
        final List<String> toDrop = pattern.isEmpty() ? new ArrayList<>(held) : List.of(pattern);
        for (final String p : toDrop)
        {
            if (held.remove(p) && null != interestListener)
            {
                interestListener.onInterest(clientId, p, false);
            }
            final Entry entry = byPattern.get(p);
            if (null != entry)
            {
                entry.clients.remove(clientId);
                if (entry.clients.isEmpty())
                {
                    byPattern.remove(p);
                }
            }
        }
        if (held.isEmpty())
        {
            patternsByClient.remove(clientId);
        }
    }

    /**
     * Drop everything a peer held.
     *
     * @param clientId of the peer.
     */
    public void removeClient(final int clientId)
    {
        unsubscribe(clientId, "");
    }

    /**
     * Call back with each peer holding at least one pattern that matches the subject; each peer once.
     *
     * @param subject published.
     * @param consumer of matching client ids.
     * @return number of matching peers.
     */
    public int forEachSubscriber(final String subject, final IntConsumer consumer)
    {
        final Set<Integer> seen = new LinkedHashSet<>();
        for (final Entry entry : byPattern.values())
        {
            if (entry.pattern.matches(subject))
            {
                seen.addAll(entry.clients);
            }
        }
        for (final Integer id : seen)
        {
            consumer.accept(id);
        }
        return seen.size();
    }

    /**
     * Patterns a peer holds.
     *
     * @param clientId of the peer.
     * @return its patterns, in the order subscribed.
     */
    public Set<String> patterns(final int clientId)
    {
        final Set<String> held = patternsByClient.get(clientId);
        return null == held ? Set.of() : Collections.unmodifiableSet(held);
    }

    /**
     * Number of distinct patterns held.
     *
     * @return the number of distinct patterns.
     */
    public int patternCount()
    {
        return byPattern.size();
    }
}
