package io.switchboard.examples;

import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamListener;
import io.switchboard.transport.Switchboard;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A reply or a stream frame that cannot be written because the caller's inbox is full (issue 11, item 2): the caller
 * is answered with an error in its place as soon as its inbox takes it, long before its own timeout, and the
 * service's handler learns the answer failed. A real broker with a 64 KiB term (a 32 KiB window per inbox log); the
 * caller stops reading its inbox (a client with no thread of its own that the test stops polling) while a Java
 * service answers with 6 KiB each.
 */
@Timeout(120)
class UndeliverableAnswerSystemTest
{
    private static final int ANSWER = 6 * 1024;
    private static final long CALLER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    private BrokerProcess broker;
    private Switchboard service;
    private Switchboard caller;

    @BeforeEach
    void start() throws Exception
    {
        broker = new BrokerProcess(List.of("-Dswitchboard.term.length=65536"));
        service = Switchboard.connect(broker.clientContext("stuck-answers-service")
            .sendTimeoutNs(TimeUnit.MILLISECONDS.toNanos(50)));
        caller = Switchboard.connect(broker.clientContext("stuck-answers-caller").useConductorAgentInvoker(true));
    }

    @AfterEach
    void stop() throws Exception
    {
        org.agrona.CloseHelper.closeAll(caller, service, broker);
    }

    @Test
    void shouldAnswerTheCallerInPlaceOfARepliesItsInboxCouldNotTake() throws Exception
    {
        final UnsafeBuffer answer = new UnsafeBuffer(new byte[ANSWER]);
        final AtomicInteger handled = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        service.serve(ServiceDefinition.named("stuck_answers")
            .onOpaqueRequest("Big", (request, buffer, offset, length) ->
            {
                if (!request.reply(answer, 0, ANSWER))
                {
                    refused.incrementAndGet();
                }
                handled.incrementAndGet();
            }));
        awaitRoute("stuck_answers");

        final int calls = 12;
        final Map<Long, String> outcomes = new ConcurrentHashMap<>();
        final ResponseListener listener = new ResponseListener()
        {
            public void onResponse(final long id, final DirectBuffer buffer, final int offset, final int length)
            {
                outcomes.put(id, length == ANSWER ? "reply" : "reply of " + length + " bytes");
            }

            public void onError(final long id, final String code, final String message)
            {
                outcomes.put(id, code);
            }
        };
        final UnsafeBuffer request = new UnsafeBuffer(new byte[]{ '1' });
        for (int i = 0; i < calls; i++)
        {
            caller.request("stuck_answers", "Big", request, 0, 1, CALLER_TIMEOUT_NS, listener);
        }
        // the caller reads nothing while the service answers: its inbox takes a few replies, then is full
        final long handledDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (handled.get() < calls)
        {
            assertTrue(System.nanoTime() - handledDeadline < 0, "the service handled " + handled + " of " + calls);
            Thread.yield();
        }
        assertTrue(refused.get() > 0, "the caller's full inbox refused some replies, and the handler was told");
        assertTrue(refused.get() < calls, "some replies fit before the inbox was full: " + refused);

        final long start = System.nanoTime();
        while (outcomes.size() < calls)
        {
            caller.poll();
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20),
                "every call answered well before the caller's 60 s timeout; answered " + outcomes);
            Thread.yield();
        }
        long replies = 0;
        long busy = 0;
        for (final String outcome : outcomes.values())
        {
            if ("reply".equals(outcome))
            {
                replies++;
            }
            else
            {
                assertEquals("TARGET_BUSY", outcome, "an answer in place of a refused reply: " + outcomes);
                busy++;
            }
        }
        assertEquals(refused.get(), busy, "one TARGET_BUSY per reply the handler saw refused: " + outcomes);
        assertEquals(calls - refused.get(), replies, outcomes.toString());
    }

    @Test
    void shouldEndTheStreamForItsCallerWhenAFrameCannotBeWritten() throws Exception
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[ANSWER]);
        final AtomicBoolean sendRefused = new AtomicBoolean();
        final AtomicBoolean cancelled = new AtomicBoolean();
        final AtomicBoolean cancelHandlerRan = new AtomicBoolean();
        final AtomicInteger sent = new AtomicInteger();
        service.serve(ServiceDefinition.named("stuck_stream")
            .onOpaqueStream("Items", (session, buffer, offset, length) ->
            {
                session.onCancel(() -> cancelHandlerRan.set(true));
                for (int i = 0; i < 100; i++)
                {
                    if (!session.send(frame, 0, ANSWER))
                    {
                        cancelled.set(session.isCancelled()); // before the flag the test thread waits for
                        sendRefused.set(true);
                        return;
                    }
                    sent.incrementAndGet();
                }
                session.end();
            }));
        awaitRoute("stuck_stream");

        final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        final AtomicInteger frames = new AtomicInteger();
        final StreamListener listener = new StreamListener()
        {
            public void onFrame(final long id, final long sequence, final DirectBuffer b, final int o, final int l)
            {
                frames.incrementAndGet();
            }

            public void onEnd(final long id, final long frameCount)
            {
                events.add("end " + frameCount);
            }

            public void onError(final long id, final String code, final String message)
            {
                events.add(code);
            }
        };
        caller.stream("stuck_stream", "Items", new UnsafeBuffer(new byte[]{ '1' }), 0, 1, CALLER_TIMEOUT_NS, listener);
        final long refusedDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!sendRefused.get())
        {
            assertTrue(System.nanoTime() - refusedDeadline < 0, "the caller reads nothing: a frame must be refused");
            Thread.yield();
        }
        assertTrue(cancelled.get(), "the handler sees the stream over, as if cancelled");
        assertTrue(cancelHandlerRan.get(), "its cancel handler ran");
        assertTrue(sent.get() > 0 && sent.get() < 100, "some frames fit before the inbox was full: " + sent);

        final long start = System.nanoTime();
        while (events.isEmpty())
        {
            caller.poll();
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20),
                "the stream's end reaches the caller well before its 60 s timeout");
            Thread.yield();
        }
        assertEquals(List.of("TARGET_BUSY"), List.copyOf(events));
        assertEquals(sent.get(), frames.get(), "every frame written before the full inbox was read");
    }

    private void awaitRoute(final String name)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!caller.hasService(name))
        {
            caller.poll();
            assertTrue(System.nanoTime() - deadline < 0, "no route to " + name);
            Thread.yield();
        }
    }
}
