package io.switchboard.broker;

import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class ExternalDriverTest
{
    @TempDir
    Path socketDir;

    @Test
    void shouldServeThroughAnExternalMediaDriverAndLeaveNoErrorsInItsLog() throws Exception
    {
        final String aeronDir = "/dev/shm/sb-ext-" + UUID.randomUUID();
        final MediaDriver.Context driverCtx = new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new YieldingIdleStrategy())
            .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(50))
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(false);
        try (MediaDriver driver = MediaDriver.launch(driverCtx))
        {
            try (Broker broker = Broker.launch(new Broker.Context()
                    .socketDir(socketDir).aeronDirectoryName(aeronDir).embeddedDriver(false).logger((m) -> {}));
                Switchboard service = Switchboard.connect(context(broker, "ext-service"));
                Switchboard caller = Switchboard.connect(context(broker, "ext-caller")))
            {
                final UnsafeBuffer pong = new UnsafeBuffer("pong".getBytes(StandardCharsets.UTF_8));
                service.serve(ServiceDefinition.named("ping").onOpaqueRequest("Ping",
                    (request, buffer, offset, length) -> request.reply(pong, 0, pong.capacity())));
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!caller.hasService("ping"))
                {
                    assertTrue(System.nanoTime() - deadline < 0, "route never arrived");
                    Thread.yield();
                }
                final UnsafeBuffer ping = new UnsafeBuffer("ping".getBytes(StandardCharsets.UTF_8));
                final Reply reply = caller.requestAsync("ping", "Ping", ping, 0, ping.capacity(), Duration.ofSeconds(5))
                    .get(10, TimeUnit.SECONDS);
                assertEquals("pong", reply.buffer().getStringWithoutLengthUtf8(0, reply.length()));
            }
            assertFalse(Files.exists(socketDir.resolve("control.sock")), "control socket removed on close");
            assertEquals(0, errorCount(driverCtx.aeronDirectory()), "media driver error log should be empty");
        }
        finally
        {
            deleteRecursively(new File(aeronDir));
        }
    }

    private static Switchboard.Context context(final Broker broker, final String name)
    {
        return new Switchboard.Context().controlSocket(broker.context().controlSocket()).clientName(name)
            .idleStrategy(new YieldingIdleStrategy());
    }

    private static int errorCount(final File aeronDirectory)
    {
        final CommonContext ctx = new CommonContext().aeronDirectoryName(aeronDirectory.getPath());
        try
        {
            ctx.conclude();
            return ctx.saveErrorLog(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        }
        finally
        {
            ctx.close();
        }
    }

    private static void deleteRecursively(final File file)
    {
        final File[] children = file.listFiles();
        if (null != children)
        {
            for (final File child : children)
            {
                deleteRecursively(child);
            }
        }
        file.delete();
    }
}
