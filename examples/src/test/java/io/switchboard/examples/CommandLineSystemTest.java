package io.switchboard.examples;

import io.switchboard.broker.cli.SwitchboardCli;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
        final String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = broker.socketDir.resolve("broker.sock").toString();
        System.arraycopy(args, 0, all, 2, args.length);
        try (ProcessHarness cli = ProcessHarness.start("cli", SwitchboardCli.class, all))
        {
            assertTrue(cli.process().waitFor(60, TimeUnit.SECONDS), "the tool exits");
            cli.awaitEnd();
            return new Result(cli.process().exitValue(), cli.output());
        }
    }

    @Test
    void shouldCallStreamAndDescribeWithExitCodesPerErrorClass() throws Exception
    {
        final Result add = run("call", "calculator", "Add", "a:=2", "b:=3");
        assertEquals(0, add.exitCode, add.output);
        assertTrue(add.output.replace(" ", "").contains("\"value\":5"), add.output);

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
