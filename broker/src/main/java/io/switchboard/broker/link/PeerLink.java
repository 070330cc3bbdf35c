package io.switchboard.broker.link;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.RequestKind;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.transport.DeferredReply;
import io.switchboard.transport.ErrorCodes;
import io.switchboard.transport.RequestHandler;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.ServiceRequest;
import io.switchboard.transport.StreamHandler;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One peer broker: the state of its link (handshake, liveness), its UDP publication ({@link LinkSender}) and this
 * broker's Java client that stands in for it. That client serves here the names the peer serves and this host does
 * not, forwarding their calls over the link; makes here the calls the peer forwards; subscribes here to the patterns
 * the peer's subscribers hold, forwarding what matches; and publishes here what the peer forwards.
 * <p>
 * Not thread-safe: used by the link conductor's thread only, which also polls the client.
 */
final class PeerLink implements RequestHandler, StreamHandler, ResponseListener, StreamListener
{
    /** A service the peer serves, as it described it. */
    static final class RemoteRoute
    {
        final String name;
        final ServiceMode mode;
        final Map<String, Integer> types;
        final byte[] schemaIr;

        RemoteRoute(final String name, final ServiceMode mode, final Map<String, Integer> types, final byte[] ir)
        {
            this.name = name;
            this.mode = mode;
            this.types = types;
            this.schemaIr = ir;
        }

        /** Whether the other describes the service the same way (mode, message types, schema). */
        boolean sameAs(final RemoteRoute other)
        {
            return mode == other.mode && types.equals(other.types) &&
                java.util.Arrays.equals(null == schemaIr ? new byte[0] : schemaIr,
                null == other.schemaIr ? new byte[0] : other.schemaIr);
        }
    }

    /** A call from a local caller, waiting for the peer's answer. */
    private static final class Outbound
    {
        final DeferredReply reply;
        final StreamSession stream;
        final long deadlineNs;

        Outbound(final DeferredReply reply, final StreamSession stream, final long deadlineNs)
        {
            this.reply = reply;
            this.stream = stream;
            this.deadlineNs = deadlineNs;
        }
    }

    /** Calls from this host in flight across one link at most; more are answered TARGET_BUSY (memory bound). */
    static final int MAX_OUTBOUND_CALLS = 65_536;

    final String endpoint;
    /** To the peer; replaced when the link's Aeron client is opened again after it was closed under it. */
    LinkSender sender;
    final Switchboard client;
    final LinkPublications publications;
    final LinkPieces pieces;
    private final LinkConductor conductor;
    private final Consumer<String> log;
    private final SecureRandom random;

    byte[] nonce = new byte[16];
    boolean verified;
    boolean acceptedByPeer;
    boolean up;
    int boundSession = -1;
    long lastHeardNs;
    boolean everUp;

    final Map<String, RemoteRoute> remoteRoutes = new LinkedHashMap<>();
    final Set<String> served = new LinkedHashSet<>();
    final Set<String> conflictsReported = new LinkedHashSet<>();

    private final Long2ObjectHashMap<Outbound> outbound = new Long2ObjectHashMap<>();
    private final Long2LongHashMap localToLink = new Long2LongHashMap(-1);
    private final Long2LongHashMap linkToLocal = new Long2LongHashMap(-1);
    private long nextLinkCorrelationId = 1;
    private final org.agrona.collections.LongHashSet streams = new org.agrona.collections.LongHashSet();
    private long inCallLinkCorrelationId = -1;
    private boolean inCallStream;

    PeerLink(
        final String endpoint,
        final LinkSender sender,
        final Switchboard client,
        final LinkConductor conductor,
        final SecureRandom random,
        final Consumer<String> log)
    {
        this.endpoint = endpoint;
        this.sender = sender;
        this.client = client;
        this.conductor = conductor;
        this.random = random;
        this.log = log;
        this.publications = new LinkPublications(this, client, conductor.counters(), log);
        this.pieces = new LinkPieces(sender.maxPayloadLength() + 16 * 1024);
        random.nextBytes(nonce);
    }

    /**
     * Take the link down: forget the proofs, answer every call in flight across it SERVICE_UNAVAILABLE, withdraw the
     * peer's routes and interest here.
     *
     * @param reason for the log.
     */
    void down(final String reason)
    {
        final boolean wasUp = up;
        if (verified || up)
        {
            log.accept("link " + conductor.endpoint() + " -> " + endpoint + " down: " + reason +
                (outbound.isEmpty() ? "" : "; " + outbound.size() + " call(s) in flight answered SERVICE_UNAVAILABLE") +
                "; counters: " + conductor.counters());
        }
        verified = false;
        acceptedByPeer = false;
        up = false;
        conductor.unbind(this);
        pieces.reset();
        nonce = new byte[16];
        random.nextBytes(nonce);
        if (wasUp)
        {
            conductor.counters().linksDown++;
        }
        final String message = "the link to " + endpoint + " went down (" + reason + ")";
        final List<Outbound> pending = new ArrayList<>(outbound.values());
        outbound.clear();
        for (final Outbound o : pending)
        {
            fail(o, ErrorCodes.SERVICE_UNAVAILABLE, message);
        }
        linkToLocal.forEachLong((link, local) -> client.abandon(local));
        linkToLocal.clear();
        streams.clear();
        localToLink.clear();
        for (final String name : served)
        {
            client.unserveAsync(name);
        }
        served.clear();
        remoteRoutes.clear();
        publications.down();
    }

    /** Whether calls are in flight across this link: this host's waiting for the peer, or the peer's for a service here. */
    boolean callsInFlight()
    {
        return !outbound.isEmpty() || !localToLink.isEmpty();
    }

    /** Fail the calls whose callers gave up long ago: the peer never answered them (bounded memory). */
    void expire(final long nowNs)
    {
        if (outbound.isEmpty())
        {
            return;
        }
        final Long2ObjectHashMap<Outbound>.EntryIterator it = outbound.entrySet().iterator();
        while (it.hasNext())
        {
            it.next();
            final Outbound o = it.getValue();
            if (o.deadlineNs - nowNs < 0)
            {
                it.remove();
                fail(o, ErrorCodes.TIMEOUT, "no answer from " + endpoint + " across the link");
            }
        }
    }

    private static void fail(final Outbound o, final String code, final String message)
    {
        if (null != o.reply)
        {
            o.reply.fail(code, message);
        }
        else
        {
            o.stream.fail(code, message);
        }
    }

    // ---------------------------------------------------------------- serving the peer's names here

    /**
     * Serve one of the peer's names here, with the peer's types and schema.
     *
     * @param route as the peer described it.
     */
    void serve(final RemoteRoute route)
    {
        final ServiceDefinition definition;
        try
        {
            definition = ServiceDefinition.named(route.name);
            if (ServiceMode.SHARED == route.mode)
            {
                definition.shared();
            }
            if (null != route.schemaIr && route.schemaIr.length > 0)
            {
                definition.schema(MessageSchema.fromIr(route.schemaIr));
            }
            for (final Map.Entry<String, Integer> type : route.types.entrySet())
            {
                if (type.getValue() == ServiceDefinition.OPAQUE_TEMPLATE_ID)
                {
                    definition.onOpaque(type.getKey(), this, this);
                }
                else
                {
                    definition.onRequestOrStream(type.getKey(), this, this);
                }
            }
        }
        catch (final RuntimeException ex)
        {
            log.accept("link " + endpoint + ": cannot serve its service '" + route.name + "' here: " + ex.getMessage());
            return;
        }
        served.add(route.name);
        client.serveAsync(definition).whenComplete((ok, ex) ->
        {
            if (null != ex)
            {
                served.remove(route.name);
                conductor.counters().conflicts++;
                log.accept("link " + endpoint + ": its service '" + route.name + "' refused here: " +
                    describe(ex) + " (a name held on two hosts: exclusive names are never shadowed)");
            }
        });
    }

    void unserve(final String name)
    {
        if (served.remove(name))
        {
            client.unserveAsync(name);
        }
    }

    static String describe(final Throwable ex)
    {
        final Throwable cause = ex instanceof java.util.concurrent.CompletionException && null != ex.getCause() ?
            ex.getCause() : ex;
        return cause instanceof SwitchboardException ?
            ((SwitchboardException)cause).errorCode() + ": " + cause.getMessage() : String.valueOf(cause);
    }

    public void onRequest(final ServiceRequest request, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!up)
        {
            if (request.expectsReply())
            {
                request.fail(ErrorCodes.SERVICE_UNAVAILABLE, "the link to " + endpoint + " is down");
            }
            return;
        }
        if (length > sender.maxPayloadLength())
        {
            if (request.expectsReply())
            {
                request.fail(ErrorCodes.PAYLOAD_TOO_LARGE, "a call across the link to " + endpoint + " of " + length +
                    " bytes: expected at most " + sender.maxPayloadLength());
            }
            return;
        }
        if (outbound.size() >= MAX_OUTBOUND_CALLS)
        {
            if (request.expectsReply())
            {
                request.fail(ErrorCodes.TARGET_BUSY, "calls in flight across the link to " + endpoint + ": expected " +
                    "at most " + MAX_OUTBOUND_CALLS);
            }
            return;
        }
        final long linkCorrelationId = nextLinkCorrelationId++;
        if (!request.expectsReply())
        {
            sender.request(linkCorrelationId, RequestKind.FIRE_AND_FORGET, request.templateId(), request.timeoutMs(),
                request.service(), request.messageType(), buffer, offset, length);
            return;
        }
        final DeferredReply reply = request.defer();
        outbound.put(linkCorrelationId, new Outbound(reply, null, deadline(request.timeoutMs())));
        if (!sender.request(linkCorrelationId, RequestKind.REQUEST, request.templateId(), request.timeoutMs(),
            request.service(), request.messageType(), buffer, offset, length))
        {
            outbound.remove(linkCorrelationId);
            reply.fail(ErrorCodes.SERVICE_UNAVAILABLE, "cannot send across the link to " + endpoint + ": " +
                sender.lastFailure());
        }
    }

    public void onStream(final StreamSession stream, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!up)
        {
            stream.fail(ErrorCodes.SERVICE_UNAVAILABLE, "the link to " + endpoint + " is down");
            return;
        }
        if (length > sender.maxPayloadLength())
        {
            stream.fail(ErrorCodes.PAYLOAD_TOO_LARGE, "a call across the link to " + endpoint + " of " + length +
                " bytes: expected at most " + sender.maxPayloadLength());
            return;
        }
        if (outbound.size() >= MAX_OUTBOUND_CALLS)
        {
            stream.fail(ErrorCodes.TARGET_BUSY, "calls in flight across the link to " + endpoint + ": expected at most " +
                MAX_OUTBOUND_CALLS);
            return;
        }
        final long linkCorrelationId = nextLinkCorrelationId++;
        outbound.put(linkCorrelationId, new Outbound(null, stream, Long.MAX_VALUE));
        if (!sender.request(linkCorrelationId, RequestKind.STREAM, templateIdOf(stream), stream.timeoutMs(),
            stream.service(), stream.messageType(), buffer, offset, length))
        {
            outbound.remove(linkCorrelationId);
            stream.fail(ErrorCodes.SERVICE_UNAVAILABLE, "cannot send across the link to " + endpoint + ": " +
                sender.lastFailure());
            return;
        }
        stream.onCancel(() ->
        {
            if (null != outbound.remove(linkCorrelationId))
            {
                sender.cancel(linkCorrelationId);
            }
        });
    }

    private int templateIdOf(final StreamSession stream)
    {
        final io.switchboard.transport.RouteTable.Route route = client.routes().route(stream.service());
        if (null == route)
        {
            return ServiceDefinition.OPAQUE_TEMPLATE_ID;
        }
        final Integer id = route.messageTypes().get(stream.messageType());
        return null == id ? ServiceDefinition.OPAQUE_TEMPLATE_ID : id;
    }

    LinkConductor conductor()
    {
        return conductor;
    }

    private long deadline(final long timeoutMs)
    {
        // the caller times out by itself; the entry goes once the peer surely answered or never will
        return conductor.nowNs() + TimeUnit.MILLISECONDS.toNanos(timeoutMs) +
            2 * TimeUnit.MILLISECONDS.toNanos(conductor.livenessTimeoutMs());
    }

    /** The peer's answer to a call of ours. */
    void onLinkResponse(
        final long linkCorrelationId, final String errorCode, final String message, final DirectBuffer payload,
        final int offset, final int length)
    {
        final Outbound o = outbound.remove(linkCorrelationId);
        if (null == o || null == o.reply)
        {
            return; // expired, or a late answer
        }
        if (errorCode.isEmpty())
        {
            o.reply.reply(payload, offset, length);
        }
        else
        {
            o.reply.fail(errorCode, message);
        }
    }

    void onLinkStreamFrame(final long linkCorrelationId, final DirectBuffer payload, final int offset, final int length)
    {
        final Outbound o = outbound.get(linkCorrelationId);
        if (null == o || null == o.stream)
        {
            return;
        }
        if (!o.stream.send(payload, offset, length) && o.stream.isCancelled())
        {
            outbound.remove(linkCorrelationId);
            sender.cancel(linkCorrelationId);
        }
    }

    void onLinkStreamEnd(final long linkCorrelationId, final String errorCode, final String message)
    {
        final Outbound o = outbound.remove(linkCorrelationId);
        if (null == o || null == o.stream)
        {
            return;
        }
        if (errorCode.isEmpty())
        {
            o.stream.end();
        }
        else
        {
            o.stream.fail(errorCode, message);
        }
    }

    // ---------------------------------------------------------------- the peer's calls, made here

    void onLinkRequest(
        final long linkCorrelationId,
        final RequestKind kind,
        final long timeoutMs,
        final String service,
        final String messageType,
        final DirectBuffer payload,
        final int offset,
        final int length)
    {
        try
        {
            if (RequestKind.FIRE_AND_FORGET == kind)
            {
                client.send(service, messageType, payload, offset, length);
                return;
            }
            inCallLinkCorrelationId = linkCorrelationId;
            inCallStream = RequestKind.STREAM == kind;
            final long timeoutNs = TimeUnit.MILLISECONDS.toNanos(Math.max(1, timeoutMs));
            final long localCorrelationId = RequestKind.STREAM == kind ?
                client.stream(service, messageType, payload, offset, length, timeoutNs, (StreamListener)this) :
                client.request(service, messageType, payload, offset, length, timeoutNs, (ResponseListener)this);
            if (-1 != inCallLinkCorrelationId)
            {
                localToLink.put(localCorrelationId, linkCorrelationId);
                linkToLocal.put(linkCorrelationId, localCorrelationId);
                if (inCallStream)
                {
                    streams.add(localCorrelationId);
                }
            }
        }
        catch (final RuntimeException ex)
        {
            if (-1 != inCallLinkCorrelationId && RequestKind.FIRE_AND_FORGET != kind)
            {
                final String code = ex instanceof SwitchboardException ?
                    ((SwitchboardException)ex).errorCode() : ErrorCodes.INTERNAL_ERROR;
                if (RequestKind.STREAM == kind)
                {
                    sender.end(linkCorrelationId, 0, code, ex.getMessage());
                }
                else
                {
                    sender.response(linkCorrelationId, code, ex.getMessage(), EMPTY, 0, 0);
                }
            }
        }
        finally
        {
            inCallLinkCorrelationId = -1;
        }
    }

    void onLinkCancel(final long linkCorrelationId)
    {
        final long localCorrelationId = linkToLocal.remove(linkCorrelationId);
        if (-1 != localCorrelationId)
        {
            localToLink.remove(localCorrelationId);
            streams.remove(localCorrelationId);
            client.cancel(localCorrelationId);
        }
    }

    /** The link correlation id of a local call's answer; -1 if no longer wanted. */
    private long takeLinkCorrelationId(final long localCorrelationId, final boolean last)
    {
        if (-1 != inCallLinkCorrelationId)
        {
            final long id = inCallLinkCorrelationId; // answered inside the call itself
            inCallLinkCorrelationId = -1;
            return id;
        }
        final long id = last ? localToLink.remove(localCorrelationId) : localToLink.get(localCorrelationId);
        if (last && -1 != id)
        {
            linkToLocal.remove(id);
        }
        return id;
    }

    public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
    {
        final long linkCorrelationId = takeLinkCorrelationId(correlationId, true);
        if (-1 != linkCorrelationId && !sender.response(linkCorrelationId, null, null, buffer, offset, length))
        {
            conductor.counters().sendFailures++;
        }
    }

    public void onError(final long correlationId, final String errorCode, final String message)
    {
        // one listener for both kinds: a stream's error ends it, a request's answers it
        final boolean stream = -1 != inCallLinkCorrelationId ? inCallStream : streams.remove(correlationId);
        final long linkCorrelationId = takeLinkCorrelationId(correlationId, true);
        if (-1 == linkCorrelationId)
        {
            return;
        }
        if (stream)
        {
            sender.end(linkCorrelationId, 0, errorCode, message);
        }
        else
        {
            sender.response(linkCorrelationId, errorCode, message, EMPTY, 0, 0);
        }
    }

    public void onFrame(
        final long correlationId, final long sequence, final DirectBuffer buffer, final int offset, final int length)
    {
        final long linkCorrelationId = localToLink.get(correlationId);
        if (-1 != linkCorrelationId && !sender.frame(linkCorrelationId, sequence, buffer, offset, length))
        {
            conductor.counters().sendFailures++;
        }
    }

    public void onEnd(final long correlationId, final long frameCount)
    {
        streams.remove(correlationId);
        final long linkCorrelationId = takeLinkCorrelationId(correlationId, true);
        if (-1 != linkCorrelationId)
        {
            sender.end(linkCorrelationId, frameCount, null, null);
        }
    }

    private static final org.agrona.concurrent.UnsafeBuffer EMPTY = new org.agrona.concurrent.UnsafeBuffer(new byte[0]);
}
