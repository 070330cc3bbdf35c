package io.switchboard.transport;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.switchboard.codec.wire.CancelDecoder;
import io.switchboard.codec.wire.FragmentDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.RequestDecoder;
import io.switchboard.codec.wire.ResponseDecoder;
import io.switchboard.codec.wire.Status;
import io.switchboard.codec.wire.StreamEndDecoder;
import io.switchboard.codec.wire.StreamFrameDecoder;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;

/**
 * Decodes what arrives in this peer's inbox: requests and cancels go to the {@link LocalServices}, responses, stream
 * frames and stream ends to the {@link PendingCalls} they answer (what answers nothing is counted late).
 * <p>
 * Allocation-free per message. Not thread-safe: call with the client lock held.
 */
final class InboxAdapter implements FragmentHandler
{
    private final PendingCalls calls;
    private final LocalServices services;
    private final ClientCounters counters;
    private final ErrorHandler errorHandler;
    private final Reassembler reassembler;
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final RequestDecoder requestDecoder = new RequestDecoder();
    private final ResponseDecoder responseDecoder = new ResponseDecoder();
    private final StreamFrameDecoder streamFrameDecoder = new StreamFrameDecoder();
    private final StreamEndDecoder streamEndDecoder = new StreamEndDecoder();
    private final CancelDecoder cancelDecoder = new CancelDecoder();
    private long nowNs;

    InboxAdapter(
        final PendingCalls calls, final LocalServices services, final ClientCounters counters,
        final ErrorHandler errorHandler, final Reassembler reassembler)
    {
        this.reassembler = reassembler;
        this.calls = calls;
        this.services = services;
        this.counters = counters;
        this.errorHandler = errorHandler;
    }

    /**
     * The duty cycle's time, from which the deadlines of streams that receive a frame are renewed.
     *
     * @param nowNs the time.
     */
    void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            counters.malformed.incrementOrdered();
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != RequestDecoder.SCHEMA_ID)
        {
            counters.malformed.incrementOrdered();
            return;
        }
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (headerDecoder.templateId())
        {
            case RequestDecoder.TEMPLATE_ID:
                services.onRequest(requestDecoder.wrap(buffer, bodyOffset, blockLength, version), buffer);
                break;
            case ResponseDecoder.TEMPLATE_ID:
                onResponse(responseDecoder.wrap(buffer, bodyOffset, blockLength, version), buffer);
                break;
            case StreamFrameDecoder.TEMPLATE_ID:
                onStreamFrame(streamFrameDecoder.wrap(buffer, bodyOffset, blockLength, version), buffer);
                break;
            case StreamEndDecoder.TEMPLATE_ID:
                onStreamEnd(streamEndDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case CancelDecoder.TEMPLATE_ID:
                cancelDecoder.wrap(buffer, bodyOffset, blockLength, version);
                services.onCancel(cancelDecoder.callerId(), cancelDecoder.correlationId());
                break;
            case FragmentDecoder.TEMPLATE_ID:
                reassembler.onFragment(Reassembler.INBOX, buffer, offset, length, header, this, nowNs);
                break;
            default:
                counters.malformed.incrementOrdered();
        }
    }

    private void onResponse(final ResponseDecoder decoder, final DirectBuffer buffer)
    {
        final PendingCall call = calls.removeRequest(decoder.correlationId());
        if (null == call)
        {
            return;
        }

        final long correlationId = call.correlationId;
        final ResponseListener listener = call.responseListener;
        calls.release(call);
        if (Status.OK == decoder.status())
        {
            decoder.skipErrorCode();
            decoder.skipErrorMessage();
            final int payloadLength = decoder.payloadLength();
            final int payloadOffset = decoder.limit() + ResponseDecoder.payloadHeaderLength();
            counters.responses.incrementOrdered();
            try
            {
                listener.onResponse(correlationId, buffer, payloadOffset, payloadLength);
            }
            catch (final Throwable ex)
            {
                errorHandler.onError(ex);
            }
        }
        else
        {
            final String code = decoder.errorCode();
            final String message = decoder.errorMessage();
            counters.errors.incrementOrdered();
            calls.fail(correlationId, listener, null, code, message);
        }
    }

    private void onStreamFrame(final StreamFrameDecoder decoder, final DirectBuffer buffer)
    {
        final PendingCall call = calls.get(decoder.correlationId());
        if (null == call || null == call.streamListener)
        {
            counters.lateReplies.incrementOrdered();
            return;
        }
        final long sequence = decoder.sequence();
        final int payloadLength = decoder.payloadLength();
        final int payloadOffset = decoder.limit() + StreamFrameDecoder.payloadHeaderLength();
        call.framesReceived++;
        call.deadlineNs = nowNs + call.timeoutNs; // a stream's timeout is per frame
        try
        {
            call.streamListener.onFrame(call.correlationId, sequence, buffer, payloadOffset, payloadLength);
        }
        catch (final Throwable ex)
        {
            errorHandler.onError(ex);
        }
    }

    private void onStreamEnd(final StreamEndDecoder decoder)
    {
        final PendingCall call = calls.get(decoder.correlationId());
        if (null == call || null == call.streamListener)
        {
            counters.lateReplies.incrementOrdered();
            return;
        }
        if (Status.OK == decoder.status())
        {
            final long frameCount = decoder.frameCount();
            calls.remove(call);
            final StreamListener listener = call.streamListener;
            final long correlationId = call.correlationId;
            if (frameCount != call.framesReceived)
            {
                final long received = call.framesReceived; // read before the call goes back to the pool
                calls.release(call);
                safely(() -> listener.onError(correlationId, ErrorCodes.INTERNAL_ERROR,
                    "stream ended after " + frameCount + " frames but " + received + " arrived"));
                return;
            }
            calls.release(call);
            counters.responses.incrementOrdered();
            try
            {
                listener.onEnd(correlationId, frameCount);
            }
            catch (final Throwable ex)
            {
                errorHandler.onError(ex);
            }
        }
        else
        {
            calls.complete(call, decoder.errorCode(), decoder.errorMessage());
        }
    }

    private void safely(final Runnable action)
    {
        try
        {
            action.run();
        }
        catch (final Throwable ex)
        {
            errorHandler.onError(ex);
        }
    }
}
