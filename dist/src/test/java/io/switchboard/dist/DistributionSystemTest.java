package io.switchboard.dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The distribution as a user installs it: bin/switchboard reached through a symlink in another directory, run from
 * yet another directory, starting a real broker and calling it.
 */
@Timeout(180)
class DistributionSystemTest
{
    @TempDir
    Path dir;

    private final Path home = Path.of(System.getProperty("switchboard.dist.home", "missing"));

    /** One finished command: exit status and everything it printed. */
    private record Result(int exitCode, String output)
    {
    }

    private Process start(final Path cwd, final String... command) throws IOException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true);
        builder.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        builder.environment().remove("SWITCHBOARD_SOCKET");
        return builder.start();
    }

    private Result run(final Path cwd, final String... command) throws Exception
    {
        final Process process = start(cwd, command);
        process.getOutputStream().close();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "exits: " + String.join(" ", command));
        return new Result(process.exitValue(), output);
    }

    @Test
    void shouldHoldOnlyRuntimeJarsAndTheLicence() throws Exception
    {
        assertTrue(Files.isExecutable(home.resolve("bin/switchboard")), "the distribution was built at " + home);
        assertTrue(Files.readString(home.resolve("LICENSE")).contains("Apache License"));
        assertTrue(Files.exists(home.resolve("share/systemd/switchboard.service")));
        final List<String> jars = new ArrayList<>();
        try (Stream<Path> lib = Files.list(home.resolve("lib")))
        {
            lib.forEach((jar) -> jars.add(jar.getFileName().toString()));
        }
        assertTrue(jars.contains("picocli-4.7.7.jar") && jars.stream().anyMatch((j) -> j.startsWith("switchboard-broker-")),
            jars.toString());
        for (final String jar : jars)
        {
            assertFalse(jar.contains("junit") || jar.contains("opentest4j") || jar.contains("-tests") ||
                jar.contains("jmh"), "no test jars on the runtime class path: " + jar);
        }
    }

    @Test
    void shouldRunThroughASymlinkFromAnotherDirectoryAndStopWithStatusZeroOnSigterm() throws Exception
    {
        final Path onPath = Files.createDirectories(dir.resolve("path-bin"));
        final Path link = onPath.resolve("switchboard");
        Files.createSymbolicLink(link, home.resolve("bin/switchboard"));
        final Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));

        final Result version = run(elsewhere, link.toString(), "--version");
        assertEquals(0, version.exitCode(), version.output());
        assertTrue(version.output().startsWith("switchboard 0.1.0"), version.output());

        final Path socketDir = dir.resolve("sock");
        final String socket = socketDir.resolve("broker.sock").toString();
        final Path aeronDir = Path.of("/dev/shm", "sb-test-dist-" + UUID.randomUUID(), "aeron");
        final Process broker = start(elsewhere, link.toString(), "broker", "--demo", "--socket", socket,
            "--aeron-dir", aeronDir.toString());
        try
        {
            final StringBuilder printed = new StringBuilder();
            final Thread reader = new Thread(() ->
            {
                try
                {
                    final byte[] chunk = new byte[4096];
                    int read;
                    while ((read = broker.getInputStream().read(chunk)) >= 0)
                    {
                        synchronized (printed)
                        {
                            printed.append(new String(chunk, 0, read, StandardCharsets.UTF_8));
                        }
                    }
                }
                catch (final IOException ignore)
                {
                    // the broker exited
                }
            });
            reader.setDaemon(true);
            reader.start();

            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Result add;
            do
            {
                assertTrue(System.nanoTime() - deadline < 0, "no answer from the broker started through the link: " +
                    printed);
                assertTrue(broker.isAlive(), "the broker exited: " + printed);
                add = run(elsewhere, link.toString(), "--socket", socket, "call", "calculator", "Add", "a:=2", "b:=3");
            }
            while (add.exitCode() != 0);
            assertEquals("{\"value\":5}\n", add.output());

            final File[] archives = dir.resolve("cache/switchboard").toFile().listFiles((f, name) -> name.endsWith(".jsa"));
            assertNotNull(archives);
            assertEquals(1, archives.length, "the class-data sharing archive recorded on the first run");

            broker.destroy(); // SIGTERM
            assertTrue(broker.waitFor(60, TimeUnit.SECONDS), "the broker stops on SIGTERM");
            reader.join(5_000);
            assertEquals(0, broker.exitValue(), "a clean stop on SIGTERM is status 0: " + printed);
            assertFalse(Files.exists(Path.of(socket)), "the socket is removed");
        }
        finally
        {
            broker.destroyForcibly();
            run(dir, "rm", "-rf", aeronDir.getParent().toString());
        }
    }
}
