package io.switchboard.transport;

import io.aeron.Publication;
import io.switchboard.codec.wire.CancelEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RequestEncoder;
import io.switchboard.codec.wire.RequestKind;
import io.switchboard.codec.wire.ResponseEncoder;
import io.switchboard.codec.wire.Status;
import io.switchboard.codec.wire.StreamEndEncoder;
import io.switchboard.codec.wire.StreamFrameEncoder;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.TimeUnit;

/**
 * Encodes requests, replies, stream frames, stream ends and cancels onto other peers' inboxes, one log per inbox,
 * opened on first use; every offer is retried within the send timeout (and the back-pressure timeout), never more.
 * <p>
 * A reply, failure, stream frame or stream end that could not be written within that bound (the caller's inbox
 * back-pressured, not connected, or a long message's piece not taken in time) is answered to the caller in its
 * place with a small error ({@code TARGET_BUSY} when back-pressured, else {@code SERVICE_UNAVAILABLE}): tried once at
 * once, then, if the inbox still has no room, once per duty cycle ({@link #retryOwed(long)}) until the caller's own
 * deadline, by which it would have timed out anyway. At most {@link OwedAnswers#CAPACITY} such answers are owed at a
 * time; one more is dropped and counted, and its caller times out as before.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class PeerInboxProxy
{
    /**
     * Result of an offer when the media driver could not create the log to the peer (no space left, most likely):
     * never returned to users, who get {@link LogFactory#refusal()} as a typed error instead.
     */
    static final long LOG_REFUSED = -100;
    /**
     * Result of a request the inbox could not take yet, kept to be resumed on the next duty cycles (see {@link
     * ClientContext#holdBackPressuredRequests(boolean)}): its call is in flight, and fails if it cannot be finished.
     */
    static final long HELD = -200;
    /** Least bound on the bytes of held requests (a maximum message more than that is still taken). */
    static final long MIN_HELD_BYTES = 32L * 1024 * 1024;

    private final Switchboard.Context ctx;
    private final NanoClock clock;
    private final LogFactory logs;
    private final ClientCounters counters;
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final RequestEncoder requestEncoder = new RequestEncoder();
    private final ResponseEncoder responseEncoder = new ResponseEncoder();
    private final StreamFrameEncoder streamFrameEncoder = new StreamFrameEncoder();
    private final StreamEndEncoder streamEndEncoder = new StreamEndEncoder();
    private final CancelEncoder cancelEncoder = new CancelEncoder();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(64 * 1024);
    private final FragmentHeader fragmentHeader = new FragmentHeader();
    private final Loopback loopback;
    private final EncodedName calledService = new EncodedName();
    private final EncodedName calledMessageType = new EncodedName();
    private final Int2ObjectHashMap<DataPlane.Log> logByInbox = new Int2ObjectHashMap<>();
    /** When each log was created: a young log reports back-pressure while the driver links it (settling). */
    private final Long2LongHashMap createdNsByInbox = new Long2LongHashMap(Long.MIN_VALUE);
    private final Int2IntHashMap peerInbox = new Int2IntHashMap(0);
    private final OwedAnswers owed = new OwedAnswers();
    /** Requests kept while their inbox could not take them, oldest first; one inbox's are sent in order. */
    private final java.util.ArrayList<HeldRequest> held = new java.util.ArrayList<>();
    private final org.agrona.collections.IntHashSet inboxesWaiting = new org.agrona.collections.IntHashSet();
    private final long maxHeldBytes;
    private long heldBytes;
    private long lastOfferResult;
    private HeldRequestListener heldRequestListener;
    private DataPlane dataPlane;
    private String channel;
    private int clientId;
    private int inboxStreamId;
    private String lastFailureCode;
    private String lastFailureMessage;

    PeerInboxProxy(
        final Switchboard.Context ctx, final NanoClock clock, final LogFactory logs, final ClientCounters counters)
    {
        this.ctx = ctx;
        this.clock = clock;
        this.logs = logs;
        this.counters = counters;
        this.loopback = new Loopback(ctx.maxMessageLength() + Reassembler.ENVELOPE_ALLOWANCE);
        this.maxHeldBytes = maxHeldBytes(ctx.maxMessageLength());
    }

    /**
     * The bound on the bytes of requests kept while their inbox cannot take them: twice the longest message, at
     * least {@link #MIN_HELD_BYTES} (32 MiB at the 16 MiB default maximum), so that one maximum message and the
     * small requests of other callers can wait together.
     *
     * @param maxMessageLength the longest payload.
     * @return the bound in bytes.
     */
    static long maxHeldBytes(final int maxMessageLength)
    {
        return Math.max(MIN_HELD_BYTES, 2L * (maxMessageLength + Reassembler.ENVELOPE_ALLOWANCE));
    }

    /**
     * Who is told that a held request could not be finished, to fail its call.
     *
     * @param listener to tell.
     */
    void heldRequestListener(final HeldRequestListener listener)
    {
        this.heldRequestListener = listener;
    }

    /**
     * Told when a request kept by {@link #sendRequest} could not be finished within its bound.
     */
    interface HeldRequestListener
    {
        /**
         * @param correlationId of the request.
         * @param errorCode {@code TARGET_BUSY} or {@code SERVICE_UNAVAILABLE}.
         * @param message why.
         */
        void onHeldRequestFailed(long correlationId, String errorCode, String message);
    }

    /**
     * Hand what this peer sent itself to its inbox's adapter.
     *
     * @param inboxAdapter to read them.
     * @return how many were handed over.
     */
    int drainLoopback(final io.aeron.logbuffer.FragmentHandler inboxAdapter)
    {
        return loopback.drain(inboxAdapter);
    }

    /**
     * Send in a new session.
     *
     * @param dataPlane of the session.
     * @param clientId this peer's id in it.
     * @param inboxStreamId this peer's inbox, where answers come back.
     * @param termLength of the logs.
     */
    void onSession(final DataPlane dataPlane, final int clientId, final int inboxStreamId, final int termLength)
    {
        this.dataPlane = dataPlane;
        this.clientId = clientId;
        this.inboxStreamId = inboxStreamId;
        this.channel = Configuration.inboxChannel(termLength);
    }

    /**
     * The session ended: close every log, forget every peer; sends fail with {@link Publication#CLOSED}.
     */
    void onSessionClosed()
    {
        for (final DataPlane.Log log : logByInbox.values())
        {
            CloseHelper.quietClose(log);
        }
        logByInbox.clear();
        createdNsByInbox.clear();
        loopback.clear();
        peerInbox.clear();
        owed.clear();
        held.clear();
        heldBytes = 0;
        dataPlane = null;
    }

    /**
     * A peer's inbox, learnt from a route or from a request it sent.
     *
     * @param peerId of the peer.
     * @param peerInboxStreamId of its inbox.
     */
    void onPeerInbox(final int peerId, final int peerInboxStreamId)
    {
        if (peerInbox.get(peerId) != peerInboxStreamId)
        {
            peerInbox.put(peerId, peerInboxStreamId);
        }
    }

    /**
     * A peer went away: close the log to its inbox.
     *
     * @param peerId of the peer.
     */
    void onPeerGone(final int peerId)
    {
        final int goneInbox = peerInbox.remove(peerId);
        if (0 != goneInbox)
        {
            CloseHelper.quietClose(logByInbox.remove(goneInbox));
            createdNsByInbox.remove(goneInbox);
            owed.removeInbox(goneInbox); // no one left to tell
            for (int i = held.size() - 1; i >= 0; i--)
            {
                if (held.get(i).inbox == goneInbox)
                {
                    heldBytes -= held.remove(i).length; // their calls fail with the peer (PendingCalls.failTarget)
                }
            }
        }
    }

    long sendRequest(
        final RouteTable.Instance instance,
        final long correlationId,
        final RequestKind kind,
        final int templateId,
        final long timeoutNs,
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        requestEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .callerId(clientId)
            .callerInboxStreamId(inboxStreamId)
            .kind(kind)
            .templateId(templateId)
            .timeoutMs(TimeUnit.NANOSECONDS.toMillis(timeoutNs));
        requestEncoder
            .putService(calledService.of(service), 0, service.length())
            .putMessageType(calledMessageType.of(messageType), 0, messageType.length())
            .putPayload(buffer, offset, length);
        final int encodedLength = MessageHeaderEncoder.ENCODED_LENGTH + requestEncoder.encodedLength();
        if (ctx.holdBackPressuredRequests() && instance.inboxStreamId != inboxStreamId && null != dataPlane)
        {
            return offerOrHold(instance.inboxStreamId, correlationId, encodedLength);
        }
        return offer(instance.inboxStreamId, encodedLength);
    }

    /**
     * Whether a request is still kept, not all of it taken by its inbox yet.
     *
     * @param correlationId of the request.
     * @return true while held.
     */
    boolean isHeld(final long correlationId)
    {
        for (int i = 0, size = held.size(); i < size; i++)
        {
            if (held.get(i).correlationId == correlationId)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Requests kept while their inbox could not take them.
     *
     * @return the count.
     */
    int heldRequests()
    {
        return held.size();
    }

    /**
     * Offer the request in the send buffer without waiting: what the inbox cannot take now (all of it, or the
     * pieces after those it took) is copied and kept, to be resumed by {@link #resumeHeld(long)}.
     *
     * @return the new position, {@link #HELD}, a negative {@link Publication} result, or {@link #LOG_REFUSED}.
     */
    private long offerOrHold(final int peerInboxStreamId, final long correlationId, final int length)
    {
        final DataPlane.Log log = log(peerInboxStreamId);
        if (null == log)
        {
            return LOG_REFUSED;
        }
        final boolean canHold = heldBytes + length <= maxHeldBytes;
        if (inboxWaits(peerInboxStreamId))
        {
            // behind an earlier request to the same inbox (perhaps half of a long message): in order, after it
            if (!canHold)
            {
                return Publication.BACK_PRESSURED;
            }
            hold(peerInboxStreamId, correlationId, length, 0);
            return HELD;
        }
        if (!canHold && length > log.maxMessageLength())
        {
            return Publication.BACK_PRESSURED; // could not keep the rest, were a piece not taken: not begun
        }
        final int position = advance(log, sendBuffer, length, 0);
        if (position == length)
        {
            return lastOfferResult;
        }
        if (!canHold || !retryable(lastOfferResult, peerInboxStreamId, position))
        {
            return lastOfferResult; // a reader that got pieces lets the unfinished message go
        }
        hold(peerInboxStreamId, correlationId, length, position);
        return HELD;
    }

    private boolean isHalfWritten(final int peerInboxStreamId)
    {
        for (int i = 0, size = held.size(); i < size; i++)
        {
            final HeldRequest request = held.get(i);
            if (request.inbox == peerInboxStreamId && request.position > 0)
            {
                return true;
            }
        }
        return false;
    }

    private boolean inboxWaits(final int peerInboxStreamId)
    {
        for (int i = 0, size = held.size(); i < size; i++)
        {
            if (held.get(i).inbox == peerInboxStreamId)
            {
                return true;
            }
        }
        return false;
    }

    private boolean retryable(final long result, final int peerInboxStreamId, final int position)
    {
        return Publication.BACK_PRESSURED == result || Publication.ADMIN_ACTION == result ||
            (Publication.NOT_CONNECTED == result && 0 == position &&
            clock.nanoTime() - createdNsByInbox.get(peerInboxStreamId) < ctx.sendTimeoutNs()); // a log linking
    }

    private void hold(final int peerInboxStreamId, final long correlationId, final int length, final int position)
    {
        final byte[] copy = new byte[length]; // the back-pressured path only, bounded by maxHeldBytes
        sendBuffer.getBytes(0, copy, 0, length);
        final HeldRequest request = new HeldRequest(peerInboxStreamId, correlationId, copy, position);
        request.sinceNs = clock.nanoTime();
        held.add(request);
        heldBytes += length;
    }

    /**
     * Offer a message from a position: whole if it fits one message of the log, else the pieces from that position
     * on, back to back, until one is not taken ({@link #lastOfferResult} then says why).
     *
     * @return the position reached; the length when all of it was taken.
     */
    private int advance(final DataPlane.Log log, final DirectBuffer buffer, final int length, final int from)
    {
        final int maxLength = log.maxMessageLength();
        if (length <= maxLength)
        {
            lastOfferResult = log.offer(buffer, 0, length);
            return lastOfferResult > 0 ? length : 0;
        }
        final int pieceLength = FragmentHeader.pieceLength(maxLength);
        int position = from;
        while (position < length)
        {
            fragmentHeader.encode(length, position);
            final int piece = Math.min(pieceLength, length - position);
            lastOfferResult = log.offer(fragmentHeader.buffer, 0, Reassembler.HEADER_LENGTH, buffer, position, piece);
            if (lastOfferResult < 0)
            {
                break;
            }
            position += piece;
        }
        return position;
    }

    /**
     * Go on with the held requests, the first of each inbox, from where each stopped; fail those whose inbox took
     * nothing within the send timeout (first piece) or the piece timeout (a later piece). Called each duty cycle;
     * costs nothing when none is held.
     *
     * @param nowNs the duty cycle's time.
     * @return how many made progress or were let go.
     */
    int resumeHeld(final long nowNs)
    {
        if (held.isEmpty() || null == dataPlane)
        {
            return 0;
        }
        int work = 0;
        inboxesWaiting.clear();
        for (int i = 0; i < held.size(); )
        {
            final HeldRequest request = held.get(i);
            if (!inboxesWaiting.add(request.inbox))
            {
                // an earlier one to the same inbox goes first; this one still fails at its send timeout
                if (nowNs - request.sinceNs - ctx.sendTimeoutNs() > 0)
                {
                    removeHeld(i);
                    failHeld(request, Publication.BACK_PRESSURED, ctx.sendTimeoutNs());
                    work++;
                    continue;
                }
                i++;
                continue;
            }
            final DataPlane.Log log = logByInbox.get(request.inbox);
            final int position = null == log ? request.position :
                advance(log, request.buffer, request.length, request.position);
            if (position == request.length)
            {
                inboxesWaiting.remove(request.inbox); // the next one to the inbox may go in this cycle
                removeHeld(i);
                work++;
                continue;
            }
            if (position > request.position)
            {
                request.position = position;
                request.sinceNs = nowNs;
                work++;
            }
            final long boundNs = 0 == request.position ? ctx.sendTimeoutNs() : ctx.pieceTimeoutNs();
            final long result = null == log ? Publication.CLOSED : lastOfferResult;
            if (null == log || !retryable(result, request.inbox, request.position) ||
                nowNs - request.sinceNs - boundNs > 0)
            {
                // the reader lets an unfinished message go (its partial expires); the caller is told at once
                removeHeld(i);
                inboxesWaiting.remove(request.inbox);
                failHeld(request, result, boundNs);
                work++;
                continue;
            }
            i++;
        }
        return work;
    }

    private void failHeld(final HeldRequest request, final long result, final long boundNs)
    {
        counters.undeliverable.incrementOrdered();
        if (null != heldRequestListener)
        {
            heldRequestListener.onHeldRequestFailed(request.correlationId, offerErrorCode(result),
                "the request of " + request.length + " bytes was not taken by the service's inbox: " +
                (0 == request.position ? "nothing of it within the send timeout of " +
                TimeUnit.NANOSECONDS.toMillis(boundNs) + " ms" : "its piece at " + request.position +
                " not within the piece timeout of " + TimeUnit.NANOSECONDS.toMillis(boundNs) + " ms") +
                " (" + Publication.errorString(result) + ")");
        }
    }

    private void removeHeld(final int index)
    {
        heldBytes -= held.remove(index).length;
    }

    /** A request its inbox could not take yet: a copy of it, and how much of it was taken. */
    private static final class HeldRequest
    {
        final int inbox;
        final long correlationId;
        final org.agrona.concurrent.UnsafeBuffer buffer;
        final int length;
        int position;
        /** Since when it waits (kept, or its last piece taken). */
        long sinceNs;

        HeldRequest(final int inbox, final long correlationId, final byte[] bytes, final int position)
        {
            this.inbox = inbox;
            this.correlationId = correlationId;
            this.buffer = new org.agrona.concurrent.UnsafeBuffer(bytes);
            this.length = bytes.length;
            this.position = position;
        }
    }

    /**
     * Tell the service serving a stream that its caller no longer wants it.
     *
     * @param targetClientId peer serving the stream.
     * @param correlationId of the stream.
     */
    void sendCancel(final int targetClientId, final long correlationId)
    {
        cancelEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .callerId(clientId);
        final int streamId = peerInbox.get(targetClientId);
        if (streamId != 0)
        {
            offer(streamId, MessageHeaderEncoder.ENCODED_LENGTH + cancelEncoder.encodedLength());
        }
    }

    /**
     * Answer a call; a payload longer than the maximum is not sent: the caller gets {@code PAYLOAD_TOO_LARGE} at
     * once in its place, and the service learns it from the exception. An answer that cannot be written (the
     * caller's inbox back-pressured or gone) is replaced by an error to the caller, sent now or owed (class javadoc).
     *
     * @param callerInboxStreamId of the caller's inbox.
     * @param correlationId of the call.
     * @param errorCode of a failure, or null for a reply.
     * @param errorMessage of a failure, or null.
     * @param buffer holding the reply payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param callerTimeoutMs how long the caller waits: the bound of an owed error answer.
     * @return true if written to the caller's inbox; false if not (the caller gets the error in its place).
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} if the payload is over the maximum.
     */
    boolean sendResponse(
        final int callerInboxStreamId,
        final long correlationId,
        final String errorCode,
        final String errorMessage,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long callerTimeoutMs)
    {
        if (length > ctx.maxMessageLength())
        {
            final String message = "the reply of " + length + " bytes is over the maximum: expected at most " +
                "maxMessageLength=" + ctx.maxMessageLength();
            answerFailure(callerInboxStreamId, correlationId, OwedAnswers.RESPONSE, ErrorCodes.PAYLOAD_TOO_LARGE,
                message, callerTimeoutMs);
            throw new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, message);
        }
        final long result = offer(callerInboxStreamId,
            encodeResponse(correlationId, errorCode, errorMessage, buffer, offset, length));
        if (result < 0)
        {
            counters.undeliverable.incrementOrdered();
            answerFailure(callerInboxStreamId, correlationId, OwedAnswers.RESPONSE, offerErrorCode(result),
                undeliveredMessage(null == errorCode ? "reply" : "failure", length, result), callerTimeoutMs);
            return false;
        }
        return true;
    }

    private int encodeResponse(
        final long correlationId,
        final String errorCode,
        final String errorMessage,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        final Status status = null == errorCode ? Status.OK : ErrorCodes.status(errorCode);
        responseEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .responderId(clientId)
            .status(status)
            .errorCode(errorCode)
            .errorMessage(errorMessage)
            .putPayload(buffer, offset, length);
        return MessageHeaderEncoder.ENCODED_LENGTH + responseEncoder.encodedLength();
    }

    private String undeliveredMessage(final String what, final int length, final long result)
    {
        return "the service's " + what + " of " + length + " bytes could not be written to the caller's inbox " +
            "within " + TimeUnit.NANOSECONDS.toMillis(ctx.backPressureTimeoutNs()) + " ms: " +
            (LOG_REFUSED == result ? "the media driver refused the log" : Publication.errorString(result));
    }

    /**
     * The result code of the last stream frame that {@link #sendStreamFrame} could not write.
     *
     * @return {@code TARGET_BUSY} or {@code SERVICE_UNAVAILABLE}.
     */
    String lastFailureCode()
    {
        return lastFailureCode;
    }

    /**
     * Why the last stream frame that {@link #sendStreamFrame} could not write failed.
     *
     * @return the message.
     */
    String lastFailureMessage()
    {
        return lastFailureMessage;
    }

    /**
     * Send a stream frame. One that cannot be written is not sent: the caller of {@link StreamSession#send} then
     * ends the stream with {@link #lastFailureCode()}.
     *
     * @return true if written to the caller's inbox.
     */
    boolean sendStreamFrame(
        final int callerInboxStreamId,
        final long correlationId,
        final long sequence,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        streamFrameEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .responderId(clientId)
            .sequence(sequence)
            .putPayload(buffer, offset, length);
        final long result =
            offer(callerInboxStreamId, MessageHeaderEncoder.ENCODED_LENGTH + streamFrameEncoder.encodedLength());
        if (result < 0)
        {
            counters.undeliverable.incrementOrdered();
            lastFailureCode = offerErrorCode(result);
            lastFailureMessage = undeliveredMessage("stream frame " + sequence, length, result);
            return false;
        }
        return true;
    }

    /**
     * End a stream; an end that cannot be written is owed (class javadoc).
     *
     * @param callerInboxStreamId of the caller's inbox.
     * @param correlationId of the stream.
     * @param frameCount frames sent.
     * @param errorCode of a failure, or null.
     * @param errorMessage of a failure, or null.
     * @param callerTimeoutMs the caller's idle timeout: the bound of an owed end.
     * @param retry true to retry within the send timeout first; false for one attempt (its inbox is known full).
     */
    void sendStreamEnd(
        final int callerInboxStreamId,
        final long correlationId,
        final long frameCount,
        final String errorCode,
        final String errorMessage,
        final long callerTimeoutMs,
        final boolean retry)
    {
        final int length = encodeStreamEnd(correlationId, frameCount, errorCode, errorMessage);
        final long result = retry ? offer(callerInboxStreamId, length) : offerOnce(callerInboxStreamId, length);
        if (result < 0)
        {
            if (retry)
            {
                counters.undeliverable.incrementOrdered();
            }
            owe(callerInboxStreamId, correlationId, frameCount, errorCode, errorMessage, callerTimeoutMs);
        }
    }

    private int encodeStreamEnd(
        final long correlationId, final long frameCount, final String errorCode, final String errorMessage)
    {
        streamEndEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .responderId(clientId)
            .frameCount(frameCount)
            .status(null == errorCode ? Status.OK : ErrorCodes.status(errorCode))
            .errorCode(errorCode)
            .errorMessage(errorMessage);
        return MessageHeaderEncoder.ENCODED_LENGTH + streamEndEncoder.encodedLength();
    }

    /**
     * Tell a caller its answer failed: one attempt now, else owed until its deadline.
     *
     * @param frameCount {@link OwedAnswers#RESPONSE} for a call, else the frames of the stream it ends.
     */
    private void answerFailure(
        final int callerInboxStreamId,
        final long correlationId,
        final long frameCount,
        final String errorCode,
        final String errorMessage,
        final long callerTimeoutMs)
    {
        final int length = OwedAnswers.RESPONSE == frameCount ?
            encodeResponse(correlationId, errorCode, errorMessage, ServiceRequest.EMPTY, 0, 0) :
            encodeStreamEnd(correlationId, frameCount, errorCode, errorMessage);
        if (offerOnce(callerInboxStreamId, length) < 0)
        {
            owe(callerInboxStreamId, correlationId, frameCount, errorCode, errorMessage, callerTimeoutMs);
        }
    }

    private void owe(
        final int callerInboxStreamId,
        final long correlationId,
        final long frameCount,
        final String errorCode,
        final String errorMessage,
        final long callerTimeoutMs)
    {
        final long boundMs = Math.min(Math.max(callerTimeoutMs, 0), OwedAnswers.MAX_LIFETIME_MS);
        if (!owed.add(callerInboxStreamId, correlationId, frameCount, errorCode, errorMessage,
            clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(boundMs)))
        {
            counters.answersLost.incrementOrdered();
        }
    }

    /**
     * Try once more each owed answer (class javadoc); let go of those past their caller's deadline. Called each duty
     * cycle; costs nothing when none is owed.
     *
     * @param nowNs the duty cycle's time.
     * @return how many were sent or let go.
     */
    int retryOwed(final long nowNs)
    {
        if (owed.isEmpty() || null == dataPlane)
        {
            return 0;
        }
        int work = 0;
        for (int i = owed.size() - 1; i >= 0; i--)
        {
            if (nowNs - owed.deadlineNs(i) > 0)
            {
                owed.remove(i);
                counters.answersLost.incrementOrdered();
                work++;
                continue;
            }
            final long frameCount = owed.frameCount(i);
            final int length = OwedAnswers.RESPONSE == frameCount ?
                encodeResponse(owed.correlationId(i), owed.errorCode(i), owed.errorMessage(i),
                ServiceRequest.EMPTY, 0, 0) :
                encodeStreamEnd(owed.correlationId(i), frameCount, owed.errorCode(i), owed.errorMessage(i));
            if (offerOnce(owed.inbox(i), length) > 0)
            {
                owed.remove(i);
                work++;
            }
        }
        return work;
    }

    /**
     * Answers owed to callers whose inbox had no room for them.
     *
     * @return the count.
     */
    int owedAnswers()
    {
        return owed.size();
    }

    /**
     * Offer what is in the send buffer to a peer's inbox, retrying while it is not yet connected (within the send
     * timeout) or back-pressured (within the back-pressure timeout).
     *
     * @param peerInboxStreamId of the peer's inbox.
     * @param length of the message in the send buffer.
     * @return the new position, a negative {@link Publication} result, or {@link #LOG_REFUSED}.
     */
    private long offer(final int peerInboxStreamId, final int length)
    {
        final DataPlane dataPlane = this.dataPlane;
        if (null == dataPlane)
        {
            return Publication.CLOSED;
        }
        if (peerInboxStreamId == inboxStreamId)
        {
            // to itself: in memory, read on its next duty cycle (a log it reads itself could not take a long one)
            return loopback.offer(sendBuffer, 0, length) ? length : Publication.BACK_PRESSURED;
        }
        final DataPlane.Log log = log(peerInboxStreamId);
        if (null == log)
        {
            return LOG_REFUSED; // nothing kept: the next call to this peer asks the driver again
        }

        final int maxLength = log.maxMessageLength();
        if (length <= maxLength)
        {
            return offer(log, peerInboxStreamId, 0, length, false);
        }
        if (isHalfWritten(peerInboxStreamId))
        {
            // a held request to this inbox is half written: the reader would drop it for a new long message's first
            // piece, so this one is refused (its caller gets TARGET_BUSY) rather than the held one lost in silence
            return Publication.BACK_PRESSURED;
        }
        // longer than one message of the log: in pieces, back to back, each with a Fragment header
        final int pieceLength = FragmentHeader.pieceLength(maxLength);
        long result = Publication.CLOSED;
        for (int position = 0; position < length; position += pieceLength)
        {
            fragmentHeader.encode(length, position);
            result = offer(log, peerInboxStreamId, position, Math.min(pieceLength, length - position), true);
            if (result < 0)
            {
                break; // the reader lets the unfinished message go
            }
        }
        return result;
    }

    /**
     * One attempt to offer a message that fits one message of the log (a small answer), no retry.
     *
     * @param peerInboxStreamId of the peer's inbox.
     * @param length of the message in the send buffer.
     * @return the new position, a negative {@link Publication} result, or {@link #LOG_REFUSED}.
     */
    private long offerOnce(final int peerInboxStreamId, final int length)
    {
        if (null == dataPlane)
        {
            return Publication.CLOSED;
        }
        if (peerInboxStreamId == inboxStreamId)
        {
            return loopback.offer(sendBuffer, 0, length) ? length : Publication.BACK_PRESSURED;
        }
        final DataPlane.Log log = log(peerInboxStreamId);
        return null == log ? LOG_REFUSED : log.offer(sendBuffer, 0, length);
    }

    private DataPlane.Log log(final int peerInboxStreamId)
    {
        DataPlane.Log log = logByInbox.get(peerInboxStreamId);
        if (null == log)
        {
            log = logs.newLog(channel, peerInboxStreamId);
            if (null != log)
            {
                logByInbox.put(peerInboxStreamId, log);
                createdNsByInbox.put(peerInboxStreamId, clock.nanoTime());
            }
        }
        return log;
    }

    private long offer(
        final DataPlane.Log log, final int peerInboxStreamId, final int position, final int length,
        final boolean fragment)
    {
        long result = offerPiece(log, position, length, fragment);
        if (result > 0 || Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
        {
            return result; // the hot path: taken at once, with no clock read (a read costs 25-70 ns on this path)
        }
        final long startNs = clock.nanoTime(); // the deadlines count from the first refusal, not the first attempt
        final long deadlineNs = startNs + (fragment && position > 0 ? ctx.pieceTimeoutNs() : ctx.sendTimeoutNs());
        final long backPressureDeadlineNs = startNs + ctx.backPressureTimeoutNs();
        while (true)
        {
            final long nowNs = clock.nanoTime();
            // a log younger than the send timeout may report back-pressure while the driver links it: that is
            // settling, and gets the whole send timeout; an older log that is full only the back-pressure timeout
            // a piece after the first of a long message waits for the reader within the piece timeout: the reader
            // is taking the message, which cannot all fit the log's window at once
            if (nowNs - deadlineNs > 0 || (Publication.BACK_PRESSURED == result && !(fragment && position > 0) &&
                nowNs - backPressureDeadlineNs >= 0 &&
                nowNs - createdNsByInbox.get(peerInboxStreamId) >= ctx.sendTimeoutNs()))
            {
                break;
            }
            dataPlane.invoke();
            ctx.invokeDriver(); // a back-pressured or unlinked log moves only when the driver runs
            Thread.yield();
            result = offerPiece(log, position, length, fragment);
            if (result > 0 || Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                break;
            }
        }
        return result;
    }

    private long offerPiece(final DataPlane.Log log, final int position, final int length, final boolean fragment)
    {
        return fragment ?
            log.offer(fragmentHeader.buffer, 0, Reassembler.HEADER_LENGTH, sendBuffer, position, length) :
            log.offer(sendBuffer, position, length);
    }

    /**
     * The error code of a failed offer.
     *
     * @param result of the offer.
     * @return {@code TARGET_BUSY} for back-pressure, else {@code SERVICE_UNAVAILABLE}.
     */
    static String offerErrorCode(final long result)
    {
        return Publication.BACK_PRESSURED == result ? ErrorCodes.TARGET_BUSY : ErrorCodes.SERVICE_UNAVAILABLE;
    }
}
