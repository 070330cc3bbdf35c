package io.switchboard.examples;

import io.switchboard.transport.Reply;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A service process that hangs while alive (SIGSTOP: its socket stays open, it stops heartbeating) is dropped after
 * the broker's configured liveness timeout, and the caller's pending request is answered SERVICE_UNAVAILABLE.
 */
@Timeout(120)
class LivenessSystemTest
{
    @Test
    void shouldDropAHungServiceAfterTheLivenessTimeout() throws Exception
    {
        try (BrokerProcess broker = new BrokerProcess("--liveness-timeout-ms", "1500");
            Switchboard client = broker.connect("liveness-test");
            ProcessHarness hanging = ProcessHarness.start(
                "stopped-service", HangingService.class, broker.socketDir.toString()))
        {
            hanging.awaitLine("hang service ready", 30_000);
            JavaPathSystemTest.awaitService(client, "hang");
            final byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            final CompletableFuture<Reply> call = client.requestAsync(
                "hang", "Hang", new UnsafeBuffer(body), 0, body.length, Duration.ofSeconds(60));
            hanging.awaitLine("hang: request", 30_000);

            signal("STOP", hanging.pid());
            try
            {
                final ExecutionException ex =
                    assertThrows(ExecutionException.class, () -> call.get(30, TimeUnit.SECONDS));
                assertEquals("SERVICE_UNAVAILABLE", ((SwitchboardException)ex.getCause()).errorCode());
                broker.process.awaitLine("silent for more than 1500 ms", 10_000);
                assertTrue(hanging.process().isAlive(), "the service was hung, not dead");
            }
            finally
            {
                signal("CONT", hanging.pid());
            }
        }
    }

    private static void signal(final String signal, final long pid) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid);
    }
}
