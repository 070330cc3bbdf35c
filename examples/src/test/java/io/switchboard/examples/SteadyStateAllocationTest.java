package io.switchboard.examples;

import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.Switchboard;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A steady stream of calls, publications and the pushes they cause, from a client with no thread of its own (polled
 * from this thread), allocates nothing on this thread: measured with the JVM's per-thread allocation counter. Each
 * step of the measured loop waits for both its reply and its push, so every byte of the three paths is counted.
 */
@Timeout(120)
class SteadyStateAllocationTest
{
    private static final int WARMUP = 20_000;
    private static final int MEASURED = 20_000;

    private final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
    private final UnsafeBuffer publication = new UnsafeBuffer(new byte[32]);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final AddEncoder addEncoder = new AddEncoder();
    private final Outcome outcome = new Outcome();

    @Test
    void shouldNotAllocateOnTheCallingThreadInSteadyState() throws Exception
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());

        try (BrokerProcess broker = new BrokerProcess(); ProcessHarness ignored = broker.startDemoServices();
            Switchboard client = Switchboard.connect(broker.clientContext("alloc-test").useConductorAgentInvoker(true)))
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!client.hasService("calculator"))
            {
                assertTrue(System.nanoTime() - deadline < 0, "calculator route never arrived");
                client.poll();
            }
            client.subscribe("alloc.*", outcome::onPush);
            awaitSubscriptionLive(client);

            final long sumBefore = outcome.sum;
            runCalls(client, WARMUP);
            final long before = threads.getCurrentThreadAllocatedBytes();
            final long pushesBefore = outcome.pushes;
            runCalls(client, MEASURED);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;

            assertEquals(0, outcome.errors, "every call answered with a result");
            final long expected = expectedSum(0, WARMUP) + expectedSum(WARMUP, WARMUP + MEASURED);
            assertEquals(expected, outcome.sum - sumBefore, "every reply is the right sum");
            assertEquals(MEASURED, outcome.pushes - pushesBefore, "every measured publication came back as one push");
            assertEquals(0, outcome.pushesOutOfOrder, "pushes arrive once each, in publication order");
            assertEquals(WARMUP + MEASURED, outcome.nextTick, "every publication was accepted");
            System.out.println("steady state: " + allocated + " bytes allocated over " + MEASURED +
                " calls + publishes + pushes (" + ((double)allocated / MEASURED) + " B/op)");
            assertTrue(allocated < 1024, "expected ~0 B/op, allocated " + allocated + " bytes over " + MEASURED +
                " calls, publishes and pushes");
        }
    }

    private static long expectedSum(final int from, final int to)
    {
        long sum = 0;
        for (int i = from; i < to; i++)
        {
            sum += i + 1;
        }
        return sum;
    }

    /** Probes (tick -1, not counted) until the client's subscription sees its own log, so no tick is published blind. */
    private void awaitSubscriptionLive(final Switchboard client)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (0 == outcome.probes)
        {
            assertTrue(System.nanoTime() - deadline < 0, "no push of this client's own publication ever arrived");
            publication.putLong(0, -1);
            client.publish("alloc.X", "Tick", -1, publication, 0, 8);
            final long probeDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
            while (0 == outcome.probes && System.nanoTime() - probeDeadline < 0)
            {
                client.poll();
                Thread.yield();
            }
        }
    }

    private void runCalls(final Switchboard client, final int count)
    {
        final int base = outcome.completed;
        for (int i = 0; i < count; i++)
        {
            final int length = encodeAdd(outcome.nextA++);
            client.request("calculator", "Add", request, 0, length, TimeUnit.SECONDS.toNanos(10), outcome);
            final long tick = outcome.nextTick;
            publication.putLong(0, tick);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (client.publish("alloc.X", "Tick", -1, publication, 0, 8) <= 0)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    fail("publication of tick " + tick + " never accepted");
                }
                client.poll();
            }
            outcome.nextTick++;
            while (outcome.completed == base + i || outcome.lastTick != tick)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    fail(outcome.completed == base + i ? "no reply to call " + i : "no push of tick " + tick +
                        " (last pushed " + outcome.lastTick + ")");
                }
                client.poll();
            }
        }
    }

    private int encodeAdd(final long a)
    {
        addEncoder.wrapAndApplyHeader(request, 0, headerEncoder).a(a).b(1);
        return MessageHeaderEncoder.ENCODED_LENGTH + addEncoder.encodedLength();
    }

    private static final class Outcome implements ResponseListener
    {
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();
        private final ResultDecoder result = new ResultDecoder();
        int completed;
        int errors;
        long sum;
        long nextA;
        long nextTick;
        long lastTick = -1;
        long pushes;
        long probes;
        long pushesOutOfOrder;

        void onPush(final io.switchboard.transport.Push push, final DirectBuffer buffer, final int offset, final int length)
        {
            final long tick = buffer.getLong(offset);
            if (tick < 0)
            {
                probes++;
                return;
            }
            if (tick != lastTick + 1)
            {
                pushesOutOfOrder++;
            }
            lastTick = tick;
            pushes++;
        }

        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
            sum += result.wrapAndApplyHeader(buffer, offset, header).value();
            completed++;
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            errors++;
            completed++;
        }
    }
}
