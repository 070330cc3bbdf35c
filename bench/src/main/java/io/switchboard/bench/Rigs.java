package io.switchboard.bench;

import io.aeron.Publication;
import io.switchboard.broker.Broker;
import org.agrona.IoUtil;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Builds rigs by name, and starts the broker they share (cold path).
 */
public final class Rigs
{
    /** Switchboard's Java client and service over Aeron IPC. */
    public static final String SWITCHBOARD = "switchboard";
    /** Raw Aeron IPC ping-pong through the same embedded media driver: the floor. */
    public static final String AERON = "aeron";
    /** gRPC-java over a Unix domain socket (netty epoll). */
    public static final String GRPC = "grpc";
    /** Open-source Chronicle Queue: the pub/sub peer. */
    public static final String CHRONICLE = "chronicle";
    /**
     * Suffix of a request-response system whose service (or pong) thread busy-spins instead of yielding, as the
     * caller always does: {@code switchboard-spin}, {@code aeron-spin}.
     */
    public static final String SPIN_SUFFIX = "-spin";
    /** Switchboard with its service busy-spinning. */
    public static final String SWITCHBOARD_SPIN = SWITCHBOARD + SPIN_SUFFIX;
    /** Raw Aeron IPC ping-pong with its pong busy-spinning: the floor of the busy-spin configuration. */
    public static final String AERON_SPIN = AERON + SPIN_SUFFIX;
    /**
     * Two threads ping-ponging a value through shared memory, both busy-spinning: the cache-line round trip of this
     * machine, the hardware's limit for any request-response between two threads.
     */
    public static final String CACHE_LINE = "cacheline";

    private Rigs()
    {
    }

    /**
     * Start a broker with its embedded media driver in fresh directories, logging nothing. Its directories
     * ({@code /tmp/sb-bench*} and {@code /dev/shm/sb-bench-*}) are removed by {@link #closeBroker(Broker)}, or at the
     * latest when the JVM exits.
     *
     * @return the broker.
     */
    public static Broker launchBroker()
    {
        try
        {
            final Path socketDir = Files.createTempDirectory("sb-bench");
            final Path shmDir = Path.of("/dev/shm/sb-bench-" + UUID.randomUUID());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteDirectories(socketDir, shmDir)));
            return Broker.launch(new Broker.Context().socketDir(socketDir)
                .aeronDirectoryName(shmDir.resolve("aeron").toString()).logger((msg) -> {}));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Close a broker started by {@link #launchBroker()} and remove its directories at once.
     *
     * @param broker to close.
     */
    public static void closeBroker(final Broker broker)
    {
        try
        {
            broker.close();
        }
        finally
        {
            deleteDirectories(broker.context().socketDir(), Path.of(broker.context().aeronDirectoryName()).getParent());
        }
    }

    private static void deleteDirectories(final Path socketDir, final Path shmDir)
    {
        IoUtil.delete(socketDir.toFile(), true);
        IoUtil.delete(shmDir.toFile(), true);
    }

    /**
     * Build a request-response rig.
     *
     * @param system one of {@link #SWITCHBOARD}, {@link #AERON}, {@link #GRPC} (service or pong yielding), or
     * {@link #SWITCHBOARD_SPIN}, {@link #AERON_SPIN}, {@link #CACHE_LINE} (busy-spinning).
     * @return the rig, ready to send.
     */
    public static RequestRig requestRig(final String system)
    {
        switch (system)
        {
            case SWITCHBOARD:
                return new SwitchboardRig(false);
            case SWITCHBOARD_SPIN:
                return new SwitchboardRig(true);
            case AERON:
                return new AeronRig(false);
            case AERON_SPIN:
                return new AeronRig(true);
            case CACHE_LINE:
                return new CacheLineRig();
            case GRPC:
                return new GrpcRig();
            default:
                throw new IllegalArgumentException("expected switchboard, aeron, grpc, switchboard-spin, aeron-spin " +
                    "or cacheline, actual=" + system);
        }
    }

    /**
     * The idle strategy of a rig's service or pong thread.
     *
     * @param spin true for the busy-spin configuration.
     * @return a busy-spin or a yielding idle strategy.
     */
    static IdleStrategy serviceIdle(final boolean spin)
    {
        return spin ? new BusySpinIdleStrategy() : new YieldingIdleStrategy();
    }

    /**
     * Build a publish-subscribe rig.
     *
     * @param system one of {@link #SWITCHBOARD}, {@link #AERON}, {@link #CHRONICLE}.
     * @param subscribers number of subscribers, read by {@link SubscriberPollers}.
     * @return the rig, with every subscriber connected.
     */
    public static PubSubRig pubSubRig(final String system, final int subscribers)
    {
        switch (system)
        {
            case SWITCHBOARD:
                return new SwitchboardPubSubRig(subscribers);
            case AERON:
                return new AeronPubSubRig(subscribers);
            case CHRONICLE:
                return new ChronicleQueuePubSubRig(subscribers);
            default:
                throw new IllegalArgumentException("expected switchboard, aeron or chronicle, actual=" + system);
        }
    }

    /**
     * Fail if the deadline has passed.
     *
     * @param deadlineNs nanoTime deadline.
     * @param what was being waited for.
     */
    static void checkDeadline(final long deadlineNs, final String what)
    {
        if (System.nanoTime() - deadlineNs > 0)
        {
            throw new IllegalStateException("timed out waiting for " + what);
        }
    }

    /**
     * Fail if an offer has been refused past its deadline; builds the message only then, so a retry allocates nothing.
     *
     * @param deadlineNs nanoTime deadline.
     * @param result of the last refused offer, an Aeron {@code Publication} code.
     */
    static void checkOfferDeadline(final long deadlineNs, final long result)
    {
        if (System.nanoTime() - deadlineNs > 0)
        {
            throw new IllegalStateException("timed out retrying a refused offer: " + Publication.errorString(result));
        }
    }
}
