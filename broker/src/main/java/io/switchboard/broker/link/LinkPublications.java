package io.switchboard.broker.link;

import io.switchboard.transport.Push;
import io.switchboard.transport.PushHandler;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.collections.Object2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The publications of one link, both ways. Out: the stand-in client subscribes here to the patterns the peer's
 * subscribers hold and sends what matches, once per publication, never what a link published here (no loops);
 * retained values this broker hands the new subscription cross marked as such. In: what the peer sends is published
 * here by the stand-in; a retained value, and every later publication on a subject the peer retains, is published
 * here <em>retained</em>, so this broker holds a mirror of the peer's retained values and hands it to its own new
 * subscribers first, as on one host. The mirror is cleared when the link goes down (the peer's values are the peer's
 * state, withdrawn with its routes) and sent again when the link and the interest come back.
 * <p>
 * Not thread-safe: used by the link conductor's thread only.
 */
final class LinkPublications implements PushHandler
{
    /** Subjects of the peer's retained values mirrored here at most (memory bound); more are published live only. */
    static final int MAX_MIRRORED_SUBJECTS = 65_536;

    private static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    private final PeerLink peer;
    private final Switchboard client;
    private final LinkCounters counters;
    private final Consumer<String> log;
    final Set<String> remoteInterest = new LinkedHashSet<>();
    private final int maxRemotePatterns = LinkContext.maxRemotePatterns();
    private final long maxRemotePatternBytes = LinkContext.maxRemotePatternBytes();
    /** Bytes of the patterns in {@link #remoteInterest}, as held (two per character, and an entry's overhead). */
    private long remoteInterestBytes;
    private boolean interestRefusedLogged;
    /** The peer's retained subjects mirrored here, with a hash of the value last retained here. */
    private final Object2LongHashMap<String> mirrored = new Object2LongHashMap<>(0);
    private long lastLogId;
    private long lastSequence = -1;
    /** Publications meant for the peer, numbered: those that could not be sent leave a jump the peer sees. */
    private long sentLinkSequence;
    /** The last link sequence received from the peer; 0 until the first after the link came up. */
    private long receivedLinkSequence;
    private boolean mirrorFullLogged;

    LinkPublications(
        final PeerLink peer, final Switchboard client, final LinkCounters counters, final Consumer<String> log)
    {
        this.peer = peer;
        this.client = client;
        this.counters = counters;
        this.log = log;
    }

    /** Bytes one held pattern costs: its characters as held, and an estimate of its string's and set entry's objects. */
    static long patternBytes(final String pattern)
    {
        return 2L * pattern.length() + 96;
    }

    /**
     * The peer's subscribers hold a pattern: subscribe to it here for them, unless the peer already holds as many
     * patterns, or as many bytes of them, as it may make this broker hold (memory bound): then it is refused, counted
     * and logged once per link-up, and the link goes on.
     *
     * @param pattern the peer's subscribers hold.
     */
    void addInterest(final String pattern)
    {
        if (remoteInterest.contains(pattern))
        {
            return;
        }
        final long bytes = patternBytes(pattern);
        if (remoteInterest.size() >= maxRemotePatterns || remoteInterestBytes + bytes > maxRemotePatternBytes)
        {
            counters.interestRefused++;
            if (!interestRefusedLogged)
            {
                interestRefusedLogged = true;
                log.accept("link " + peer.endpoint + ": its interest in '" + pattern + "' refused: it holds " +
                    remoteInterest.size() + " patterns (" + remoteInterestBytes + " bytes) here, expected at most " +
                    maxRemotePatterns + " patterns and " + maxRemotePatternBytes + " bytes (" +
                    LinkContext.MAX_REMOTE_PATTERNS_PROP + ", " + LinkContext.MAX_REMOTE_PATTERN_BYTES_PROP + "); " +
                    "further refusals are counted, not logged");
            }
            return;
        }
        remoteInterest.add(pattern);
        remoteInterestBytes += bytes;
        client.subscribeAsync(pattern, this).whenComplete((ok, ex) ->
        {
            if (null != ex)
            {
                if (remoteInterest.remove(pattern))
                {
                    remoteInterestBytes -= bytes;
                }
                log.accept("link " + peer.endpoint + ": cannot subscribe here to its interest '" + pattern + "': " +
                    PeerLink.describe(ex));
            }
        });
    }

    void removeInterest(final String pattern)
    {
        if (remoteInterest.remove(pattern))
        {
            remoteInterestBytes -= patternBytes(pattern);
            client.unsubscribeAsync(pattern);
        }
    }

    /** The link went down: drop the peer's interest here and clear the mirror of its retained values. */
    void down()
    {
        for (final String pattern : remoteInterest)
        {
            client.unsubscribeAsync(pattern);
        }
        remoteInterest.clear();
        remoteInterestBytes = 0;
        interestRefusedLogged = false;
        for (final String subject : mirrored.keySet())
        {
            try
            {
                client.publishRetainedAsync(subject, "Json", -1, EMPTY, 0, 0);
            }
            catch (final RuntimeException ex)
            {
                log.accept("link " + peer.endpoint + ": cannot clear its retained value of '" + subject + "' here: " +
                    PeerLink.describe(ex));
                break; // the stand-in has no broker now: its retained values went with its session, or go on restart
            }
        }
        mirrored.clear();
        lastSequence = -1;
        receivedLinkSequence = 0;
    }

    public void onPush(final Push push, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!peer.up || peer.conductor().isLinkClient(push.publisherId()))
        {
            return; // never send back what came over a link (nor a mirrored retained value): no loops
        }
        if (push.logId() == lastLogId && push.sequence() == lastSequence)
        {
            return; // one publication matching two of the peer's patterns crosses once
        }
        lastLogId = push.logId();
        lastSequence = push.sequence();
        sentLinkSequence += push.lostBefore(); // lost here before the stand-in read them: lost for the peer too
        final long linkSequence = ++sentLinkSequence;
        if (length > peer.sender.maxPayloadLength() || !peer.sender.publication(push.templateId(),
            push.isRetained(), linkSequence, push.subject(), push.messageType(), buffer, offset, length))
        {
            counters.publicationsDropped++;
        }
        else
        {
            counters.publicationsSent++;
        }
    }

    void onLinkPublication(
        final int templateId, final boolean retained, final long linkSequence, final String subject,
        final String messageType, final DirectBuffer payload, final int offset, final int length)
    {
        if (0 != receivedLinkSequence && linkSequence > receivedLinkSequence + 1)
        {
            // the peer could not send these: the stand-in's subscribers here see them as a gap before this one
            final long lost = linkSequence - receivedLinkSequence - 1;
            counters.publicationsLost += lost;
            client.markPublicationsLost(lost);
        }
        receivedLinkSequence = Math.max(receivedLinkSequence, linkSequence);
        final boolean mirror = retained || mirrored.containsKey(subject);
        if (!mirror || (!mirrored.containsKey(subject) && mirrored.size() >= MAX_MIRRORED_SUBJECTS))
        {
            if (mirror && !mirrorFullLogged)
            {
                mirrorFullLogged = true;
                log.accept("link " + peer.endpoint + ": its retained values are mirrored here for " +
                    MAX_MIRRORED_SUBJECTS + " subjects at most; '" + subject + "' and further ones are published " +
                    "live only");
            }
            publishLive(templateId, subject, messageType, payload, offset, length);
            return;
        }
        final long hash = hash(messageType, payload, offset, length);
        if (retained && mirrored.containsKey(subject) && mirrored.getValue(subject) == hash)
        {
            counters.publicationsReceived++;
            return; // the value mirrored here already (sent again to a new subscription there): not a new one
        }
        mirrored.put(subject, hash);
        final java.util.concurrent.CompletableFuture<Long> retainedPublish;
        try
        {
            retainedPublish = client.publishRetainedAsync(subject, messageType, templateId, payload, offset, length);
        }
        catch (final RuntimeException ex)
        {
            mirrored.removeKey(subject);
            counters.publicationsDropped++;
            return;
        }
        retainedPublish.whenComplete(
            (sequence, ex) ->
            {
                if (null != ex || sequence < 0)
                {
                    counters.publicationsDropped++;
                    if (null != ex)
                    {
                        client.markPublicationsLost(1); // refused: its reserved sequence was given back
                    }
                    if (null != ex && ex.getCause() instanceof SwitchboardException)
                    {
                        mirrored.removeKey(subject); // refused (the store's bound): live only from now on
                    }
                }
                else
                {
                    counters.publicationsReceived++;
                }
            });
    }

    private void publishLive(
        final int templateId, final String subject, final String messageType, final DirectBuffer payload,
        final int offset, final int length)
    {
        if (client.publish(subject, messageType, templateId, payload, offset, length) < 0)
        {
            counters.publicationsDropped++;
            client.markPublicationsLost(1); // not published here: a gap the subscribers here see
        }
        else
        {
            counters.publicationsReceived++;
        }
    }

    private static long hash(final String messageType, final DirectBuffer payload, final int offset, final int length)
    {
        long h = 0xcbf29ce484222325L ^ length;
        for (int i = 0; i < messageType.length(); i++)
        {
            h = (h ^ messageType.charAt(i)) * 0x100000001b3L;
        }
        for (int i = 0; i < length; i++)
        {
            h = (h ^ payload.getByte(offset + i)) * 0x100000001b3L;
        }
        return h;
    }
}
