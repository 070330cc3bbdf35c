package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * Serves one message type of a service with request-response.
 * <p>
 * Called on the serving client's duty-cycle thread. Answer with {@link ServiceRequest#reply} or
 * {@link ServiceRequest#fail} before returning; an exception thrown here is answered {@code INTERNAL_ERROR}.
 */
@FunctionalInterface
public interface RequestHandler
{
    /**
     * A request arrived.
     *
     * @param request to answer; valid only during this call.
     * @param buffer holding the request payload (the caller's SBE message, header included).
     * @param offset at which the payload begins.
     * @param length of the payload.
     */
    void onRequest(ServiceRequest request, DirectBuffer buffer, int offset, int length);
}
