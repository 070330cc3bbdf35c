package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * The answer to a request that a handler chose to give later ({@link ServiceRequest#defer()}).
 * <p>
 * Thread-safe; answer once.
 */
public final class DeferredReply
{
    private final ClientConductor conductor;
    private final int callerId;
    private final int callerInboxStreamId;
    private final long correlationId;
    private final long timeoutMs;
    private boolean answered;

    DeferredReply(
        final ClientConductor conductor,
        final int callerId,
        final int callerInboxStreamId,
        final long correlationId,
        final long timeoutMs)
    {
        this.conductor = conductor;
        this.callerId = callerId;
        this.callerInboxStreamId = callerInboxStreamId;
        this.correlationId = correlationId;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Reply with a payload.
     *
     * @param buffer holding the reply payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return true if the reply was written to the caller's inbox; false if already answered, or if the caller is gone
     * or its inbox had no room within the back-pressure timeout: the caller is then answered {@code TARGET_BUSY} (or
     * {@code SERVICE_UNAVAILABLE}) in its place, as soon as its inbox takes it and at the latest by its deadline.
     */
    public boolean reply(final DirectBuffer buffer, final int offset, final int length)
    {
        return answer(null, null, buffer, offset, length);
    }

    /**
     * Fail the request with a code and a message.
     *
     * @param errorCode such as {@code SERVICE_UNAVAILABLE} or the service's own.
     * @param message saying what went wrong.
     * @return true if the error was written to the caller's inbox; false if already answered or the caller is gone.
     */
    public boolean fail(final String errorCode, final String message)
    {
        return answer(errorCode, message, ServiceRequest.EMPTY, 0, 0);
    }

    private boolean answer(
        final String errorCode, final String message, final DirectBuffer buffer, final int offset, final int length)
    {
        conductor.lock();
        try
        {
            if (answered)
            {
                return false;
            }
            answered = true;
            return conductor.peers().sendResponse(
                callerInboxStreamId, correlationId, errorCode, message, buffer, offset, length, timeoutMs);
        }
        finally
        {
            conductor.unlock();
        }
    }

    /**
     * Whether it was answered.
     *
     * @return true once answered.
     */
    public boolean isAnswered()
    {
        conductor.lock();
        try
        {
            return answered;
        }
        finally
        {
            conductor.unlock();
        }
    }

    /**
     * Correlation id of the request, unique per caller.
     *
     * @return the correlation id.
     */
    public long correlationId()
    {
        return correlationId;
    }

    /**
     * Id of the calling peer.
     *
     * @return the caller's client id.
     */
    public int callerId()
    {
        return callerId;
    }

    /**
     * How long the caller waits, from when the request was sent.
     *
     * @return the caller's timeout in milliseconds.
     */
    public long timeoutMs()
    {
        return timeoutMs;
    }
}
