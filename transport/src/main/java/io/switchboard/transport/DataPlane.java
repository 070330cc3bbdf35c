package io.switchboard.transport;

import io.aeron.ExclusivePublication;
import io.aeron.UnavailableImageHandler;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.DirectBuffer;

/**
 * The Aeron-facing parts of one broker session, as the client conductor sees them: logs it writes to, logs it reads,
 * and the Aeron client's own duty cycle. {@link AeronDataPlane} is the real one; tests put a fake in its place to
 * drive the conductor with no media driver.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
interface DataPlane extends AutoCloseable
{
    /**
     * Opens the data plane of a session.
     */
    @FunctionalInterface
    interface Factory
    {
        /**
         * Attach to the broker's media driver.
         *
         * @param ctx of the client.
         * @param aeronDirectory the broker named in its ConnectAck.
         * @return the data plane of the new session.
         * @throws RuntimeException if the media driver cannot be reached.
         */
        DataPlane connect(Switchboard.Context ctx, String aeronDirectory);
    }

    /**
     * A log this peer writes to (an exclusive IPC publication).
     */
    interface Log extends AutoCloseable
    {
        /**
         * Offer a message.
         *
         * @param buffer holding the message.
         * @param offset at which the message begins.
         * @param length of the message.
         * @return the new position, or a negative {@link io.aeron.Publication} result.
         */
        long offer(DirectBuffer buffer, int offset, int length);

        /**
         * Offer one message made of two parts (a header and a piece of a longer message), neither copied first.
         *
         * @param bufferOne holding the first part.
         * @param offsetOne at which the first part begins.
         * @param lengthOne of the first part.
         * @param bufferTwo holding the second part.
         * @param offsetTwo at which the second part begins.
         * @param lengthTwo of the second part.
         * @return the new position, or a negative {@link io.aeron.Publication} result.
         */
        long offer(
            DirectBuffer bufferOne, int offsetOne, int lengthOne, DirectBuffer bufferTwo, int offsetTwo, int lengthTwo);

        /**
         * The log's Aeron session id, which subscribers see in each fragment's header.
         *
         * @return the session id.
         */
        int sessionId();

        /**
         * The longest message one offer takes (an eighth of the term, as Aeron fragments no further).
         *
         * @return the length in bytes.
         */
        int maxMessageLength();

        /**
         * Close the log.
         */
        void close();
    }

    /**
     * A log this peer reads (a subscription).
     */
    @FunctionalInterface
    interface Reader
    {
        /**
         * Deliver what is there, up to a limit.
         *
         * @param handler to receive the fragments.
         * @param fragmentLimit most fragments to deliver.
         * @return fragments delivered.
         */
        int poll(FragmentHandler handler, int fragmentLimit);
    }

    /**
     * A new log to write.
     *
     * @param channel of the log.
     * @param streamId of the log.
     * @return the log.
     * @throws io.aeron.exceptions.RegistrationException if the media driver refused it.
     * @throws io.aeron.exceptions.AeronException if the Aeron client is closed.
     */
    Log addLog(String channel, int streamId);

    /**
     * A new log for a {@link SubjectPublisher}, which offers to it from its own thread.
     *
     * @param channel of the log.
     * @param streamId of the log.
     * @return the publication.
     * @throws io.aeron.exceptions.RegistrationException if the media driver refused it.
     */
    ExclusivePublication addPublisherLog(String channel, int streamId);

    /**
     * A new log to read.
     *
     * @param channel of the log.
     * @param streamId of the log.
     * @param onImageLost called when a writer's image goes away, or null.
     * @return the reader.
     */
    Reader addReader(String channel, int streamId, UnavailableImageHandler onImageLost);

    /**
     * Run the Aeron client's duty cycle when it has no thread of its own.
     *
     * @return work done.
     */
    int invoke();

    /**
     * Whether the Aeron client closed under us (a media driver timeout, a pause).
     *
     * @return true if closed.
     */
    boolean isClosed();

    /**
     * Give offers in progress on other threads this long to see their logs closed before they are unmapped.
     *
     * @param lingerNs how long.
     */
    void lingerOnClose(long lingerNs);

    /**
     * Close the Aeron client and everything it opened.
     */
    void close();
}
