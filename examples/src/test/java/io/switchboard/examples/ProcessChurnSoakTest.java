package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Part of {@code scripts/soak}: 1,000 real Python client processes, each holding a request in flight, an open
 * stream and a subscription, killed with SIGKILL one after another. Afterwards the gateway holds nothing of them and
 * the broker's file descriptors and memory are back where they started.
 */
@Tag("soak")
class ProcessChurnSoakTest
{
    private static final int CYCLES = Integer.getInteger("switchboard.soak.churn", 1_000);
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @Test
    void shouldFreeWhatAThousandKilledPythonClientsHeld() throws Exception
    {
        final String script = String.join("\n",
            "import sys, switchboard",
            "c = switchboard.Client(sys.argv[1], reconnect=False)",
            "c.request_future('blackhole', 'Hold', {}, timeout=300)",
            "s = c.stream('countdown', 'Countdown', {'from': 100000, 'interval_ms': 50}, timeout=300)",
            "next(iter(s))",
            "c.subscribe(['churn.*'])",
            "print('holding', flush=True)",
            "import time",
            "while True: time.sleep(60)");
        try (BrokerProcess broker = new BrokerProcess();
            ProcessHarness services = broker.startDemoServices();
            Switchboard java = broker.connect("churn-soak"))
        {
            java.serve(ServiceDefinition.named("blackhole").onOpaqueRequest("Hold", (r, b, o, l) -> r.defer()));
            JavaPathSystemTest.awaitService(java, "countdown");
            final String socket = broker.socketDir.resolve("broker.sock").toString();

            JsonNode before = null;
            int fdsBefore = 0;
            long rssBefore = 0;
            final long start = System.nanoTime();
            for (int i = -20; i < CYCLES; i++) // the first 20 warm the broker up before the baseline
            {
                if (i == 0)
                {
                    before = awaitQuiet(broker, null);
                    fdsBefore = broker.fds();
                    rssBefore = broker.rssKb();
                }
                try (ProcessHarness py = ProcessHarness.startCommand("python-" + i, ROOT,
                    "env", "PYTHONPATH=" + ROOT.resolve("clients/python"), "python3", "-u", "-c", script, socket))
                {
                    py.awaitLine("holding", 30_000);
                    py.kill();
                }
            }
            final JsonNode after = awaitQuiet(broker, before);
            final int fdsAfter = broker.awaitFdsAtMost(fdsBefore);
            final long rssAfter = broker.rssKb();
            System.out.println(CYCLES + " SIGKILLed Python clients in " +
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + " s: broker fds " + fdsBefore + " -> " +
                fdsAfter + ", RSS " + rssBefore / 1024 + " -> " + rssAfter / 1024 + " MiB; gateway " + after);
            assertTrue(fdsAfter <= fdsBefore, "file descriptors back: " + fdsBefore + " -> " + fdsAfter);
            assertTrue(rssAfter / 1024 <= rssBefore / 1024 + 128, "RSS bounded: " + rssBefore + " -> " + rssAfter);
        }
    }

    /**
     * Wait until the gateway holds no connection but the observer, no request in flight and no pattern.
     */
    private static JsonNode awaitQuiet(final BrokerProcess broker, final JsonNode baseline) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (RawSocketClient observer = new RawSocketClient(broker.socketDir.resolve("broker.sock")))
        {
            long n = 0;
            while (true)
            {
                final String id = "s" + n++;
                observer.send(RawSocketClient.STATS, "{\"correlation_id\":\"" + id + "\"}");
                final JsonNode stats = observer.await(RawSocketClient.RESPONSE, id, 10_000).body.get("payload");
                if (stats.get("connections").asInt() == 1 && stats.get("requests_in_flight").asInt() == 0 &&
                    stats.get("subscription_patterns").asInt() == 0)
                {
                    return stats;
                }
                assertTrue(System.nanoTime() - deadline < 0, "the gateway still holds state of dead clients: " + stats);
                Thread.yield();
            }
        }
    }



}
