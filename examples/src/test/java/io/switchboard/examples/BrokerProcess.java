package io.switchboard.examples;

import io.switchboard.broker.BrokerMain;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A real broker in its own process, with its own socket directory and media-driver directory, for one test class.
 */
final class BrokerProcess implements AutoCloseable
{
    final Path socketDir;
    final Path aeronDir;
    final String[] args;
    final java.util.List<String> jvmArgs;
    ProcessHarness process;

    BrokerProcess(final String... extraArgs) throws IOException
    {
        this(java.util.List.of(), extraArgs);
    }

    /**
     * A broker started with extra JVM options (system properties such as shortened timeouts).
     */
    BrokerProcess(final java.util.List<String> jvmArgs, final String... extraArgs) throws IOException
    {
        this(true, jvmArgs, extraArgs);
    }

    /**
     * The paths of a broker not started yet, so that a test can start clients that wait for it first; then
     * {@link #start()}.
     */
    static BrokerProcess notStarted(final String... extraArgs) throws IOException
    {
        return new BrokerProcess(false, java.util.List.of(), extraArgs);
    }

    private BrokerProcess(final boolean start, final java.util.List<String> jvmArgs, final String... extraArgs)
        throws IOException
    {
        this.jvmArgs = jvmArgs;
        socketDir = ProcessHarness.tempDir("sb-test-sock");
        aeronDir = Path.of("/dev/shm", "sb-test-" + UUID.randomUUID(), "aeron");
        args = new String[4 + extraArgs.length];
        args[0] = "--socket-dir";
        args[1] = socketDir.toString();
        args[2] = "--aeron-dir";
        args[3] = aeronDir.toString();
        System.arraycopy(extraArgs, 0, args, 4, extraArgs.length);
        if (start)
        {
            start();
        }
    }

    /**
     * Start the broker and wait until it is ready.
     */
    void start() throws IOException
    {
        process = ProcessHarness.start("broker", jvmArgs, BrokerMain.class, args);
        process.awaitLine("broker ready", 30_000);
    }

    /**
     * SIGKILL the broker, leaving its socket and media-driver directory behind as a crash does, then start a new one
     * on the same paths.
     */
    void killAndRestart() throws Exception
    {
        kill();
        restart();
    }

    /**
     * SIGKILL the broker, leaving its socket and media-driver directory behind as a crash does.
     */
    void kill() throws Exception
    {
        process.kill();
        if (!java.nio.file.Files.exists(socketDir.resolve("control.sock")))
        {
            throw new AssertionError("a killed broker should leave its control socket behind");
        }
    }

    /**
     * Start a new broker on the paths of the killed one.
     */
    void restart() throws Exception
    {
        process = ProcessHarness.start("broker", jvmArgs, BrokerMain.class, args);
        process.awaitLine("broker ready", 30_000);
    }

    /**
     * Open file descriptors of the broker process.
     */
    int fds()
    {
        final String[] names = new File("/proc/" + process.pid() + "/fd").list();
        return null == names ? -1 : names.length;
    }

    /**
     * Resident memory of the broker process, in KiB.
     */
    long rssKb() throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status")))
        {
            if (line.startsWith("VmRSS:"))
            {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /**
     * Descriptors are released a little after the resources they belong to (an Aeron image lingers 3 s in the
     * client after its publisher is gone): wait for the count to come down to the limit, and return what it is
     * when it does or when 30 s have passed.
     */
    int awaitFdsAtMost(final int limit)
    {
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        int n;
        while ((n = fds()) > limit && System.nanoTime() - deadline < 0)
        {
            Thread.yield();
        }
        return n;
    }

    Switchboard.Context clientContext(final String name)
    {
        return new Switchboard.Context()
            .controlSocket(socketDir.resolve("control.sock"))
            .clientName(name)
            .idleStrategy(new YieldingIdleStrategy());
    }

    Switchboard connect(final String name)
    {
        return Switchboard.connect(clientContext(name));
    }

    ProcessHarness startDemoServices() throws IOException
    {
        final ProcessHarness services = ProcessHarness.start(
            "demo-services", DemoServices.class, "--socket-dir", socketDir.toString());
        services.awaitLine("demo services ready", 30_000);
        return services;
    }

    public void close() throws Exception
    {
        try
        {
            if (null != process && process.process().isAlive())
            {
                process.terminate();
            }
        }
        finally
        {
            ProcessHarness.deleteRecursively(socketDir.toFile());
            final File parent = aeronDir.getParent().toFile();
            if (Files.exists(aeronDir))
            {
                throw new AssertionError("broker left its media-driver directory behind: " + aeronDir);
            }
            ProcessHarness.deleteRecursively(parent);
        }
    }
}
