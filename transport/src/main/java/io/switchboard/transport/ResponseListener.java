package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * Receives the one terminal outcome of a request: a response or an error.
 * <p>
 * Called on the client's duty-cycle thread; the buffer is valid only during the call. A listener may be shared by
 * many requests and tell them apart by correlation id, so that a steady stream of calls allocates nothing.
 */
public interface ResponseListener
{
    /**
     * The service replied.
     *
     * @param correlationId of the request, as returned by {@code request}.
     * @param buffer holding the reply payload (the service's SBE message, header included).
     * @param offset at which the payload begins.
     * @param length of the payload.
     */
    void onResponse(long correlationId, DirectBuffer buffer, int offset, int length);

    /**
     * The request failed.
     *
     * @param correlationId of the request.
     * @param errorCode a PROTOCOL.md code such as {@code TIMEOUT}, or the service's own code.
     * @param message saying what went wrong.
     */
    void onError(long correlationId, String errorCode, String message);
}
