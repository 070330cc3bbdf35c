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

@Command(name = "completion", usageHelpWidth = 110,
    description = {"Print a completion script for bash or zsh, generated from these commands and options.",
        "It also completes service names and message types, asked of the running broker at completion time",
        "(waiting at most 1 s for it; nothing is offered when no broker answers). Install:",
        "  bash: source <(switchboard completion bash)     (or save it in ~/.local/share/bash-completion/" +
            "completions/switchboard)",
        "  zsh:  source <(switchboard completion zsh)"})
final class CompletionCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    SwitchboardCli cli;

    @Parameters(index = "0", paramLabel = "SHELL", description = "bash or zsh")
    String shell;

    @Override
    public Integer call()
    {
        if (!"bash".equals(shell) && !"zsh".equals(shell))
        {
            throw new UsageException("SHELL must be bash or zsh, found '" + shell + "'");
        }
        cli.out.print(CompletionScript.generate(commandLine(new SwitchboardCli(cli.out, cli.err, cli.in)),
            "zsh".equals(shell)));
        cli.out.flush();
        return EXIT_OK;
    }
}
