package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.SubjectPublisher;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The software cost of each Java path, with no waiting in it: caller and service (or publisher and subscriber) are
 * clients with no thread of their own, driven in turn by one thread, so that every nanosecond of its CPU time is work
 * of the path (encoding, offers, duty cycles, decoding, dispatch), none of it spinning for another thread or a
 * cache line to arrive. Switchboard against raw Aeron IPC doing the same hops through the same media driver.
 * <p>
 * Why: on a 2-core machine shared with other work the wall-clock benchmarks swing by 10x; the CPU time of a
 * single-threaded loop barely moves with the load (only cache pollution reaches it), so A/B changes to the data
 * plane can be compared while others build. It is not a latency: a real round trip adds two cross-core hand-offs.
 * <p>
 * Usage: {@code PathCost [--seconds 2] [--repeats 5]}; prints, per path and system, the CPU nanoseconds per operation
 * of each repeat (round trip: one request and its reply; stream: one item of a 256-item stream; pubsub: one
 * message published and delivered to one subscriber), then the ratio of the medians.
 */
public final class PathCost
{
    private static final String SUBJECT = "bench.cost";
    /** Few enough that a stream fits the inbox's window: the service cannot wait for a caller on its own thread. */
    private static final int STREAM_ITEMS = 256;
    private static final int BATCH = 256;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    /** Operations between two reads of the thread's CPU time (a read costs about a microsecond). */
    private static final int CHUNK = 256;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private PathCost()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     */
    public static void main(final String[] args)
    {
        double seconds = 2;
        int repeats = 5;
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            switch (args[i])
            {
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] +
                    ": expected --seconds or --repeats");
            }
        }
        final long runNs = (long)(seconds * 1e9);
        final Broker broker = Rigs.launchBroker();
        try
        {
            System.out.println("# load average " + loadAverage());
            final SwitchboardPaths sb = new SwitchboardPaths(broker);
            final AeronPaths aeron = new AeronPaths(broker);
            try
            {
                final Runnable keepAlive = () ->
                {
                    sb.pollAll();
                    aeron.invokeAll();
                };
                report("roundtrip", sb::roundTrip, aeron::roundTrip, keepAlive, runNs, repeats);
                report("stream", sb::stream, aeron::stream, keepAlive, runNs, repeats);
                report("pubsub", sb::pubSub, aeron::pubSub, keepAlive, runNs, repeats);
                System.out.println("# errors (calls failed, e.g. an inbox back-pressured while the driver " +
                    "conductor did not run): " + sb.errors + ", streams cut short " + sb.streamsCut + ", last: " +
                    sb.lastError + "; load average " + loadAverage());
            }
            finally
            {
                CloseHelper.closeAll(aeron, sb);
            }
        }
        finally
        {
            Rigs.closeBroker(broker);
        }
    }

    /** One operation (or a batch of them): returns how many operations it did. */
    private interface Op
    {
        long run();
    }

    private static void report(
        final String path, final Op sb, final Op aeron, final Runnable keepAlive, final long runNs, final int repeats)
    {
        measure(sb, keepAlive, runNs); // warm-up, both
        measure(aeron, keepAlive, runNs);
        final double[] sbNs = new double[repeats];
        final double[] aeronNs = new double[repeats];
        for (int r = 0; r < repeats; r++) // alternated: both see the same minutes of the machine
        {
            sbNs[r] = measure(sb, keepAlive, runNs);
            aeronNs[r] = measure(aeron, keepAlive, runNs);
            System.out.printf("cost\t%s\t%d\tswitchboard\t%.1f\taeron\t%.1f\tns-cpu/op\tload %s%n",
                path, r, sbNs[r], aeronNs[r], loadAverage());
        }
        java.util.Arrays.sort(sbNs);
        java.util.Arrays.sort(aeronNs);
        System.out.printf("%-9s switchboard %.1f ns  aeron %.1f ns  (medians of CPU time per op)  ratio %.2fx  " +
            "switchboard min-max %.1f-%.1f, aeron %.1f-%.1f%n", path, sbNs[repeats / 2], aeronNs[repeats / 2],
            sbNs[repeats / 2] / aeronNs[repeats / 2], sbNs[0], sbNs[repeats - 1], aeronNs[0], aeronNs[repeats - 1]);
    }

    private static double measure(final Op op, final Runnable keepAlive, final long runNs)
    {
        final long endNs = System.nanoTime() + runNs;
        long cpuNs = 0;
        long ops = 0;
        while (System.nanoTime() - endNs < 0)
        {
            final long cpu0 = THREADS.getCurrentThreadCpuTime();
            for (int i = 0; i < CHUNK; i++)
            {
                ops += op.run();
            }
            cpuNs += THREADS.getCurrentThreadCpuTime() - cpu0;
            keepAlive.run(); // every client's duty cycle, not counted: a client not polled for 10 s is closed
        }
        return (double)cpuNs / ops;
    }

    private static String loadAverage()
    {
        try
        {
            final String[] fields = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        }
        catch (final java.io.IOException ex)
        {
            return "unknown (" + ex.getMessage() + ")";
        }
    }

    private static void checkDeadline(final long deadlineNs, final String what)
    {
        if (System.nanoTime() - deadlineNs > 0)
        {
            throw new IllegalStateException("timed out waiting for " + what);
        }
    }

    /** Caller, service, publisher and subscriber: Switchboard clients with no thread, polled here in turn. */
    private static final class SwitchboardPaths implements AutoCloseable, ResponseListener, StreamListener
    {
        private final Switchboard service;
        private final Switchboard caller;
        private final Switchboard publisherClient;
        private final Switchboard subscriber;
        private final SubjectPublisher publisher;
        private final UnsafeBuffer request = new UnsafeBuffer(ByteBuffer.allocateDirect(Payload.LENGTH));
        private final UnsafeBuffer item = new UnsafeBuffer(ByteBuffer.allocateDirect(Payload.LENGTH));
        private final UnsafeBuffer message = new UnsafeBuffer(ByteBuffer.allocateDirect(Payload.LENGTH));
        private long replies;
        private long frames;
        private boolean ended;
        private long delivered;
        private String error;
        long errors;
        long streamsCut;
        String lastError;

        SwitchboardPaths(final Broker broker)
        {
            final java.nio.file.Path socket = broker.context().controlSocket();
            service = Switchboard.connect(context(socket, "cost-service"));
            caller = Switchboard.connect(context(socket, "cost-caller"));
            publisherClient = Switchboard.connect(context(socket, "cost-publisher"));
            subscriber = Switchboard.connect(context(socket, "cost-subscriber"));
            service.serve(ServiceDefinition.named(SwitchboardRig.SERVICE)
                .onOpaqueRequest(SwitchboardRig.ECHO, (req, buffer, offset, length) -> req.reply(buffer, offset, length))
                .onOpaqueStream(SwitchboardRig.ITEMS, this::serveItems));
            subscriber.subscribe(SUBJECT, (push, buffer, offset, length) -> delivered++);
            publisher = publisherClient.publisher(SUBJECT, SwitchboardPubSubRig.TYPE,
                ServiceDefinition.OPAQUE_TEMPLATE_ID);
            final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
            while (!caller.hasService(SwitchboardRig.SERVICE) || 0 == delivered)
            {
                publisher.offer(message, 0, Payload.LENGTH); // until the subscriber reads one
                pollAll();
                checkDeadline(deadlineNs, "the Switchboard route and subscription");
            }
        }

        private static Switchboard.Context context(final java.nio.file.Path socket, final String name)
        {
            return new Switchboard.Context().controlSocket(socket).clientName(name).useConductorAgentInvoker(true);
        }

        void pollAll()
        {
            service.poll();
            caller.poll();
            publisherClient.poll();
            subscriber.poll();
        }

        long roundTrip()
        {
            final long before = replies;
            caller.request(SwitchboardRig.SERVICE, SwitchboardRig.ECHO, request, 0, Payload.LENGTH, TIMEOUT_NS, this);
            while (replies == before)
            {
                service.poll();
                caller.poll();
            }
            return 1;
        }

        long stream()
        {
            Payload.write(request, 0, 0, Payload.STREAM_REQUEST, STREAM_ITEMS);
            ended = false;
            frames = 0;
            error = null;
            caller.stream(SwitchboardRig.SERVICE, SwitchboardRig.ITEMS, request, 0, Payload.LENGTH, TIMEOUT_NS, this);
            while (!ended)
            {
                service.poll();
                caller.poll();
            }
            if (null != error || STREAM_ITEMS != frames)
            {
                // counted, and printed at the end: the service cannot wait for a caller on its own thread, so a
                // stream whose inbox the driver has not opened far enough yet ends short with TARGET_BUSY
                streamsCut++;
                lastError = error;
            }
            return frames;
        }

        long pubSub()
        {
            final long target = delivered + BATCH;
            for (int i = 0; i < BATCH; i++)
            {
                while (publisher.offer(message, 0, Payload.LENGTH) < 0)
                {
                    subscriber.poll(); // its log is full: read it
                }
            }
            publisherClient.poll(); // the publisher's housekeeping, once a batch (as the JMH rig's idle does)
            while (delivered < target)
            {
                subscriber.poll();
            }
            return BATCH;
        }

        private void serveItems(final StreamSession session, final DirectBuffer buffer, final int offset,
            final int length)
        {
            final int count = Payload.count(buffer, offset);
            for (int i = 0; i < count; i++)
            {
                Payload.write(item, 0, 0, Payload.STREAM_ITEM, i);
                if (!session.send(item, 0, Payload.LENGTH))
                {
                    return; // the caller is not reading: it is this thread, so the stream ends short and fails
                }
            }
            session.end();
        }

        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
            replies++;
        }

        public void onFrame(final long correlationId, final long sequence, final DirectBuffer buffer, final int offset,
            final int length)
        {
            frames++;
        }

        public void onEnd(final long correlationId, final long frameCount)
        {
            ended = true;
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            error = errorCode + ": " + message;
            lastError = error;
            errors++;
            replies++;
            ended = true;
        }

        public void close()
        {
            CloseHelper.closeAll(subscriber, publisherClient, caller, service);
        }
    }

    /**
     * The same hops on raw Aeron: a ping log and a pong log between two clients (the caller's conductor invoked
     * each poll, as in {@link AeronRig}), and one publication with one subscription.
     */
    private static final class AeronPaths implements AutoCloseable
    {
        private final Aeron callerAeron;
        private final Aeron serviceAeron;
        private final AgentInvoker callerInvoker;
        private final AgentInvoker serviceInvoker;
        private final ExclusivePublication ping;
        private final Subscription pingSubscription;
        private final ExclusivePublication pong;
        private final Subscription pongSubscription;
        private final ExclusivePublication publication;
        private final Subscription subscription;
        private final UnsafeBuffer request = new UnsafeBuffer(ByteBuffer.allocateDirect(Payload.LENGTH));
        private final UnsafeBuffer item = new UnsafeBuffer(ByteBuffer.allocateDirect(Payload.LENGTH));
        private final FragmentHandler serviceHandler = this::onRequest;
        private final FragmentHandler callerHandler = this::onReply;
        private final FragmentHandler subscriberHandler = (buffer, offset, length, header) -> this.delivered++;
        private long replies;
        private long frames;
        private boolean ended;
        private long delivered;

        AeronPaths(final Broker broker)
        {
            final String channel = "aeron:ipc?term-length=" + broker.context().termLength();
            callerAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(broker.context().aeronDirectoryName())
                .useConductorAgentInvoker(true));
            serviceAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(broker.context().aeronDirectoryName())
                .useConductorAgentInvoker(true));
            callerInvoker = callerAeron.conductorAgentInvoker();
            serviceInvoker = serviceAeron.conductorAgentInvoker();
            ping = callerAeron.addExclusivePublication(channel, 9101);
            pongSubscription = callerAeron.addSubscription(channel, 9102);
            pong = serviceAeron.addExclusivePublication(channel, 9102);
            pingSubscription = serviceAeron.addSubscription(channel, 9101);
            publication = callerAeron.addExclusivePublication(channel, 9103);
            subscription = serviceAeron.addSubscription(channel, 9103);
            final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
            while (!ping.isConnected() || !pong.isConnected() || !publication.isConnected())
            {
                callerInvoker.invoke();
                serviceInvoker.invoke();
                checkDeadline(deadlineNs, "the raw Aeron logs to connect");
            }
        }

        void invokeAll()
        {
            callerInvoker.invoke();
            serviceInvoker.invoke();
        }

        long roundTrip()
        {
            final long before = replies;
            Payload.write(request, 0, 0, Payload.ECHO, 0);
            AeronRig.offer(ping, request);
            while (replies == before)
            {
                serviceInvoker.invoke();
                pingSubscription.poll(serviceHandler, 16);
                callerInvoker.invoke();
                pongSubscription.poll(callerHandler, 16);
            }
            return 1;
        }

        long stream()
        {
            Payload.write(request, 0, 0, Payload.STREAM_REQUEST, STREAM_ITEMS);
            ended = false;
            frames = 0;
            AeronRig.offer(ping, request);
            while (!ended)
            {
                serviceInvoker.invoke();
                pingSubscription.poll(serviceHandler, 16);
                callerInvoker.invoke();
                pongSubscription.poll(callerHandler, Integer.MAX_VALUE);
            }
            if (STREAM_ITEMS != frames)
            {
                throw new IllegalStateException("stream: expected " + STREAM_ITEMS + " items, actual=" + frames);
            }
            return frames;
        }

        long pubSub()
        {
            final long target = delivered + BATCH;
            for (int i = 0; i < BATCH; i++)
            {
                while (publication.offer(request, 0, Payload.LENGTH) < 0)
                {
                    subscription.poll(subscriberHandler, 16);
                }
            }
            callerInvoker.invoke(); // the publisher's housekeeping, once a batch (as the JMH rig's idle does)
            while (delivered < target)
            {
                subscription.poll(subscriberHandler, 16);
            }
            return BATCH;
        }

        private void onRequest(final DirectBuffer buffer, final int offset, final int length,
            final io.aeron.logbuffer.Header header)
        {
            if (Payload.STREAM_REQUEST == Payload.kind(buffer, offset))
            {
                final int count = Payload.count(buffer, offset);
                for (int i = 0; i < count; i++)
                {
                    Payload.write(item, 0, 0, Payload.STREAM_ITEM, i);
                    AeronRig.offer(pong, item);
                }
                Payload.write(item, 0, 0, Payload.STREAM_END, count);
                AeronRig.offer(pong, item);
            }
            else
            {
                final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
                while (pong.offer(buffer, offset, length) < 0)
                {
                    checkDeadline(deadlineNs, "the pong log to take the echo");
                }
            }
        }

        private void onReply(final DirectBuffer buffer, final int offset, final int length,
            final io.aeron.logbuffer.Header header)
        {
            switch (Payload.kind(buffer, offset))
            {
                case Payload.ECHO -> replies++;
                case Payload.STREAM_ITEM -> frames++;
                case Payload.STREAM_END -> ended = true;
                default ->
                {
                }
            }
        }

        public void close()
        {
            CloseHelper.closeAll(serviceAeron, callerAeron);
        }
    }
}
