package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * Receives the frames of a request-stream, then exactly one of {@link #onEnd} or {@link #onError}.
 * <p>
 * Called on the client's duty-cycle thread; buffers are valid only during the call.
 */
public interface StreamListener
{
    /**
     * One item of the stream.
     *
     * @param correlationId of the stream.
     * @param sequence of the frame, from 0.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     */
    void onFrame(long correlationId, long sequence, DirectBuffer buffer, int offset, int length);

    /**
     * The service ended the stream normally.
     *
     * @param correlationId of the stream.
     * @param frameCount number of frames the service sent.
     */
    void onEnd(long correlationId, long frameCount);

    /**
     * The stream failed, timed out, lost its service, or was cancelled ({@code CANCELLED}).
     *
     * @param correlationId of the stream.
     * @param errorCode a PROTOCOL.md code or the service's own code.
     * @param message saying what went wrong.
     */
    void onError(long correlationId, String errorCode, String message);
}
