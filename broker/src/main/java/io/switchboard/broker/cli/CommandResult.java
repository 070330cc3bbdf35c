package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.TrustedDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.switchboard.broker.cli.SwitchboardCli.*;

/** What a command run by {@code reply --command} produced. */
final class CommandResult
{
    final String stdout;
    final String errorCode;
    final String error;

    private CommandResult(final String stdout, final String errorCode, final String error)
    {
        this.stdout = stdout;
        this.errorCode = errorCode;
        this.error = error;
    }

    /** A command stopped because the caller cancelled the request: nothing is to be answered. */
    static final String CANCELLED = "CANCELLED";

    /**
     * Run {@code sh -c command} for one request.
     *
     * @param command the shell command.
     * @param service the service served, for SWITCHBOARD_SERVICE.
     * @param request the REQUEST frame; its payload is written to the command's stdin.
     * @param timeoutMs after which the command is killed and the request answered TIMEOUT.
     * @param cancelled asked every 50 ms while the command runs: true when the caller cancelled the request; the
     *     command (and what it started) is then killed, and the result's error code is {@link #CANCELLED}.
     * @return what the command printed, or the error to answer.
     * @throws InterruptedException if interrupted while waiting for the command.
     */
    static CommandResult run(final String command, final String service, final JsonNode request,
        final long timeoutMs, final BooleanSupplier cancelled) throws InterruptedException
    {
        final ProcessBuilder builder = new ProcessBuilder("sh", "-c", command);
        builder.environment().put("SWITCHBOARD_SERVICE", service);
        builder.environment().put("SWITCHBOARD_MESSAGE_TYPE", request.path("message_type").asText());
        final Process process;
        try
        {
            process = builder.start();
        }
        catch (final IOException ex)
        {
            return new CommandResult("", "COMMAND_FAILED", "cannot run sh: " + oneLine(ex.getMessage()));
        }
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final Thread outReader = drain(process.getInputStream(), stdout);
        final Thread errReader = drain(process.getErrorStream(), stderr);
        try (var stdin = process.getOutputStream())
        {
            stdin.write((Json.write(request.path("payload")) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        catch (final IOException ignore)
        {
            // a command that does not read its stdin is fine
        }
        final long endNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!process.waitFor(Math.max(0, Math.min(50, TimeUnit.NANOSECONDS.toMillis(endNs - System.nanoTime()))),
            TimeUnit.MILLISECONDS))
        {
            if (cancelled.getAsBoolean())
            {
                kill(process);
                return new CommandResult("", CANCELLED, "the caller cancelled the request");
            }
            if (System.nanoTime() - endNs >= 0)
            {
                kill(process);
                return new CommandResult("", "TIMEOUT", "the command was still running after " + timeoutMs + " ms");
            }
        }
        outReader.join();
        errReader.join();
        final String out = stdout.toString(StandardCharsets.UTF_8);
        if (process.exitValue() != 0)
        {
            final String firstLine = oneLine(stderr.toString(StandardCharsets.UTF_8));
            return new CommandResult(out, "COMMAND_FAILED", "the command exited with status " +
                process.exitValue() + (firstLine.isEmpty() ? "" : ": " + firstLine));
        }
        return new CommandResult(out, null, null);
    }

    /** Kill the command and whatever it started (a `sleep` of sh's would otherwise keep running). */
    private static void kill(final Process process) throws InterruptedException
    {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor();
    }

    private static Thread drain(final InputStream from, final ByteArrayOutputStream to)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                final byte[] chunk = new byte[8192];
                int read;
                while ((read = from.read(chunk)) >= 0)
                {
                    if (to.size() < MAX_STDIN_BYTES)
                    {
                        to.write(chunk, 0, read);
                    }
                }
            }
            catch (final IOException ignore)
            {
                // the process is gone
            }
        }, "reply-command-output");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
