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
 * Not thread-safe: call with the client lock held.
 */
final class PeerInboxProxy
{
    /**
     * Result of an offer when the media driver could not create the log to the peer (no space left, most likely):
     * never returned to users, who get {@link LogFactory#refusal()} as a typed error instead.
     */
    static final long LOG_REFUSED = -100;

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
    private DataPlane dataPlane;
    private String channel;
    private int clientId;
    private int inboxStreamId;

    PeerInboxProxy(
        final Switchboard.Context ctx, final NanoClock clock, final LogFactory logs, final ClientCounters counters)
    {
        this.ctx = ctx;
        this.clock = clock;
        this.logs = logs;
        this.counters = counters;
        this.loopback = new Loopback(ctx.maxMessageLength() + Reassembler.ENVELOPE_ALLOWANCE);
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
        return offer(instance.inboxStreamId, MessageHeaderEncoder.ENCODED_LENGTH + requestEncoder.encodedLength());
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
     * once in its place, and the service learns it from the exception.
     *
     * @param callerInboxStreamId of the caller's inbox.
     * @param correlationId of the call.
     * @param errorCode of a failure, or null for a reply.
     * @param errorMessage of a failure, or null.
     * @param buffer holding the reply payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return true if written to the caller's inbox.
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} if the payload is over the maximum.
     */
    boolean sendResponse(
        final int callerInboxStreamId,
        final long correlationId,
        final String errorCode,
        final String errorMessage,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        if (length > ctx.maxMessageLength())
        {
            final String message = "the reply of " + length + " bytes is over the maximum: expected at most " +
                "maxMessageLength=" + ctx.maxMessageLength();
            sendResponse(callerInboxStreamId, correlationId, ErrorCodes.PAYLOAD_TOO_LARGE, message, buffer, 0, 0);
            throw new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, message);
        }
        final Status status = null == errorCode ? Status.OK : ErrorCodes.status(errorCode);
        responseEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .responderId(clientId)
            .status(status)
            .errorCode(errorCode)
            .errorMessage(errorMessage)
            .putPayload(buffer, offset, length);
        return delivered(
            offer(callerInboxStreamId, MessageHeaderEncoder.ENCODED_LENGTH + responseEncoder.encodedLength()));
    }

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
        return delivered(
            offer(callerInboxStreamId, MessageHeaderEncoder.ENCODED_LENGTH + streamFrameEncoder.encodedLength()));
    }

    void sendStreamEnd(
        final int callerInboxStreamId,
        final long correlationId,
        final long frameCount,
        final String errorCode,
        final String errorMessage)
    {
        streamEndEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .responderId(clientId)
            .frameCount(frameCount)
            .status(null == errorCode ? Status.OK : ErrorCodes.status(errorCode))
            .errorCode(errorCode)
            .errorMessage(errorMessage);
        delivered(offer(callerInboxStreamId, MessageHeaderEncoder.ENCODED_LENGTH + streamEndEncoder.encodedLength()));
    }

    private boolean delivered(final long result)
    {
        if (result < 0)
        {
            counters.undeliverable.incrementOrdered();
            return false;
        }
        return true;
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
        DataPlane.Log log = logByInbox.get(peerInboxStreamId);
        if (null == log)
        {
            log = logs.newLog(channel, peerInboxStreamId);
            if (null == log)
            {
                return LOG_REFUSED; // nothing kept: the next call to this peer asks the driver again
            }
            logByInbox.put(peerInboxStreamId, log);
            createdNsByInbox.put(peerInboxStreamId, clock.nanoTime());
        }

        final int maxLength = log.maxMessageLength();
        if (length <= maxLength)
        {
            return offer(log, peerInboxStreamId, 0, length, false);
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

    private long offer(
        final DataPlane.Log log, final int peerInboxStreamId, final int position, final int length,
        final boolean fragment)
    {
        final long startNs = clock.nanoTime();
        final long deadlineNs = startNs + (fragment && position > 0 ? ctx.pieceTimeoutNs() : ctx.sendTimeoutNs());
        final long backPressureDeadlineNs = startNs + ctx.backPressureTimeoutNs();
        long result;
        while (true)
        {
            result = fragment ?
                log.offer(fragmentHeader.buffer, 0, Reassembler.HEADER_LENGTH, sendBuffer, position, length) :
                log.offer(sendBuffer, position, length);
            if (result > 0 || Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                break;
            }
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
            Thread.yield();
        }
        return result;
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
