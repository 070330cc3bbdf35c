package io.switchboard.broker;

import io.switchboard.transport.TimerSlack;
import org.agrona.IoUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With {@code switchboard.timer.slack.ns} set, every agent thread of a broker parks with that timer slack, so that its
 * short parks do not last the kernel's default 50 µs (see {@link TimerSlack}; off by default).
 */
class BrokerTimerSlackTest
{
    @TempDir
    Path socketDir;

    @Test
    void shouldGiveEveryAgentThreadOfTheBrokerTheConfiguredTimerSlack() throws Exception
    {
        final String aeronDir = "/dev/shm/sb-slack-" + UUID.randomUUID();
        System.setProperty(TimerSlack.PROP, "1000");
        try (Broker broker = Broker.launch(new Broker.Context()
            .socketDir(socketDir).aeronDirectoryName(aeronDir + "/aeron").termLength(1 << 20).logger((m) -> { })))
        {
            final Map<String, Long> slackByName = threadSlacks();
            for (final String name : new String[]{ "switchboard-broker-conductor", "switchboard-gateway" })
            {
                assertEquals(1_000L, slackByName.getOrDefault(name, -1L), name + " in " + slackByName);
            }
            final long driverThreads = slackByName.keySet().stream().filter((n) -> n.contains("driver") ||
                n.contains("conductor") && !n.startsWith("switchboard")).count();
            assertTrue(driverThreads > 0, "the media driver's thread is there: " + slackByName);
            slackByName.forEach((name, slack) ->
            {
                if (name.contains("driver") || name.contains("conductor") && !name.startsWith("switchboard"))
                {
                    assertEquals(1_000L, slack, name + " in " + slackByName);
                }
            });
        }
        finally
        {
            System.clearProperty(TimerSlack.PROP);
            IoUtil.delete(new File(aeronDir), true);
        }
    }

    /** Thread name (the kernel's comm, at most 15 characters) to timer slack, for the threads of this process. */
    private static Map<String, Long> threadSlacks() throws IOException
    {
        final Map<String, Long> slacks = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task")))
        {
            for (final Path task : (Iterable<Path>)tasks::iterator)
            {
                try
                {
                    final String comm = Files.readString(task.resolve("comm")).trim();
                    final long slack = Long.parseLong(Files.readString(Path.of("/proc", task.getFileName().toString(), "timerslack_ns")).trim());
                    // comm is cut to 15 characters: match the thread by the Java name that begins with it
                    final String name = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                        .filter((n) -> n.startsWith(comm)).findFirst().orElse(comm);
                    slacks.put(name, slack);
                }
                catch (final IOException | NumberFormatException ex)
                {
                    // the thread ended while we read it
                }
            }
        }
        return slacks;
    }
}
