package io.switchboard.broker.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static io.switchboard.broker.PrivilegedCommands.asNobody;
import static io.switchboard.broker.PrivilegedCommands.requirePrivileges;
import static io.switchboard.broker.PrivilegedCommands.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        requirePrivileges("to make a directory as nobody");
        final Path shared = Files.createTempDirectory(Paths.get("/tmp"), "sb-cli-shared");
        final Path dir = shared.resolve("switchboard-0");
        try
        {
            run("chmod", "1777", shared.toString());
            asNobody("mkdir", "-m", "0777", dir.toString());
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
}
