package io.switchboard.broker.gateway;

import io.switchboard.transport.PushHandler;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.RouteTable;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import org.agrona.DirectBuffer;

import java.util.concurrent.CompletableFuture;

/**
 * What the gateway's bridges ask of the gateway's own Java client: the calls, sends, streams, subscriptions,
 * publications, services and route table of {@link Switchboard}, none of which waits for the broker, so that the
 * bridges can be driven in a unit test by a fake that answers at once, with no media driver and no broker.
 * <p>
 * Not thread-safe: called from the gateway's duty cycle only.
 */
interface GatewayClient
{
    /**
     * See {@link Switchboard#clientId()}.
     *
     * @return the client's id at the broker.
     */
    int clientId();

    /**
     * The longest payload of a call, reply, stream frame or publication the client takes.
     *
     * @return the length in bytes.
     */
    default int maxMessageLength()
    {
        return (int)io.switchboard.transport.Configuration.longProperty(
            io.switchboard.transport.Configuration.MAX_MESSAGE_LENGTH_PROP,
            io.switchboard.transport.Configuration.MAX_MESSAGE_LENGTH_DEFAULT);
    }

    /**
     * See {@link Switchboard#poll()}.
     *
     * @return the work done.
     */
    int poll();

    /** See {@link Switchboard#send}. */
    void send(String service, String messageType, DirectBuffer buffer, int offset, int length);

    /**
     * See {@link Switchboard#request}.
     *
     * @return the call's correlation id.
     */
    long request(
        String service, String messageType, DirectBuffer buffer, int offset, int length, long timeoutNs,
        ResponseListener listener);

    /**
     * See {@link Switchboard#stream}.
     *
     * @return the call's correlation id.
     */
    long stream(
        String service, String messageType, DirectBuffer buffer, int offset, int length, long idleTimeoutNs,
        StreamListener listener);

    /**
     * See {@link Switchboard#cancel}.
     *
     * @return true if the call was still in flight.
     */
    boolean cancel(long correlationId);

    /**
     * See {@link Switchboard#isRequestHeld}.
     *
     * @param correlationId of the call.
     * @return true while the call's request waits for room in the service's inbox.
     */
    default boolean isRequestHeld(final long correlationId)
    {
        return false;
    }

    /**
     * See {@link Switchboard#abandon}.
     *
     * @return true if the call was still in flight.
     */
    boolean abandon(long correlationId);

    /**
     * See {@link Switchboard#subscribeAsync}: never waits for the broker.
     *
     * @return the broker's answer to come.
     */
    CompletableFuture<Void> subscribe(String pattern, PushHandler handler);

    /**
     * See {@link Switchboard#unsubscribeAsync}: never waits for the broker.
     *
     * @return the broker's answer to come.
     */
    CompletableFuture<Void> unsubscribe(String pattern);

    /**
     * See {@link Switchboard#serveAsync}: never waits for the broker.
     *
     * @return the broker's answer to come, completed inside a later {@link #poll()}.
     */
    CompletableFuture<Void> serve(ServiceDefinition definition);

    /**
     * See {@link Switchboard#unserveAsync}: never waits for the broker.
     *
     * @return the broker's answer to come, completed inside a later {@link #poll()}.
     */
    CompletableFuture<Void> unserve(String service);

    /**
     * See {@link Switchboard#routes()}: the services, instances and schemas this client learnt from the broker's
     * control stream, read on the gateway's duty cycle, which is the thread that polls the client.
     *
     * @return the route table.
     */
    RouteTable routes();

    /**
     * See {@link Switchboard#unsubscribeAsync(String, PushHandler)}: drop one handler's subscription; the broker is
     * told once none with the pattern is left, and never waited for.
     *
     * @param pattern as subscribed.
     * @param handler as subscribed.
     * @return completed at once, or by the broker's answer if it is told.
     */
    CompletableFuture<Void> unsubscribe(String pattern, PushHandler handler);

    /**
     * See {@link Switchboard#publish}.
     *
     * @return the publication's position, or a negative result of offer.
     */
    long publish(String subject, String messageType, int templateId, DirectBuffer buffer, int offset, int length);

    /**
     * See {@link Switchboard#publishRetainedAsync}: have the broker keep it as the subject's retained value, then
     * publish it, without waiting.
     *
     * @param subject of the publication.
     * @param messageType of the payload.
     * @param templateId of the payload, -1 for opaque.
     * @param buffer holding the payload (copied).
     * @param offset at which the payload begins.
     * @param length of the payload; 0 clears the subject.
     * @return completed with the sequence (or a negative publication result) once written, or by the refusal.
     */
    CompletableFuture<Long> publishRetained(
        String subject, String messageType, int templateId, DirectBuffer buffer, int offset, int length);

    /**
     * The gateway client of a {@link Switchboard}: every method delegates.
     *
     * @param client to delegate to.
     * @return the gateway client.
     */
    static GatewayClient of(final Switchboard client)
    {
        return new GatewayClient()
        {
            public int clientId()
            {
                return client.clientId();
            }

            public int maxMessageLength()
            {
                return client.context().maxMessageLength();
            }

            public int poll()
            {
                return client.poll();
            }

            public void send(
                final String service, final String messageType, final DirectBuffer buffer, final int offset,
                final int length)
            {
                client.send(service, messageType, buffer, offset, length);
            }

            public long request(
                final String service, final String messageType, final DirectBuffer buffer, final int offset,
                final int length, final long timeoutNs, final ResponseListener listener)
            {
                return client.request(service, messageType, buffer, offset, length, timeoutNs, listener);
            }

            public long stream(
                final String service, final String messageType, final DirectBuffer buffer, final int offset,
                final int length, final long idleTimeoutNs, final StreamListener listener)
            {
                return client.stream(service, messageType, buffer, offset, length, idleTimeoutNs, listener);
            }

            public boolean cancel(final long correlationId)
            {
                return client.cancel(correlationId);
            }

            public boolean isRequestHeld(final long correlationId)
            {
                return client.isRequestHeld(correlationId);
            }

            public boolean abandon(final long correlationId)
            {
                return client.abandon(correlationId);
            }

            public CompletableFuture<Void> subscribe(final String pattern, final PushHandler handler)
            {
                return client.subscribeAsync(pattern, handler);
            }

            public CompletableFuture<Void> unsubscribe(final String pattern)
            {
                return client.unsubscribeAsync(pattern);
            }

            public CompletableFuture<Void> serve(final ServiceDefinition definition)
            {
                return client.serveAsync(definition);
            }

            public CompletableFuture<Void> unserve(final String service)
            {
                return client.unserveAsync(service);
            }

            public RouteTable routes()
            {
                return client.routes();
            }

            public long publish(
                final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
                final int offset, final int length)
            {
                return client.publish(subject, messageType, templateId, buffer, offset, length);
            }

            public CompletableFuture<Void> unsubscribe(final String pattern, final PushHandler handler)
            {
                return client.unsubscribeAsync(pattern, handler);
            }

            public CompletableFuture<Long> publishRetained(
                final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
                final int offset, final int length)
            {
                return client.publishRetainedAsync(subject, messageType, templateId, buffer, offset, length);
            }
        };
    }
}
