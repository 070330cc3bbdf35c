package io.switchboard.transport;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.subject.AsciiBytes;
import io.switchboard.codec.wire.RequestDecoder;
import io.switchboard.codec.wire.RequestKind;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.HashMap;

/**
 * The services this peer serves and the streams it is serving: finds the handler of each request that arrives
 * (compared in place, nothing allocated per request), answers what has no handler with a typed error, and ends or
 * cancels served streams when their caller cancels or goes away. It also keeps the schemas this peer declared it
 * publishes, to declare again in a new session.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class LocalServices
{
    private final ClientConductor conductor;
    private final PeerInboxProxy peers;
    private final ClientCounters counters;
    private final ErrorHandler errorHandler;
    private final ServiceRequest serviceRequest;
    private final HashMap<String, LocalService> localServices = new HashMap<>();
    private LocalService[] localServiceArray = new LocalService[0];
    private final Long2ObjectHashMap<StreamSession> streams = new Long2ObjectHashMap<>();
    private final ArrayList<MessageSchema> declaredSchemas = new ArrayList<>();

    /** A service this peer serves. */
    static final class LocalService
    {
        final ServiceDefinition definition;
        private final AsciiBytes name;
        private final ServiceDefinition.Handler[] handlers;
        private final AsciiBytes[] messageTypes;
        private final ServiceDefinition.Handler anyType;

        LocalService(final ServiceDefinition definition)
        {
            this.definition = definition;
            this.name = new AsciiBytes(definition.name());
            this.handlers = definition.handlers().values().toArray(new ServiceDefinition.Handler[0]);
            this.messageTypes = new AsciiBytes[handlers.length];
            for (int i = 0; i < handlers.length; i++)
            {
                messageTypes[i] = new AsciiBytes(handlers[i].messageType);
            }
            this.anyType = definition.handlers().get(ServiceDefinition.ANY_MESSAGE_TYPE);
        }

        boolean isNamed(final DirectBuffer buffer, final int offset, final int length)
        {
            return name.equalsIn(buffer, offset, length);
        }

        ServiceDefinition.Handler handler(final DirectBuffer buffer, final int offset, final int length)
        {
            // compared in place, an indexed loop over an array: nothing decoded or allocated per request
            final AsciiBytes[] messageTypes = this.messageTypes;
            for (int i = 0; i < messageTypes.length; i++)
            {
                if (messageTypes[i].equalsIn(buffer, offset, length))
                {
                    return handlers[i];
                }
            }
            return anyType;
        }
    }

    LocalServices(
        final ClientConductor conductor,
        final PeerInboxProxy peers,
        final ClientCounters counters,
        final ErrorHandler errorHandler)
    {
        this.conductor = conductor;
        this.peers = peers;
        this.counters = counters;
        this.errorHandler = errorHandler;
        this.serviceRequest = new ServiceRequest(conductor);
    }

    boolean contains(final String name)
    {
        return localServices.containsKey(name);
    }

    void add(final ServiceDefinition definition)
    {
        localServices.put(definition.name(), new LocalService(definition));
        localServiceArray = localServices.values().toArray(new LocalService[0]);
    }

    void remove(final String name)
    {
        localServices.remove(name);
        localServiceArray = localServices.values().toArray(new LocalService[0]);
    }

    /**
     * What this peer serves, to register again in a new session.
     *
     * @return the definitions.
     */
    ServiceDefinition[] definitions()
    {
        final LocalService[] services = localServiceArray;
        final ServiceDefinition[] definitions = new ServiceDefinition[services.length];
        for (int i = 0; i < services.length; i++)
        {
            definitions[i] = services[i].definition;
        }
        return definitions;
    }

    /**
     * The broker accepted a schema this peer publishes: keep it, to declare it again in a new session.
     *
     * @param schema the broker accepted.
     */
    void onSchemaDeclared(final MessageSchema schema)
    {
        if (!declaredSchemas.contains(schema))
        {
            declaredSchemas.add(schema);
        }
    }

    /**
     * The schemas this peer declared it publishes, to declare again in a new session.
     *
     * @return a copy of the schemas, in the order they were declared.
     */
    MessageSchema[] declaredSchemas()
    {
        return declaredSchemas.toArray(new MessageSchema[0]);
    }

    int size()
    {
        return localServiceArray.length;
    }

    /**
     * A served stream ended: forget it.
     *
     * @param session of the stream.
     */
    void onStreamEnded(final StreamSession session)
    {
        streams.remove(streamKey(session.callerId(), session.correlationId()));
    }

    /**
     * The caller of a served stream cancelled it.
     *
     * @param callerId of the caller.
     * @param correlationId of the stream.
     */
    void onCancel(final int callerId, final long correlationId)
    {
        final StreamSession session = streams.remove(streamKey(callerId, correlationId));
        if (null != session)
        {
            safely(session::cancel);
        }
    }

    /**
     * A peer went away: cancel the streams served to it.
     *
     * @param peerId of the peer.
     */
    void onPeerGone(final int peerId)
    {
        final ArrayList<StreamSession> orphaned = new ArrayList<>();
        for (final StreamSession session : streams.values())
        {
            if (session.callerId() == peerId)
            {
                orphaned.add(session);
            }
        }
        for (final StreamSession session : orphaned)
        {
            streams.remove(streamKey(session.callerId(), session.correlationId()));
            safely(session::cancel);
        }
    }

    /**
     * The session or the client ended: cancel every stream served.
     */
    void cancelStreams()
    {
        for (final StreamSession session : streams.values())
        {
            safely(session::cancel);
        }
        streams.clear();
    }

    /**
     * Serve a request from another peer: its handler answers it, or it is answered with a typed error.
     *
     * @param decoder wrapped around the request.
     * @param buffer holding the request.
     */
    void onRequest(final RequestDecoder decoder, final DirectBuffer buffer)
    {
        final ServiceRequest request = this.serviceRequest;
        final long correlationId = decoder.correlationId();
        final int callerId = decoder.callerId();
        final int callerInbox = decoder.callerInboxStreamId();
        final RequestKind kind = decoder.kind();
        request.reset(correlationId, callerId, callerInbox, decoder.templateId(), decoder.timeoutMs());
        request.expectsReply(RequestKind.REQUEST == kind);
        final int serviceLength = decoder.serviceLength();
        final int serviceOffset = decoder.limit() + RequestDecoder.serviceHeaderLength();
        request.service.wrap(buffer, serviceOffset, serviceLength);
        decoder.skipService();
        final int messageTypeLength = decoder.messageTypeLength();
        final int messageTypeOffset = decoder.limit() + RequestDecoder.messageTypeHeaderLength();
        request.messageType.wrap(buffer, messageTypeOffset, messageTypeLength);
        decoder.skipMessageType();
        final int payloadLength = decoder.payloadLength();
        final int payloadOffset = decoder.limit() + RequestDecoder.payloadHeaderLength();
        decoder.skipPayload();
        peers.onPeerInbox(callerId, callerInbox);
        counters.served.incrementOrdered();

        LocalService service = null;
        for (final LocalService s : localServiceArray)
        {
            if (s.isNamed(buffer, serviceOffset, serviceLength))
            {
                service = s;
                break;
            }
        }
        final ServiceDefinition.Handler handler =
            null == service ? null : service.handler(buffer, messageTypeOffset, messageTypeLength);

        if (null == handler)
        {
            if (RequestKind.FIRE_AND_FORGET != kind)
            {
                // a request routed here for a service this peer does not serve (any more): it was withdrawn while the
                // request was on its way, as when a serving peer dies; ACTOR_NOT_FOUND is the caller's own route
                // table's answer to a name nobody serves, so that a name listed is never one "not found"
                final String code = null == service ? ErrorCodes.SERVICE_UNAVAILABLE : ErrorCodes.UNKNOWN_MESSAGE_TYPE;
                final String message = null == service ?
                    "peer " + conductor.clientId() + " no longer serves '" + request.service() + "'" :
                    "service '" + request.service() + "' does not take '" + request.messageType() + "'";
                answerError(kind, request, code, message);
            }
            return;
        }

        if (RequestKind.STREAM == kind)
        {
            if (null == handler.streamHandler)
            {
                answerError(kind, request, ErrorCodes.INVALID_REQUEST,
                    "'" + request.messageType() + "' is request-response, not a stream");
                return;
            }
            final StreamSession session = new StreamSession(conductor, correlationId, callerId, callerInbox,
                request.service().toString(), request.messageType().toString(), request.timeoutMs());
            streams.put(streamKey(callerId, correlationId), session);
            try
            {
                handler.streamHandler.onStream(session, buffer, payloadOffset, payloadLength);
            }
            catch (final Throwable ex)
            {
                errorHandler.onError(ex);
                session.fail(ErrorCodes.INTERNAL_ERROR, "stream handler failed: " + ex);
            }
            return;
        }

        if (null == handler.requestHandler)
        {
            answerError(kind, request, ErrorCodes.INVALID_REQUEST,
                "'" + request.messageType() + "' is a stream, call it with stream(...)");
            return;
        }
        try
        {
            handler.requestHandler.onRequest(request, buffer, payloadOffset, payloadLength);
            if (!request.isAnswered() && !request.isDeferred() && RequestKind.REQUEST == kind)
            {
                request.fail(ErrorCodes.INTERNAL_ERROR, "handler for '" + handler.messageType + "' returned no reply");
            }
        }
        catch (final Throwable ex)
        {
            errorHandler.onError(ex);
            if (!request.isAnswered() && !request.isDeferred() && RequestKind.REQUEST == kind)
            {
                request.fail(ErrorCodes.INTERNAL_ERROR, "handler for '" + handler.messageType + "' failed: " + ex);
            }
        }
    }

    private void answerError(
        final RequestKind kind, final ServiceRequest request, final String code, final String message)
    {
        if (RequestKind.STREAM == kind)
        {
            final StreamSession session = new StreamSession(conductor, request.correlationId(), request.callerId(),
                request.callerInboxStreamId(), request.service().toString(), request.messageType().toString(), 0);
            conductor.endStream(session, code, message);
        }
        else
        {
            request.fail(code, message);
        }
    }

    private static long streamKey(final int callerId, final long correlationId)
    {
        return ((long)callerId << 40) ^ correlationId;
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
