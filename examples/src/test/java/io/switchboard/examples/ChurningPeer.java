package io.switchboard.examples;

import io.switchboard.examples.codec.CountdownEncoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A Java peer that takes hold of everything it can — a service, a request in flight, an open stream, a subscription,
 * a publication — then waits to be killed.
 */
public final class ChurningPeer
{
    private ChurningPeer()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory and a unique name.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final String name = args[1];
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(Paths.get(args[0], "control.sock"))
            .clientName(name));
        client.serve(ServiceDefinition.named(name).onOpaqueRequest("Ping", (r, b, o, l) -> r.reply(b, o, l)));
        final CountDownLatch streaming = new CountDownLatch(1);
        final byte[] hold = "{}".getBytes(StandardCharsets.UTF_8);
        client.request("blackhole", "Hold", new UnsafeBuffer(hold), 0, hold.length, TimeUnit.MINUTES.toNanos(5),
            new ResponseListener()
            {
                public void onResponse(final long id, final DirectBuffer b, final int o, final int l)
                {
                }

                public void onError(final long id, final String code, final String message)
                {
                    System.out.println("churn: hold failed " + code + " " + message);
                }
            });
        final UnsafeBuffer countdown = new UnsafeBuffer(new byte[64]);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + new CountdownEncoder()
            .wrapAndApplyHeader(countdown, 0, new MessageHeaderEncoder()).from(100_000).interval_ms(20).encodedLength();
        client.stream("countdown", "Countdown", countdown, 0, length, TimeUnit.SECONDS.toNanos(30), new StreamListener()
        {
            public void onFrame(final long id, final long sequence, final DirectBuffer b, final int o, final int l)
            {
                streaming.countDown();
            }

            public void onEnd(final long id, final long frameCount)
            {
            }

            public void onError(final long id, final String code, final String message)
            {
                System.out.println("churn: stream failed " + code + " " + message);
            }
        });
        client.subscribe("churn.>", (push, b, o, l) -> { });
        client.publish("churn." + name, "Hello", -1, new UnsafeBuffer(hold), 0, hold.length);
        if (!streaming.await(30, TimeUnit.SECONDS))
        {
            System.out.println("churn: no stream frame");
        }
        System.out.println("churn ready " + name);
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
