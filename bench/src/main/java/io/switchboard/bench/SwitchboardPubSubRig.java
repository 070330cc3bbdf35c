package io.switchboard.bench;

import io.aeron.Publication;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.SubjectPublisher;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Switchboard publish-subscribe: a publisher client with no thread (polled by the benchmark thread) publishes opaque
 * 32-byte messages on one subject through a {@link SubjectPublisher}; each subscriber is a client of its own with no
 * thread, read by {@link SubscriberPollers} (one yielding thread per spare core), and all read the publisher's one
 * log.
 */
final class SwitchboardPubSubRig implements PubSubRig
{
    static final String SUBJECT = "bench.ticks";
    static final String TYPE = "Tick";

    private final Broker broker;
    private final Switchboard publisher;
    private final SubjectPublisher subjectPublisher;
    private final SubscriberPollers pollers;
    private final Switchboard[] subscribers;
    private final DeliveryCounter[] counters;
    private final UnsafeBuffer message;
    private final int messageLength;

    SwitchboardPubSubRig(final int subscriberCount)
    {
        this(subscriberCount, Payload.LENGTH);
    }

    /**
     * @param subscriberCount subscribers.
     * @param messageLength of each message, at least {@link Payload#LENGTH}; one longer than a message of the log
     * travels in pieces.
     */
    SwitchboardPubSubRig(final int subscriberCount, final int messageLength)
    {
        this.messageLength = messageLength;
        message = new UnsafeBuffer(ByteBuffer.allocateDirect(messageLength));
        broker = Rigs.launchBroker();
        subscribers = new Switchboard[subscriberCount];
        counters = new DeliveryCounter[subscriberCount];
        final IntSupplier[] polls = new IntSupplier[subscriberCount];
        try
        {
            for (int i = 0; i < subscriberCount; i++)
            {
                final DeliveryCounter counter = new DeliveryCounter();
                counters[i] = counter;
                final Switchboard subscriber = Switchboard.connect(new Switchboard.Context()
                    .controlSocket(broker.context().controlSocket()).clientName("bench-subscriber-" + i)
                    .useConductorAgentInvoker(true));
                subscribers[i] = subscriber;
                subscriber.subscribe(SUBJECT, (push, buffer, offset, length) -> counter.increment());
                polls[i] = subscriber::poll;
            }
            publisher = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-publisher")
                .useConductorAgentInvoker(true));
            subjectPublisher = publisher.publisher(SUBJECT, TYPE, ServiceDefinition.OPAQUE_TEMPLATE_ID);
        }
        catch (final RuntimeException ex)
        {
            close();
            throw ex;
        }
        pollers = new SubscriberPollers("switchboard-subscriber", polls);

        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (DeliveryCounter.min(counters) == 0)
        {
            subjectPublisher.offer(message, 0, messageLength); // warm-up message; lost ones are re-offered
            publisher.poll();
            Rigs.checkDeadline(deadlineNs, "every Switchboard subscriber to receive a first message");
        }
    }

    /** {@inheritDoc} */
    public void publish()
    {
        long result;
        long deadlineNs = 0;
        while ((result = subjectPublisher.offer(message, 0, messageLength)) < 0)
        {
            if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                throw new IllegalStateException("publish failed: " + Publication.errorString(result));
            }
            if (0 == deadlineNs)
            {
                deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            }
            Rigs.checkOfferDeadline(deadlineNs, result);
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
        CloseHelper.closeAll(pollers, publisher);
        for (int i = subscribers.length - 1; i >= 0; i--)
        {
            CloseHelper.close(subscribers[i]);
        }
        if (null != broker)
        {
            Rigs.closeBroker(broker);
        }
    }
}
