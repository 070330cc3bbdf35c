package io.switchboard.bench;

/**
 * One publisher, driven by the benchmark thread, and N subscribers, each on its own yielding thread, all reading
 * the same 32-byte {@link Payload} messages on one subject (or stream).
 * <p>
 * Not thread-safe: publish from one thread only.
 */
public interface PubSubRig extends AutoCloseable
{
    /**
     * Publish one message; retries while back-pressured.
     */
    void publish();

    /**
     * Messages received by the slowest subscriber.
     *
     * @return the smallest count over all subscribers.
     */
    long minDelivered();

    /**
     * Publish a batch and wait until every subscriber has received it.
     *
     * @param messages in the batch.
     */
    default void publishBatch(final int messages)
    {
        final long target = minDelivered() + messages;
        for (int i = 0; i < messages; i++)
        {
            publish();
        }
        final long deadlineNs = System.nanoTime() + 10_000_000_000L;
        while (minDelivered() < target)
        {
            idle();
            Rigs.checkDeadline(deadlineNs, "subscribers to receive the batch");
        }
    }

    /**
     * Do the publisher's housekeeping while it waits.
     */
    void idle();

    /**
     * Stop the rig and free what it holds.
     */
    void close();
}
