package io.switchboard.transport;

import org.agrona.DirectBuffer;

/**
 * A request-stream being served: send items, then end it (or fail it). The caller may cancel; the session then
 * refuses further items and runs the cancel handler.
 * <p>
 * Thread-safe: may be kept by the service and fed from any thread.
 */
public final class StreamSession
{
    private final ClientConductor conductor;
    private final long correlationId;
    private final int callerId;
    private final int callerInboxStreamId;
    private final String service;
    private final String messageType;
    private final long timeoutMs;
    private long sequence;
    private boolean cancelled;
    private boolean ended;
    private Runnable cancelHandler;

    StreamSession(
        final ClientConductor conductor,
        final long correlationId,
        final int callerId,
        final int callerInboxStreamId,
        final String service,
        final String messageType,
        final long timeoutMs)
    {
        this.conductor = conductor;
        this.correlationId = correlationId;
        this.callerId = callerId;
        this.callerInboxStreamId = callerInboxStreamId;
        this.service = service;
        this.messageType = messageType;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Name of the service the stream was asked of.
     *
     * @return the service name.
     */
    public String service()
    {
        return service;
    }

    /**
     * The caller's idle timeout: the longest it waits for the next item.
     *
     * @return the timeout in milliseconds.
     */
    public long timeoutMs()
    {
        return timeoutMs;
    }

    /**
     * Send the next item.
     *
     * @param buffer holding the item payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return true if sent; false if the stream was cancelled or ended, or the frame could not be written to the
     * caller's inbox within the back-pressure timeout (the caller gone or not reading): the stream is then over, as
     * if cancelled ({@link #isCancelled()} is true and the cancel handler runs), and the caller gets its end with
     * {@code TARGET_BUSY} (or {@code SERVICE_UNAVAILABLE}) as soon as its inbox takes it.
     */
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        conductor.lock();
        try
        {
            if (cancelled || ended)
            {
                return false;
            }
            if (length > conductor.maxMessageLength())
            {
                // the caller learns it at once, from the stream's end; this handler from the exception
                final String message = "a stream frame of " + length + " bytes is over the maximum: expected at " +
                    "most maxMessageLength=" + conductor.maxMessageLength();
                ended = true;
                conductor.endStream(this, ErrorCodes.PAYLOAD_TOO_LARGE, message);
                throw new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, message);
            }
            final PeerInboxProxy peers = conductor.peers();
            if (peers.sendStreamFrame(callerInboxStreamId, correlationId, sequence, buffer, offset, length))
            {
                sequence++;
                return true;
            }
            // not written within the back-pressure timeout (the caller is not reading, or gone): the stream is
            // over; the caller gets the error in place of the frame, this handler false and its cancel handler
            cancel();
            conductor.failStream(this, peers.lastFailureCode(), peers.lastFailureMessage());
            return false;
        }
        finally
        {
            conductor.unlock();
        }
    }

    /**
     * End the stream normally.
     *
     * @return true if the end was sent; false if already ended or cancelled.
     */
    public boolean end()
    {
        return finish(null, null);
    }

    /**
     * End the stream with an error.
     *
     * @param errorCode such as {@code SOURCE_FAILED}.
     * @param message saying what went wrong.
     * @return true if the error was sent; false if already ended or cancelled.
     */
    public boolean fail(final String errorCode, final String message)
    {
        return finish(errorCode, message);
    }

    private boolean finish(final String errorCode, final String message)
    {
        conductor.lock();
        try
        {
            if (cancelled || ended)
            {
                return false;
            }
            ended = true;
            conductor.endStream(this, errorCode, message);
            return true;
        }
        finally
        {
            conductor.unlock();
        }
    }

    /**
     * Whether the caller cancelled the stream or went away.
     *
     * @return true once cancelled.
     */
    public boolean isCancelled()
    {
        conductor.lock();
        try
        {
            return cancelled;
        }
        finally
        {
            conductor.unlock();
        }
    }

    /**
     * Run this when the caller cancels or goes away (on the client's duty-cycle thread).
     *
     * @param handler to run once.
     * @return this for a fluent API.
     */
    public StreamSession onCancel(final Runnable handler)
    {
        conductor.lock();
        try
        {
            this.cancelHandler = handler;
            if (cancelled && null != handler)
            {
                handler.run();
            }
            return this;
        }
        finally
        {
            conductor.unlock();
        }
    }

    /**
     * Number of items sent so far.
     *
     * @return items sent.
     */
    public long sent()
    {
        return sequence;
    }

    /**
     * Name of the message type that opened the stream.
     *
     * @return the message type name.
     */
    public String messageType()
    {
        return messageType;
    }

    long correlationId()
    {
        return correlationId;
    }

    int callerId()
    {
        return callerId;
    }

    int callerInboxStreamId()
    {
        return callerInboxStreamId;
    }

    long sequence()
    {
        return sequence;
    }

    void cancel()
    {
        if (!cancelled && !ended)
        {
            cancelled = true;
            if (null != cancelHandler)
            {
                cancelHandler.run();
            }
        }
    }
}
