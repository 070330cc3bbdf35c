package io.switchboard.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Request-response round trip with a 32-byte payload, one call in flight: Switchboard's Java path against raw Aeron
 * IPC ping-pong (the floor) and gRPC-java over a Unix domain socket. The caller busy-spins; the service yields.
 * <p>
 * The busy-spin configuration: {@code switchboard-spin} and {@code aeron-spin} busy-spin their service and pong
 * too, and {@code cacheline} is two threads ping-ponging a cache line, the hardware's limit. Those figures mean
 * something only when each spinning thread has a core to itself: on a 2-core machine, when nothing else runs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = { "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RoundTripBenchmark
{
    @Param({ Rigs.SWITCHBOARD, Rigs.AERON, Rigs.GRPC, Rigs.SWITCHBOARD_SPIN, Rigs.AERON_SPIN, Rigs.CACHE_LINE })
    String system;

    private final ReplyHandler ignore = (stamp) -> {};
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
        final long errors = rig.errors();
        rig.close();
        if (errors > 0)
        {
            throw new IllegalStateException(system + ": " + errors + " calls failed");
        }
    }

    /**
     * One call and its reply.
     *
     * @return replies taken in, so the work is not eliminated.
     */
    @Benchmark
    public int roundTrip()
    {
        rig.send(0);
        int replies;
        while (0 == (replies = rig.poll(ignore)))
        {
            Thread.onSpinWait();
        }
        return replies;
    }
}
