package io.switchboard.broker.link;

import io.aeron.Publication;
import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.LinkCancelEncoder;
import io.switchboard.codec.wire.LinkHeartbeatEncoder;
import io.switchboard.codec.wire.LinkHelloEncoder;
import io.switchboard.codec.wire.LinkInterestEncoder;
import io.switchboard.codec.wire.LinkPieceEncoder;
import io.switchboard.codec.wire.LinkProofEncoder;
import io.switchboard.codec.wire.LinkPublicationEncoder;
import io.switchboard.codec.wire.LinkRequestEncoder;
import io.switchboard.codec.wire.LinkResponseEncoder;
import io.switchboard.codec.wire.LinkRouteEncoder;
import io.switchboard.codec.wire.LinkStreamEndEncoder;
import io.switchboard.codec.wire.LinkStreamFrameEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RequestKind;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.AgentInvoker;

import java.util.Map;

/**
 * Encodes link messages onto the UDP publication to one peer (a proxy, in Aeron's words). Each send makes a bounded
 * number of attempts at a back-pressured publication and reports whether the message went.
 * <p>
 * Not thread-safe: used by the link conductor's thread only.
 */
final class LinkSender
{
    /** Attempts at a back-pressured or admin-action publication before a send is given up. */
    static final int MAX_ATTEMPTS = 1_000;

    /** Room for the header and the fixed fields of the longest message besides its variable data. */
    static final int ENVELOPE_BYTES = 256;

    private final Publication publication;
    /** Encoded messages longer than this are sent in pieces; the buffers are given back after such a message. */
    static final int SMALL_BUFFER = 64 * 1024;

    /** Room for the header and fixed fields of a LinkPiece. */
    static final int PIECE_ENVELOPE = 64;

    /** How long one piece of a long message may wait for a back-pressured publication before it is given up. */
    static final long PIECE_PATIENCE_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(SMALL_BUFFER);
    private ExpandableDirectByteBuffer pieceBuffer;
    private final LinkPieceEncoder piece = new LinkPieceEncoder();
    private final int maxPayloadLength;
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final LinkHelloEncoder hello = new LinkHelloEncoder();
    private final LinkProofEncoder proof = new LinkProofEncoder();
    private final LinkHeartbeatEncoder heartbeat = new LinkHeartbeatEncoder();
    private final LinkRouteEncoder route = new LinkRouteEncoder();
    private final LinkInterestEncoder interest = new LinkInterestEncoder();
    private final LinkRequestEncoder request = new LinkRequestEncoder();
    private final LinkResponseEncoder response = new LinkResponseEncoder();
    private final LinkStreamFrameEncoder frame = new LinkStreamFrameEncoder();
    private final LinkStreamEndEncoder end = new LinkStreamEndEncoder();
    private final LinkCancelEncoder cancel = new LinkCancelEncoder();
    private final LinkPublicationEncoder publicationEncoder = new LinkPublicationEncoder();
    private final LinkCounters counters;
    private final AgentInvoker driverInvoker;
    private long lastResult;

    /**
     * @param publication to the peer.
     * @param counters of the links.
     * @param maxPayloadLength the broker's maximum message length: a call, reply, frame or publication up to it
     * crosses, in pieces if it is longer than one Aeron message of the publication.
     * @param driverInvoker of the media driver when this thread runs it (a back-pressured offer runs it while it
     * retries), or null.
     */
    LinkSender(
        final Publication publication, final LinkCounters counters, final int maxPayloadLength,
        final AgentInvoker driverInvoker)
    {
        this.publication = publication;
        this.counters = counters;
        this.maxPayloadLength = maxPayloadLength;
        this.driverInvoker = driverInvoker;
    }

    /**
     * The position this side has written the publication to: it moved if something was offered since the last look.
     *
     * @return the publication's position, or a negative Aeron status once it is closed.
     */
    long position()
    {
        return publication.position();
    }

    /**
     * The longest payload of a call, reply, frame or publication that crosses in one message.
     *
     * @return bytes.
     */
    int maxPayloadLength()
    {
        return maxPayloadLength;
    }

    int sessionId()
    {
        return publication.sessionId();
    }

    boolean isConnected()
    {
        return publication.isConnected();
    }

    /**
     * The result of the last failed offer, for an error message.
     *
     * @return a negative Aeron publication result.
     */
    String lastFailure()
    {
        return lastResult == Publication.NOT_CONNECTED ? "not connected" :
            lastResult == Publication.BACK_PRESSURED ? "back-pressured" :
            lastResult == Publication.MAX_POSITION_EXCEEDED ? "max position exceeded" :
            lastResult == Publication.CLOSED ? "closed" : "offer result " + lastResult;
    }

    boolean hello(final String from, final byte[] nonce)
    {
        hello.wrapAndApplyHeader(buffer, 0, header).from(from).putNonce(nonce, 0, nonce.length);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + hello.encodedLength());
    }

    boolean proof(final String from, final String to, final byte[] mac)
    {
        proof.wrapAndApplyHeader(buffer, 0, header).from(from).to(to).putMac(mac, 0, mac.length);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + proof.encodedLength());
    }

    boolean heartbeat(final String from, final boolean verifiedYou)
    {
        heartbeat.wrapAndApplyHeader(buffer, 0, header)
            .verifiedYou(verifiedYou ? BooleanType.TRUE : BooleanType.FALSE).from(from);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + heartbeat.encodedLength());
    }

    boolean route(
        final RouteAction action, final String service, final ServiceMode mode, final Map<String, Integer> types,
        final byte[] schemaIr)
    {
        final int irLength = null == schemaIr ? 0 : schemaIr.length;
        buffer.checkLimit(ENVELOPE_BYTES + irLength + types.size() * 160 + service.length());
        route.wrapAndApplyHeader(buffer, 0, header).action(action).mode(mode);
        final LinkRouteEncoder.MessageTypesEncoder group = route.messageTypesCount(types.size());
        for (final Map.Entry<String, Integer> type : types.entrySet())
        {
            group.next().templateId(type.getValue()).name(type.getKey());
        }
        route.service(service);
        if (irLength > 0)
        {
            route.putSchemaIr(schemaIr, 0, irLength);
        }
        else
        {
            route.putSchemaIr(new byte[0], 0, 0);
        }
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + route.encodedLength();
        if (offer(length))
        {
            counters.routeMessagesSent++;
            counters.routeBytesSent += length;
            return true;
        }
        return false;
    }

    boolean interest(final RouteAction action, final String pattern)
    {
        interest.wrapAndApplyHeader(buffer, 0, header).action(action).pattern(pattern);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + interest.encodedLength();
        if (offer(length))
        {
            counters.interestMessagesSent++;
            counters.interestBytesSent += length;
            return true;
        }
        return false;
    }

    boolean request(
        final long linkCorrelationId,
        final RequestKind kind,
        final int templateId,
        final long timeoutMs,
        final CharSequence service,
        final CharSequence messageType,
        final DirectBuffer payload,
        final int offset,
        final int length)
    {
        buffer.checkLimit(ENVELOPE_BYTES + service.length() + messageType.length() + length);
        request.wrapAndApplyHeader(buffer, 0, header)
            .linkCorrelationId(linkCorrelationId)
            .kind(kind)
            .templateId(templateId)
            .timeoutMs(timeoutMs)
            .service(service)
            .messageType(messageType)
            .putPayload(payload, offset, length);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + request.encodedLength());
    }

    boolean response(
        final long linkCorrelationId,
        final String errorCode,
        final String errorMessage,
        final DirectBuffer payload,
        final int offset,
        final int length)
    {
        buffer.checkLimit(ENVELOPE_BYTES + 2 * 1024 + length);
        response.wrapAndApplyHeader(buffer, 0, header)
            .linkCorrelationId(linkCorrelationId)
            .errorCode(null == errorCode ? "" : errorCode)
            .errorMessage(null == errorMessage ? "" : errorMessage)
            .putPayload(payload, offset, length);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength());
    }

    boolean frame(
        final long linkCorrelationId, final long sequence, final DirectBuffer payload, final int offset,
        final int length)
    {
        buffer.checkLimit(ENVELOPE_BYTES + length);
        frame.wrapAndApplyHeader(buffer, 0, header)
            .linkCorrelationId(linkCorrelationId)
            .sequence(sequence)
            .putPayload(payload, offset, length);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + frame.encodedLength());
    }

    boolean end(final long linkCorrelationId, final long frameCount, final String errorCode, final String message)
    {
        end.wrapAndApplyHeader(buffer, 0, header)
            .linkCorrelationId(linkCorrelationId)
            .frameCount(frameCount)
            .errorCode(null == errorCode ? "" : errorCode)
            .errorMessage(null == message ? "" : message);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + end.encodedLength());
    }

    boolean cancel(final long linkCorrelationId)
    {
        cancel.wrapAndApplyHeader(buffer, 0, header).linkCorrelationId(linkCorrelationId);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + cancel.encodedLength());
    }

    boolean publication(
        final int templateId,
        final boolean retained,
        final long linkSequence,
        final CharSequence subject,
        final CharSequence messageType,
        final DirectBuffer payload,
        final int offset,
        final int length)
    {
        buffer.checkLimit(ENVELOPE_BYTES + subject.length() + messageType.length() + length);
        publicationEncoder.wrapAndApplyHeader(buffer, 0, header)
            .templateId(templateId)
            .retained(retained ? BooleanType.TRUE : BooleanType.FALSE)
            .linkSequence(linkSequence)
            .subject(subject)
            .messageType(messageType)
            .putPayload(payload, offset, length);
        return offer(MessageHeaderEncoder.ENCODED_LENGTH + publicationEncoder.encodedLength());
    }

    private boolean offer(final int length)
    {
        final boolean sent = length <= publication.maxMessageLength() ? offer(buffer, length, 0) : offerPieces(length);
        if (sent)
        {
            counters.messagesSent++;
            counters.bytesSent += length;
        }
        if (buffer.capacity() > SMALL_BUFFER)
        {
            buffer = new ExpandableDirectByteBuffer(SMALL_BUFFER); // memory bound: a long message's room given back
        }
        return sent;
    }

    /** A message longer than one Aeron message, in LinkPieces that follow each other on the publication. */
    private boolean offerPieces(final int length)
    {
        final int pieceLength = publication.maxMessageLength() - PIECE_ENVELOPE;
        pieceBuffer = new ExpandableDirectByteBuffer(publication.maxMessageLength());
        try
        {
            for (int pieceOffset = 0; pieceOffset < length; pieceOffset += pieceLength)
            {
                final int n = Math.min(pieceLength, length - pieceOffset);
                piece.wrapAndApplyHeader(pieceBuffer, 0, header).messageLength(length).pieceOffset(pieceOffset)
                    .putPiece(buffer, pieceOffset, n);
                if (!offer(pieceBuffer, MessageHeaderEncoder.ENCODED_LENGTH + piece.encodedLength(),
                    System.nanoTime() + PIECE_PATIENCE_NS))
                {
                    return false; // the receiver drops the pieces it has when the next message begins
                }
            }
            return true;
        }
        finally
        {
            pieceBuffer = null;
        }
    }

    /**
     * Offer, retrying a back-pressured publication a bounded number of times, or until the deadline if one is given
     * (a piece of a long message: the peer's receiver window lets it through as the peer reads).
     */
    private boolean offer(final DirectBuffer source, final int length, final long deadlineNs)
    {
        for (int attempt = 0; 0 != deadlineNs || attempt < MAX_ATTEMPTS; attempt++)
        {
            final long result = publication.offer(source, 0, length);
            if (result > 0)
            {
                return true;
            }
            lastResult = result;
            if (result != Publication.BACK_PRESSURED && result != Publication.ADMIN_ACTION)
            {
                return false;
            }
            if (0 != deadlineNs && System.nanoTime() - deadlineNs > 0)
            {
                return false;
            }
            if (null != driverInvoker)
            {
                driverInvoker.invoke(); // this thread runs the driver: its sender is what drains the publication
            }
            Thread.yield();
        }
        return false;
    }
}
