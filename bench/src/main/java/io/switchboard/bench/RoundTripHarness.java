package io.switchboard.bench;

import io.switchboard.broker.Broker;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.examples.DemoServices;
import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.examples.codec.ResultEncoder;
import io.switchboard.transport.ResponseListener;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A rough closed-loop round-trip harness: a Java caller (polled, no thread of its own) calls a Java service
 * (its own thread, yielding idle strategy) over Aeron IPC, one call at a time, through a broker started in this
 * process. Prints percentiles in microseconds. A first figure, not the benchmark suite.
 */
public final class RoundTripHarness
{
    private RoundTripHarness()
    {
    }

    /**
     * Entry point.
     *
     * @param args optional: number of measured calls (default 200000), warm-up calls (default 50000).
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final int measured = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        final int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        final Path socketDir = Files.createTempDirectory("sb-bench");
        final String aeronDir = "/dev/shm/sb-bench-" + UUID.randomUUID() + "/aeron";

        try (Broker broker = Broker.launch(new Broker.Context().socketDir(socketDir).aeronDirectoryName(aeronDir)
            .logger((msg) -> {}));
            Switchboard service = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-service")
                .idleStrategy(new YieldingIdleStrategy()));
            Switchboard caller = Switchboard.connect(new Switchboard.Context()
                .controlSocket(broker.context().controlSocket()).clientName("bench-caller")
                .useConductorAgentInvoker(true)))
        {
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
            final ResultEncoder resultEncoder = new ResultEncoder();
            final MessageHeaderEncoder replyHeader = new MessageHeaderEncoder();
            service.serve(ServiceDefinition.named("bench_calc")
                .schema(MessageSchema.fromIrResource(DemoServices.SCHEMA_RESOURCE))
                .onRequest("Add", (request, buffer, offset, length) ->
                {
                    resultEncoder.wrapAndApplyHeader(reply, 0, replyHeader).value(1);
                    request.reply(reply, 0, MessageHeaderEncoder.ENCODED_LENGTH + resultEncoder.encodedLength());
                }));
            while (!caller.hasService("bench_calc"))
            {
                caller.poll();
            }

            final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
            final int length = MessageHeaderEncoder.ENCODED_LENGTH +
                new AddEncoder().wrapAndApplyHeader(request, 0, new MessageHeaderEncoder()).a(1).b(2).encodedLength();
            final Listener listener = new Listener();
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);

            run(caller, request, length, listener, warmup, null);
            final long start = System.nanoTime();
            run(caller, request, length, listener, measured, histogram);
            final long elapsed = System.nanoTime() - start;

            System.out.printf("Java request-response round trip, %d-byte SBE request, %d calls, closed loop%n",
                length, measured);
            System.out.printf("  p50 %.2f us  p90 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.2f us%n",
                histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(90) / 1000.0,
                histogram.getValueAtPercentile(99) / 1000.0, histogram.getValueAtPercentile(99.9) / 1000.0,
                histogram.getMaxValue() / 1000.0);
            System.out.printf("  throughput %.0f calls/s, errors %d%n", measured * 1e9 / elapsed, listener.errors);
        }
    }

    private static void run(final Switchboard caller, final UnsafeBuffer request, final int length,
        final Listener listener, final int count, final Histogram histogram)
    {
        for (int i = 0; i < count; i++)
        {
            final int before = listener.completed;
            final long t0 = System.nanoTime();
            caller.request("bench_calc", "Add", request, 0, length, TimeUnit.SECONDS.toNanos(5), listener);
            while (listener.completed == before)
            {
                caller.poll();
            }
            if (null != histogram)
            {
                histogram.recordValue(System.nanoTime() - t0);
            }
        }
    }

    private static final class Listener implements ResponseListener
    {
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();
        private final ResultDecoder result = new ResultDecoder();
        int completed;
        int errors;
        long sum;

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
