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
 * A steady stream of calls and publications from a client with no thread of its own (polled from this thread)
 * allocates nothing on this thread: measured with the JVM's per-thread allocation counter.
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
            client.subscribe("alloc.*", (push, buffer, offset, length) -> outcome.pushes++);

            final long sumBefore = outcome.sum;
            runCalls(client, WARMUP);
            final long before = threads.getCurrentThreadAllocatedBytes();
            runCalls(client, MEASURED);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;

            assertEquals(0, outcome.errors, "every call answered with a result");
            final long expected = expectedSum(0, WARMUP) + expectedSum(WARMUP, WARMUP + MEASURED);
            assertEquals(expected, outcome.sum - sumBefore, "every reply is the right sum");
            System.out.println("steady state: " + allocated + " bytes allocated over " + MEASURED +
                " calls + publishes (" + ((double)allocated / MEASURED) + " B/op)");
            assertTrue(allocated < 1024, "expected ~0 B/op, allocated " + allocated + " bytes over " + MEASURED +
                " calls and publishes");
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

    private void runCalls(final Switchboard client, final int count)
    {
        final int base = outcome.completed;
        for (int i = 0; i < count; i++)
        {
            final int length = encodeAdd(outcome.nextA++);
            client.request("calculator", "Add", request, 0, length, TimeUnit.SECONDS.toNanos(10), outcome);
            publication.putLong(0, i);
            client.publish("alloc.X", "Tick", -1, publication, 0, 8);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (outcome.completed == base + i)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    fail("no reply to call " + i);
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
        long pushes;

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
