package io.switchboard.broker.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The command-line tool never talks to a socket in a directory another user owns: an impostor listening there gets
 * no connection. Needs root and {@code setpriv} (to make that directory as {@code nobody}); FAILS without them,
 * unless switched off with {@code -Dswitchboard.test.privileged=false}.
 */
class GatewayConnectionTrustTest
{
    @Test
    void shouldRefuseToConnectToASocketInAnotherUsersDirectoryAndNeverReachTheImpostor() throws Exception
    {
        if ("false".equals(System.getProperty("switchboard.test.privileged")))
        {
            abort("switched off with -Dswitchboard.test.privileged=false");
        }
        final Object uid = Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        if (!Integer.valueOf(0).equals(uid) || !Files.isExecutable(Paths.get("/usr/bin/setpriv")))
        {
            fail("needs root (uid=" + uid + ") and /usr/bin/setpriv; switch off with -Dswitchboard.test.privileged=false");
        }
        final Path shared = Files.createTempDirectory(Paths.get("/tmp"), "sb-cli-shared");
        final Path dir = shared.resolve("switchboard-0");
        try
        {
            run("chmod", "1777", shared.toString());
            run("/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "mkdir", "-m", "0777",
                dir.toString());
            final Path socket = dir.resolve("broker.sock");
            try (ServerSocketChannel impostor = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
            {
                impostor.bind(UnixDomainSocketAddress.of(socket));
                impostor.configureBlocking(false);
                final ByteArrayOutputStream err = new ByteArrayOutputStream();
                final int code = new SwitchboardCli(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8)).run(new String[] {"--socket", socket.toString(), "services"});
                final String message = err.toString(StandardCharsets.UTF_8);

                assertEquals(SwitchboardCli.EXIT_NO_BROKER, code, message);
                assertTrue(message.contains("not connecting to " + socket) &&
                    message.contains("owned by nobody (uid 65534)"), message);
                assertNull(impostor.accept(), "the impostor was never connected to");
            }
        }
        finally
        {
            run("rm", "-rf", shared.toString());
        }
    }

    private static void run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).directory(new File("/")).redirectErrorStream(true).start();
        final boolean exited = process.waitFor(20, TimeUnit.SECONDS);
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited)
        {
            process.destroyForcibly();
        }
        assertTrue(exited && 0 == process.exitValue(), String.join(" ", command) + " failed: " + out);
    }
}
