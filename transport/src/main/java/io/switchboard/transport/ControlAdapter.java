package io.switchboard.transport;

import io.switchboard.codec.wire.ControlAckDecoder;
import io.switchboard.codec.wire.ControlErrorDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.PeerGoneDecoder;
import io.switchboard.codec.wire.RetainedPublicationDecoder;
import io.switchboard.codec.wire.RouteUpdateDecoder;
import io.switchboard.codec.wire.SchemaUpdateDecoder;
import io.switchboard.codec.wire.Status;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;


/**
 * Decodes what the broker sends on the control connection after the handshake: route updates and schema updates go
 * to the {@link RouteTable} (and the peer's inbox to the {@link PeerInboxProxy}), acks and errors to the
 * {@link ControlProxy} request they answer, retained values to the {@link RetainedAdapter}, and a peer's death to the
 * conductor.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class ControlAdapter implements ControlConnection.MessageHandler
{
    /**
     * Told when the broker says a peer went away.
     */
    @FunctionalInterface
    interface PeerGoneHandler
    {
        /**
         * A peer went away.
         *
         * @param peerId of the peer.
         */
        void onPeerGone(int peerId);
    }

    private final RouteTable routes;
    private final PeerInboxProxy peers;
    private final ControlProxy controlProxy;
    private final PeerGoneHandler peerGoneHandler;
    private final RetainedAdapter retainedAdapter;
    private final ErrorHandler errorHandler;
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final RouteUpdateDecoder routeUpdateDecoder = new RouteUpdateDecoder();
    private final PeerGoneDecoder peerGoneDecoder = new PeerGoneDecoder();
    private final SchemaUpdateDecoder schemaUpdateDecoder = new SchemaUpdateDecoder();
    private final ControlAckDecoder controlAckDecoder = new ControlAckDecoder();
    private final ControlErrorDecoder controlErrorDecoder = new ControlErrorDecoder();

    ControlAdapter(
        final RouteTable routes,
        final PeerInboxProxy peers,
        final ControlProxy controlProxy,
        final PeerGoneHandler peerGoneHandler,
        final RetainedAdapter retainedAdapter,
        final ErrorHandler errorHandler)
    {
        this.retainedAdapter = retainedAdapter;
        this.routes = routes;
        this.peers = peers;
        this.controlProxy = controlProxy;
        this.peerGoneHandler = peerGoneHandler;
        this.errorHandler = errorHandler;
    }

    public void onMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != RouteUpdateDecoder.SCHEMA_ID)
        {
            errorHandler.onError(new IllegalStateException("control message: expected schemaId=" +
                RouteUpdateDecoder.SCHEMA_ID + ", actual=" + headerDecoder.schemaId()));
            return;
        }
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        switch (headerDecoder.templateId())
        {
            case RouteUpdateDecoder.TEMPLATE_ID:
                onRouteUpdate(routeUpdateDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case SchemaUpdateDecoder.TEMPLATE_ID:
                onSchemaUpdate(schemaUpdateDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case RetainedPublicationDecoder.TEMPLATE_ID:
                retainedAdapter.onRetained(buffer, bodyOffset, blockLength, version, offset + length);
                break;
            case PeerGoneDecoder.TEMPLATE_ID:
                peerGoneHandler.onPeerGone(peerGoneDecoder.wrap(buffer, bodyOffset, blockLength, version).clientId());
                break;
            case ControlAckDecoder.TEMPLATE_ID:
                controlProxy.onAck(controlAckDecoder.wrap(buffer, bodyOffset, blockLength, version).correlationId());
                break;
            case ControlErrorDecoder.TEMPLATE_ID:
            {
                controlErrorDecoder.wrap(buffer, bodyOffset, blockLength, version);
                final long correlationId = controlErrorDecoder.correlationId();
                final Status status = controlErrorDecoder.status();
                final String message = controlErrorDecoder.message();
                if (!controlProxy.onError(correlationId, status, message))
                {
                    errorHandler.onError(new SwitchboardException(status.name(), message));
                }
                break;
            }
            default:
                errorHandler.onError(new IllegalStateException(
                    "unknown control templateId=" + headerDecoder.templateId()));
        }
    }

    private void onRouteUpdate(final RouteUpdateDecoder decoder)
    {
        final int peerId = decoder.clientId();
        final int peerInboxStreamId = decoder.inboxStreamId();
        if (routes.onRouteUpdate(decoder))
        {
            peers.onPeerInbox(peerId, peerInboxStreamId);
        }
    }

    private void onSchemaUpdate(final SchemaUpdateDecoder decoder)
    {
        final String refused = routes.onSchemaUpdate(decoder);
        if (null != refused)
        {
            errorHandler.onError(new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, refused));
        }
    }
}
