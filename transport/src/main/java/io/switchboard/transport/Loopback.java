package io.switchboard.transport;

import io.aeron.logbuffer.FragmentHandler;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableRingBuffer;

/**
 * What a peer sends to its own inbox (a call to a service it serves itself, and that service's answers: the gateway's
 * socket-to-socket calls): kept in memory and read on its next duty cycle, instead of written to the shared-memory
 * log it reads itself. The log could not carry a message longer than its window there, because the writer holds the
 * lock its own reader needs; in memory any message up to the maximum goes, in the order written.
 * <p>
 * Bounded: each of the two rings (one written while the other is read, so that a handler may send to itself again)
 * grows as needed to at most the next power of two above one message of the maximum length; a message that does not
 * fit is refused as back-pressure. Allocation-free once grown. Not thread-safe: call with the client lock held.
 */
final class Loopback
{
    private ExpandableRingBuffer writing;
    private ExpandableRingBuffer reading;
    private FragmentHandler handler;
    private final ExpandableRingBuffer.MessageConsumer consumer = this::onMessage;

    /**
     * @param maxMessageLength longest whole message (payload and envelope) to be carried.
     */
    Loopback(final int maxMessageLength)
    {
        final int maxCapacity = BitUtil.findNextPositivePowerOfTwo(maxMessageLength + 64);
        writing = new ExpandableRingBuffer(0, maxCapacity, false);
        reading = new ExpandableRingBuffer(0, maxCapacity, false);
    }

    /**
     * Keep a message for this peer's inbox.
     *
     * @param buffer holding the message.
     * @param offset at which it begins.
     * @param length of the message.
     * @return true if kept, false if the ring is full (back-pressure).
     */
    boolean offer(final DirectBuffer buffer, final int offset, final int length)
    {
        return writing.append(buffer, offset, length);
    }

    /**
     * Hand what was kept to the inbox's adapter, in the order written.
     *
     * @param handler the inbox's adapter (given no Aeron header).
     * @return how many messages were handed over.
     */
    int drain(final FragmentHandler handler)
    {
        if (writing.isEmpty())
        {
            return 0;
        }
        final ExpandableRingBuffer ring = writing;
        writing = reading;
        reading = ring;
        this.handler = handler;
        return reading.consume(consumer, Integer.MAX_VALUE);
    }

    /**
     * Forget what was kept (the session ended).
     */
    void clear()
    {
        writing.reset(0);
        reading.reset(0);
    }

    private boolean onMessage(
        final org.agrona.MutableDirectBuffer buffer, final int offset, final int length, final int headOffset)
    {
        handler.onFragment(buffer, offset, length, null);
        return true;
    }
}
