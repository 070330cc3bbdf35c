package io.switchboard.broker;

import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.codec.wire.RetainedPublicationEncoder;
import io.switchboard.codec.wire.Status;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The broker's role for retained values: it keeps each subject's last retained publication in the
 * {@link RetainedMessages} (a peer's Retain, checked and copied), and sends the matching ones to every new
 * subscription before its Subscribe is acked, as the peer's control socket drains.
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
final class RetainedDeliveries
{
    private final RetainedMessages retained;
    private final BrokerControlProxy controlProxy;
    private final BrokerCounters counters;
    private final int maxPendingBytes;
    /** Sessions with retained values still to send, in the order they subscribed. */
    private final List<ClientSession> delivering = new ArrayList<>();
    private String refusal;

    /**
     * @param retained the store of retained values.
     * @param controlProxy through which values and acks are sent.
     * @param counters in which retained values are counted.
     * @param maxPendingBytes of a peer's unsent control bytes below which more values are sent to it.
     */
    RetainedDeliveries(
        final RetainedMessages retained,
        final BrokerControlProxy controlProxy,
        final BrokerCounters counters,
        final int maxPendingBytes)
    {
        this.retained = retained;
        this.controlProxy = controlProxy;
        this.counters = counters;
        this.maxPendingBytes = maxPendingBytes;
    }

    /**
     * Keep a peer's retained publication, or clear its subject if the payload is empty.
     *
     * @param session of the publisher.
     * @param subject of the publication.
     * @param payloadLength of the publication, 0 to clear.
     * @param buffer holding the whole Retain message.
     * @param offset at which its SBE header begins.
     * @param length of the message.
     * @return null if kept (or cleared), else the status to refuse it with, the reason in {@link #refusal()}.
     */
    Status retain(
        final ClientSession session,
        final String subject,
        final int payloadLength,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        final String problem = SubjectPattern.validateSubject(subject);
        if (null != problem)
        {
            refusal = "invalid subject '" + subject + "': " + problem;
            return Status.INVALID_REQUEST;
        }
        if (0 == payloadLength)
        {
            retained.clear(subject);
        }
        else
        {
            // cold path: the store keeps its own copy, sent as a RetainedPublication (same layout, other id)
            final byte[] message = new byte[length];
            buffer.getBytes(offset, message);
            message[2] = (byte)RetainedPublicationEncoder.TEMPLATE_ID; // the header's templateId: uint16 LE at 2
            message[3] = (byte)(RetainedPublicationEncoder.TEMPLATE_ID >>> 8);
            final String overBound = retained.put(subject, message);
            if (null != overBound)
            {
                counters.increment(BrokerCounters.RETAINS_REFUSED);
                refusal = overBound + "; not published";
                return Status.PAYLOAD_TOO_LARGE;
            }
            oweToDeliveries(subject);
        }
        counters.set(BrokerCounters.RETAINED_SUBJECTS, retained.size());
        counters.set(BrokerCounters.RETAINED_BYTES, retained.bytes());
        return null;
    }

    /**
     * Why the last retain was refused.
     *
     * @return the reason, naming the bound and what was asked.
     */
    String refusal()
    {
        return refusal;
    }

    /**
     * A Subscribe was accepted: if retained values match it, or earlier ones are still being sent to this peer, a
     * delivery is queued and acked once sent; else the caller acks at once.
     *
     * @param session of the subscriber.
     * @param correlationId of its Subscribe.
     * @param pattern it subscribed, valid.
     * @return true if the ack is left to the delivery.
     */
    boolean onSubscribe(final ClientSession session, final long correlationId, final String pattern)
    {
        if (retained.isEmpty() && null == session.retainedDeliveries)
        {
            return false;
        }
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        if (null == session.retainedDeliveries)
        {
            session.retainedDeliveries = new ArrayDeque<>();
            delivering.add(session);
        }
        session.retainedDeliveries.addLast(
            new ClientSession.RetainedDelivery(correlationId, compiled, retained.matching(compiled)));
        return true;
    }

    /**
     * Send the retained values owed to new subscriptions, as far as each peer's control socket drains: unsent bytes of
     * at most one control message per peer, so that many or large retained values never fill the bounded queue
     * (which would drop the peer) and the broker holds no copy of them. A Subscribe is acked once its last value is
     * sent.
     *
     * @param sessionById the connected peers: a delivery to one that is gone is dropped.
     * @return work done.
     */
    int deliver(final Int2ObjectHashMap<ClientSession> sessionById)
    {
        if (delivering.isEmpty())
        {
            return 0;
        }
        int work = 0;
        for (int i = delivering.size() - 1; i >= 0; i--)
        {
            final ClientSession session = delivering.get(i);
            final ArrayDeque<ClientSession.RetainedDelivery> deliveries = session.retainedDeliveries;
            final boolean connected = sessionById.get(session.clientId) == session;
            while (connected && !deliveries.isEmpty() && session.connection.pendingWriteBytes() < maxPendingBytes)
            {
                final ClientSession.RetainedDelivery delivery = deliveries.peekFirst();
                if (delivery.next < delivery.subjects.size())
                {
                    // the value held now, not when the Subscribe came: one replaced since is sent at its newest
                    final RetainedMessages.Retained value = retained.get(delivery.subjects.get(delivery.next++));
                    if (null != value)
                    {
                        controlProxy.retained(session, delivery.correlationId, value.message);
                        counters.increment(BrokerCounters.RETAINED_SENT);
                        work++;
                    }
                }
                else
                {
                    deliveries.pollFirst();
                    controlProxy.reply(session, delivery.correlationId, null, null);
                    work++;
                }
            }
            if (!connected || deliveries.isEmpty())
            {
                session.retainedDeliveries = null;
                delivering.remove(i);
            }
        }
        return work;
    }

    /**
     * A value retained while subscriptions are still being sent theirs: one whose pattern matches is owed it too, so
     * that its live copy, which the publisher writes once acked, cannot overtake the subscription's ack unseen.
     */
    private void oweToDeliveries(final String subject)
    {
        for (int i = 0, size = delivering.size(); i < size; i++)
        {
            final ArrayDeque<ClientSession.RetainedDelivery> deliveries = delivering.get(i).retainedDeliveries;
            if (null != deliveries)
            {
                for (final ClientSession.RetainedDelivery delivery : deliveries)
                {
                    if (delivery.pattern.matches(subject))
                    {
                        delivery.subjects.add(subject);
                    }
                }
            }
        }
    }
}
