package io.switchboard.broker.gateway;

import io.switchboard.transport.PushHandler;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import org.agrona.DirectBuffer;

/**
 * What the gateway's bridges ask of the gateway's own Java client: the calls, sends, streams, subscriptions and
 * publications of {@link Switchboard}, so that the bridges can be driven in a unit test by a fake that answers at
 * once, with no media driver and no broker.
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
     * See {@link Switchboard#abandon}.
     *
     * @return true if the call was still in flight.
     */
    boolean abandon(long correlationId);

    /** See {@link Switchboard#subscribe}. */
    void subscribe(String pattern, PushHandler handler);

    /** See {@link Switchboard#unsubscribe}. */
    void unsubscribe(String pattern);

    /**
     * Drop one handler's subscription; the broker is told once none with the pattern is left.
     *
     * @param pattern as subscribed.
     * @param handler as subscribed.
     */
    void unsubscribe(String pattern, PushHandler handler);

    /**
     * See {@link Switchboard#publish}.
     *
     * @return the publication's position, or a negative result of offer.
     */
    long publish(String subject, String messageType, int templateId, DirectBuffer buffer, int offset, int length);

    /**
     * Publish, and with retain have the broker keep it as the subject's retained value first.
     *
     * @param subject of the publication.
     * @param messageType of the payload.
     * @param templateId of the payload, -1 for opaque.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload; 0 with retain clears the subject.
     * @param retain whether the broker keeps it.
     * @return the sequence if written, else a negative publication result.
     */
    long publish(
        String subject, String messageType, int templateId, DirectBuffer buffer, int offset, int length,
        boolean retain);

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

            public boolean abandon(final long correlationId)
            {
                return client.abandon(correlationId);
            }

            public void subscribe(final String pattern, final PushHandler handler)
            {
                client.subscribe(pattern, handler);
            }

            public void unsubscribe(final String pattern)
            {
                client.unsubscribe(pattern);
            }

            public long publish(
                final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
                final int offset, final int length)
            {
                return client.publish(subject, messageType, templateId, buffer, offset, length);
            }

            public void unsubscribe(final String pattern, final PushHandler handler)
            {
                client.unsubscribe(pattern, handler);
            }

            public long publish(
                final String subject, final String messageType, final int templateId, final DirectBuffer buffer,
                final int offset, final int length, final boolean retain)
            {
                return client.publish(subject, messageType, templateId, buffer, offset, length, retain);
            }
        };
    }
}
