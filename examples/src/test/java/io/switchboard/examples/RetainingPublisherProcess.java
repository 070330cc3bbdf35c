package io.switchboard.examples;

import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

/**
 * A publisher process that publishes one retained value and then waits to be killed: from a {@link Switchboard}
 * peer ({@code java}) or from a socket client ({@code socket}).
 */
public final class RetainingPublisherProcess
{
    private RetainingPublisherProcess()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory, {@code java} or {@code socket}, the subject and the JSON payload.
     * @throws Exception if the value could not be retained.
     */
    public static void main(final String[] args) throws Exception
    {
        final String subject = args[2];
        final String json = args[3];
        if ("java".equals(args[1]))
        {
            final Switchboard client = Switchboard.connect(new Switchboard.Context()
                .controlSocket(Paths.get(args[0], "control.sock"))
                .clientName("retaining-publisher"));
            final byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            client.publish(subject, subject, -1, new UnsafeBuffer(bytes), 0, bytes.length, true);
        }
        else
        {
            final RawSocketClient client = new RawSocketClient(Paths.get(args[0], "broker.sock"));
            client.send(RawSocketClient.PUBLISH, "{\"correlation_id\":\"r\",\"message_type\":\"" + subject +
                "\",\"payload\":" + json + ",\"retain\":true}");
            final RawSocketClient.Frame answer = SocketServicePeer.answer(client, "r", 10_000);
            if (RawSocketClient.RESPONSE != answer.type)
            {
                throw new IllegalStateException("retain refused: " + answer);
            }
        }
        System.out.println("publisher: retained " + subject);
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
