package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.switchboard.broker.Broker;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.TimeUnit;

/**
 * The floor: raw Aeron IPC ping-pong with the same payload, through the same embedded media driver (the broker's,
 * backoff idle strategy), with two exclusive publications and two subscriptions. The ping side is polled by the
 * benchmark thread (busy-spinning, Aeron client conductor invoked from it); the pong side runs on its own thread
 * with a yielding idle strategy, like Switchboard's service, or busy-spinning in the busy-spin configuration
 * ({@link Rigs#AERON_SPIN}).
 */
final class AeronRig implements RequestRig
{
    static final int PING_STREAM_ID = 9001;
    static final int PONG_STREAM_ID = 9002;
    private static final int FRAGMENT_LIMIT = 16;

    private final Broker broker;
    private final Aeron pingAeron;
    private final Aeron pongAeron;
    private final AgentInvoker pingInvoker;
    private final ExclusivePublication pingPublication;
    private final Subscription pongSubscription;
    private final Ponger ponger;
    private final Thread pongThread;
    private final boolean spin;
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[Payload.LENGTH]);
    private final FragmentHandler replyHandler;
    private ReplyHandler handler;
    private boolean streamDone;
    private long streamed;

    AeronRig(final boolean spin)
    {
        this(0, false, spin);
    }

    /**
     * @param termLength of both logs, or 0 for the broker's.
     * @param assemble true to join messages longer than one frame (the MTU) on both sides, for large payloads.
     * @param spin true to busy-spin the pong thread (the limit configuration), false to yield.
     */
    AeronRig(final int termLength, final boolean assemble, final boolean spin)
    {
        this.spin = spin;
        broker = Rigs.launchBroker();
        replyHandler = assemble ? new FragmentAssembler(this::onReply) : this::onReply;
        final String channel = "aeron:ipc?term-length=" + (0 == termLength ? broker.context().termLength() : termLength);
        pingAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(broker.context().aeronDirectoryName())
            .useConductorAgentInvoker(true));
        pingInvoker = pingAeron.conductorAgentInvoker();
        pongAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(broker.context().aeronDirectoryName()));
        pingPublication = pingAeron.addExclusivePublication(channel, PING_STREAM_ID);
        pongSubscription = pingAeron.addSubscription(channel, PONG_STREAM_ID);
        ponger = new Ponger(pongAeron.addExclusivePublication(channel, PONG_STREAM_ID),
            pongAeron.addSubscription(channel, PING_STREAM_ID), assemble, Rigs.serviceIdle(spin));
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!pingPublication.isConnected() || !pongSubscription.isConnected())
        {
            pingInvoker.invoke();
            Rigs.checkDeadline(deadlineNs, "the raw Aeron ping-pong to connect");
        }
        pongThread = new Thread(ponger, "aeron-pong");
        pongThread.setDaemon(true);
        pongThread.start();
    }

    /** {@inheritDoc} */
    public String name()
    {
        return spin ? Rigs.AERON_SPIN : Rigs.AERON;
    }

    /** {@inheritDoc} */
    public void send(final long stamp)
    {
        Payload.write(request, 0, stamp, Payload.ECHO, 0);
        offer(pingPublication, request);
    }

    /** {@inheritDoc} */
    public void send(final long stamp, final MutableDirectBuffer payload, final int length)
    {
        Payload.write(payload, 0, stamp, Payload.ECHO, 0);
        offer(pingPublication, payload, length);
    }

    /** {@inheritDoc} */
    public int poll(final ReplyHandler handler)
    {
        this.handler = handler;
        pingInvoker.invoke();
        return pongSubscription.poll(replyHandler, FRAGMENT_LIMIT);
    }

    /** {@inheritDoc} */
    public long stream(final int items)
    {
        Payload.write(request, 0, System.nanoTime(), Payload.STREAM_REQUEST, items);
        streamDone = false;
        streamed = 0;
        offer(pingPublication, request);
        while (!streamDone)
        {
            pingInvoker.invoke();
            pongSubscription.poll(replyHandler, Integer.MAX_VALUE);
        }
        return streamed;
    }

    private void onReply(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        switch (Payload.kind(buffer, offset))
        {
            case Payload.ECHO:
                handler.onReply(Payload.stamp(buffer, offset));
                break;
            case Payload.STREAM_ITEM:
                streamed++;
                break;
            case Payload.STREAM_END:
                streamDone = true;
                break;
            default:
                break;
        }
    }

    /** {@inheritDoc} */
    public void close()
    {
        ponger.running = false;
        try
        {
            pongThread.join(TimeUnit.SECONDS.toMillis(5));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        CloseHelper.closeAll(pingAeron, pongAeron);
        Rigs.closeBroker(broker);
    }

    /**
     * Offer until the message is in the log: back pressure and admin actions are retried, for at most 10 s.
     *
     * @param publication to offer on.
     * @param buffer holding a {@link Payload}.
     */
    static void offer(final Publication publication, final DirectBuffer buffer)
    {
        offer(publication, buffer, Payload.LENGTH);
    }

    /**
     * Offer until the message is in the log, as {@link #offer(Publication, DirectBuffer)}.
     *
     * @param publication to offer on.
     * @param buffer holding the message from offset 0.
     * @param length of the message.
     */
    static void offer(final Publication publication, final DirectBuffer buffer, final int length)
    {
        long result;
        long deadlineNs = 0;
        while ((result = publication.offer(buffer, 0, length)) < 0)
        {
            if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                throw new IllegalStateException("offer failed: " + Publication.errorString(result));
            }
            if (0 == deadlineNs)
            {
                deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            }
            Rigs.checkOfferDeadline(deadlineNs, result);
            Thread.onSpinWait();
        }
    }

    private static final class Ponger implements Runnable, FragmentHandler
    {
        private final ExclusivePublication publication;
        private final Subscription subscription;
        private final UnsafeBuffer item = new UnsafeBuffer(new byte[Payload.LENGTH]);
        private final UnsafeBuffer echo = new UnsafeBuffer(0, 0);
        private final FragmentHandler handler;
        private final IdleStrategy idle;
        volatile boolean running = true;

        Ponger(
            final ExclusivePublication publication,
            final Subscription subscription,
            final boolean assemble,
            final IdleStrategy idle)
        {
            this.publication = publication;
            this.subscription = subscription;
            this.handler = assemble ? new FragmentAssembler(this) : this;
            this.idle = idle;
        }

        public void run()
        {
            while (running)
            {
                idle.idle(subscription.poll(handler, FRAGMENT_LIMIT));
            }
        }

        public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
        {
            if (Payload.STREAM_REQUEST == Payload.kind(buffer, offset))
            {
                final int count = Payload.count(buffer, offset);
                for (int i = 0; i < count; i++)
                {
                    Payload.write(item, 0, 0, Payload.STREAM_ITEM, i);
                    offer(publication, item);
                }
                Payload.write(item, 0, 0, Payload.STREAM_END, count);
                offer(publication, item);
            }
            else
            {
                echo.wrap(buffer, offset, length);
                offer(publication, echo, length);
            }
        }
    }
}
