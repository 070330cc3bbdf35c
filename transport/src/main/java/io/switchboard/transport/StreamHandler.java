package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * Serves one message type of a service with request-stream.
 * <p>
 * Called on the serving client's duty-cycle thread. The session may be kept and fed later, from any thread.
 */
@FunctionalInterface
public interface StreamHandler
{
    /**
     * A stream was requested.
     *
     * @param stream to send items on, then end.
     * @param buffer holding the request payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     */
    void onStream(StreamSession stream, DirectBuffer buffer, int offset, int length);
}
