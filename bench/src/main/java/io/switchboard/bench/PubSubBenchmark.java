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
 * Publish-subscribe throughput in messages published per second (multiply by the subscriber count for messages
 * delivered): batches of {@value #BATCH} 32-byte messages, each batch complete only when every subscriber has read
 * it, so a dropped or lagging subscriber cannot inflate the figure. Switchboard against raw Aeron IPC and Chronicle
 * Queue; subscribers are read by one thread per spare core ({@link SubscriberPollers}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
    // what Chronicle Queue needs on Java 17
    "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens", "java.base/java.io=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.base/java.util=ALL-UNNAMED" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PubSubBenchmark
{
    static final int BATCH = 256;

    @Param({ Rigs.SWITCHBOARD, Rigs.AERON, Rigs.CHRONICLE })
    String system;

    @Param({ "1", "4" })
    int subscribers;

    private PubSubRig rig;

    /**
     * Start the system with its subscribers.
     */
    @Setup
    public void setup()
    {
        rig = Rigs.pubSubRig(system, subscribers);
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
     * One batch, published and read by every subscriber.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void publish()
    {
        rig.publishBatch(BATCH);
    }
}
