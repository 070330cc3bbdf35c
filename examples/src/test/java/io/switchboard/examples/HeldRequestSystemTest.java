package io.switchboard.examples;

import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway's requests to Java inboxes never wait on the gateway's duty cycle: a request the service's inbox cannot
 * take yet (back-pressured, or the rest of a long message) is kept and resumed each duty cycle, its connection not
 * read meanwhile, and fails {@code TARGET_BUSY} after the send timeout (nothing taken) or the piece timeout (a later
 * piece); other connections' calls to other services are answered meanwhile. Real broker, real media driver, a real
 * service process that is stopped with SIGSTOP.
 */
@Timeout(300)
class HeldRequestSystemTest
{
    private static final int KIB_64 = 64 * 1024;
    private static final int MIB = 1024 * 1024;

    /**
     * One 64 KiB request at a time to an idle Java service: the IPC publisher's limit moves only when the media
     * driver's conductor runs, so a single attempt at the inbox (what the gateway made) found it full now and then
     * and answered TARGET_BUSY to a caller whose service was idle.
     */
    @Test
    void shouldNeverAnswerTargetBusyToOneAtATime64KiBRequestsToAnIdleService() throws Exception
    {
        try (BrokerProcess broker = new BrokerProcess();
            Switchboard service = broker.connect("echo-in-test");
            RawSocketClient socket = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
        {
            service.serve(ServiceDefinition.named("echo")
                .onOpaqueRequest("Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
            awaitReachable(socket, "echo");
            final String payload = jsonString(KIB_64);
            for (int i = 0; i < 200; i++)
            {
                final String id = "r" + i;
                socket.send(RawSocketClient.REQUEST, request(id, "echo", payload, 30_000));
                final RawSocketClient.Frame answer = socket.await(id, 30_000);
                assertEquals(RawSocketClient.RESPONSE, answer.type, "request " + i + " of 200: " + answer);
                assertEquals(KIB_64, answer.body.get("payload").asText().length(), "request " + i);
            }
        }
    }

    /**
     * A 1 MiB request to a stopped Java service: the inbox takes the pieces that fit its window, then the gateway
     * holds the rest and goes on serving: a second socket client's calls to another service are answered while the
     * first is held, and the first gets TARGET_BUSY after the piece timeout. Resumed, the service serves again.
     */
    @Test
    void shouldServeOtherConnectionsWhileALongRequestToAStoppedServiceIsHeld() throws Exception
    {
        try (StoppableService rig = new StoppableService())
        {
            final RawSocketClient a = rig.a;
            final RawSocketClient b = rig.b;

            signal("STOP", rig.stopped.pid());
            try
            {
                a.send(RawSocketClient.REQUEST, request("long", "stopped", jsonString(MIB), 60_000));
                final CallsMeanwhile meanwhile = callWhileWaiting(b, a, "long");
                assertEquals(RawSocketClient.ERROR, meanwhile.answer.type, meanwhile.answer.toString());
                assertEquals("TARGET_BUSY", meanwhile.answer.body.path("error_code").asText(),
                    meanwhile.answer.toString());
                // held, resumed, and let go after the piece timeout: not the single attempt of before
                assertTrue(meanwhile.answer.body.path("error").asText().contains("within the piece timeout"),
                    meanwhile.answer.toString());
                assertTrue(meanwhile.answeredBefore > 0, "no call of the other connection was answered while the " +
                    "long request was held (" + meanwhile.answeredBefore + " of " + meanwhile.sent + ")");
            }
            finally
            {
                signal("CONT", rig.stopped.pid());
            }
            // the service drops the unfinished message and serves again
            awaitReachable(a, "stopped");
        }
    }

    /**
     * Pipelined 64 KiB requests to a stopped Java service: the inbox takes what fits its window, the next request is
     * held (first piece) and fails TARGET_BUSY after the send timeout, the ones behind it in turn; another
     * connection is served meanwhile; every request gets exactly one answer, and those the inbox took are answered
     * once the service is resumed.
     */
    @Test
    void shouldFailHeldRequestsToAStoppedServiceTargetBusyAndAnswerTheTakenOnesAfterResume() throws Exception
    {
        final int count = 16;
        try (StoppableService rig = new StoppableService())
        {
            final RawSocketClient a = rig.a;
            final RawSocketClient b = rig.b;

            final String payload = jsonString(KIB_64);
            final Map<String, RawSocketClient.Frame> answers = new HashMap<>();
            signal("STOP", rig.stopped.pid());
            try
            {
                // written by another thread: the gateway does not read this connection while one of its requests is
                // held, so the write of all of them outlasts the first held request
                final java.util.concurrent.CompletableFuture<Void> written =
                    java.util.concurrent.CompletableFuture.runAsync(() ->
                    {
                        try
                        {
                            for (int i = 0; i < count; i++)
                            {
                                a.send(RawSocketClient.REQUEST, request("p" + i, "stopped", payload, 120_000));
                            }
                        }
                        catch (final java.io.IOException ex)
                        {
                            throw new java.io.UncheckedIOException(ex);
                        }
                    });
                final CallsMeanwhile meanwhile = callWhileWaiting(b, a, null);
                answers.put(meanwhile.answer.body.path("correlation_id").asText(), meanwhile.answer);
                assertEquals("TARGET_BUSY", meanwhile.answer.body.path("error_code").asText(),
                    meanwhile.answer.toString());
                // held, resumed, and let go after the send timeout: not the single attempt of before
                assertTrue(meanwhile.answer.body.path("error").asText().contains("within the send timeout"),
                    meanwhile.answer.toString());
                assertTrue(meanwhile.answeredBefore > 0, "no call of the other connection was answered while " +
                    "requests were held (" + meanwhile.answeredBefore + " of " + meanwhile.sent + "); first answer " +
                    meanwhile.answer);
                // the rest of the held ones fail in turn while the service is still stopped
                written.get(60, TimeUnit.SECONDS);
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() - deadlineNs < 0)
                {
                    final RawSocketClient.Frame f = a.read(2_000);
                    if (null == f)
                    {
                        break; // the ones left were taken by the inbox: answered once the service runs
                    }
                    answers.put(f.body.path("correlation_id").asText(), f);
                }
            }
            finally
            {
                signal("CONT", rig.stopped.pid());
            }
            while (answers.size() < count)
            {
                final RawSocketClient.Frame f = a.read(30_000);
                assertTrue(null != f, "answers for only " + answers.keySet());
                final String id = f.body.path("correlation_id").asText();
                assertTrue(null == answers.put(id, f), "two answers for " + id + ": " + f);
            }
            int busy = 0;
            int replied = 0;
            for (final RawSocketClient.Frame f : answers.values())
            {
                if (RawSocketClient.RESPONSE == f.type)
                {
                    assertEquals(KIB_64, f.body.get("payload").asText().length());
                    replied++;
                }
                else
                {
                    assertEquals("TARGET_BUSY", f.body.path("error_code").asText(), f.toString());
                    assertTrue(f.body.path("error").asText().contains("within the send timeout"), f.toString());
                    busy++;
                }
            }
            assertTrue(busy > 0 && replied > 0, busy + " TARGET_BUSY, " + replied + " replies of " + count);
            assertTrue(null == a.read(500), "an extra answer");
        }
    }

    /**
     * A broker, a service process "stopped" that a test stops with SIGSTOP, a service "other" in this process, and
     * two socket connections: {@code a} for the service to be stopped, {@code b} for the other; both services
     * reachable through the gateway when constructed.
     */
    private static final class StoppableService implements AutoCloseable
    {
        final BrokerProcess broker;
        final ProcessHarness stopped;
        final Switchboard other;
        final RawSocketClient a;
        final RawSocketClient b;

        StoppableService() throws Exception
        {
            broker = new BrokerProcess();
            ProcessHarness startedStopped = null;
            Switchboard startedOther = null;
            RawSocketClient startedA = null;
            RawSocketClient startedB = null;
            try
            {
                startedStopped = ProcessHarness.start("echo-service", EchoServiceProcess.class,
                    broker.socketDir.toString(), "stopped");
                startedOther = broker.connect("other-in-test");
                startedA = new RawSocketClient(broker.socketDir.resolve("broker.sock"));
                startedB = new RawSocketClient(broker.socketDir.resolve("broker.sock"));
                startedStopped.awaitLine("echo service ready", 30_000);
                startedOther.serve(ServiceDefinition.named("other").onOpaqueRequest(
                    "Echo", (request, buffer, offset, length) -> request.reply(buffer, offset, length)));
                awaitReachable(startedA, "stopped");
                awaitReachable(startedB, "other");
            }
            catch (final Exception | AssertionError ex)
            {
                try (BrokerProcess b0 = broker; ProcessHarness s0 = startedStopped; Switchboard o0 = startedOther;
                    RawSocketClient a0 = startedA; RawSocketClient b1 = startedB)
                {
                    throw ex;
                }
            }
            stopped = startedStopped;
            other = startedOther;
            a = startedA;
            b = startedB;
        }

        @Override
        public void close() throws Exception
        {
            try (BrokerProcess closedLast = broker; ProcessHarness s = stopped; Switchboard o = other;
                RawSocketClient ca = a; RawSocketClient cb = b)
            {
                // closed in the reverse order of their opening: the connections first, the broker last
            }
        }
    }

    /** How another connection fared while one waited for an answer. */
    private static final class CallsMeanwhile
    {
        RawSocketClient.Frame answer;
        int sent;
        int answeredBefore;
    }

    /**
     * Call {@code other} on one connection, one call at a time, until the waiting connection has an answer; count the
     * calls answered while it still had none.
     */
    private static CallsMeanwhile callWhileWaiting(
        final RawSocketClient caller, final RawSocketClient waiting, final String waitingId) throws Exception
    {
        final CallsMeanwhile result = new CallsMeanwhile();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() - deadlineNs < 0)
        {
            final String id = "m" + result.sent++;
            caller.send(RawSocketClient.REQUEST, request(id, "other", "\"ping\"", 30_000));
            final RawSocketClient.Frame answer = caller.await(id, 30_000);
            assertEquals(RawSocketClient.RESPONSE, answer.type, answer.toString());
            final RawSocketClient.Frame waited = waiting.read(1);
            if (null != waited)
            {
                if (null != waitingId)
                {
                    assertEquals(waitingId, waited.body.path("correlation_id").asText(), waited.toString());
                }
                result.answer = waited;
                return result;
            }
            result.answeredBefore++;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        throw new AssertionError("the waiting connection had no answer within 60 s");
    }

    private static void awaitReachable(final RawSocketClient socket, final String service) throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        final List<String> seen = new ArrayList<>();
        for (int n = 0; System.nanoTime() - deadlineNs < 0; n++)
        {
            final String id = "ready-" + service + "-" + n;
            socket.send(RawSocketClient.REQUEST, request(id, service, "\"hello\"", 5_000));
            final RawSocketClient.Frame f = socket.await(id, 10_000);
            if (RawSocketClient.RESPONSE == f.type)
            {
                return;
            }
            seen.add(f.toString());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("service '" + service + "' not reachable through the gateway: " + seen);
    }

    private static String request(final String id, final String target, final String payloadJson, final long timeoutMs)
    {
        return "{\"correlation_id\":\"" + id + "\",\"target\":\"" + target + "\",\"message_type\":\"Echo\"," +
            "\"expects_reply\":true,\"response_timeout_ms\":" + timeoutMs + ",\"payload\":" + payloadJson + "}";
    }

    private static void signal(final String signal, final long pid) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid);
    }

    private static String jsonString(final int length)
    {
        return "\"" + "x".repeat(length) + "\"";
    }
}
