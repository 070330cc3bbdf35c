package io.switchboard.transport;

/**
 * A request or stream in flight, waiting for its terminal outcome. Pooled: a steady stream of calls reuses these.
 */
final class PendingCall
{
    long correlationId;
    int targetClientId;
    long deadlineNs;
    long timeoutNs;
    ResponseListener responseListener;
    StreamListener streamListener;
    long framesReceived;

    void reset()
    {
        responseListener = null;
        streamListener = null;
        framesReceived = 0;
    }
}
