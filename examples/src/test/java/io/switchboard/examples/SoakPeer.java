package io.switchboard.examples;

import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.CountdownEncoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Java peer under load for the soak: serves the shared {@code soak_echo}, calls the calculator and the countdown
 * stream over shared memory with a bounded number in flight, publishes {@code soak.tick} every millisecond, and
 * prints its accounting on SIGTERM: every call it made ended exactly once.
 */
public final class SoakPeer
{
    private SoakPeer()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory and a name.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(Paths.get(args[0], "control.sock")).clientName(args[1]));
        client.serve(ServiceDefinition.named("soak_echo").shared()
            .onOpaqueRequest("Echo", (r, b, o, l) -> r.reply(b, o, l)));

        final AtomicLong sent = new AtomicLong();
        final AtomicLong ended = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong inFlight = new AtomicLong();
        final ResponseListener calls = new ResponseListener()
        {
            public void onResponse(final long id, final DirectBuffer b, final int o, final int l)
            {
                ended.incrementAndGet();
                inFlight.decrementAndGet();
            }

            public void onError(final long id, final String code, final String message)
            {
                ended.incrementAndGet();
                failed.incrementAndGet();
                inFlight.decrementAndGet();
            }
        };
        final StreamListener streams = new StreamListener()
        {
            public void onFrame(final long id, final long seq, final DirectBuffer b, final int o, final int l)
            {
            }

            public void onEnd(final long id, final long frames)
            {
                calls.onResponse(id, null, 0, 0);
            }

            public void onError(final long id, final String code, final String message)
            {
                calls.onError(id, code, message);
            }
        };

        // the test says "stop" on stdin: stop sending, let what is in flight end, then account for it
        final CountDownLatch stop = new CountDownLatch(1);
        final Thread stdin = new Thread(() ->
        {
            try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)))
            {
                String line;
                while (null != (line = in.readLine()) && !"stop".equals(line.trim()))
                {
                    // ignore anything else
                }
            }
            catch (final java.io.IOException ignore)
            {
                // stdin closed: stop as well
            }
            stop.countDown();
        }, "soak-peer-stdin");
        stdin.setDaemon(true);
        stdin.start();

        final UnsafeBuffer add = new UnsafeBuffer(new byte[64]);
        final int addLength = MessageHeaderEncoder.ENCODED_LENGTH +
            new AddEncoder().wrapAndApplyHeader(add, 0, new MessageHeaderEncoder()).a(1).b(2).encodedLength();
        final UnsafeBuffer countdown = new UnsafeBuffer(new byte[64]);
        final int countdownLength = MessageHeaderEncoder.ENCODED_LENGTH + new CountdownEncoder()
            .wrapAndApplyHeader(countdown, 0, new MessageHeaderEncoder()).from(3).interval_ms(0).encodedLength();
        final UnsafeBuffer tick = new UnsafeBuffer(new byte[64]);
        System.out.println("soak peer ready " + args[1]);
        System.out.flush();
        long n = 0;
        long nextPublishNs = System.nanoTime();
        while (stop.getCount() > 0)
        {
            if (inFlight.get() < 8)
            {
                inFlight.incrementAndGet();
                sent.incrementAndGet();
                if (++n % 10 == 0)
                {
                    client.stream("countdown", "Countdown", countdown, 0, countdownLength,
                        TimeUnit.SECONDS.toNanos(10), streams);
                }
                else
                {
                    client.request("calculator", "Add", add, 0, addLength, TimeUnit.SECONDS.toNanos(10), calls);
                }
            }
            else
            {
                Thread.yield();
            }
            if (System.nanoTime() - nextPublishNs >= 0)
            {
                nextPublishNs += TimeUnit.MILLISECONDS.toNanos(1);
                final int length = tick.putStringWithoutLengthAscii(0, "{\"n\":" + n + "}");
                client.publish("soak.tick", "soak.tick", -1, tick, 0, length);
            }
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (inFlight.get() > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.yield();
        }
        System.out.println("soak peer " + args[1] + ": sent=" + sent + " ended=" + ended + " failed=" + failed +
            " in_flight=" + inFlight);
        System.out.flush();
        client.close();
    }
}
