package io.switchboard.broker.gateway;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.RouteUpdateDecoder;
import io.switchboard.codec.wire.RouteUpdateEncoder;
import io.switchboard.codec.wire.SchemaUpdateDecoder;
import io.switchboard.codec.wire.SchemaUpdateEncoder;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.transport.PushHandler;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.RouteTable;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * A gateway client that records what the bridges ask of it and answers only when a test tells it to: no media driver,
 * no broker.
 */
final class FakeGatewayClient implements GatewayClient
{
    /** A call the bridge made. */
    static final class Call
    {
        final long id;
        final String service;
        final String messageType;
        final String payload;
        final ResponseListener responses;
        final StreamListener frames;

        Call(final long id, final String service, final String messageType, final String payload,
            final ResponseListener responses, final StreamListener frames)
        {
            this.id = id;
            this.service = service;
            this.messageType = messageType;
            this.payload = payload;
            this.responses = responses;
            this.frames = frames;
        }
    }

    final List<Call> calls = new ArrayList<>();
    final List<String> sends = new ArrayList<>();
    final List<Long> cancelled = new ArrayList<>();
    final List<Long> abandoned = new ArrayList<>();
    final Map<String, PushHandler> subscribed = new LinkedHashMap<>();
    final List<String> subscribes = new ArrayList<>();
    final List<String> unsubscribes = new ArrayList<>();
    final List<String> publishes = new ArrayList<>();
    final Map<String, CompletableFuture<Void>> serves = new LinkedHashMap<>();
    final Map<String, ServiceDefinition> definitions = new LinkedHashMap<>();
    final Map<String, CompletableFuture<Void>> unserves = new LinkedHashMap<>();
    final RouteTable routes = new RouteTable(1024 * 1024);
    int polls;
    long publishResult = 64;
    /** Thrown by a retained publish, as the broker's refusal; null: kept. */
    io.switchboard.transport.SwitchboardException retainRefusal;
    /** Runs inside request() or stream() with the call's id, before it returns: an answer that comes at once. */
    LongConsumer answerInside;
    private long nextId = 100;

    public int clientId()
    {
        return 7;
    }

    public int poll()
    {
        polls++;
        return 0;
    }

    public void send(
        final String service, final String messageType, final DirectBuffer buffer, final int offset, final int length)
    {
        sends.add(service + "/" + messageType + ":" + buffer.getStringWithoutLengthUtf8(offset, length));
    }

    public long request(
        final String service, final String messageType, final DirectBuffer buffer, final int offset, final int length,
        final long timeoutNs, final ResponseListener listener)
    {
        return call(service, messageType, buffer, offset, length, listener, null);
    }

    public long stream(
        final String service, final String messageType, final DirectBuffer buffer, final int offset, final int length,
        final long idleTimeoutNs, final StreamListener listener)
    {
        return call(service, messageType, buffer, offset, length, null, listener);
    }

    private long call(
        final String service, final String messageType, final DirectBuffer buffer, final int offset, final int length,
        final ResponseListener responses, final StreamListener frames)
    {
        final long id = nextId++;
        calls.add(new Call(id, service, messageType, buffer.getStringWithoutLengthUtf8(offset, length), responses,
            frames));
        if (null != answerInside)
        {
            answerInside.accept(id);
        }
        return id;
    }

    public boolean cancel(final long correlationId)
    {
        cancelled.add(correlationId);
        return true;
    }

    public boolean abandon(final long correlationId)
    {
        abandoned.add(correlationId);
        return true;
    }

    public CompletableFuture<Void> subscribe(final String pattern, final PushHandler handler)
    {
        subscribes.add(pattern);
        subscribed.putIfAbsent(pattern, handler); // a second handler of a pattern (retained values) is dropped at once
        return CompletableFuture.completedFuture(null);
    }

    public CompletableFuture<Void> unsubscribe(final String pattern)
    {
        unsubscribes.add(pattern);
        subscribed.remove(pattern);
        return CompletableFuture.completedFuture(null);
    }

    public CompletableFuture<Void> serve(final ServiceDefinition definition)
    {
        final CompletableFuture<Void> answer = new CompletableFuture<>();
        serves.put(definition.name(), answer);
        definitions.put(definition.name(), definition);
        return answer;
    }

    public CompletableFuture<Void> unserve(final String service)
    {
        final CompletableFuture<Void> answer = new CompletableFuture<>();
        unserves.put(service, answer);
        return answer;
    }

    public RouteTable routes()
    {
        return routes;
    }

    /**
     * Feed the route table a route update encoded as the broker encodes it, and the schema before it if any.
     */
    void route(
        final RouteAction action, final String service, final ServiceMode mode, final int clientId,
        final Map<String, Integer> types, final byte[] ir, final int schemaId, final int schemaVersion,
        final String peerName, final long pid, final boolean inProcess)
    {
        final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
        final MessageHeaderEncoder header = new MessageHeaderEncoder();
        if (null != ir)
        {
            new SchemaUpdateEncoder().wrapAndApplyHeader(buffer, 0, header)
                .action(RouteAction.ADD).schemaId(schemaId).schemaVersion(schemaVersion).putSchemaIr(ir, 0, ir.length);
            final SchemaUpdateDecoder schema = new SchemaUpdateDecoder();
            schema.wrap(buffer, MessageHeaderEncoder.ENCODED_LENGTH, SchemaUpdateDecoder.BLOCK_LENGTH,
                SchemaUpdateDecoder.SCHEMA_VERSION);
            routes.onSchemaUpdate(schema);
        }
        final RouteUpdateEncoder update = new RouteUpdateEncoder();
        update.wrapAndApplyHeader(buffer, 0, header)
            .action(action).clientId(clientId).inboxStreamId(1000 + clientId).mode(mode).pid(pid)
            .inProcess(inProcess ? BooleanType.TRUE : BooleanType.FALSE)
            .schemaId(null == ir ? -1 : schemaId).schemaVersion(null == ir ? -1 : schemaVersion);
        final RouteUpdateEncoder.MessageTypesEncoder group = update.messageTypesCount(types.size());
        for (final Map.Entry<String, Integer> type : types.entrySet())
        {
            group.next().templateId(type.getValue()).name(type.getKey());
        }
        update.service(service).peerName(peerName);
        final RouteUpdateDecoder decoder = new RouteUpdateDecoder();
        decoder.wrap(buffer, MessageHeaderEncoder.ENCODED_LENGTH, RouteUpdateDecoder.BLOCK_LENGTH,
            RouteUpdateDecoder.SCHEMA_VERSION);
        routes.onRouteUpdate(decoder);
    }

    public long publish(
        final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
        final int offset, final int length)
    {
        publishes.add(subject + ":" + buffer.getStringWithoutLengthUtf8(offset, length));
        return publishResult;
    }

    public CompletableFuture<Void> unsubscribe(final String pattern, final PushHandler handler)
    {
        unsubscribes.add(pattern + " (one handler)");
        subscribed.remove(pattern, handler);
        return CompletableFuture.completedFuture(null);
    }

    public CompletableFuture<Long> publishRetained(
        final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
        final int offset, final int length)
    {
        if (null != retainRefusal)
        {
            return CompletableFuture.failedFuture(retainRefusal);
        }
        publishes.add("retained " + subject + ":" + buffer.getStringWithoutLengthUtf8(offset, length));
        return CompletableFuture.completedFuture(publishResult);
    }

    static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
