package io.switchboard.broker.link;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.LinkCancelDecoder;
import io.switchboard.codec.wire.LinkHeartbeatDecoder;
import io.switchboard.codec.wire.LinkHelloDecoder;
import io.switchboard.codec.wire.LinkInterestDecoder;
import io.switchboard.codec.wire.LinkPieceDecoder;
import io.switchboard.codec.wire.LinkProofDecoder;
import io.switchboard.codec.wire.LinkPublicationDecoder;
import io.switchboard.codec.wire.LinkRequestDecoder;
import io.switchboard.codec.wire.LinkResponseDecoder;
import io.switchboard.codec.wire.LinkRouteDecoder;
import io.switchboard.codec.wire.LinkStreamEndDecoder;
import io.switchboard.codec.wire.LinkStreamFrameDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes what arrives on a broker's link endpoint and hands it to the {@link LinkConductor} (hellos, proofs,
 * heartbeats, routes) or to the {@link PeerLink} whose proven session carried it (interest, calls, replies, stream
 * frames, cancels, publications). Only hellos and proofs are read from a session that has not proved the link
 * secret; anything else from it is counted and refused, as is a message of another schema or an unknown template.
 * <p>
 * Not thread-safe: called from the conductor's duty cycle only.
 */
final class LinkAdapter implements FragmentHandler
{
    private static final int MAX_MAC_LENGTH = 64;

    private final LinkConductor conductor;
    private final LinkCounters counters;
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final LinkHelloDecoder hello = new LinkHelloDecoder();
    private final LinkProofDecoder proof = new LinkProofDecoder();
    private final LinkHeartbeatDecoder heartbeat = new LinkHeartbeatDecoder();
    private final LinkRouteDecoder route = new LinkRouteDecoder();
    private final LinkInterestDecoder interest = new LinkInterestDecoder();
    private final LinkRequestDecoder request = new LinkRequestDecoder();
    private final LinkResponseDecoder response = new LinkResponseDecoder();
    private final LinkStreamFrameDecoder frame = new LinkStreamFrameDecoder();
    private final LinkStreamEndDecoder end = new LinkStreamEndDecoder();
    private final LinkCancelDecoder cancel = new LinkCancelDecoder();
    private final LinkPublicationDecoder publication = new LinkPublicationDecoder();
    private final LinkPieceDecoder piece = new LinkPieceDecoder();
    private final UnsafeBuffer payload = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer pieceData = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer text = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer fragment = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer joinedMessage = new UnsafeBuffer(0, 0);
    private final LinkStrings names = new LinkStrings(); // services and subjects
    private final LinkStrings messageTypes = new LinkStrings();

    LinkAdapter(final LinkConductor conductor)
    {
        this.conductor = conductor;
        this.counters = conductor.counters();
    }

    /**
     * One link message: decoded from a view of exactly its bytes, so that a length field pointing past its end fails
     * the decoder's bounds check instead of reading the term buffer beyond it; a message that fails to decode (or to
     * be handled) is counted as malformed, logged once per session, and dropped: the next one is read as usual.
     */
    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header h)
    {
        fragment.wrap(buffer, offset, length);
        try
        {
            onMessage(fragment, length, h);
        }
        catch (final RuntimeException ex)
        {
            counters.malformedMessages++;
            conductor.refuse("malformed:" + h.sessionId(), "a malformed link message of " + length + " bytes on " +
                "session " + h.sessionId() + " from " + h.context() + ", dropped: " + ex);
        }
    }

    private void onMessage(final DirectBuffer buffer, final int length, final Header h)
    {
        final int offset = 0;
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            counters.unauthenticatedMessages++;
            return;
        }
        header.wrap(buffer, offset);
        final int sessionId = h.sessionId();
        if (header.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            counters.unauthenticatedMessages++;
            conductor.refuse("schema:" + sessionId, "a message of schema id " + header.schemaId() + " on session " +
                sessionId + " from " + h.context() + ": expected schemaId=" + MessageHeaderDecoder.SCHEMA_ID);
            return;
        }
        final int templateId = header.templateId();
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = header.blockLength();
        final int version = header.version();
        if (LinkHelloDecoder.TEMPLATE_ID == templateId)
        {
            hello.wrap(buffer, bodyOffset, blockLength, version);
            hello.wrapFrom(text);
            final String from = names.get(text, 0, text.capacity());
            final byte[] nonce = new byte[Math.min(MAX_MAC_LENGTH, hello.nonceLength())]; // not a claimed 1 GiB
            hello.getNonce(nonce, 0, nonce.length);
            conductor.onHello(sessionId, from, nonce);
            return;
        }
        if (LinkProofDecoder.TEMPLATE_ID == templateId)
        {
            proof.wrap(buffer, bodyOffset, blockLength, version);
            proof.wrapFrom(text);
            final String from = names.get(text, 0, text.capacity());
            proof.wrapTo(text);
            final String to = names.get(text, 0, text.capacity());
            final byte[] mac = new byte[Math.min(MAX_MAC_LENGTH, proof.macLength())];
            proof.getMac(mac, 0, mac.length);
            conductor.onProof(sessionId, from, to, mac);
            return;
        }
        final PeerLink peer = conductor.peerBySession(sessionId);
        if (null == peer)
        {
            counters.unauthenticatedMessages++;
            conductor.refuse("session:" + sessionId, "template " + templateId + " on session " + sessionId +
                ", whose sender has not proved the link secret");
            return;
        }
        if (LinkPieceDecoder.TEMPLATE_ID == templateId)
        {
            onPiece(peer, buffer, bodyOffset, blockLength, version);
            return;
        }
        onProvenMessage(peer, templateId, buffer, bodyOffset, blockLength, version);
    }

    /** A piece of a long message; the whole message, once joined, is handled as if it had come in one. */
    private void onPiece(
        final PeerLink peer, final DirectBuffer buffer, final int offset, final int blockLength, final int version)
    {
        piece.wrap(buffer, offset, blockLength, version);
        final int wholeLength = piece.messageLength();
        final int pieceOffset = piece.pieceOffset();
        piece.wrapPiece(pieceData);
        final int joined = peer.pieces.onPiece(wholeLength, pieceOffset, pieceData, 0, pieceData.capacity());
        if (-1 == joined)
        {
            counters.piecesDropped++;
            return;
        }
        if (joined > 0)
        {
            joinedMessage.wrap(peer.pieces.message(), 0, joined);
            final DirectBuffer message = joinedMessage;
            try
            {
                header.wrap(message, 0);
                final int templateId = header.templateId();
                if (joined < MessageHeaderDecoder.ENCODED_LENGTH || header.schemaId() !=
                    MessageHeaderDecoder.SCHEMA_ID || LinkPieceDecoder.TEMPLATE_ID == templateId)
                {
                    counters.piecesDropped++;
                    return;
                }
                onProvenMessage(peer, templateId, message, MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(),
                    header.version());
            }
            finally
            {
                peer.pieces.reset();
            }
        }
    }

    private void onProvenMessage(
        final PeerLink peer,
        final int templateId,
        final DirectBuffer buffer,
        final int bodyOffset,
        final int blockLength,
        final int version)
    {
        switch (templateId)
        {
            case LinkHeartbeatDecoder.TEMPLATE_ID:
                heartbeat.wrap(buffer, bodyOffset, blockLength, version);
                conductor.onHeartbeat(peer, BooleanType.TRUE == heartbeat.verifiedYou());
                break;
            case LinkRouteDecoder.TEMPLATE_ID:
                onRoute(peer, buffer, bodyOffset, blockLength, version);
                break;
            case LinkInterestDecoder.TEMPLATE_ID:
                interest.wrap(buffer, bodyOffset, blockLength, version);
                final RouteAction action = interest.action();
                interest.wrapPattern(text);
                final String pattern = names.get(text, 0, text.capacity());
                if (RouteAction.ADD == action)
                {
                    peer.publications.addInterest(pattern);
                }
                else
                {
                    peer.publications.removeInterest(pattern);
                }
                break;
            case LinkRequestDecoder.TEMPLATE_ID:
                request.wrap(buffer, bodyOffset, blockLength, version);
                request.wrapService(text);
                final String service = names.get(text, 0, text.capacity());
                request.wrapMessageType(text);
                final String messageType = messageTypes.get(text, 0, text.capacity());
                request.wrapPayload(payload);
                peer.onLinkRequest(request.linkCorrelationId(), request.kind(), request.timeoutMs(), service,
                    messageType, payload, 0, payload.capacity());
                break;
            case LinkResponseDecoder.TEMPLATE_ID:
                response.wrap(buffer, bodyOffset, blockLength, version);
                final long correlationId = response.linkCorrelationId();
                response.wrapErrorCode(text);
                final String errorCode = messageTypes.get(text, 0, text.capacity());
                response.wrapErrorMessage(text);
                final String message = text.getStringWithoutLengthUtf8(0, text.capacity());
                response.wrapPayload(payload);
                peer.onLinkResponse(correlationId, errorCode, message, payload, 0, payload.capacity());
                break;
            case LinkStreamFrameDecoder.TEMPLATE_ID:
                frame.wrap(buffer, bodyOffset, blockLength, version);
                final long frameCorrelationId = frame.linkCorrelationId();
                frame.wrapPayload(payload);
                peer.onLinkStreamFrame(frameCorrelationId, payload, 0, payload.capacity());
                break;
            case LinkStreamEndDecoder.TEMPLATE_ID:
                end.wrap(buffer, bodyOffset, blockLength, version);
                final long endCorrelationId = end.linkCorrelationId();
                end.wrapErrorCode(text);
                final String endCode = messageTypes.get(text, 0, text.capacity());
                end.wrapErrorMessage(text);
                peer.onLinkStreamEnd(endCorrelationId, endCode, text.getStringWithoutLengthUtf8(0, text.capacity()));
                break;
            case LinkCancelDecoder.TEMPLATE_ID:
                cancel.wrap(buffer, bodyOffset, blockLength, version);
                peer.onLinkCancel(cancel.linkCorrelationId());
                break;
            case LinkPublicationDecoder.TEMPLATE_ID:
                publication.wrap(buffer, bodyOffset, blockLength, version);
                final int pubTemplateId = publication.templateId();
                final boolean retained = BooleanType.TRUE == publication.retained();
                final long linkSequence = publication.linkSequence();
                publication.wrapSubject(text);
                final String subject = names.get(text, 0, text.capacity());
                publication.wrapMessageType(text);
                final String pubMessageType = messageTypes.get(text, 0, text.capacity());
                publication.wrapPayload(payload);
                peer.publications.onLinkPublication(
                    pubTemplateId, retained, linkSequence, subject, pubMessageType, payload, 0, payload.capacity());
                break;
            default:
                counters.unauthenticatedMessages++;
                conductor.refuse("template:" + templateId, "unknown link message template " + templateId +
                    " from " + peer.endpoint);
        }
    }

    private void onRoute(
        final PeerLink peer, final DirectBuffer buffer, final int offset, final int blockLength, final int version)
    {
        route.wrap(buffer, offset, blockLength, version);
        final RouteAction action = route.action();
        final ServiceMode mode = route.mode();
        final Map<String, Integer> types = new LinkedHashMap<>();
        for (final LinkRouteDecoder.MessageTypesDecoder t : route.messageTypes())
        {
            final int templateId = t.templateId();
            t.wrapName(text);
            types.put(text.getStringWithoutLengthAscii(0, text.capacity()), templateId);
        }
        route.wrapService(text);
        final String name = text.getStringWithoutLengthAscii(0, text.capacity());
        final int irLength = route.schemaIrLength();
        if (irLength > buffer.capacity() - route.limit())
        {
            throw new IllegalArgumentException("a schema of " + irLength + " bytes in a route message of " +
                buffer.capacity() + " bytes");
        }
        final byte[] ir = new byte[irLength];
        route.getSchemaIr(ir, 0, ir.length);
        conductor.onRoute(peer, action, name,
            RouteAction.ADD == action ? new PeerLink.RemoteRoute(name, mode, types, ir) : null);
    }
}
