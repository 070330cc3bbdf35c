package io.switchboard.examples;

import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A message in pieces whose writer goes away half-way (issue 11): the reader lets go of what it holds for it as soon
 * as the writer's image goes, not at the expiry, and counts it in {@code sb-partials-dropped}. A real broker at its
 * default 1 MiB term; the reader's expiry is made 120 s long (twice its 60 s piece timeout), so only the image's end
 * can free the message within the test's 20 s.
 */
@Timeout(120)
class PartialMessageSystemTest
{
    @Test
    void shouldLetGoOfAPartialMessageWhenItsWriterGoes() throws Exception
    {
        try (BrokerProcess broker = new BrokerProcess())
        {
            Switchboard reader = null;
            Switchboard writer = null;
            try
            {
                reader = Switchboard.connect(broker.clientContext("partial-reader").useConductorAgentInvoker(true)
                    .sendTimeoutNs(TimeUnit.SECONDS.toNanos(60)));
                reader.serve(ServiceDefinition.named("partial_sink")
                    .onOpaqueRequest("Take", (request, buffer, offset, length) -> request.reply(buffer, offset, 1)));
                writer = Switchboard.connect(broker.clientContext("partial-writer")
                    .sendTimeoutNs(TimeUnit.SECONDS.toNanos(2)));
                final long routeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!writer.hasService("partial_sink"))
                {
                    reader.poll();
                    assertTrue(System.nanoTime() - routeDeadline < 0, "no route to partial_sink");
                    Thread.yield();
                }

                // the reader does not read: the writer puts the pieces its inbox window takes, then gives up
                final int length = 16 * 1024 * 1024;
                final AtomicReference<String> outcome = new AtomicReference<>();
                writer.request("partial_sink", "Take", new UnsafeBuffer(ByteBuffer.allocateDirect(length)), 0, length,
                    TimeUnit.SECONDS.toNanos(30), new ResponseListener()
                    {
                        public void onResponse(final long id, final DirectBuffer b, final int o, final int l)
                        {
                            outcome.set("reply");
                        }

                        public void onError(final long id, final String code, final String message)
                        {
                            outcome.set(code);
                        }
                    });
                final long failDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (null == outcome.get())
                {
                    assertTrue(System.nanoTime() - failDeadline < 0, "the writer's call ends when a piece times out");
                    Thread.yield();
                }
                assertNotEquals("reply", outcome.get());
                assertEquals(0, reader.counters().partialsDropped());

                CloseHelper.close(writer); // its log to the reader's inbox closes: the image goes once read
                writer = null;
                final long start = System.nanoTime();
                while (reader.counters().partialsDropped() == 0)
                {
                    reader.poll();
                    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20),
                        "the partial message is let go when its writer's image goes, long before the 120 s expiry");
                    Thread.yield();
                }
                assertEquals(1, reader.counters().partialsDropped());
                assertEquals(0, reader.counters().partialsExpired());
            }
            finally
            {
                CloseHelper.closeAll(writer, reader);
            }
        }
    }
}
