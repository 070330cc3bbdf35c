package io.switchboard.examples;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Java program run as its own process with the test class path, its output collected line by line so a test can
 * await a line (polling with a deadline, never sleeping a fixed time).
 */
final class ProcessHarness implements AutoCloseable
{
    private final String name;
    private final Process process;
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;

    private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static
    {
        // a test that fails half-way must not leave brokers or services running after the test JVM exits
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly)));
    }

    private ProcessHarness(final String name, final Process process)
    {
        this.name = name;
        this.process = process;
        LIVE.add(process);
        process.onExit().thenRun(() -> LIVE.remove(process));
        reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = in.readLine()))
                {
                    lines.add(line);
                }
            }
            catch (final IOException ignore)
            {
                // the process ended
            }
        }, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Run any program (python3, node) as its own process, its output collected like a Java one's.
     */
    static ProcessHarness startCommand(final String name, final Path workingDir, final String... command)
        throws IOException
    {
        final Process process = new ProcessBuilder(command).directory(workingDir.toFile()).redirectErrorStream(true)
            .start();
        return new ProcessHarness(name, process);
    }

    static ProcessHarness start(final String name, final Class<?> mainClass, final String... args) throws IOException
    {
        return start(name, List.of(), mainClass, args);
    }

    /**
     * Run a Java program with extra JVM options (system properties such as shortened timeouts).
     */
    static ProcessHarness start(
        final String name, final List<String> jvmArgs, final Class<?> mainClass, final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-opens");
        command.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        command.add("--add-opens"); // the socket peer's pid (junixsocket reads SO_PEERCRED on the channel's descriptor)
        command.add("java.base/sun.nio.ch=ALL-UNNAMED");
        command.add("-Xmx256m");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        Collections.addAll(command, args);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new ProcessHarness(name, process);
    }

    /**
     * Wait until the process prints a line containing the text.
     */
    String awaitLine(final String contains, final long timeoutMs)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0)
        {
            synchronized (lines)
            {
                for (final String line : lines)
                {
                    if (line.contains(contains))
                    {
                        return line;
                    }
                }
            }
            if (!process.isAlive())
            {
                awaitOutputDrained(); // the process is gone, but its last lines may still be in the pipe
                if (hasLine(contains))
                {
                    continue;
                }
                throw new AssertionError(name + " exited with " + process.exitValue() + " before printing '" +
                    contains + "'; output:\n" + output());
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        throw new AssertionError(name + " did not print '" + contains + "' within " + timeoutMs + " ms; output:\n" +
            output());
    }

    /**
     * Wait up to the timeout for a line; unlike {@link #awaitLine}, not seeing it is not a failure.
     */
    boolean awaitLineOrNothing(final String contains, final long timeoutMs)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0)
        {
            if (hasLine(contains))
            {
                return true;
            }
            Thread.yield();
        }
        return false;
    }

    /**
     * After the process has exited: wait until all its output has been read.
     */
    void awaitEnd()
    {
        awaitOutputDrained();
    }

    private void awaitOutputDrained()
    {
        try
        {
            reader.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private boolean hasLine(final String contains)
    {
        synchronized (lines)
        {
            return lines.stream().anyMatch((l) -> l.contains(contains));
        }
    }

    String output()
    {
        synchronized (lines)
        {
            return String.join("\n", lines);
        }
    }

    /**
     * Write a line to the process's standard input.
     */
    void sendLine(final String line) throws IOException
    {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    long pid()
    {
        return process.pid();
    }

    Process process()
    {
        return process;
    }

    /**
     * SIGKILL: no shutdown hook, no close, exactly what a crash looks like to the others.
     */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * SIGTERM and wait for the exit code.
     */
    int terminate() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(name + " did not stop on SIGTERM within 20 s; output:\n" + output());
        }
        return process.exitValue();
    }

    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static Path tempDir(final String prefix) throws IOException
    {
        return Files.createTempDirectory(prefix);
    }

    static void deleteRecursively(final File file)
    {
        final File[] children = file.listFiles();
        if (null != children)
        {
            for (final File child : children)
            {
                deleteRecursively(child);
            }
        }
        file.delete();
    }
}
