package io.switchboard.bench;

import io.switchboard.broker.Broker;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

/**
 * Switchboard's Java path: a broker with its embedded driver in this process, a service client on its own thread
 * (yielding idle strategy, or busy-spinning in the busy-spin configuration {@link Rigs#SWITCHBOARD_SPIN}) and a
 * caller with no thread, polled by the benchmark thread (busy-spinning). Calls go
 * caller to service directly over Aeron IPC; the payload is an opaque 32-byte message.
 */
final class SwitchboardRig implements RequestRig
{
    static final String SERVICE = "bench";
    static final String ECHO = "Echo";
    static final String ITEMS = "Items";
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final Broker broker;
    private final Switchboard service;
    private final Switchboard caller;
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[Payload.LENGTH]);
    private final UnsafeBuffer item = new UnsafeBuffer(new byte[Payload.LENGTH]);
    private final Listener listener = new Listener();
    private final Streams streams = new Streams();
    private final boolean spin;
    private ReplyHandler handler;

    SwitchboardRig(final boolean spin)
    {
        this.spin = spin;
        broker = Rigs.launchBroker();
        Switchboard s = null;
        Switchboard c = null;
        try
        {
            s = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-service")
                .idleStrategy(Rigs.serviceIdle(spin)));
            c = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-caller")
                .useConductorAgentInvoker(true));
            s.serve(ServiceDefinition.named(SERVICE)
                .onOpaqueRequest(ECHO, (req, buffer, offset, length) -> req.reply(buffer, offset, length))
                .onOpaqueStream(ITEMS, this::serveItems));
            final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
            while (!c.hasService(SERVICE))
            {
                c.poll();
                Rigs.checkDeadline(deadlineNs, "the route to service " + SERVICE);
            }
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(c, s);
            Rigs.closeBroker(broker);
            throw ex;
        }
        service = s;
        caller = c;
    }

    /** {@inheritDoc} */
    public String name()
    {
        return spin ? Rigs.SWITCHBOARD_SPIN : Rigs.SWITCHBOARD;
    }

    /** {@inheritDoc} */
    public void send(final long stamp)
    {
        Payload.write(request, 0, stamp, Payload.ECHO, 0);
        caller.request(SERVICE, ECHO, request, 0, Payload.LENGTH, TIMEOUT_NS, listener);
    }

    /** {@inheritDoc} */
    public void send(final long stamp, final MutableDirectBuffer payload, final int length)
    {
        Payload.write(payload, 0, stamp, Payload.ECHO, 0);
        caller.request(SERVICE, ECHO, payload, 0, length, TIMEOUT_NS, listener);
    }

    /** {@inheritDoc} */
    public int poll(final ReplyHandler handler)
    {
        this.handler = handler;
        final int before = listener.replies;
        caller.poll();
        return listener.replies - before;
    }

    /** {@inheritDoc} */
    public long stream(final int items)
    {
        Payload.write(request, 0, System.nanoTime(), Payload.STREAM_REQUEST, items);
        streams.done = false;
        streams.frames = 0;
        caller.stream(SERVICE, ITEMS, request, 0, Payload.LENGTH, TIMEOUT_NS, streams);
        while (!streams.done)
        {
            caller.poll();
        }
        if (null != streams.errorCode)
        {
            throw new IllegalStateException("stream failed: " + streams.errorCode);
        }
        return streams.frames;
    }

    private void serveItems(final StreamSession session, final DirectBuffer buffer, final int offset, final int length)
    {
        final int count = Payload.count(buffer, offset);
        for (int i = 0; i < count; i++)
        {
            Payload.write(item, 0, 0, Payload.STREAM_ITEM, i);
            while (!session.send(item, 0, Payload.LENGTH))
            {
                if (session.isCancelled())
                {
                    return;
                }
            }
        }
        session.end();
    }

    /** {@inheritDoc} */
    public void close()
    {
        CloseHelper.closeAll(caller, service);
        Rigs.closeBroker(broker);
    }

    private final class Listener implements ResponseListener
    {
        int replies;
        int errors;

        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
            replies++;
            handler.onReply(Payload.stamp(buffer, offset));
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            errors++;
            replies++; // the call is over: a closed loop must not wait for it
        }
    }

    /** {@inheritDoc} */
    public long errors()
    {
        return listener.errors;
    }

    private static final class Streams implements StreamListener
    {
        boolean done;
        long frames;
        String errorCode;

        public void onFrame(
            final long correlationId, final long sequence, final DirectBuffer buffer, final int offset, final int length)
        {
            frames++;
        }

        public void onEnd(final long correlationId, final long frameCount)
        {
            done = true;
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            this.errorCode = errorCode;
            done = true;
        }
    }
}
