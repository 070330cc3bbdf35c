package io.switchboard.examples;

import io.switchboard.broker.BrokerMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Start-up of real broker processes that race for one runtime folder: a lock decides, not timing.
 */
@Timeout(120)
class BrokerStartSystemTest
{
    /** Exit code of a broker that refused to start (BrokerMain). */
    private static final int REFUSED = 3;

    @Test
    void shouldLetExactlyOneOfTwoBrokersStartedTogetherRunAndRefuseTheOtherNamingTheLockHolder() throws Exception
    {
        final Path socketDir = ProcessHarness.tempDir("sb-test-race");
        final Path aeronRoot = Path.of("/dev/shm", "sb-test-race-" + UUID.randomUUID());
        final String[] args = {"--socket-dir", socketDir.toString(), "--aeron-dir", aeronRoot.resolve("aeron").toString()};
        try (ProcessHarness first = ProcessHarness.start("broker-1", BrokerMain.class, args);
            ProcessHarness second = ProcessHarness.start("broker-2", BrokerMain.class, args))
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (first.process().isAlive() && second.process().isAlive() && System.nanoTime() - deadline < 0)
            {
                Thread.yield();
            }
            final ProcessHarness loser = first.process().isAlive() ? second : first;
            final ProcessHarness winner = loser == first ? second : first;
            assertFalse(loser.process().isAlive(), "one of the two must give up; outputs:\n" + first.output() +
                "\n---\n" + second.output());
            loser.process().waitFor(10, TimeUnit.SECONDS);
            loser.awaitEnd();
            assertEquals(REFUSED, loser.process().exitValue(), loser.output());
            assertTrue(loser.output().contains("another broker (pid " + winner.pid() + ") holds " +
                socketDir.resolve("broker.lock")), loser.output());

            winner.awaitLine("broker ready", 30_000);
            assertTrue(winner.process().isAlive(), winner.output());
            try (RawSocketClient client = new RawSocketClient(socketDir.resolve("broker.sock")))
            {
                client.send(RawSocketClient.STATS, "{\"correlation_id\":\"st\"}");
                client.await(RawSocketClient.RESPONSE, "st", 10_000);
            }
            assertEquals(0, winner.terminate(), "a clean stop on SIGTERM exits 0: " + winner.output());
        }
        finally
        {
            ProcessHarness.deleteRecursively(socketDir.toFile());
            ProcessHarness.deleteRecursively(aeronRoot.toFile());
        }
        assertFalse(Files.exists(aeronRoot.resolve("aeron")));
    }
}
