package io.switchboard.broker;

import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peers of another user, refused, read the broker's refusal every time, whatever the order of their first write and
 * the broker's answer: 20 rounds of a raw socket client on the gateway socket (writing at once, and writing after
 * the refusal was sent), and 20 rounds of the Java client on the control socket, which report FORBIDDEN. Before the
 * broker held refused connections open, the raw client's read ended in ECONNRESET (writing at once) or its write in
 * EPIPE (writing late), and the Java client saw a closed connection with no reason. Real processes of user
 * {@code nobody} ({@code setpriv}): needs root, setpriv and /usr/bin/python3, and FAILS without them unless switched
 * off with {@code -Dswitchboard.test.privileged=false}.
 */
class RefusedPeersTest
{
    private static final int ROUNDS = 20;
    private static final String PYTHON = "/usr/bin/python3";
    /** Per round: connect, write a HEARTBEAT (after argv[3] seconds), read to the end; prints one line per round. */
    private static final String RAW_CLIENT = String.join("\n",
        "import errno, json, socket, struct, sys, time",
        "for i in range(int(sys.argv[2])):",
        "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "    s.settimeout(10)",
        "    s.connect(sys.argv[1])",
        "    time.sleep(float(sys.argv[3]))",
        "    w = 'ok'",
        "    try:",
        "        s.sendall(struct.pack('>IBBB', 2, 2, 0x04, 1) + b'{}')",
        "    except OSError as e:",
        "        w = errno.errorcode.get(e.errno, str(e))",
        "    buf, end = b'', None",
        "    while end is None:",
        "        try:",
        "            c = s.recv(65536)",
        "            end = 'EOF' if not c else None",
        "            buf += c",
        "        except OSError as e:",
        "            end = errno.errorcode.get(e.errno, str(e))",
        "    code = json.loads(buf[7:7 + struct.unpack('>I', buf[:4])[0]]).get('error_code') if len(buf) >= 7 else None",
        "    s.close()",
        "    print('write=%s frame=%s end=%s' % (w, code, end))",
        "");

    private Path socketDir;
    private String aeronDir;
    private Path classPathCopy;
    private Broker broker;

    @BeforeEach
    void setUp() throws IOException
    {
        PrivilegedCommands.requirePrivileges("to run peers as another user");
        // under /tmp (1777), so that other users can reach it once the broker makes it 0711
        socketDir = Files.createTempDirectory(Paths.get("/tmp"), "sb-refused");
        aeronDir = "/dev/shm/sb-refused-" + System.nanoTime();
        broker = Broker.launch(new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir + "/aeron")
            .termLength(1 << 20)
            .allowUser("daemon") // opens the gateway socket to others; nobody stays refused
            .logger((line) -> { }));
    }

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
        if (null != classPathCopy)
        {
            IoUtil.delete(classPathCopy.toFile(), true);
        }
    }

    @Test
    void shouldLetARawSocketClientReadItsRefusalWhetherItWritesAtOnceOrLate() throws Exception
    {
        final Path socket = broker.context().gatewaySocket();
        for (final String delaySeconds : new String[]{"0", "0.05"})
        {
            final List<String> rounds = runAsNobody(PYTHON, "-c", RAW_CLIENT, socket.toString(),
                String.valueOf(ROUNDS), delaySeconds);
            assertEquals(ROUNDS, rounds.size(), "writing after " + delaySeconds + " s: " + rounds);
            for (final String round : rounds)
            {
                assertEquals("write=ok frame=FORBIDDEN end=EOF", round, "writing after " + delaySeconds + " s: " + rounds);
            }
        }
    }

    @Test
    void shouldLetAJavaClientOfAnotherUserReportForbiddenEveryTime() throws Exception
    {
        // the control socket is its owner's only (0600): opened here so that the broker's own check, by SO_PEERCRED,
        // is what refuses the peer, as it does for anyone who gets past the file's permissions
        final Path control = broker.context().controlSocket();
        Files.setPosixFilePermissions(control, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals("rwx--x--x", PosixFilePermissions.toString(Files.getPosixFilePermissions(control.getParent())));

        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:-UsePerfData", "-Xmx64m", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", classPathReadableByOthers(), RefusedPeerMain.class.getName(), control.toString(),
            String.valueOf(ROUNDS)));
        final List<String> output = runAsNobody(command.toArray(new String[0]));
        // the peers also log (their counters stay in memory: they cannot write into the broker's folder)
        final List<String> rounds = output.stream().filter((line) -> line.startsWith("round ")).toList();
        assertEquals(ROUNDS, rounds.size(), String.join("\n", output));
        for (final String round : rounds)
        {
            assertTrue(round.matches("round \\d+: FORBIDDEN FORBIDDEN: the broker at .* refused this peer: " +
                "peer runs as another user.*"), String.join("\n", rounds));
        }
    }

    /**
     * This JVM's class path, with the entries another user cannot read (the Maven repository under /root) copied to
     * a temporary directory they can.
     */
    private String classPathReadableByOthers() throws IOException
    {
        classPathCopy = Files.createTempDirectory(Paths.get("/tmp"), "sb-refused-cp");
        Files.setPosixFilePermissions(classPathCopy, PosixFilePermissions.fromString("rwxr-xr-x"));
        final List<String> entries = new ArrayList<>();
        int n = 0;
        for (final String entry : System.getProperty("java.class.path").split(File.pathSeparator))
        {
            final Path path = Path.of(entry);
            if (Files.isRegularFile(path) && entry.startsWith(System.getProperty("user.home")))
            {
                final Path copy = classPathCopy.resolve((n++) + "-" + path.getFileName());
                Files.copy(path, copy, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
                entries.add(copy.toString());
            }
            else
            {
                entries.add(entry);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static List<String> runAsNobody(final String... command) throws IOException, InterruptedException
    {
        final List<String> full = new ArrayList<>(List.of(
            PrivilegedCommands.SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        full.addAll(List.of(command));
        final ProcessBuilder pb = new ProcessBuilder(full).directory(new File("/")).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        final Process process = pb.start();
        final boolean exited = process.waitFor(120, TimeUnit.SECONDS);
        if (!exited)
        {
            process.destroyForcibly();
        }
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(exited, "did not finish: " + out);
        assertEquals(0, process.exitValue(), "failed: " + out);
        return List.of(out.strip().split("\n"));
    }
}
