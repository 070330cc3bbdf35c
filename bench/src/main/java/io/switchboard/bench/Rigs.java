package io.switchboard.bench;

import io.aeron.Publication;
import io.switchboard.broker.Broker;
import org.agrona.IoUtil;

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
     * @param system one of {@link #SWITCHBOARD}, {@link #AERON}, {@link #GRPC}.
     * @return the rig, ready to send.
     */
    public static RequestRig requestRig(final String system)
    {
        switch (system)
        {
            case SWITCHBOARD:
                return new SwitchboardRig();
            case AERON:
                return new AeronRig();
            case GRPC:
                return new GrpcRig();
            default:
                throw new IllegalArgumentException("expected switchboard, aeron or grpc, actual=" + system);
        }
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
