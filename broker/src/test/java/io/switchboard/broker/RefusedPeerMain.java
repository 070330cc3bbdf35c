package io.switchboard.broker;

import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A Java peer that connects to a control socket N times and prints how each attempt ended, one line each:
 * {@code FORBIDDEN}, {@code CONNECTED}, or the exception's class and message. Run as another user by
 * {@link RefusedPeersTest}.
 */
final class RefusedPeerMain
{
    private RefusedPeerMain()
    {
    }

    /**
     * Connect and report.
     *
     * @param args the control socket and the number of rounds.
     */
    public static void main(final String[] args)
    {
        final Path socket = Path.of(args[0]);
        final int rounds = Integer.parseInt(args[1]);
        for (int i = 0; i < rounds; i++)
        {
            String outcome;
            try (Switchboard client = Switchboard.connect(new Switchboard.Context()
                .controlSocket(socket)
                .clientName("refused-" + i)
                .reconnect(false)
                .connectTimeoutNs(TimeUnit.SECONDS.toNanos(10))
                .errorHandler((ex) -> System.out.println("error handler: " + ex))))
            {
                outcome = "CONNECTED";
            }
            catch (final SwitchboardException ex)
            {
                outcome = ex.errorCode() + " " + ex.getMessage();
            }
            catch (final RuntimeException ex)
            {
                outcome = ex.getClass().getSimpleName() + " " + ex.getMessage();
            }
            System.out.println("round " + i + ": " + outcome);
        }
    }
}
