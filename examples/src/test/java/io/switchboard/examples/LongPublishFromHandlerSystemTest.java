package io.switchboard.examples;

import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A publication in pieces made from inside a handler (issue 11), by a peer that also subscribes to it: with the
 * default 1 MiB term a 4 MiB publication is 32 pieces, 8 times the log's window, so it goes on only as its readers
 * read, this peer's own subscription among them. The publisher's piece timeout is made 10 s, so that a publication
 * held until it would show.
 * <ul>
 *     <li>from a request handler, the peer reads its own subscription while it waits: the publication goes through
 *     at once, and every subscriber, the peer itself included, gets it whole;</li>
 *     <li>from a push handler it cannot (a log is never polled from inside its own poll): its own untethered
 *     subscription holds it at most the untethered window limit timeout (200 ms), then is rested; the publication
 *     still goes through long before the piece timeout, and the other subscriber gets it whole.</li>
 * </ul>
 */
@Timeout(120)
class LongPublishFromHandlerSystemTest
{
    private static final int LENGTH = 4 * 1024 * 1024;
    private static final long PIECE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private BrokerProcess broker;
    private Switchboard publisher;
    private Switchboard other;
    private Switchboard caller;
    private final ConcurrentLinkedQueue<String> ownReceived = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> otherReceived = new ConcurrentLinkedQueue<>();
    private final AtomicLong publishResult = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong publishNs = new AtomicLong();
    private final UnsafeBuffer big = new UnsafeBuffer(new byte[LENGTH]);

    @BeforeEach
    void start() throws Exception
    {
        for (int i = 0; i < LENGTH; i++)
        {
            big.putByte(i, (byte)('a' + i % 26));
        }
        broker = new BrokerProcess();
        publisher = Switchboard.connect(broker.clientContext("long-publisher").sendTimeoutNs(PIECE_TIMEOUT_NS));
        other = Switchboard.connect(broker.clientContext("long-other"));
        caller = Switchboard.connect(broker.clientContext("long-caller"));
        publisher.subscribe("big.events", (push, buffer, offset, length) -> ownReceived.add(describe(buffer, offset,
            length)));
        other.subscribe("big.events", (push, buffer, offset, length) -> otherReceived.add(describe(buffer, offset,
            length)));
    }

    @AfterEach
    void stop() throws Exception
    {
        CloseHelper.closeAll(caller, other, publisher, broker);
    }

    @Test
    void shouldPublishFromARequestHandlerReadingItsOwnSubscriptionMeanwhile() throws Exception
    {
        publisher.serve(ServiceDefinition.named("long_publisher")
            .onOpaqueRequest("Publish", (request, buffer, offset, length) ->
            {
                request.reply(buffer, offset, length);
                publishTimed();
            }));
        awaitRoute("long_publisher");
        final CompletableFuture<Reply> reply = caller.requestAsync("long_publisher", "Publish",
            new UnsafeBuffer(new byte[]{ '1' }), 0, 1, Duration.ofSeconds(30));
        reply.get(30, TimeUnit.SECONDS);

        awaitPublished();
        assertTrue(publishResult.get() > 0, "published: " + publishResult);
        assertTrue(publishNs.get() < PIECE_TIMEOUT_NS / 2, "not held until the piece timeout: " +
            TimeUnit.NANOSECONDS.toMillis(publishNs.get()) + " ms");
        awaitReceived(otherReceived);
        awaitReceived(ownReceived); // its own subscription read it while it was written
        assertEquals(0, publisher.counters().pushesLost(), "its own subscription lost nothing");
    }

    @Test
    void shouldPublishFromAPushHandlerWithinTheUntetheredBound() throws Exception
    {
        publisher.subscribe("big.trigger", (push, buffer, offset, length) -> publishTimed());
        other.publish("big.trigger", "Trigger", ServiceDefinition.OPAQUE_TEMPLATE_ID,
            new UnsafeBuffer(new byte[]{ '1' }), 0, 1);

        awaitPublished();
        assertTrue(publishResult.get() > 0, "published: " + publishResult);
        assertTrue(publishNs.get() < PIECE_TIMEOUT_NS / 2, "held by its own subscription at most the untethered " +
            "window limit timeout, not until the piece timeout: " +
            TimeUnit.NANOSECONDS.toMillis(publishNs.get()) + " ms");
        awaitReceived(otherReceived);
    }

    private void publishTimed()
    {
        final long start = System.nanoTime();
        final long result = publisher.publish("big.events", "Big", ServiceDefinition.OPAQUE_TEMPLATE_ID, big, 0,
            LENGTH);
        publishNs.set(System.nanoTime() - start);
        publishResult.set(result);
    }

    private void awaitPublished()
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Long.MIN_VALUE == publishResult.get())
        {
            assertTrue(System.nanoTime() - deadline < 0, "the handler's publish never returned");
            Thread.yield();
        }
    }

    private void awaitReceived(final ConcurrentLinkedQueue<String> received)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.isEmpty())
        {
            assertTrue(System.nanoTime() - deadline < 0, "the publication never arrived whole");
            Thread.yield();
        }
        assertEquals("whole", received.peek());
    }

    private void awaitRoute(final String name)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!caller.hasService(name))
        {
            assertTrue(System.nanoTime() - deadline < 0, "no route to " + name);
            Thread.yield();
        }
    }

    private static String describe(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length != LENGTH)
        {
            return "length " + length;
        }
        for (int i = 0; i < LENGTH; i++)
        {
            if (buffer.getByte(offset + i) != (byte)('a' + i % 26))
            {
                return "byte " + i + " differs";
            }
        }
        return "whole";
    }
}
