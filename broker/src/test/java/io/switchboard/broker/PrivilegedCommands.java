package io.switchboard.broker;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * For tests that act as another user ({@code setpriv} as {@code nobody}) or mount a small tmpfs: they need root,
 * and FAIL without it unless switched off with {@code -Dswitchboard.test.privileged=false}.
 */
public final class PrivilegedCommands
{
    /** The property that switches the privileged tests off when {@code false}. */
    public static final String PRIVILEGED_PROP = "switchboard.test.privileged";
    /** Where {@code setpriv} is looked for. */
    public static final String SETPRIV = "/usr/bin/setpriv";

    private PrivilegedCommands()
    {
    }

    /**
     * Abort the test if switched off, else fail it unless this process is root with {@code setpriv} at hand.
     *
     * @param purpose what the privileges are for, for the failure's message.
     * @throws IOException if the process's uid cannot be read.
     */
    public static void requirePrivileges(final String purpose) throws IOException
    {
        if ("false".equals(System.getProperty(PRIVILEGED_PROP)))
        {
            abort("switched off with -D" + PRIVILEGED_PROP + "=false");
        }
        final Object uid = Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        if (!Integer.valueOf(0).equals(uid) || !Files.isExecutable(Paths.get(SETPRIV)))
        {
            fail("needs root (uid=" + uid + ") and " + SETPRIV + " " + purpose + "; run as root, or switch these " +
                "tests off with -D" + PRIVILEGED_PROP + "=false");
        }
    }

    /**
     * Run a command as {@code nobody} (group {@code nogroup}, no supplementary groups) and fail the test if it fails.
     *
     * @param command and its arguments.
     * @throws Exception if it cannot be started or waited for.
     */
    public static void asNobody(final String... command) throws Exception
    {
        final String[] full = new String[command.length + 4];
        full[0] = SETPRIV;
        full[1] = "--reuid=nobody";
        full[2] = "--regid=nogroup";
        full[3] = "--clear-groups";
        System.arraycopy(command, 0, full, 4, command.length);
        run(full);
    }

    /**
     * Run a command, waiting at most 20 s, and fail the test with its output if it does not exit 0.
     *
     * @param command and its arguments.
     * @throws Exception if it cannot be started or waited for.
     */
    public static void run(final String... command) throws Exception
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
