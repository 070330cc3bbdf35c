package io.switchboard.examples;

import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

/**
 * A service process that answers each opaque {@code Echo} request with its own bytes: a Java service a test can stop
 * (SIGSTOP) and resume (SIGCONT).
 */
public final class EchoServiceProcess
{
    private EchoServiceProcess()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory, the service's name.
     * @throws InterruptedException never in practice.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(Paths.get(args[0], "control.sock"))
            .clientName("echo-service")
            .idleStrategy(new YieldingIdleStrategy()));
        client.serve(ServiceDefinition.named(args[1])
            .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
        System.out.println("echo service ready");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
