package io.switchboard.examples;

import io.switchboard.broker.cli.SwitchboardCli;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The command-line tool as a user runs it: its own process against a real broker with the demo services.
 */
@Timeout(120)
class CommandLineSystemTest
{
    private static BrokerProcess broker;
    private static ProcessHarness services;

    @BeforeAll
    static void start() throws Exception
    {
        broker = new BrokerProcess();
        services = broker.startDemoServices();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (run("call", "calculator", "Add", "a:=0", "b:=0").exitCode != 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "the gateway never reached the calculator");
        }
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (null != services)
        {
            services.terminate();
        }
        if (null != broker)
        {
            broker.close();
        }
    }

    private static final class Result
    {
        final int exitCode;
        final String output;

        Result(final int exitCode, final String output)
        {
            this.exitCode = exitCode;
            this.output = output;
        }
    }

    private static Result run(final String... args) throws Exception
    {
        return runWithStdin(null, args);
    }

    private static String socket()
    {
        return broker.socketDir.resolve("broker.sock").toString();
    }

    /** The tool as its own process, given --socket first, with {@code stdin} written to its standard input. */
    private static Result runWithStdin(final String stdin, final String... args) throws Exception
    {
        final String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket();
        System.arraycopy(args, 0, all, 2, args.length);
        return runExactly(stdin, all);
    }

    /** The tool as its own process with exactly these arguments; stdout and stderr together. */
    private static Result runExactly(final String stdin, final String... args) throws Exception
    {
        try (ProcessHarness cli = ProcessHarness.start("cli", SwitchboardCli.class, args))
        {
            try (OutputStream in = cli.process().getOutputStream())
            {
                if (null != stdin)
                {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            assertTrue(cli.process().waitFor(60, TimeUnit.SECONDS), "the tool exits");
            cli.awaitEnd();
            return new Result(cli.process().exitValue(), cli.output());
        }
    }

    private static List<String> lines(final Result result)
    {
        return result.output.isEmpty() ? List.of() : Arrays.asList(result.output.split("\n"));
    }

    /** A usage error: exit 2, one line naming the problem, one pointing to the command's --help, no internals. */
    private static void assertUsageError(final Result result, final String problem, final String command)
    {
        assertEquals(2, result.exitCode, result.output);
        final List<String> lines = lines(result);
        assertEquals(2, lines.size(), "one line and a pointer to --help: " + result.output);
        assertTrue(lines.get(0).startsWith("switchboard: ") && lines.get(0).contains(problem), result.output);
        assertEquals("Try '" + command + " --help' for more information.", lines.get(1));
        for (final String internal : List.of("Exception", "For input string", "com.fasterxml", "Unexpected character",
            "at [Source", "java."))
        {
            assertFalse(result.output.contains(internal), "no library internals (" + internal + "): " + result.output);
        }
    }

    @Test
    void shouldCallStreamAndDescribeWithExitCodesPerErrorClass() throws Exception
    {
        final Result add = run("call", "calculator", "Add", "a:=2", "b:=3");
        assertEquals(0, add.exitCode, add.output);
        assertEquals(List.of("{\"value\":5}"), lines(add), "one line of JSON, as the README shows");

        final Result stream = run("stream", "countdown", "Countdown", "from:=3", "interval_ms:=0");
        assertEquals(0, stream.exitCode, stream.output);
        assertTrue(stream.output.contains("{\"remaining\":2}\n{\"remaining\":1}\n{\"remaining\":0}"), stream.output);

        final Result describe = run("describe", "calculator");
        assertEquals(0, describe.exitCode, describe.output);
        assertTrue(describe.output.contains("\"schema\"") && describe.output.contains("\"a\"") &&
            describe.output.contains("int64"), "fields from the IR: " + describe.output);

        final Result set = run("--json", "call", "kv_store", "Set", "key=colour", "value=teal");
        assertEquals(0, set.exitCode, set.output);
        assertTrue(set.output.contains("\"stored\":true") && set.output.contains("\"correlation_id\""), set.output);

        assertEquals(4, run("call", "nobody", "Add").exitCode, "not found");
        final Result bad = run("call", "calculator", "Add", "a=two", "b:=3");
        assertEquals(5, bad.exitCode, bad.output);
        assertTrue(bad.output.contains("SERIALIZATION_ERROR") && bad.output.contains("'a'"), bad.output);
        assertEquals(9, run("call", "kv_store", "Set", "key=", "value=x").exitCode, "the service's own error");
        assertEquals(2, run("call", "calculator").exitCode, "usage");
        assertEquals(3, new ProcessHarnessRun().noBroker(), "no broker");
    }

    @Test
    void shouldPublishAndListen() throws Exception
    {
        try (ProcessHarness listen = ProcessHarness.start("cli-listen", SwitchboardCli.class, "--socket",
            broker.socketDir.resolve("broker.sock").toString(), "listen", "cli.*", "--count", "1", "--timeout", "30"))
        {
            listen.awaitLine("listening to", 30_000);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (listen.process().isAlive())
            {
                assertTrue(System.nanoTime() - deadline < 0, "listen never printed the publication");
                assertEquals(0, run("publish", "cli.test", "n:=1").exitCode);
                listen.process().waitFor(200, TimeUnit.MILLISECONDS);
            }
            assertEquals(0, listen.process().exitValue());
            listen.awaitEnd();
            assertTrue(listen.output().contains("cli.test {\"n\":1}"), listen.output());
        }
    }

    @Test
    void shouldRefuseBadOptionsWithOneLineAndAPointerToTheCommandsHelp() throws Exception
    {
        assertUsageError(run("call", "calculator", "Add", "--timeout", "abc"),
            "Invalid value for option '--timeout': expected a number of seconds (e.g. 2 or 0.5), found 'abc'",
            "switchboard call");
        assertUsageError(run("call", "calculator", "Add", "-t", "5"), "Unknown option: '-t'", "switchboard call");
        assertUsageError(run("services", "--count", "3"), "Unknown options: '--count', '3'", "switchboard services");
        assertUsageError(run("stats", "--retain"), "Unknown option: '--retain'", "switchboard stats");
        assertUsageError(run("call", "calculator", "Add", "{\"a\": 2,"), "the payload is not valid JSON",
            "switchboard call");
        assertUsageError(run("call", "calculator", "Add", "n:={bad"), "the value of 'n' is not valid JSON",
            "switchboard call");
        assertUsageError(run("call", "calculator"), "Missing required parameter: 'TYPE'", "switchboard call");
        assertUsageError(run("publish", "a.b", "--count", "0"), "--count must be at least 1, found 0",
            "switchboard publish");
        assertUsageError(run("reply", "svc", "T", "--echo", "--payload", "1"), "mutually exclusive",
            "switchboard reply");
        assertUsageError(run("stream", "countdown", "Countdown", "--deadline", "-1"),
            "expected a positive number of seconds", "switchboard stream");

        final Result unknown = run("frobnicate");
        assertEquals(2, unknown.exitCode, unknown.output);
        assertEquals(List.of("switchboard: unknown command 'frobnicate'", "Try 'switchboard --help' for the list of " +
            "commands."), lines(unknown));

        // --opt=value, and the global options before or after the command
        final Result after = runExactly(null, "call", "calculator", "Add", "a:=1", "b:=1", "--timeout=5",
            "--socket=" + socket(), "--json");
        assertEquals(0, after.exitCode, after.output);
        assertTrue(after.output.startsWith("{\"correlation_id\":\"cli-1\",\"success\":true,\"payload\":{\"value\":2}"),
            after.output);
    }

    @Test
    void shouldPrintPerCommandHelpAndTheVersion() throws Exception
    {
        final Result help = runExactly(null, "stream", "--help");
        assertEquals(0, help.exitCode, help.output);
        assertTrue(help.output.startsWith("Usage: switchboard stream") && help.output.contains("--deadline") &&
            help.output.contains("11  INTERNAL_ERROR") && !help.output.contains("--retain"), help.output);

        final Result version = runExactly(null, "--version");
        assertEquals(0, version.exitCode, version.output);
        assertTrue(version.output.matches("switchboard \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(Java \\d+\\)\\n?"),
            version.output);
    }

    @Test
    void shouldReadThePayloadFromStdin() throws Exception
    {
        final Result add = runWithStdin("{\"a\": 4,\n \"b\": 5}\n", "call", "calculator", "Add", "-");
        assertEquals(0, add.exitCode, add.output);
        assertEquals(List.of("{\"value\":9}"), lines(add));

        assertUsageError(runWithStdin("", "call", "calculator", "Add", "-"), "the payload read from stdin is empty",
            "switchboard call");
        assertUsageError(runWithStdin("{\"a\":", "call", "calculator", "Add", "-"),
            "the payload read from stdin is not valid JSON", "switchboard call");
    }

    @Test
    void shouldServeFromTheShellWithReply() throws Exception
    {
        try (ProcessHarness echo = ProcessHarness.start("cli-reply-echo", SwitchboardCli.class, "--socket", socket(),
            "reply", "shell_echo", "Ping", "--count", "2");
            ProcessHarness upper = ProcessHarness.start("cli-reply-cmd", SwitchboardCli.class, "--socket", socket(),
                "reply", "shell_upper", "Up", "Lines", "Fail", "--command",
                "if [ \"$SWITCHBOARD_MESSAGE_TYPE\" = Fail ]; then echo broken >&2; exit 3; fi; tr a-z A-Z"))
        {
            echo.awaitLine("serving shell_echo", 30_000);
            upper.awaitLine("serving shell_upper", 30_000);

            final Result ping = run("call", "shell_echo", "Ping", "msg=hi");
            assertEquals(0, ping.exitCode, ping.output);
            assertEquals(List.of("{\"msg\":\"hi\"}"), lines(ping), "echo: the request's own payload");

            final Result up = run("call", "shell_upper", "Up", "\"abc\"");
            assertEquals(0, up.exitCode, up.output);
            assertEquals(List.of("\"ABC\""), lines(up), "the command's stdout, JSON");

            final Result stream = run("stream", "shell_upper", "Lines", "\"one\"");
            assertEquals(0, stream.exitCode, stream.output);
            assertEquals(List.of("\"ONE\""), lines(stream), "a stream: one item per line of output");

            final Result fail = run("call", "shell_upper", "Fail", "x:=1");
            assertEquals(9, fail.exitCode, fail.output);
            assertEquals(List.of("switchboard: COMMAND_FAILED: the command exited with status 3: broken"), lines(fail));

            final Result taken = run("reply", "shell_echo", "Ping", "--count", "1");
            assertEquals(8, taken.exitCode, "an exclusive name is refused NAME_IN_USE: " + taken.output);

            assertEquals(0, run("call", "shell_echo", "Ping", "n:=2").exitCode);
            assertTrue(echo.process().waitFor(30, TimeUnit.SECONDS), "reply --count 2 ends after two requests");
            assertEquals(0, echo.process().exitValue());
            echo.awaitEnd();
            assertTrue(echo.output().contains("Ping {\"msg\":\"hi\"}") && echo.output().contains("Ping {\"n\":2}"),
                echo.output());
        }
    }

    @Test
    void shouldStopTheCommandOfARequestTheCallerCancelled() throws Exception
    {
        // a command that takes 60 s for a 'slow' payload: the stream's --deadline cancels it after 1 s
        try (ProcessHarness reply = ProcessHarness.start("cli-reply-cancel", SwitchboardCli.class, "--socket", socket(),
            "reply", "shell_slow", "Work", "--command",
            "read p; case \"$p\" in *slow*) sleep 60 ;; esac; echo \"$p\""))
        {
            reply.awaitLine("serving shell_slow", 30_000);
            final Result cancelled = run("stream", "shell_slow", "Work", "slow:=1", "--deadline", "1");
            assertEquals(6, cancelled.exitCode, "the stream's deadline passed: " + cancelled.output);
            reply.awaitLine("cancelled by the caller; the command was stopped", 30_000);

            // the one-at-a-time server is free again: served at once, not after the cancelled command's 60 s
            final Result next = run("call", "shell_slow", "Work", "fast:=1", "--timeout", "30");
            assertEquals(0, next.exitCode, next.output);
            assertEquals(List.of("{\"fast\":1}"), lines(next));
        }
    }

    @Test
    void shouldPublishCountTimesAtAnInterval() throws Exception
    {
        try (ProcessHarness listen = ProcessHarness.start("cli-listen-count", SwitchboardCli.class, "listen",
            "cli.count.*", "--count", "3", "--timeout", "30", "--socket", socket()))
        {
            listen.awaitLine("listening to", 30_000);
            final Result publish = run("--json", "publish", "cli.count.x", "n:=7", "--count", "3", "--interval", "0.05");
            assertEquals(0, publish.exitCode, publish.output);
            assertEquals(3, lines(publish).size(), "one acknowledgement per publication: " + publish.output);
            assertTrue(listen.process().waitFor(30, TimeUnit.SECONDS), "listen --count 3 ends");
            assertEquals(0, listen.process().exitValue());
            listen.awaitEnd();
            assertEquals(3, listen.output().split("cli.count.x \\{\"n\":7}", -1).length - 1, listen.output());
        }

        final Result quiet = run("listen", "cli.nothing.here", "--timeout", "0.5");
        assertEquals(6, quiet.exitCode, "nothing for --timeout: " + quiet.output);
        assertTrue(quiet.output.contains("switchboard: TIMEOUT: no publication within 500 ms"), quiet.output);
        final Result bounded = run("listen", "cli.nothing.here", "--deadline", "0.5");
        assertEquals(0, bounded.exitCode, "--deadline ends listening: " + bounded.output);
    }

    @Test
    void shouldTakeStreamTimeoutAsTheGapBetweenItemsAndDeadlineAsTheCap() throws Exception
    {
        // eight items 500 ms apart: the stream (4 s) lasts longer than --timeout (3 s), but no gap does, with a
        // margin of six times the interval for a loaded machine
        final Result steady = run("stream", "countdown", "Countdown", "from:=8", "interval_ms:=500", "--timeout", "3");
        assertEquals(0, steady.exitCode, steady.output);
        assertEquals(8, lines(steady).size(), steady.output);

        final Result slow = run("stream", "countdown", "Countdown", "from:=3", "interval_ms:=3000", "--timeout", "0.5");
        assertEquals(6, slow.exitCode, "a gap longer than --timeout: " + slow.output);
        assertTrue(slow.output.contains("TIMEOUT"), slow.output);

        final Result capped = run("stream", "countdown", "Countdown", "from:=100", "interval_ms:=100", "--timeout", "5",
            "--deadline", "1");
        assertEquals(6, capped.exitCode, "--deadline caps the whole stream: " + capped.output);
        assertTrue(capped.output.contains("switchboard: TIMEOUT: the stream did not end within 1 s"), capped.output);
        assertTrue(lines(capped).size() > 2, "items came before the deadline: " + capped.output);
    }

    @Test
    void shouldExitElevenOnInternalErrorDistinctFromBrokerErrors() throws Exception
    {
        try (RawSocketClient server = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
        {
            server.send(0x0A, "{\"correlation_id\":\"r\",\"service\":\"crashing\",\"message_types\":[\"Go\"]}");
            assertNotNull(server.await(RawSocketClient.RESPONSE, "r", 30_000));
            try (ProcessHarness call = ProcessHarness.start("cli-internal", SwitchboardCli.class, "--socket", socket(),
                "call", "crashing", "Go"))
            {
                RawSocketClient.Frame request = null;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (null == request || request.type != 0x01)
                {
                    assertTrue(System.nanoTime() - deadline < 0, "the request never reached the serving socket");
                    request = server.read(1_000);
                }
                // a handler that failed without a code of its own: the broker answers INTERNAL_ERROR
                server.send(RawSocketClient.ERROR, "{\"correlation_id\":\"" +
                    request.body.path("correlation_id").asText() + "\",\"success\":false,\"error\":\"handler crashed\"}");
                assertTrue(call.process().waitFor(60, TimeUnit.SECONDS));
                call.awaitEnd();
                assertEquals(11, call.process().exitValue(), call.output());
                assertTrue(call.output().contains("switchboard: INTERNAL_ERROR: handler crashed"), call.output());
            }
        }
    }

    @Test
    void shouldCompleteCommandsOptionsServicesAndMessageTypes() throws Exception
    {
        final Result script = runExactly(null, "completion", "bash");
        assertEquals(0, script.exitCode, script.output);
        assertTrue(script.output.contains("complete -F _switchboard switchboard"), script.output);
        assertTrue(script.output.contains("stream) opts=\"--help --timeout --deadline --socket --json\""), script.output);

        // the script in bash, as TAB would run it: COMP_WORDS[0] is a launcher of the tool
        final Path dir = ProcessHarness.tempDir("sb-test-completion");
        try
        {
            final Path launcher = dir.resolve("switchboard");
            Files.writeString(launcher, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") +
                "' -cp '" + System.getProperty("java.class.path") + "' " + SwitchboardCli.class.getName() + " \"$@\"\n");
            assertTrue(launcher.toFile().setExecutable(true));
            Files.writeString(dir.resolve("completion.bash"), script.output);
            final String complete = "source " + dir.resolve("completion.bash") + "; complete_words() { " +
                "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _switchboard; echo \"${COMPREPLY[*]}\"; }; " +
                "complete_words " + launcher + " st; " +
                "complete_words " + launcher + " --socket " + socket() + " call calc; " +
                "complete_words " + launcher + " call --socket " + socket() + " calculator ''; " +
                "complete_words " + launcher + " stream --dead";
            try (ProcessHarness bash = ProcessHarness.startCommand("bash-completion", dir, "bash", "-c", complete))
            {
                assertTrue(bash.process().waitFor(60, TimeUnit.SECONDS));
                bash.awaitEnd();
                assertEquals(List.of("stream stats stat", "calculator", "Add Multiply", "--deadline"),
                    Arrays.asList(bash.output().split("\n")), bash.output());
            }
        }
        finally
        {
            ProcessHarness.deleteRecursively(dir.toFile());
        }

        final Result services = run("__complete", "services");
        assertEquals(0, services.exitCode, services.output);
        assertTrue(lines(services).containsAll(List.of("calculator", "countdown", "kv_store")), services.output);
        final Result types = run("__complete", "types", "calculator");
        assertEquals(0, types.exitCode, types.output);
        assertEquals(List.of("Add", "Multiply"), lines(types).stream().sorted().toList(), types.output);
    }

    @Test
    void shouldStartTheBrokerFromAConfigFileWithTheCommandLineWinning() throws Exception
    {
        final Path dir = ProcessHarness.tempDir("sb-test-config");
        final Path config = dir.resolve("broker.properties");
        Files.writeString(config, String.join("\n",
            "# the command line's --socket-dir wins over this one",
            "socket-dir=" + dir.resolve("not-used"),
            "demo=true",
            "switchboard.gateway.max.patterns=2",
            ""));
        try (BrokerProcess configured = new BrokerProcess("--config", config.toString()))
        {
            final String sock = configured.socketDir.resolve("broker.sock").toString();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (runExactly(null, "--socket", sock, "call", "calculator", "Add", "a:=1", "b:=1").exitCode != 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, "demo=true from the config file: no calculator");
            }
            final Result tooMany = runExactly(null, "--socket", sock, "listen", "a", "b", "c", "--deadline", "1");
            assertEquals(5, tooMany.exitCode, "max.patterns=2 from the config file: " + tooMany.output);
            assertTrue(tooMany.output.contains("INVALID_REQUEST"), tooMany.output);
            assertFalse(Files.exists(dir.resolve("not-used")), "the command line's --socket-dir won");
        }

        Files.writeString(config, "frobnicate=1\n");
        try (ProcessHarness refused = ProcessHarness.start("broker-bad-config", io.switchboard.broker.BrokerMain.class,
            "--config", config.toString()))
        {
            assertTrue(refused.process().waitFor(60, TimeUnit.SECONDS));
            refused.awaitEnd();
            assertEquals(2, refused.process().exitValue(), refused.output());
            assertTrue(refused.output().startsWith("switchboard broker: config file " + config +
                ": unknown key 'frobnicate'"), refused.output());
        }

        // an invalid value is a usage error (2) naming the file and the key: not the option it became, nor a bare
        // property, nor (a bad gateway limit) a broker started and stopped with status 70
        final String[][] invalid = {
            {"max-connections=abc", "key max-connections: 'abc' is not an int"},
            {"max-connections=-5", "key max-connections (-5): gateway limits must be positive: maxConnections=-5"},
            {"liveness-timeout-ms=0", "key liveness-timeout-ms (0): liveness timeout (0 ms) must exceed"},
            {"switchboard.term.length=1000", "key switchboard.term.length (1000): term length: expected a power of two"},
            {"demo=maybe", "key demo: takes true or false, found 'maybe'"},
            {"switchboard.timer.slack.ns=abc", "key switchboard.timer.slack.ns (abc): property " +
                "switchboard.timer.slack.ns: expected an integer, actual='abc'"},
            {"switchboard.link.term.length=64k", "key switchboard.link.term.length (64k): property " +
                "switchboard.link.term.length: expected an integer, actual='64k'"},
            {"switchboard.link.idle.yields=many", "key switchboard.link.idle.yields (many): property " +
                "switchboard.link.idle.yields: expected an integer, actual='many'"}};
        try
        {
            for (final String[] value : invalid)
            {
                Files.writeString(config, "# a valid line first\nrate-limit=100\n" + value[0] + "\n");
                try (ProcessHarness refused = ProcessHarness.start("broker-bad-value",
                    io.switchboard.broker.BrokerMain.class, "--config", config.toString(),
                    "--socket-dir", dir.resolve("run").toString()))
                {
                    assertTrue(refused.process().waitFor(60, TimeUnit.SECONDS), value[0]);
                    refused.awaitEnd();
                    assertEquals(2, refused.process().exitValue(), refused.output());
                    assertTrue(refused.output().startsWith("switchboard broker: config file " + config + ", " +
                        value[1]), refused.output());
                }
            }
            try (ProcessHarness refused = ProcessHarness.start("broker-bad-option",
                io.switchboard.broker.BrokerMain.class, "--max-connections=-5", "--socket-dir",
                dir.resolve("run").toString()))
            {
                assertTrue(refused.process().waitFor(60, TimeUnit.SECONDS));
                refused.awaitEnd();
                assertEquals(2, refused.process().exitValue(), refused.output());
                assertTrue(refused.output().startsWith("switchboard broker: gateway limits must be positive: " +
                    "maxConnections=-5"), refused.output());
            }
            assertFalse(Files.exists(dir.resolve("run")), "nothing was started");
        }
        finally
        {
            ProcessHarness.deleteRecursively(dir.toFile());
        }
    }

    /** The tool pointed at a socket with no broker behind it. */
    private static final class ProcessHarnessRun
    {
        int noBroker() throws Exception
        {
            try (ProcessHarness cli = ProcessHarness.start("cli", SwitchboardCli.class, "--socket",
                broker.socketDir.resolve("absent.sock").toString(), "services"))
            {
                assertTrue(cli.process().waitFor(60, TimeUnit.SECONDS));
                return cli.process().exitValue();
            }
        }
    }
}
