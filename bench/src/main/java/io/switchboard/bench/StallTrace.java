package io.switchboard.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.switchboard.broker.Broker;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A per-call trace of Switchboard's Java request-response (issue 12's p99 stall): a closed loop like
 * {@link LatencyHarness}'s, whose service stamps each request as it receives it and just before it replies, so every
 * call splits into three hops: request (caller send to service handler), service (handler to reply) and reply (reply
 * to caller receive). For the slow calls only (round trip above {@code --slow-us}) each hop goes into its own
 * histogram, and each slow call's time of occurrence is kept to show whether they are periodic. The service's idle
 * strategy and the caller's {@code poll} are timed too: a long {@code Thread.yield} means another thread took the
 * service's core; a long duty cycle means the service's own work (or a preemption inside it).
 * <p>
 * Usage: {@code StallTrace [--seconds 5] [--warmup 2] [--slow-us 10] [--spin] [--aeron] [--pad-ns 0]}: {@code --aeron}
 * traces the raw Aeron IPC ping-pong instead (the same stamps, the same timed idle strategy on its pong thread);
 * {@code --pad-ns} makes the caller spin that long between a reply and its next call, outside the measured round trip,
 * which slows the call rate without changing a single call: if the slow calls come from something outside the calls
 * (another thread taking the service's core every so often), the same number of stalls per second becomes a larger
 * share of the calls, and the p99 rises. Prints a report; measures nothing that the benchmark tables use.
 */
public final class StallTrace
{
    private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(10);
    private static final int MAX_EVENTS = 1 << 20;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private StallTrace()
    {
    }

    /**
     * Entry point.
     *
     * @param args as in the class javadoc.
     * @throws Exception if the rig fails.
     */
    public static void main(final String[] args) throws Exception
    {
        double seconds = 5;
        double warmup = 2;
        long slowNs = 10_000;
        boolean spin = false;
        boolean aeron = false;
        long padNs = 0;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--seconds": seconds = Double.parseDouble(args[++i]); break;
                case "--warmup": warmup = Double.parseDouble(args[++i]); break;
                case "--slow-us": slowNs = (long)(Double.parseDouble(args[++i]) * 1000); break;
                case "--spin": spin = true; break;
                case "--aeron": aeron = true; break;
                case "--pad-ns": padNs = Long.parseLong(args[++i]); break;
                default:
                    System.err.println("usage: StallTrace [--seconds 5] [--warmup 2] [--slow-us 10] [--spin] [--aeron] [--pad-ns 0]");
                    System.exit(2);
            }
        }

        final TimedIdle serviceIdle = new TimedIdle(spin ? new BusySpinIdleStrategy() : new YieldingIdleStrategy());
        final Broker broker = Rigs.launchBroker();
        final AutoCloseable[] closeables = new AutoCloseable[4];
        try
        {
            final Target target = aeron ? aeronTarget(broker, serviceIdle, closeables) :
                switchboardTarget(broker, serviceIdle, closeables);
            final Loop loop = new Loop(target, slowNs, padNs);
            loop.run((long)(warmup * 1e9));
            loop.reset();
            serviceIdle.requestReset();
            final long startNs = System.nanoTime();
            loop.run((long)(seconds * 1e9));
            final long endNs = System.nanoTime();
            System.out.println(aeron ? "raw Aeron IPC ping-pong" : "Switchboard request-response");
            loop.report(startNs, endNs);
            serviceIdle.report(startNs, endNs);
        }
        finally
        {
            CloseHelper.quietCloseAll(closeables);
            Rigs.closeBroker(broker);
        }
    }

    /** What the closed loop drives: send a request, poll for the answer. */
    private interface Target
    {
        void send(UnsafeBuffer request, ResponseListener listener);

        void poll();
    }

    private static Target switchboardTarget(
        final Broker broker, final IdleStrategy serviceIdle, final AutoCloseable[] closeables)
    {
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[Payload.LENGTH]);
        final Switchboard service = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket()).clientName("trace-service").idleStrategy(serviceIdle));
        closeables[1] = service;
        service.serve(ServiceDefinition.named(SwitchboardRig.SERVICE)
            .onOpaqueRequest(SwitchboardRig.ECHO, (req, buffer, offset, length) ->
            {
                final long receivedNs = System.nanoTime();
                reply.putBytes(0, buffer, offset, 16);
                reply.putLong(16, receivedNs);
                reply.putLong(24, System.nanoTime());
                req.reply(reply, 0, Payload.LENGTH);
            }));
        final Switchboard caller = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket()).clientName("trace-caller")
            .useConductorAgentInvoker(true));
        closeables[0] = caller;
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (!caller.hasService(SwitchboardRig.SERVICE))
        {
            caller.poll();
            Rigs.checkDeadline(deadlineNs, "the route to the service");
        }
        return new Target()
        {
            public void send(final UnsafeBuffer request, final ResponseListener listener)
            {
                caller.request(SwitchboardRig.SERVICE, SwitchboardRig.ECHO, request, 0, Payload.LENGTH, TIMEOUT_NS,
                    listener);
            }

            public void poll()
            {
                caller.poll();
            }
        };
    }

    private static Target aeronTarget(final Broker broker, final IdleStrategy pongIdle, final AutoCloseable[] closeables)
    {
        final String channel = "aeron:ipc?term-length=" + broker.context().termLength();
        final Aeron pingAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(
            broker.context().aeronDirectoryName()).useConductorAgentInvoker(true));
        closeables[0] = pingAeron;
        final Aeron pongAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(
            broker.context().aeronDirectoryName()));
        closeables[1] = pongAeron;
        final ExclusivePublication ping = pingAeron.addExclusivePublication(channel, AeronRig.PING_STREAM_ID);
        final Subscription pongs = pingAeron.addSubscription(channel, AeronRig.PONG_STREAM_ID);
        final ExclusivePublication pong = pongAeron.addExclusivePublication(channel, AeronRig.PONG_STREAM_ID);
        final Subscription pings = pongAeron.addSubscription(channel, AeronRig.PING_STREAM_ID);
        final AgentInvoker invoker = pingAeron.conductorAgentInvoker();
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (!ping.isConnected() || !pongs.isConnected() || !pong.isConnected())
        {
            invoker.invoke();
            Rigs.checkDeadline(deadlineNs, "the raw Aeron ping-pong to connect");
        }
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[Payload.LENGTH]);
        final FragmentHandler pongHandler = (buffer, offset, length, header) ->
        {
            final long receivedNs = System.nanoTime();
            reply.putBytes(0, buffer, offset, 16);
            reply.putLong(16, receivedNs);
            reply.putLong(24, System.nanoTime());
            AeronRig.offer(pong, reply);
        };
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread pongThread = new Thread(() ->
        {
            while (running.get())
            {
                pongIdle.idle(pings.poll(pongHandler, 16));
            }
        }, "trace-pong");
        pongThread.setDaemon(true);
        pongThread.start();
        closeables[2] = () ->
        {
            running.set(false);
            pongThread.join(5000);
        };
        final ResponseListener[] listener = new ResponseListener[1];
        final FragmentHandler replyHandler = (buffer, offset, length, header) ->
            listener[0].onResponse(0, buffer, offset, length);
        return new Target()
        {
            public void send(final UnsafeBuffer request, final ResponseListener l)
            {
                listener[0] = l;
                AeronRig.offer(ping, request);
            }

            public void poll()
            {
                invoker.invoke();
                pongs.poll(replyHandler, 16);
            }
        };
    }

    private static void printHistogram(final String name, final Histogram h)
    {
        System.out.printf("  %-34s n=%-8d p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f us%n", name, h.getTotalCount(),
            h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
            h.getMaxValue() / 1e3);
    }

    private static void printIntervals(final String name, final long[] times, final int count)
    {
        if (count < 2)
        {
            System.out.println("  " + name + ": fewer than two events");
            return;
        }
        final Histogram gaps = new Histogram(HIGHEST_NS, 3);
        for (int i = 1; i < count; i++)
        {
            gaps.recordValue(Math.min(HIGHEST_NS, times[i] - times[i - 1]));
        }
        printHistogram(name + " interval", gaps);
        final StringBuilder first = new StringBuilder("  first intervals (us):");
        for (int i = 1; i < Math.min(count, 25); i++)
        {
            first.append(' ').append((times[i] - times[i - 1]) / 1000);
        }
        System.out.println(first);
    }

    private static final class Loop implements ResponseListener
    {
        private final Target caller;
        private final long slowNs;
        private final long padNs;
        private final UnsafeBuffer request = new UnsafeBuffer(new byte[Payload.LENGTH]);
        private final Histogram all = new Histogram(HIGHEST_NS, 3);
        private final Histogram slowRequestHop = new Histogram(HIGHEST_NS, 3);
        private final Histogram slowServiceHop = new Histogram(HIGHEST_NS, 3);
        private final Histogram slowReplyHop = new Histogram(HIGHEST_NS, 3);
        private final Histogram slowPollMax = new Histogram(HIGHEST_NS, 3);
        private final Histogram sendTime = new Histogram(HIGHEST_NS, 3);
        private final Histogram pollTime = new Histogram(HIGHEST_NS, 3);
        private final long[] slowAt = new long[MAX_EVENTS];
        private final int[] slowWhere = new int[MAX_EVENTS];
        private int slowCount;
        private long sentNs;
        private long maxPollNs;
        private boolean answered;

        Loop(final Target caller, final long slowNs, final long padNs)
        {
            this.padNs = padNs;
            this.caller = caller;
            this.slowNs = slowNs;
        }

        void reset()
        {
            all.reset();
            slowRequestHop.reset();
            slowServiceHop.reset();
            slowReplyHop.reset();
            slowPollMax.reset();
            sendTime.reset();
            pollTime.reset();
            slowCount = 0;
        }

        void run(final long durationNs)
        {
            final long endNs = System.nanoTime() + durationNs;
            while (System.nanoTime() - endNs < 0)
            {
                answered = false;
                maxPollNs = 0;
                sentNs = System.nanoTime();
                Payload.write(request, 0, sentNs, Payload.ECHO, 0);
                caller.send(request, this);
                final long afterSendNs = System.nanoTime();
                sendTime.recordValue(afterSendNs - sentNs);
                long pollStartNs = afterSendNs;
                while (!answered)
                {
                    caller.poll();
                    final long nowNs = System.nanoTime();
                    pollTime.recordValue(Math.min(HIGHEST_NS, nowNs - pollStartNs));
                    if (nowNs - pollStartNs > maxPollNs)
                    {
                        maxPollNs = nowNs - pollStartNs;
                    }
                    pollStartNs = nowNs;
                }
                if (padNs > 0)
                {
                    final long padEndNs = System.nanoTime() + padNs;
                    while (System.nanoTime() - padEndNs < 0)
                    {
                        Thread.onSpinWait();
                    }
                }
            }
        }

        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
            final long nowNs = System.nanoTime();
            answered = true;
            final long total = nowNs - sentNs;
            all.recordValue(Math.min(HIGHEST_NS, total));
            if (total >= slowNs)
            {
                final long receivedNs = buffer.getLong(offset + 16);
                final long repliedNs = buffer.getLong(offset + 24);
                final long requestHop = receivedNs - sentNs;
                final long serviceHop = repliedNs - receivedNs;
                final long replyHop = nowNs - repliedNs;
                slowRequestHop.recordValue(Math.max(0, requestHop));
                slowServiceHop.recordValue(Math.max(0, serviceHop));
                slowReplyHop.recordValue(Math.max(0, replyHop));
                slowPollMax.recordValue(maxPollNs);
                if (slowCount < MAX_EVENTS)
                {
                    slowAt[slowCount] = sentNs;
                    slowWhere[slowCount] = requestHop >= replyHop ? 0 : 1;
                    slowCount++;
                }
            }
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            throw new IllegalStateException(errorCode + ": " + message);
        }

        void report(final long startNs, final long endNs)
        {
            System.out.printf("calls %d (%.0f/s) in %.1f s; slow (>= %.1f us) %d = %.3f %%%n", all.getTotalCount(),
                all.getTotalCount() / ((endNs - startNs) / 1e9), (endNs - startNs) / 1e9, slowNs / 1e3, slowCount, 100.0 * slowCount / all.getTotalCount());
            printHistogram("round trip, all calls", all);
            printHistogram("caller's send (request()), all", sendTime);
            printHistogram("caller's poll(), all", pollTime);
            System.out.printf("  caller's polls > 10 us: %d%n", pollTime.getCountBetweenValues(10_000, HIGHEST_NS));
            printHistogram("slow: request hop", slowRequestHop);
            printHistogram("slow: service handler", slowServiceHop);
            printHistogram("slow: reply hop", slowReplyHop);
            printHistogram("slow: caller's longest poll()", slowPollMax);
            int requestSide = 0;
            for (int i = 0; i < slowCount; i++)
            {
                requestSide += slowWhere[i] == 0 ? 1 : 0;
            }
            System.out.printf("  slow calls whose request hop was the longer: %d of %d%n", requestSide, slowCount);
            printIntervals("slow calls", slowAt, slowCount);
            final long[] phase = new long[10];
            for (int i = 0; i < slowCount; i++)
            {
                phase[(int)(((slowAt[i] - startNs) / 100_000) % 10)]++;
            }
            System.out.println("  slow calls by (time since start mod 1 ms) in 100 us bins: " + Arrays.toString(phase));
        }
    }

    /**
     * The service's idle strategy, timed: how long each {@code idle} call takes (a yield that lasts means another
     * thread ran on this core) and how long the duty cycle between two idle calls takes.
     */
    private static final class TimedIdle implements IdleStrategy
    {
        private final IdleStrategy delegate;
        private final Histogram idle = new Histogram(HIGHEST_NS, 3);
        private final Histogram work = new Histogram(HIGHEST_NS, 3);
        private final long[] longIdleAt = new long[MAX_EVENTS];
        private final long[] longWorkAt = new long[MAX_EVENTS];
        private int longIdles;
        private int longWorks;
        private long lastReturnNs;
        private volatile boolean resetRequested;

        TimedIdle(final IdleStrategy delegate)
        {
            this.delegate = delegate;
        }

        void requestReset()
        {
            resetRequested = true;
        }

        public void idle(final int workCount)
        {
            final long startNs = System.nanoTime();
            if (resetRequested)
            {
                resetRequested = false;
                idle.reset();
                work.reset();
                longIdles = 0;
                longWorks = 0;
                lastReturnNs = 0;
            }
            if (0 != lastReturnNs)
            {
                final long w = startNs - lastReturnNs;
                work.recordValue(Math.min(HIGHEST_NS, w));
                if (w > 10_000 && longWorks < MAX_EVENTS)
                {
                    longWorkAt[longWorks++] = lastReturnNs;
                }
            }
            delegate.idle(workCount);
            final long endNs = System.nanoTime();
            idle.recordValue(Math.min(HIGHEST_NS, endNs - startNs));
            if (endNs - startNs > 10_000 && longIdles < MAX_EVENTS)
            {
                longIdleAt[longIdles++] = startNs;
            }
            lastReturnNs = endNs;
        }

        public void idle()
        {
            delegate.idle();
        }

        public void reset()
        {
            delegate.reset();
        }

        public String alias()
        {
            return "timed-" + delegate.alias();
        }

        void report(final long startNs, final long endNs)
        {
            System.out.println("service thread (read after the run, racy but indicative):");
            printHistogram("service idle() call", idle);
            printHistogram("service duty cycle between idles", work);
            System.out.printf("  idle() > 10 us: %d; duty cycle > 10 us: %d%n", longIdles, longWorks);
            printIntervals("long idle()", longIdleAt, longIdles);
            printIntervals("long duty cycle", longWorkAt, longWorks);
        }
    }
}
