package io.switchboard.bench;

import io.aeron.Publication;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.util.concurrent.TimeUnit;

/**
 * Switchboard publish-subscribe: a publisher client with no thread (polled by the benchmark thread) publishes opaque
 * 32-byte messages on one subject; each subscriber is a client of its own with its own yielding thread, and all read
 * the publisher's one shared log.
 */
final class SwitchboardPubSubRig implements PubSubRig
{
    static final String SUBJECT = "bench.ticks";
    static final String TYPE = "Tick";

    private final Broker broker;
    private final Switchboard publisher;
    private final Switchboard[] subscribers;
    private final DeliveryCounter[] counters;
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[Payload.LENGTH]);

    SwitchboardPubSubRig(final int subscriberCount)
    {
        broker = Rigs.launchBroker();
        subscribers = new Switchboard[subscriberCount];
        counters = new DeliveryCounter[subscriberCount];
        try
        {
            for (int i = 0; i < subscriberCount; i++)
            {
                final DeliveryCounter counter = new DeliveryCounter();
                counters[i] = counter;
                subscribers[i] = Switchboard.connect(new Switchboard.Context()
                    .controlSocket(broker.context().controlSocket()).clientName("bench-subscriber-" + i)
                    .idleStrategy(new YieldingIdleStrategy()));
                subscribers[i].subscribe(SUBJECT, (push, buffer, offset, length) -> counter.increment());
            }
            publisher = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-publisher")
                .useConductorAgentInvoker(true));
        }
        catch (final RuntimeException ex)
        {
            close();
            throw ex;
        }

        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (DeliveryCounter.min(counters) == 0)
        {
            publisher.publish(SUBJECT, TYPE, ServiceDefinition.OPAQUE_TEMPLATE_ID, message, 0, Payload.LENGTH);
            publisher.poll();
            Rigs.checkDeadline(deadlineNs, "every Switchboard subscriber to receive a first message");
        }
    }

    /** {@inheritDoc} */
    public void publish()
    {
        long result;
        long deadlineNs = 0;
        while ((result = publisher.publish(
            SUBJECT, TYPE, ServiceDefinition.OPAQUE_TEMPLATE_ID, message, 0, Payload.LENGTH)) < 0)
        {
            if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                throw new IllegalStateException("publish failed: " + Publication.errorString(result));
            }
            if (0 == deadlineNs)
            {
                deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            }
            Rigs.checkDeadline(deadlineNs, "a back-pressured publish: " + Publication.errorString(result));
            publisher.poll();
        }
    }

    /** {@inheritDoc} */
    public long minDelivered()
    {
        return DeliveryCounter.min(counters);
    }

    /** {@inheritDoc} */
    public void idle()
    {
        publisher.poll();
    }

    /** {@inheritDoc} */
    public void close()
    {
        CloseHelper.closeAll(publisher);
        for (int i = subscribers.length - 1; i >= 0; i--)
        {
            CloseHelper.close(subscribers[i]);
        }
        CloseHelper.close(broker);
    }
}
