package io.switchboard.broker.gateway;

import io.switchboard.broker.PrivilegedCommands;
import io.switchboard.broker.Broker;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * Peers of other users, served when allowed (SO_PEERCRED), refused otherwise: real processes of other users
 * ({@code setpriv}) speaking the raw protocol from Python. Needs root, {@code setpriv}, {@code /usr/bin/python3}
 * and the users {@code nobody} and {@code daemon}; FAILS where they are missing, unless switched off with
 * {@code -Dswitchboard.test.privileged=false}.
 */
class GatewayPeerCredentialsTest
{
    private static final String SETPRIV = PrivilegedCommands.SETPRIV;
    private static final String PYTHON = "/usr/bin/python3";
    /** Set to false to switch this test off where root, setpriv or the accounts are missing (it fails otherwise). */
    private static final String PRIVILEGED_PROP = PrivilegedCommands.PRIVILEGED_PROP;
    /** Sends a HEARTBEAT, prints each frame as "TYPE PAYLOAD" until the heartbeat reply, or "EOF". */
    private static final String CLIENT = String.join("\n",
        "import socket, struct, sys",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "s.settimeout(10)",
        "s.connect(sys.argv[1])",
        "try:",
        "    s.sendall(struct.pack('>IBBB', 2, 2, 0x04, 1) + b'{}')",
        "except OSError:",
        "    pass",
        "def read(n):",
        "    b = b''",
        "    while len(b) < n:",
        "        try:",
        "            c = s.recv(n - len(b))",
        "        except ConnectionResetError:",
        "            return None",
        "        if not c:",
        "            return None",
        "        b += c",
        "    return b",
        "while True:",
        "    h = read(7)",
        "    if h is None:",
        "        print('EOF')",
        "        break",
        "    length, version, kind, fmt = struct.unpack('>IBBB', h)",
        "    print(kind, read(length).decode())",
        "    if kind == 4:",
        "        break",
        "");

    private Path socketDir;
    private String aeronDir;
    private Broker broker;

    @AfterEach
    void tearDown()
    {
        if (null != broker)
        {
            broker.close();
        }
        if (null != aeronDir)
        {
            IoUtil.delete(new File(aeronDir), true);
        }
        if (null != socketDir)
        {
            IoUtil.delete(socketDir.toFile(), true);
        }
    }

    @Test
    void shouldServeAllowedUsersAndGroupsAndRefuseOthers() throws Exception
    {
        requireOtherUsers();
        // under /tmp (1777), so that other users can reach it once the broker makes it 0711
        socketDir = Files.createTempDirectory(Paths.get("/tmp"), "sb-gw-peers");
        aeronDir = "/dev/shm/sb-gw-peers-" + System.nanoTime();
        final List<String> log = new CopyOnWriteArrayList<>();
        broker = Broker.launch(new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron") // in a parent of its own (0700): the broker refuses /dev/shm itself
            .termLength(1 << 20)
            .allowUser("nobody")
            .allowGroup("100")
            .logger(log::add));
        final Path socket = broker.context().gatewaySocket();

        assertEquals("rwx--x--x", PosixFilePermissions.toString(Files.getPosixFilePermissions(socketDir)));
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("rw-------", PosixFilePermissions.toString(
            Files.getPosixFilePermissions(broker.context().controlSocket())), "the control socket stays private");
        assertTrue(log.stream().anyMatch((l) -> l.contains("0711") && l.contains("user nobody (uid 65534)") &&
            l.contains("group 100 (users)")), "logged: " + log);

        final String nobody = runAs(socket, "nobody", "nogroup");
        assertEquals("4 {}", nobody.trim(), "an allowed user is served");

        final String daemon = runAs(socket, "daemon", "daemon");
        final String[] lines = daemon.trim().split("\n");
        assertEquals(2, lines.length, daemon);
        assertTrue(lines[0].startsWith("3 ") && lines[0].contains("\"FORBIDDEN\""), "one ERROR FORBIDDEN: " + daemon);
        assertEquals("EOF", lines[1], "then the connection is closed");

        final String daemonInUsers = runAs(socket, "daemon", "users");
        assertEquals("4 {}", daemonInUsers.trim(), "a peer whose primary group is allowed is served");

        try (SocketClient own = new SocketClient(socket))
        {
            own.send(SocketClient.STATS, "{\"correlation_id\":\"st\"}");
            assertEquals(1, own.expect(SocketClient.RESPONSE).get("payload").get("peers_forbidden").asLong());
        }
    }

    /**
     * Root, setpriv, python3 and the users and groups the test runs clients as: without them the test FAILS, unless
     * switched off with {@code -Dswitchboard.test.privileged=false}.
     */
    private static void requireOtherUsers() throws IOException
    {
        if ("false".equals(System.getProperty(PRIVILEGED_PROP)))
        {
            abort("switched off with -D" + PRIVILEGED_PROP + "=false");
        }
        final Object uid = Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        final List<String> passwd = Files.readAllLines(Paths.get("/etc/passwd"));
        final List<String> groups = Files.readAllLines(Paths.get("/etc/group"));
        final boolean accounts = passwd.stream().anyMatch((l) -> l.startsWith("nobody:")) &&
            passwd.stream().anyMatch((l) -> l.startsWith("daemon:")) &&
            groups.stream().anyMatch((l) -> l.startsWith("daemon:")) &&
            groups.stream().anyMatch((l) -> l.startsWith("users:"));
        if (!Integer.valueOf(0).equals(uid) || !Files.isExecutable(Paths.get(SETPRIV)) ||
            !Files.isExecutable(Paths.get(PYTHON)) || !accounts)
        {
            fail("needs root (uid=" + uid + "), " + SETPRIV + ", " + PYTHON + ", users nobody and daemon and groups " +
                "daemon and users to run clients as other users; switch this test off with -D" + PRIVILEGED_PROP +
                "=false");
        }
    }

    private static String runAs(final Path socket, final String user, final String group)
        throws IOException, InterruptedException
    {
        final ProcessBuilder pb = new ProcessBuilder(SETPRIV, "--reuid=" + user, "--regid=" + group, "--clear-groups",
            PYTHON, "-c", CLIENT, socket.toString())
            .directory(new File("/"))
            .redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        final Process process = pb.start();
        final boolean exited = process.waitFor(20, TimeUnit.SECONDS);
        if (!exited)
        {
            process.destroyForcibly();
        }
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(exited, "client as " + user + " did not finish: " + out);
        assertEquals(0, process.exitValue(), "client as " + user + ":" + group + " failed: " + out);
        return out;
    }
}
