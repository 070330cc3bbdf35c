package io.switchboard.examples;

import io.switchboard.transport.Switchboard;

import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A subscriber process: subscribes to a pattern and reports its first push, then just counts.
 */
public final class SubscriberProcess
{
    private SubscriberProcess()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory and a pattern.
     * @throws InterruptedException never in practice.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(Paths.get(args[0], "control.sock"))
            .clientName("subscriber-process"));
        final AtomicLong received = new AtomicLong();
        client.subscribe(args[1], (push, buffer, offset, length) ->
        {
            if (received.incrementAndGet() == 1)
            {
                System.out.println("subscriber: first push " + push.subject());
                System.out.flush();
            }
        });
        System.out.println("subscriber ready");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
