package io.switchboard.transport;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The request a {@link RequestHandler} is answering. One instance is reused for every request, so it is valid only
 * during the handler's call.
 * <p>
 * Not thread-safe: use from the handler only.
 */
public final class ServiceRequest
{
    private final ClientConductor conductor;
    final AsciiView messageType = new AsciiView();
    final AsciiView service = new AsciiView();
    private long correlationId;
    private int callerId;
    private int callerInboxStreamId;
    private int templateId;
    private long timeoutMs;
    private boolean answered;
    private boolean deferred;
    private boolean expectsReply;

    ServiceRequest(final ClientConductor conductor)
    {
        this.conductor = conductor;
    }

    void reset(
        final long correlationId,
        final int callerId,
        final int callerInboxStreamId,
        final int templateId,
        final long timeoutMs)
    {
        this.correlationId = correlationId;
        this.callerId = callerId;
        this.callerInboxStreamId = callerInboxStreamId;
        this.templateId = templateId;
        this.timeoutMs = timeoutMs;
        this.answered = false;
        this.deferred = false;
        this.expectsReply = true;
    }

    void expectsReply(final boolean expectsReply)
    {
        this.expectsReply = expectsReply;
    }

    /**
     * Whether the caller waits for an answer; false for fire-and-forget, whose answer would go nowhere.
     *
     * @return true if the caller expects a reply.
     */
    public boolean expectsReply()
    {
        return expectsReply;
    }

    boolean isDeferred()
    {
        return deferred;
    }

    /**
     * Answer later, from any thread: the handler returns without replying and keeps the returned handle.
     * Allocates the handle, so it is for services that must wait on something else (another process, a socket).
     * If it is never answered, the caller gets {@code TIMEOUT} at its deadline.
     *
     * @return the handle to reply or fail through, once.
     * @throws IllegalStateException if the request was already answered or deferred.
     */
    public DeferredReply defer()
    {
        checkNotAnswered();
        if (deferred)
        {
            throw new IllegalStateException("request " + correlationId + " already deferred");
        }
        deferred = true;
        return new DeferredReply(conductor, callerId, callerInboxStreamId, correlationId, timeoutMs);
    }

    /**
     * How long the caller waits for the answer.
     *
     * @return the caller's timeout in milliseconds.
     */
    public long timeoutMs()
    {
        return timeoutMs;
    }

    boolean isAnswered()
    {
        return answered;
    }

    int callerInboxStreamId()
    {
        return callerInboxStreamId;
    }

    /**
     * Reply with a payload.
     *
     * @param buffer holding the reply payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return true if the reply was written to the caller's inbox; false if the caller is gone or its inbox had no
     * room within the back-pressure timeout: the caller is then answered {@code TARGET_BUSY} (or
     * {@code SERVICE_UNAVAILABLE}) in its place, as soon as its inbox takes it and at the latest by its deadline.
     * @throws IllegalStateException if the request was already answered.
     */
    public boolean reply(final DirectBuffer buffer, final int offset, final int length)
    {
        checkNotAnswered();
        checkNotDeferred();
        answered = true;
        return conductor.peers().sendResponse(
            callerInboxStreamId, correlationId, null, null, buffer, offset, length, timeoutMs);
    }

    /**
     * Fail the request with a code of the service's own (or a PROTOCOL.md code) and a message.
     *
     * @param errorCode such as {@code DIVISION_BY_ZERO}.
     * @param message saying what went wrong.
     * @return true if the error was written to the caller's inbox.
     * @throws IllegalStateException if the request was already answered.
     */
    public boolean fail(final String errorCode, final String message)
    {
        checkNotAnswered();
        checkNotDeferred();
        answered = true;
        return conductor.peers().sendResponse(
            callerInboxStreamId, correlationId, errorCode, message, EMPTY, 0, 0, timeoutMs);
    }

    /**
     * Correlation id the caller chose; unique per caller.
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
     * SBE template id of the request payload, or -1 for an opaque (JSON) type.
     *
     * @return the template id.
     */
    public int templateId()
    {
        return templateId;
    }

    /**
     * Name of the message type the caller sent.
     *
     * @return the message type name; valid only during the handler's call.
     */
    public CharSequence messageType()
    {
        return messageType;
    }

    /**
     * Name of the service that was called.
     *
     * @return the service name; valid only during the handler's call.
     */
    public CharSequence service()
    {
        return service;
    }

    private void checkNotDeferred()
    {
        if (deferred)
        {
            throw new IllegalStateException("request " + correlationId + " was deferred: answer through its handle");
        }
    }

    private void checkNotAnswered()
    {
        if (answered)
        {
            throw new IllegalStateException("request " + correlationId + " from peer " + callerId + " already answered");
        }
    }

    static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);
}
