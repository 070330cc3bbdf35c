package io.switchboard.examples;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The soak ({@code scripts/soak}, not in the default run): 1,000 socket connections and two Java peers mixing calls,
 * streams and pub/sub against one broker for {@code switchboard.soak.seconds} (600 by default). Every request must
 * end in exactly one terminal answer; broker RSS and file descriptors must stay flat; throughput must stay steady.
 */
@Tag("soak")
class SoakTest
{
    private static final int CONNECTIONS = Integer.getInteger("switchboard.soak.connections", 1_000);
    private static final long SECONDS = Long.getLong("switchboard.soak.seconds", 600);
    private static final int IN_FLIGHT_PER_CONNECTION = 2;

    /** One socket connection's bookkeeping. */
    private static final class Conn
    {
        final RawSocketClient socket;
        final Set<String> open = new HashSet<>();
        final boolean subscriber;
        long next;
        long answered;
        long duplicates;
        long pushes;
        long pushGaps;
        long lastPushSequence;

        Conn(final RawSocketClient socket, final boolean subscriber)
        {
            this.socket = socket;
            this.subscriber = subscriber;
        }
    }

    @Test
    void shouldAccountForEveryRequestWithFlatMemoryAndSteadyThroughput() throws Exception
    {
        try (BrokerProcess broker = new BrokerProcess();
            ProcessHarness services = broker.startDemoServices();
            ProcessHarness peerA = ProcessHarness.start("soak-peer-a", SoakPeer.class, broker.socketDir.toString(), "a");
            ProcessHarness peerB = ProcessHarness.start("soak-peer-b", SoakPeer.class, broker.socketDir.toString(), "b"))
        {
            peerA.awaitLine("soak peer ready", 60_000);
            peerB.awaitLine("soak peer ready", 60_000);
            final Path socket = broker.socketDir.resolve("broker.sock");
            final List<Conn> conns = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++)
            {
                final Conn c = new Conn(new RawSocketClient(socket), i % 10 == 0);
                if (c.subscriber)
                {
                    c.socket.send(RawSocketClient.SUBSCRIBE, "{\"correlation_id\":\"sub\",\"message_types\":[\"soak.*\"]}");
                    c.open.add("sub");
                }
                conns.add(c);
            }

            final long startNs = System.nanoTime();
            final long endNs = startNs + TimeUnit.SECONDS.toNanos(SECONDS);
            final long intervalNs = TimeUnit.SECONDS.toNanos(Math.max(1, Math.min(10, SECONDS / 10)));
            long nextSampleNs = startNs + intervalNs;
            long answeredAtLastSample = 0;
            final List<Long> throughput = new ArrayList<>();
            final List<Long> rssMiB = new ArrayList<>();
            final List<Integer> fds = new ArrayList<>();
            long sent = 0;
            long answered = 0;
            long errors = 0;

            while (System.nanoTime() - endNs < 0 || conns.stream().anyMatch((c) -> !c.open.isEmpty()))
            {
                final boolean sending = System.nanoTime() - endNs < 0;
                assertTrue(System.nanoTime() - endNs < TimeUnit.SECONDS.toNanos(60),
                    "requests still unanswered 60 s after the soak ended");
                for (final Conn c : conns)
                {
                    while (sending && c.open.size() < IN_FLIGHT_PER_CONNECTION + (c.subscriber ? 1 : 0))
                    {
                        final String id = "q" + c.next++;
                        final long kind = c.next % 10;
                        final String body;
                        if (kind < 7)
                        {
                            body = "{\"correlation_id\":\"" + id + "\",\"target\":\"calculator\",\"message_type\":\"Add\"," +
                                "\"payload\":{\"a\":" + c.next + ",\"b\":1},\"expects_reply\":true}";
                        }
                        else if (kind < 9)
                        {
                            body = "{\"correlation_id\":\"" + id + "\",\"target\":\"soak_echo\",\"message_type\":\"Echo\"," +
                                "\"payload\":{\"n\":" + c.next + "},\"expects_reply\":true}";
                        }
                        else
                        {
                            body = "{\"correlation_id\":\"" + id + "\",\"target\":\"countdown\",\"message_type\":" +
                                "\"Countdown\",\"payload\":{\"from\":3,\"interval_ms\":0},\"expects_stream\":true}";
                        }
                        c.socket.send(RawSocketClient.REQUEST, body);
                        c.open.add(id);
                        sent++;
                    }
                    RawSocketClient.Frame f;
                    while (null != (f = c.socket.read(0)))
                    {
                        if (f.type == RawSocketClient.PUSH)
                        {
                            final long sequence = f.body.get("sequence").asLong();
                            c.pushGaps += Math.max(0, sequence - c.lastPushSequence - 1);
                            c.lastPushSequence = sequence;
                            c.pushes++;
                            continue;
                        }
                        final String id = f.body.path("correlation_id").asText();
                        final boolean terminal = f.type != RawSocketClient.STREAM || f.body.path("is_final").asBoolean();
                        if (!terminal)
                        {
                            continue;
                        }
                        if (!c.open.remove(id))
                        {
                            c.duplicates++;
                            continue;
                        }
                        if ("sub".equals(id))
                        {
                            continue;
                        }
                        c.answered++;
                        answered++;
                        if (f.body.has("error_code"))
                        {
                            errors++;
                        }
                    }
                }
                if (System.nanoTime() - nextSampleNs >= 0)
                {
                    nextSampleNs += intervalNs;
                    throughput.add((answered - answeredAtLastSample) * 1_000_000_000L / intervalNs);
                    answeredAtLastSample = answered;
                    rssMiB.add(broker.rssKb() / 1024);
                    fds.add(broker.fds());
                    System.out.println("soak t=" + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs) +
                        "s answered/s=" + throughput.get(throughput.size() - 1) + " broker RSS MiB=" +
                        rssMiB.get(rssMiB.size() - 1) + " fds=" + fds.get(fds.size() - 1) + " errors=" + errors);
                }
            }

            long duplicates = 0;
            long pushes = 0;
            long gaps = 0;
            for (final Conn c : conns)
            {
                duplicates += c.duplicates;
                pushes += c.pushes;
                gaps += c.pushGaps;
                c.socket.close();
            }
            peerA.sendLine("stop");
            peerB.sendLine("stop");
            final String peerSummary = peerA.awaitLine("soak peer a:", 30_000) + " | " +
                peerB.awaitLine("soak peer b:", 30_000);

            // steady = no decay over time: after the first third (warm-up: JIT, 1,000 connections' buffers), the last
            // third's mean throughput is at least half the middle third's
            final int third = throughput.size() / 3;
            final double middle = throughput.subList(third, 2 * third).stream().mapToLong(Long::longValue).average()
                .orElse(0);
            final double last = throughput.subList(2 * third, throughput.size()).stream().mapToLong(Long::longValue)
                .average().orElse(0);
            final long median = throughput.stream().sorted().skip(throughput.size() / 2).findFirst().orElse(0L);
            final long min = throughput.stream().min(Long::compare).orElse(0L);
            System.out.println("SOAK SUMMARY: " + SECONDS + " s, " + CONNECTIONS + " socket connections + 2 Java peers;" +
                " socket requests sent=" + sent + " answered=" + answered + " (errors " + errors + ", duplicates " +
                duplicates + "); pushes=" + pushes + " push gaps=" + gaps + "; throughput answered/s median=" + median +
                " min=" + min + " middle-third mean=" + Math.round(middle) + " last-third mean=" + Math.round(last) +
                "; broker RSS MiB " + rssMiB + "; fds " + fds + "; java peers: " + peerSummary);

            assertEquals(sent, answered, "every socket request ended in exactly one terminal answer");
            assertEquals(0, duplicates, "no request answered twice");
            assertTrue(peerSummary.matches(".*sent=(\\d+) ended=\\1 .*sent=(\\d+) ended=\\2 .*"),
                "every Java call ended exactly once: " + peerSummary);
            if (rssMiB.size() >= 3)
            {
                final long settled = rssMiB.get(1);
                assertTrue(rssMiB.get(rssMiB.size() - 1) <= settled * 3 / 2 + 64,
                    "broker RSS stays flat: " + rssMiB);
                assertTrue(Math.abs(fds.get(fds.size() - 1) - fds.get(1)) <= 8, "file descriptors stay flat: " + fds);
                assertTrue(last * 2 >= middle, "throughput does not decay: middle third " + middle + "/s, last third " +
                    last + "/s, samples " + throughput);
            }
        }
    }


}
