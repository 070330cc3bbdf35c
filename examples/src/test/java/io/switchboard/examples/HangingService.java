package io.switchboard.examples;

import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;

import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

/**
 * A service process whose {@code Hang} handler never returns: the caller's request stays in flight until this
 * process is killed.
 */
public final class HangingService
{
    private HangingService()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory.
     * @throws InterruptedException never in practice.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(Paths.get(args[0], "control.sock"))
            .clientName("hanging-service"));
        final CountDownLatch never = new CountDownLatch(1);
        client.serve(ServiceDefinition.named("hang").onOpaqueRequest("Hang", (request, buffer, offset, length) ->
        {
            System.out.println("hang: request " + request.correlationId() + " received");
            System.out.flush();
            try
            {
                never.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }));
        System.out.println("hang service ready");
        System.out.flush();
        never.await();
    }
}
