package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.switchboard.broker.Broker;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The pub/sub floor: one exclusive IPC publication written by the benchmark thread and N subscriptions to it, read by
 * {@link SubscriberPollers} (one yielding thread per spare core), through the broker's embedded media driver.
 */
final class AeronPubSubRig implements PubSubRig
{
    static final int STREAM_ID = 9003;
    static final int FRAGMENT_LIMIT = 16;

    private final Broker broker;
    private final Aeron publisherAeron;
    private final Aeron subscriberAeron;
    private final AgentInvoker invoker;
    private final ExclusivePublication publication;
    private final DeliveryCounter[] counters;
    private final SubscriberPollers pollers;
    private final UnsafeBuffer message;
    private final int messageLength;

    AeronPubSubRig(final int subscriberCount)
    {
        this(subscriberCount, Payload.LENGTH, 0);
    }

    /**
     * @param subscriberCount subscribers.
     * @param messageLength of each message, at least {@link Payload#LENGTH}; a longer one is joined by a
     * {@link FragmentAssembler} on the subscriber's side.
     * @param termLength of the log, or 0 for the broker's.
     */
    AeronPubSubRig(final int subscriberCount, final int messageLength, final int termLength)
    {
        this.messageLength = messageLength;
        message = new UnsafeBuffer(ByteBuffer.allocateDirect(messageLength));
        broker = Rigs.launchBroker();
        final String channel = "aeron:ipc?term-length=" + (0 == termLength ? broker.context().termLength() : termLength);
        publisherAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(broker.context().aeronDirectoryName())
            .useConductorAgentInvoker(true));
        invoker = publisherAeron.conductorAgentInvoker();
        subscriberAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(broker.context().aeronDirectoryName()));
        publication = publisherAeron.addExclusivePublication(channel, STREAM_ID);
        counters = new DeliveryCounter[subscriberCount];
        final IntSupplier[] polls = new IntSupplier[subscriberCount];
        for (int i = 0; i < subscriberCount; i++)
        {
            final DeliveryCounter counter = new DeliveryCounter();
            final Subscription subscription = subscriberAeron.addSubscription(channel, STREAM_ID);
            final FragmentHandler counting = (buffer, offset, length, header) -> counter.increment();
            final FragmentHandler handler = messageLength > Payload.LENGTH ? new FragmentAssembler(counting) : counting;
            counters[i] = counter;
            polls[i] = () -> subscription.poll(handler, FRAGMENT_LIMIT);
        }
        pollers = new SubscriberPollers("aeron-subscriber", polls);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (DeliveryCounter.min(counters) == 0)
        {
            publication.offer(message, 0, messageLength); // warm-up message; lost ones are re-offered

            invoker.invoke();
            Rigs.checkDeadline(deadlineNs, "every raw Aeron subscriber to connect");
        }
    }

    /** {@inheritDoc} */
    public void publish()
    {
        AeronRig.offer(publication, message, messageLength);
    }

    /** {@inheritDoc} */
    public long minDelivered()
    {
        return DeliveryCounter.min(counters);
    }

    /** {@inheritDoc} */
    public void idle()
    {
        invoker.invoke();
    }

    /** {@inheritDoc} */
    public void close()
    {
        pollers.close();
        CloseHelper.closeAll(publisherAeron, subscriberAeron);
        Rigs.closeBroker(broker);
    }
}
