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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "reply", usageHelpWidth = 110,
    description = {
        "Serve SERVICE from the shell: register its message types and answer each request, one at a time,",
        "until Ctrl-C, --count or --deadline. The answer is, by default, the request's own payload (echo);",
        "with --payload a fixed payload; with --command the output of a shell command run per request:",
        "  sh -c CMD gets the request's payload (one line of JSON) on stdin and SWITCHBOARD_SERVICE,",
        "  SWITCHBOARD_MESSAGE_TYPE in its environment. Its stdout is the reply: one JSON document, or else",
        "  the text itself as a JSON string. For a stream request each non-empty line of stdout is one item.",
        "  A command exiting non-zero is answered with error code COMMAND_FAILED and its stderr's first line;",
        "  one still running when the caller's timeout passes is killed and answered TIMEOUT; one whose request",
        "  the caller cancels (a stream's --deadline passing) is killed, and nothing is answered."},
    footer = {"", "Prints 'TYPE PAYLOAD' per request served; --json prints each REQUEST frame whole: " +
        "{\"correlation_id\":\"...\",\"target\":\"...\",\"message_type\":\"...\",\"payload\":...,...}", "",
        ExitCodes.TABLE})
final class ReplyCommand extends GatewayCommand
{
    @Parameters(index = "0", paramLabel = "SERVICE", description = "the service name to serve")
    String service;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "TYPE", description = "its message types")
    List<String> types;

    @CommandLine.ArgGroup(exclusive = true)
    Answer answer;

    static final class Answer
    {
        @Option(names = "--echo", description = "answer each request with its own payload (the default)")
        boolean echo;

        @Option(names = "--payload", paramLabel = "JSON", description = "answer every request with this JSON " +
            "document")
        String payload;

        @Option(names = "--command", paramLabel = "CMD", description = "answer with the output of sh -c CMD")
        String command;
    }

    @Option(names = "--shared", description = "join the name with other instances (mode shared; default " +
        "exclusive, where a second server is refused NAME_IN_USE)")
    boolean shared;

    @Option(names = "--count", paramLabel = "N", description = "stop (exit 0) after answering N requests")
    Long count;

    @Option(names = "--deadline", paramLabel = "SECONDS", description = "stop (exit 0) after this long")
    Seconds deadline;

    private JsonNode fixed;
    /** Frames read while a command ran (to see a CANCEL), kept for the serving loop. */
    private final ArrayDeque<GatewayConnection.Frame> pending = new ArrayDeque<>();

    @Override
    void check()
    {
        if (null != count && count < 1)
        {
            throw new UsageException("--count must be at least 1, found " + count);
        }
        fixed = null != answer && null != answer.payload ? parse(answer.payload, "--payload") : null;
    }

    @Override
    int run(final GatewayConnection connection) throws Exception
    {
        final String id = cli.nextId();
        final ObjectNode register = NODES.objectNode().put("correlation_id", id).put("service", service)
            .put("mode", shared ? "shared" : "exclusive");
        final ArrayNode list = register.putArray("message_types");
        types.forEach(list::add);
        cli.send(connection, FrameType.REGISTER, register);
        final JsonNode registered = cli.awaitFrame(connection, id, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        if (null == registered)
        {
            return cli.timedOut("the broker did not confirm the registration", Seconds.ofSeconds(30));
        }
        if (!registered.path("success").asBoolean(false))
        {
            return cli.failure(registered);
        }
        cli.err.println("switchboard: serving " + service + " " + types);

        final long endNs = null == deadline ? Long.MAX_VALUE : System.nanoTime() + deadline.nanos;
        long served = 0;
        while (null == count || served < count)
        {
            final GatewayConnection.Frame frame = !pending.isEmpty() ? pending.poll() : cli.next(connection,
                null == deadline ? System.nanoTime() + TimeUnit.DAYS.toNanos(365) : endNs);
            if (null == frame)
            {
                if (null != deadline && System.nanoTime() - endNs >= 0)
                {
                    return EXIT_OK;
                }
                continue;
            }
            if (FrameType.REQUEST != frame.type)
            {
                continue; // heartbeats, cancels of requests already answered
            }
            served++;
            if (cli.json)
            {
                cli.print(frame.body);
            }
            else
            {
                cli.out.println(frame.body.path("message_type").asText() + " " +
                    Json.write(frame.body.path("payload")));
                cli.out.flush();
            }
            answer(connection, frame.body, fixed);
        }
        return EXIT_OK;
    }

    private void answer(final GatewayConnection connection, final JsonNode request, final JsonNode fixed)
        throws InterruptedException
    {
        final String correlationId = request.path("correlation_id").asText();
        final boolean stream = request.path("expects_stream").asBoolean(false);
        final List<JsonNode> items = new ArrayList<>();
        String errorCode = null;
        String error = null;
        if (null != answer && null != answer.command)
        {
            final CommandResult result = CommandResult.run(answer.command, service, request,
                request.path("response_timeout_ms").asLong(30_000), () -> cancelled(connection, correlationId));
            if (CommandResult.CANCELLED.equals(result.errorCode))
            {
                // the broker has answered the caller CANCELLED (a stream's final frame) already: nothing to send
                cli.err.println("switchboard: " + request.path("message_type").asText() + " " + correlationId +
                    ": cancelled by the caller; the command was stopped");
                return;
            }
            errorCode = result.errorCode;
            error = result.error;
            if (stream)
            {
                for (final String line : result.stdout.split("\n"))
                {
                    if (!line.isBlank())
                    {
                        items.add(textOrJson(line));
                    }
                }
            }
            else
            {
                items.add(result.stdout.isBlank() ? NODES.nullNode() : textOrJson(result.stdout));
            }
        }
        else
        {
            items.add(null != fixed ? fixed : request.path("payload"));
        }

        if (stream)
        {
            long sequence = 0;
            if (null == errorCode)
            {
                for (final JsonNode item : items)
                {
                    final ObjectNode frame = NODES.objectNode().put("correlation_id", correlationId)
                        .put("sequence", sequence++).put("is_final", false);
                    frame.set("payload", item);
                    cli.send(connection, FrameType.STREAM, frame);
                }
            }
            final ObjectNode last = NODES.objectNode().put("correlation_id", correlationId)
                .put("sequence", sequence).put("is_final", true);
            if (null != errorCode)
            {
                last.put("error", error).put("error_code", errorCode);
            }
            cli.send(connection, FrameType.STREAM, last);
        }
        else if (null != errorCode)
        {
            cli.send(connection, FrameType.ERROR, NODES.objectNode().put("correlation_id", correlationId)
                .put("success", false).put("error", error).put("error_code", errorCode));
        }
        else if (request.path("expects_reply").asBoolean(false))
        {
            final ObjectNode frame = NODES.objectNode().put("correlation_id", correlationId).put("success", true);
            frame.set("payload", items.get(0));
            cli.send(connection, FrameType.RESPONSE, frame);
        }
    }

    /**
     * Whether the broker has sent a CANCEL of request {@code correlationId}: reads what has arrived, waiting at most a
     * millisecond, and keeps every other frame (requests, heartbeats) for the serving loop, in order.
     */
    private boolean cancelled(final GatewayConnection connection, final String correlationId)
    {
        boolean cancelled = false;
        for (GatewayConnection.Frame frame; null != (frame = cli.next(connection, System.nanoTime() + 1_000_000)); )
        {
            if (FrameType.CANCEL == frame.type && correlationId.equals(frame.body.path("correlation_id").asText()))
            {
                cancelled = true;
            }
            else
            {
                pending.add(frame);
            }
        }
        return cancelled;
    }

    private static JsonNode textOrJson(final String text)
    {
        try
        {
            return Json.read(text);
        }
        catch (final JsonProcessingException ex)
        {
            return NODES.textNode(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
        }
    }
}
