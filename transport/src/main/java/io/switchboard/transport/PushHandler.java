package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * Receives publications whose subject matches a subscription's pattern.
 * <p>
 * Called on the subscribing client's duty-cycle thread; the push and the buffer are valid only during the call.
 */
@FunctionalInterface
public interface PushHandler
{
    /**
     * A matching publication.
     *
     * @param push describing it: subject, message type, publisher, sequence.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     */
    void onPush(Push push, DirectBuffer buffer, int offset, int length);
}
