package io.switchboard.examples;

import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.transport.Reply;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker process is stopped (SIGSTOP, as a suspended laptop or a VM pause would) for longer than every timeout
 * that could fire on it: the peers' liveness, the media driver's client liveness, the Aeron clients' driver timeout
 * and service interval. After SIGCONT it answers again without a restart: a socket call and a Java call are served,
 * its own gateway was never dropped for silence, nothing crashed, and SIGTERM still ends it with status 0 and its
 * sockets and media-driver directory removed.
 * <p>
 * The timeouts are shortened with system properties so the test takes seconds. For a manual check with the default
 * timeouts: {@code -Dswitchboard.test.pause.default.timeouts=true -Dswitchboard.test.pause.ms=15000} (or 60000...).
 */
@Timeout(900)
class PauseSystemTest
{
    private static final boolean DEFAULT_TIMEOUTS = Boolean.getBoolean("switchboard.test.pause.default.timeouts");
    private static final long PAUSE_MS = Long.getLong("switchboard.test.pause.ms", 4_000);
    /** Aeron's client-side driver timeout and the driver's client liveness: 2 s, well inside the pause. */
    private static final List<String> SHORT_AERON_TIMEOUTS = List.of(
        "-Daeron.driver.timeout=2000",
        "-Daeron.client.liveness.timeout=" + TimeUnit.MILLISECONDS.toNanos(2_000));

    @Test
    void shouldAnswerSocketAndJavaCallsAfterAPauseLongerThanEveryTimeout() throws Exception
    {
        final List<String> brokerJvm = new ArrayList<>();
        final List<String> peerJvm = new ArrayList<>();
        final List<String> brokerArgs = new ArrayList<>();
        if (!DEFAULT_TIMEOUTS)
        {
            brokerJvm.addAll(SHORT_AERON_TIMEOUTS);
            brokerJvm.add("-Dswitchboard.heartbeat.interval.ms=250");
            peerJvm.add("-Daeron.driver.timeout=2000");
            brokerArgs.add("--liveness-timeout-ms");
            brokerArgs.add("1500");
        }
        try (BrokerProcess broker = new BrokerProcess(brokerJvm, brokerArgs.toArray(new String[0]));
            ProcessHarness services = ProcessHarness.start("demo-services", peerJvm, DemoServices.class,
                "--socket-dir", broker.socketDir.toString(), "--no-price-feed");
            Switchboard client = Switchboard.connect(broker.clientContext("pause-test")
                .reconnectBackoffNs(TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.MILLISECONDS.toNanos(500))))
        {
            services.awaitLine("demo services ready", 30_000);
            JavaPathSystemTest.awaitService(client, "calculator");
            assertEquals(42, javaAdd(client, 20, 22, 10));
            try (RawSocketClient socket = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
            {
                assertEquals(5, socketAdd(socket, "before", 2, 3, 10));
            }

            final long pid = broker.process.pid();
            final long stoppedNs = System.nanoTime();
            signal("STOP", pid);
            try
            {
                // the pause is the input of this test, not a condition to await: hold it for its full length
                final long deadlineNs = stoppedNs + TimeUnit.MILLISECONDS.toNanos(PAUSE_MS);
                while (System.nanoTime() - deadlineNs < 0)
                {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                }
                if (!DEFAULT_TIMEOUTS)
                {
                    // the demo services' Aeron client gave up on the stopped driver: the peer side really timed out
                    services.awaitLine("lost the broker", 10_000);
                }
            }
            finally
            {
                signal("CONT", pid);
            }
            final long resumedNs = System.nanoTime();

            broker.process.awaitLine("did not run for", 10_000);
            assertTrue(broker.process.process().isAlive(), "broker died after SIGCONT:\n" + broker.process.output());
            if (!DEFAULT_TIMEOUTS || PAUSE_MS > 10_000)
            {
                broker.process.awaitLine("Aeron client is open again", 10_000);
            }

            // the socket path: the gateway (its Switchboard client reconnected if its Aeron client was closed)
            final long socketMs;
            try (RawSocketClient socket = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
            {
                assertEquals(42, socketAdd(socket, "after", 40, 2, 30_000));
                socketMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedNs);
            }
            // the Java path: the demo services' peer and this client reconnected as after a broker restart
            assertEquals(42, javaAdd(client, 21, 21, 30_000));
            final long javaMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedNs);
            System.out.println("PauseSystemTest: paused " + PAUSE_MS + " ms (" +
                (DEFAULT_TIMEOUTS ? "default" : "shortened") + " timeouts); socket call answered " + socketMs +
                " ms after SIGCONT, Java call " + javaMs + " ms after SIGCONT");

            final String output = broker.process.output();
            assertFalse(output.contains("silent for more than"), "a peer was dropped for the broker's own pause:\n" +
                output);
            assertFalse(output.contains("SIGSEGV") || output.contains("A fatal error"), output);
            assertFalse(Files.exists(Path.of("hs_err_pid" + pid + ".log")), "the broker crashed: hs_err_pid" + pid);

            assertEquals(0, broker.process.terminate(), "exit status on SIGTERM; output:\n" + broker.process.output());
            assertFalse(Files.exists(broker.socketDir.resolve("control.sock")), "control socket left behind");
            assertFalse(Files.exists(broker.socketDir.resolve("broker.sock")), "gateway socket left behind");
            assertFalse(Files.exists(broker.aeronDir), "media-driver directory left behind");
        }
    }

    private static long javaAdd(final Switchboard client, final long a, final long b, final long withinMs)
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH +
            new AddEncoder().wrapAndApplyHeader(request, 0, new MessageHeaderEncoder()).a(a).b(b).encodedLength();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMs);
        Throwable last = null;
        while (System.nanoTime() - deadline < 0)
        {
            try
            {
                final Reply reply = client.requestAsync("calculator", "Add", request, 0, length, Duration.ofSeconds(5))
                    .get(10, TimeUnit.SECONDS);
                return new ResultDecoder().wrapAndApplyHeader(reply.buffer(), 0, new MessageHeaderDecoder()).value();
            }
            catch (final Exception ex)
            {
                last = ex; // SERVICE_UNAVAILABLE / ACTOR_NOT_FOUND while the peers reconnect
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        throw new AssertionError("no Java call answered within " + withinMs + " ms; last: " + last, last);
    }

    private static int socketAdd(
        final RawSocketClient socket, final String id, final int a, final int b, final long withinMs) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMs);
        RawSocketClient.Frame last = null;
        for (int n = 0; System.nanoTime() - deadline < 0; n++)
        {
            final String correlationId = id + "-" + n;
            socket.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"" + correlationId +
                "\",\"target\":\"calculator\",\"message_type\":\"Add\",\"payload\":{\"a\":" + a + ",\"b\":" + b +
                "},\"expects_reply\":true}");
            last = socket.read(10_000);
            while (null != last && !correlationId.equals(last.body.path("correlation_id").asText()))
            {
                last = socket.read(10_000);
            }
            if (null != last && RawSocketClient.RESPONSE == last.type)
            {
                return last.body.get("payload").get("value").asInt();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("no socket call answered within " + withinMs + " ms; last: " + last);
    }

    private static void signal(final String signal, final long pid) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid);
    }
}
