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

    static CommandResult run(final String command, final String service, final JsonNode request,
        final long timeoutMs) throws InterruptedException
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
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
        {
            process.destroyForcibly();
            process.waitFor();
            return new CommandResult("", "TIMEOUT", "the command was still running after " + timeoutMs + " ms");
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
