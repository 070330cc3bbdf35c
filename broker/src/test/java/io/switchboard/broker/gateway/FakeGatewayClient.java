package io.switchboard.broker.gateway;

import io.switchboard.transport.PushHandler;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.StreamListener;
import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    public void subscribe(final String pattern, final PushHandler handler)
    {
        subscribes.add(pattern);
        subscribed.putIfAbsent(pattern, handler); // a second handler of a pattern (retained values) is dropped at once
    }

    public void unsubscribe(final String pattern)
    {
        unsubscribes.add(pattern);
        subscribed.remove(pattern);
    }

    public long publish(
        final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
        final int offset, final int length)
    {
        publishes.add(subject + ":" + buffer.getStringWithoutLengthUtf8(offset, length));
        return publishResult;
    }

    public void unsubscribe(final String pattern, final PushHandler handler)
    {
        unsubscribes.add(pattern + " (one handler)");
        subscribed.remove(pattern, handler);
    }

    public long publish(
        final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
        final int offset, final int length, final boolean retain)
    {
        if (!retain)
        {
            return publish(subject, messageType, templateId, buffer, offset, length);
        }
        if (null != retainRefusal)
        {
            throw retainRefusal;
        }
        publishes.add("retained " + subject + ":" + buffer.getStringWithoutLengthUtf8(offset, length));
        return publishResult;
    }

    static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
