package io.switchboard.bench;

/**
 * A caller and a service of one system, wired for request-response with the 32-byte {@link Payload}: the caller's
 * side is driven by the benchmark thread ({@link #send} then {@link #poll}), the service's side runs on its own
 * yielding thread.
 * <p>
 * Not thread-safe: send and poll from one thread only.
 */
public interface RequestRig extends AutoCloseable
{
    /**
     * Name of the system, as printed in the results.
     *
     * @return the name.
     */
    String name();

    /**
     * Send one request carrying the stamp; retries while the transport is back-pressured.
     *
     * @param stamp to carry.
     */
    void send(long stamp);

    /**
     * Send one request of any length (messages of every size, issue 11): the stamp is written over the payload's
     * first {@link Payload#LENGTH} bytes, and the reply is the whole payload echoed; retries while back-pressured.
     *
     * @param stamp to carry.
     * @param payload of at least {@link Payload#LENGTH} bytes, from offset 0.
     * @param length of the payload.
     * @throws UnsupportedOperationException if the system has no large-message scenario in this benchmark.
     */
    default void send(final long stamp, final org.agrona.MutableDirectBuffer payload, final int length)
    {
        throw new UnsupportedOperationException(name() + " has no large-message scenario");
    }

    /**
     * Take in the replies that have arrived.
     *
     * @param handler to receive each reply's stamp.
     * @return number of replies taken in.
     */
    int poll(ReplyHandler handler);

    /**
     * Ask the service for a stream of items and wait until the last one has arrived.
     *
     * @param items to ask for.
     * @return items received.
     * @throws UnsupportedOperationException if the system has no streams in this benchmark.
     */
    default long stream(final int items)
    {
        throw new UnsupportedOperationException(name() + " has no request-stream scenario");
    }

    /**
     * Calls that ended in an error instead of a reply (counted by {@link #poll} as taken in, without a stamp).
     *
     * @return number of failed calls.
     */
    default long errors()
    {
        return 0;
    }

    /**
     * Stop the rig and free what it holds.
     */
    void close();
}
