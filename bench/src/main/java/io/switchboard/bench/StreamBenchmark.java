package io.switchboard.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Request-stream throughput in items per second: the caller asks for {@value #ITEMS} items of 32 bytes and waits
 * for the end; Switchboard's request-stream against a raw Aeron IPC one-way stream of the same shape (a request
 * message, then the items, then an end message).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StreamBenchmark
{
    static final int ITEMS = 1000;

    @Param({ Rigs.SWITCHBOARD, Rigs.AERON })
    String system;

    private RequestRig rig;

    /**
     * Start the system.
     */
    @Setup
    public void setup()
    {
        rig = Rigs.requestRig(system);
    }

    /**
     * Stop the system.
     */
    @TearDown
    public void tearDown()
    {
        rig.close();
    }

    /**
     * One stream of {@value #ITEMS} items.
     *
     * @return items received.
     */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long stream()
    {
        final long received = rig.stream(ITEMS);
        if (ITEMS != received)
        {
            throw new IllegalStateException(system + ": expected " + ITEMS + " items, actual=" + received);
        }
        return received;
    }
}
