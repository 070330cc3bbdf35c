package io.switchboard.examples;

import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Starting order: a Java client started before its broker, with {@code waitForBrokerNs}, connects once the broker
 * process is up and works; the wait is bounded and named; without it a missing broker fails at once.
 */
class StartOrderSystemTest
{
    @Test
    void shouldConnectAClientStartedBeforeTheBrokerOnceTheBrokerIsUp() throws Exception
    {
        try (BrokerProcess broker = BrokerProcess.notStarted())
        {
            final CountDownLatch connecting = new CountDownLatch(1);
            final CompletableFuture<Switchboard> early = CompletableFuture.supplyAsync(() ->
            {
                connecting.countDown();
                return Switchboard.connect(broker.clientContext("early")
                    .waitForBrokerNs(TimeUnit.SECONDS.toNanos(120)));
            });
            assertTrue(connecting.await(30, TimeUnit.SECONDS));
            assertFalse(early.isDone(), "no broker yet, so nothing to connect to: " + early);

            broker.start(); // a separate JVM: seconds after the client began to wait
            try (Switchboard client = early.get(120, TimeUnit.SECONDS);
                Switchboard other = broker.connect("other"))
            {
                assertTrue(client.clientId() > 0);
                final CountDownLatch pushed = new CountDownLatch(1);
                client.subscribe("start.order", (push, buffer, offset, length) -> pushed.countDown());
                // the publisher's log links to the subscriber a moment after its first publish: publish until it lands
                final UnsafeBuffer payload = new UnsafeBuffer(new byte[8]);
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                do
                {
                    other.publish("start.order", "note", 1, payload, 0, payload.capacity());
                    assertTrue(System.nanoTime() - deadlineNs < 0, "the early client received no publication");
                }
                while (!pushed.await(50, TimeUnit.MILLISECONDS));
            }
        }
    }

    @Test
    void shouldFailNamingTheWaitWhenNoBrokerComesInTime() throws Exception
    {
        try (BrokerProcess broker = BrokerProcess.notStarted())
        {
            final UncheckedIOException waited = assertThrows(UncheckedIOException.class, () ->
                Switchboard.connect(broker.clientContext("late").waitForBrokerNs(TimeUnit.MILLISECONDS.toNanos(300))));
            assertTrue(waited.getMessage().matches("no Switchboard broker at .*control\\.sock after waiting \\d+ ms " +
                "\\(waitForBroker 300 ms, \\d+ attempts\\).*"), waited.getMessage());

            final UncheckedIOException atOnce = assertThrows(UncheckedIOException.class, () ->
                Switchboard.connect(broker.clientContext("default")));
            assertFalse(atOnce.getMessage().contains("waiting"), atOnce.getMessage());
            assertEquals(0, broker.clientContext("x").conclude().waitForBrokerNs(), "no wait by default");
        }
    }
}
