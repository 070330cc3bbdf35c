package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.broker.ErrorLogFile;
import io.switchboard.transport.PeerCountersFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "errors", usageHelpWidth = 110,
    description = {"The broker's distinct error log (errors.dat in the socket directory): each distinct error once, " +
        "with how often it happened, when first and last, and its stack trace. Readable while the broker runs and " +
        "after it exited (stopped or crashed); the next broker moves it to errors.previous.dat (--previous)."},
    footer = {"", "--json prints one document: {\"file\":\"...\",\"broker_pid\":...,\"broker_running\":false," +
        "\"broker_started\":\"...\",\"errors\":[{\"count\":3,\"first\":\"<ISO time>\",\"last\":\"<ISO time>\"," +
        "\"stack_trace\":\"...\"}]}", "", "exit status: 0 the log was read (with or without errors), " +
        "3 no error log at the socket's directory"})
final class ErrorsCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    SwitchboardCli cli;

    @Option(names = "--previous", description = "read the log of the broker before the last one")
    boolean previous;

    @Override
    public Integer call() throws Exception
    {
        final Path socket = null == cli.socket ? defaultSocket() : cli.socket;
        final Path file = socket.toAbsolutePath().normalize().getParent()
            .resolve(previous ? ErrorLogFile.PREVIOUS_FILE_NAME : ErrorLogFile.FILE_NAME);
        final ArrayNode errors = NODES.arrayNode();
        final ErrorLogFile.Summary summary = ErrorLogFile.read(file, (count, first, last, stack) -> errors.addObject()
            .put("count", count).put("first", Instant.ofEpochMilli(first).toString())
            .put("last", Instant.ofEpochMilli(last).toString()).put("stack_trace", stack));
        if (null == summary)
        {
            cli.err.println("switchboard: no error log at " + file + " (no broker ran with this socket directory)");
            return ExitCodes.NO_BROKER;
        }
        final boolean running = PeerCountersFile.isAlive(summary.pid(), summary.startMillis());
        final ObjectNode doc = NODES.objectNode().put("file", file.toString()).put("broker_pid", summary.pid())
            .put("broker_running", running).put("broker_started", Instant.ofEpochMilli(summary.startMillis()).toString());
        doc.set("errors", errors);
        if (cli.json)
        {
            cli.print(doc);
            return EXIT_OK;
        }
        cli.out.println(file + ": broker pid " + summary.pid() + " started " + doc.get("broker_started").asText() +
            (running ? ", running" : ", exited") + "; " + summary.errors() + " distinct error" +
            (1 == summary.errors() ? "" : "s"));
        for (final com.fasterxml.jackson.databind.JsonNode error : errors)
        {
            cli.out.println();
            cli.out.println(error.get("count").asLong() + " time(s), first " + error.get("first").asText() + ", last " +
                error.get("last").asText());
            cli.out.print(error.get("stack_trace").asText());
        }
        cli.out.flush();
        return EXIT_OK;
    }
}
