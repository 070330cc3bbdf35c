package io.switchboard.broker.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SwitchboardCliTest
{
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(final String... args)
    {
        return new SwitchboardCli(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
    }

    @Test
    void shouldBuildPayloadFromPairsAndTypedPairs()
    {
        assertEquals("{\"key\":\"colour\",\"n\":3,\"flag\":true,\"list\":[1,2]}",
            SwitchboardCli.payload(List.of("key=colour", "n:=3", "flag:=true", "list:=[1,2]")).toString());
        assertEquals("{\"url\":\"a=b\"}", SwitchboardCli.payload(List.of("url=a=b")).toString());
        assertEquals("{\"a\":2,\"b\":3}", SwitchboardCli.payload(List.of("{\"a\": 2, \"b\": 3}")).toString());
        assertTrue(SwitchboardCli.payload(List.of()).isNull());
    }

    @Test
    void shouldRefuseMalformedPayloadArgumentsAsUsageErrors()
    {
        assertEquals(SwitchboardCli.EXIT_USAGE, run("--socket", dir.resolve("none.sock").toString(),
            "call", "svc", "Type", "n:={bad"));
        assertEquals(SwitchboardCli.EXIT_USAGE, run("call", "--frobnicate"));
        assertEquals(SwitchboardCli.EXIT_USAGE, run());
        // one line naming the problem and a pointer to --help, never the whole help text
        final String[] lines = err.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(6, lines.length, err.toString(StandardCharsets.UTF_8));
        for (int i = 0; i < lines.length; i += 2)
        {
            assertTrue(lines[i].startsWith("switchboard: "), lines[i]);
            assertTrue(lines[i + 1].startsWith("Try 'switchboard") && lines[i + 1].endsWith("--help' for more information."),
                lines[i + 1]);
        }
    }

    @Test
    void shouldExitThreeWithAClearMessageWhenNoBrokerListens()
    {
        assertEquals(SwitchboardCli.EXIT_NO_BROKER, run("--socket", dir.resolve("none.sock").toString(), "services"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no broker at"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldMapEachErrorClassToItsExitCode()
    {
        assertEquals(4, SwitchboardCli.ExitCodes.of("ACTOR_NOT_FOUND"));
        assertEquals(4, SwitchboardCli.ExitCodes.of("UNKNOWN_MESSAGE_TYPE"));
        assertEquals(5, SwitchboardCli.ExitCodes.of("SERIALIZATION_ERROR"));
        assertEquals(6, SwitchboardCli.ExitCodes.of("TIMEOUT"));
        assertEquals(7, SwitchboardCli.ExitCodes.of("SERVICE_UNAVAILABLE"));
        assertEquals(8, SwitchboardCli.ExitCodes.of("NAME_IN_USE"));
        assertEquals(9, SwitchboardCli.ExitCodes.of("EMPTY_KEY"));
        assertEquals(10, SwitchboardCli.ExitCodes.of("CANCELLED"));
        assertEquals(11, SwitchboardCli.ExitCodes.of("INTERNAL_ERROR"), "a handler crash is not a broker error");
        assertEquals(1, SwitchboardCli.ExitCodes.of("PROTOCOL_ERROR"));
    }

    @Test
    void shouldPrintHelp()
    {
        assertEquals(0, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("exit status:") &&
            out.toString(StandardCharsets.UTF_8).contains("11  INTERNAL_ERROR"), out.toString(StandardCharsets.UTF_8));
    }
}
