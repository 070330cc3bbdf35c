package io.switchboard.examples;

import io.aeron.CncFileDescriptor;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many brokers on this machine in a full mesh of links over loopback UDP (each its own process, media driver, ports
 * and folders), measuring what the registry and interest exchange costs (docs/SCALING.md): the link messages and
 * bytes one route change and one new subscription pattern send, read from the brokers' link counters in their
 * counters files, the time until every other broker can call a new service, and the bytes the heartbeats send when
 * nothing happens.
 * <p>
 * {@code -Dswitchboard.test.link.scale.brokers=N} (default 10; each broker JVM is started with -Xmx256m and took
 * about 150-250 MB resident here, its media driver's link logs are sparse files in /dev/shm). The link term is
 * 256 KiB here (not the 4 MiB default) so that N*(N-1) logs stay small; it does not change what a route costs.
 */
@Timeout(600)
class LinkScaleSystemTest
{
    private static final String HOST = "127.0.0.1";
    private static final int BROKERS = Integer.getInteger("switchboard.test.link.scale.brokers", 10);
    private static final long LIVENESS_MS = io.switchboard.broker.link.LinkContext.LIVENESS_TIMEOUT_DEFAULT_MS;

    @Test
    void registryExchangeCostInAFullMesh() throws Exception
    {
        assertTrue(BROKERS >= 3, "switchboard.test.link.scale.brokers: expected at least 3, found " + BROKERS);
        final Path secretDir = ProcessHarness.tempDir("sb-test-link-scale");
        final List<BrokerProcess> brokers = new ArrayList<>();
        final List<Switchboard> clients = new ArrayList<>();
        try
        {
            final Path secret = LinkedBrokers.secretFile(secretDir, "link.secret", "scale test secret 0123456789");
            final String[] links = new String[BROKERS];
            for (int i = 0; i < BROKERS; i++)
            {
                links[i] = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
            }
            final long startNs = System.nanoTime();
            for (int i = 0; i < BROKERS; i++)
            {
                final List<String> peers = new ArrayList<>();
                for (int j = 0; j < BROKERS; j++)
                {
                    if (j != i)
                    {
                        peers.add(links[j]);
                    }
                }
                brokers.add(new BrokerProcess(List.of("-Dswitchboard.link.term.length=262144"),
                    LinkedBrokers.linkArgs(links[i], secret, LIVENESS_MS, peers.toArray(new String[0]))));
            }
            for (int i = 0; i < BROKERS; i++)
            {
                for (int j = 0; j < BROKERS; j++)
                {
                    if (j != i)
                    {
                        brokers.get(i).process.awaitLine("link " + links[i] + " -> " + links[j] + " up", 120_000);
                    }
                }
            }
            final long meshMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
            for (int i = 0; i < BROKERS; i++)
            {
                clients.add(brokers.get(i).connect("scale-" + i));
            }
            long rssKb = 0;
            for (final BrokerProcess b : brokers)
            {
                rssKb += b.rssKb();
            }

            // the heartbeats alone, while nothing changes
            final long[] idleBefore = sum(brokers, "sb-broker link bytes sent", "sb-broker link messages sent");
            final long idleStart = System.nanoTime();
            awaitQuietly(2_000);
            final long[] idleAfter = sum(brokers, "sb-broker link bytes sent", "sb-broker link messages sent");
            final double idleSeconds = (System.nanoTime() - idleStart) / 1e9;
            final double idleBytesPerSecond = (idleAfter[0] - idleBefore[0]) / idleSeconds;
            final double idleMessagesPerSecond = (idleAfter[1] - idleBefore[1]) / idleSeconds;

            // one new service on broker 0: one LinkRoute to each peer, and nothing passed on further
            final long[] routeBefore = sum(brokers, "sb-broker link route bytes sent", "sb-broker link route messages sent");
            final long[] onZeroBefore = counters(brokers.get(0), "sb-broker link route messages sent");
            final long addNs = System.nanoTime();
            clients.get(0).serve(ServiceDefinition.named("scale_probe")
                .onOpaqueRequest("Ping", (r, b, o, l) -> r.reply(b, o, l)));
            long lastSeenNs = 0;
            for (int i = 1; i < BROKERS; i++)
            {
                LinkedBrokers.awaitRoute(clients.get(i), "scale_probe", true, 30_000);
                lastSeenNs = System.nanoTime();
            }
            final double addMs = (lastSeenNs - addNs) / 1e6;
            final long[] routeAfter = awaitSum(brokers, "sb-broker link route bytes sent",
                "sb-broker link route messages sent", routeBefore[1] + BROKERS - 1);
            final long[] onZeroAfter = counters(brokers.get(0), "sb-broker link route messages sent");
            assertEquals(BROKERS - 1, routeAfter[1] - routeBefore[1],
                "route messages sent by all brokers for one new service: expected one to each of broker 0's peers");
            assertEquals(BROKERS - 1, onZeroAfter[0] - onZeroBefore[0], "route messages sent by broker 0");
            final long routeBytes = routeAfter[0] - routeBefore[0];

            // a caller on the farthest broker reaches it
            final org.agrona.concurrent.UnsafeBuffer ping = new UnsafeBuffer(new byte[]{1, 2, 3});
            assertEquals(3, clients.get(BROKERS - 1).requestAsync("scale_probe", "Ping", ping, 0, 3, java.time.Duration.ofSeconds(20))
                .get(30, TimeUnit.SECONDS).length(), "a call from broker " + (BROKERS - 1) + " to broker 0");

            // a new subscription pattern on broker 1: one LinkInterest to each peer
            final long[] interestBefore = sum(brokers, "sb-broker link interest bytes sent",
                "sb-broker link interest messages sent");
            clients.get(1).subscribe("scale.*", (push, b, o, l) -> { });
            final long[] interestAfter = awaitSum(brokers, "sb-broker link interest bytes sent",
                "sb-broker link interest messages sent", interestBefore[1] + BROKERS - 1);
            assertEquals(BROKERS - 1, interestAfter[1] - interestBefore[1], "interest messages for one pattern");
            final long interestBytes = interestAfter[0] - interestBefore[0];

            // the service withdrawn: one LinkRoute REMOVE to each peer, and gone everywhere
            final long[] removeBefore = sum(brokers, "sb-broker link route bytes sent",
                "sb-broker link route messages sent");
            final long removeNs = System.nanoTime();
            clients.get(0).unserve("scale_probe");
            for (int i = 1; i < BROKERS; i++)
            {
                LinkedBrokers.awaitRoute(clients.get(i), "scale_probe", false, 30_000);
                lastSeenNs = System.nanoTime();
            }
            final double removeMs = (lastSeenNs - removeNs) / 1e6;
            final long[] removeAfter = awaitSum(brokers, "sb-broker link route bytes sent",
                "sb-broker link route messages sent", removeBefore[1] + BROKERS - 1);
            assertEquals(BROKERS - 1, removeAfter[1] - removeBefore[1], "route messages for one withdrawn service");

            // a shared name served on two other hosts: calls from a third go round-robin between them
            for (final int host : new int[]{1, 2})
            {
                final byte[] who = {(byte)host};
                clients.get(host).serve(ServiceDefinition.named("rr_probe").shared()
                    .onOpaqueRequest("Who", (r, b, o, l) -> r.reply(new UnsafeBuffer(who), 0, 1)));
            }
            final Switchboard caller = clients.get(BROKERS - 1);
            final int[] servedBy = new int[3];
            final long rrDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (0 == servedBy[1] || 0 == servedBy[2])
            {
                assertTrue(System.nanoTime() - rrDeadline < 0, "calls from broker " + (BROKERS - 1) + " never " +
                    "reached both hosts of a shared name: by host 1 " + servedBy[1] + ", by host 2 " + servedBy[2]);
                if (!caller.hasService("rr_probe"))
                {
                    Thread.yield();
                    continue;
                }
                final io.switchboard.transport.Reply who = caller.requestAsync("rr_probe", "Who", ping, 0, 1,
                    java.time.Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
                servedBy[who.buffer().getByte(0)]++;
            }
            final int before1 = servedBy[1];
            final int before2 = servedBy[2];
            for (int i = 0; i < 20; i++)
            {
                final io.switchboard.transport.Reply who = caller.requestAsync("rr_probe", "Who", ping, 0, 1,
                    java.time.Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
                servedBy[who.buffer().getByte(0)]++;
            }
            assertEquals(10, servedBy[1] - before1, "20 calls round-robin over two hosts: by host 1");
            assertEquals(10, servedBy[2] - before2, "20 calls round-robin over two hosts: by host 2");

            System.out.printf("LINK SCALE brokers=%d links=%d mesh up in %d ms, broker RSS total %d MiB (%d MiB " +
                "each); idle: %.0f link messages/s, %.0f bytes/s in all (%.1f bytes/s per directed link); " +
                "one new service: %d route messages, %d bytes, all brokers had it after %.1f ms; withdrawn: %d " +
                "messages, all had dropped it after %.1f ms; one new pattern: %d interest messages, %d bytes%n",
                BROKERS, BROKERS * (BROKERS - 1), meshMs, rssKb / 1024, rssKb / 1024 / BROKERS,
                idleMessagesPerSecond, idleBytesPerSecond, idleBytesPerSecond / (BROKERS * (BROKERS - 1)),
                routeAfter[1] - routeBefore[1], routeBytes, addMs, removeAfter[1] - removeBefore[1], removeMs,
                interestAfter[1] - interestBefore[1], interestBytes);
            for (int i = 0; i < BROKERS; i++)
            {
                final String down = "link " + links[i] + " -> ";
                final String out = brokers.get(i).process.output();
                assertTrue(!out.contains(" down: "), "broker " + i + " lost a link during the test:\n" + out);
                assertTrue(out.contains(down), "broker " + i + " logged its links");
            }
        }
        finally
        {
            for (final Switchboard c : clients)
            {
                c.close();
            }
            AssertionError failed = null;
            for (final BrokerProcess b : brokers)
            {
                try
                {
                    b.close();
                }
                catch (final AssertionError ex)
                {
                    failed = null == failed ? ex : failed;
                }
            }
            ProcessHarness.deleteRecursively(secretDir.toFile());
            if (null != failed)
            {
                throw failed;
            }
        }
    }

    private static void awaitQuietly(final long ms)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() - deadline < 0)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** Wait (the counters are written a few times a second) until the second sum reaches at least the target. */
    private static long[] awaitSum(
        final List<BrokerProcess> brokers, final String bytesLabel, final String messagesLabel, final long target)
        throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long[] s;
        while ((s = sum(brokers, bytesLabel, messagesLabel))[1] < target && System.nanoTime() - deadline < 0)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        awaitQuietly(300); // and a little more, so that a message too many would be seen
        return sum(brokers, bytesLabel, messagesLabel);
    }

    private static long[] sum(final List<BrokerProcess> brokers, final String... labels) throws IOException
    {
        final long[] total = new long[labels.length];
        for (final BrokerProcess b : brokers)
        {
            final long[] v = counters(b, labels);
            for (int i = 0; i < labels.length; i++)
            {
                total[i] += v[i];
            }
        }
        return total;
    }

    /** The values of the counters with these labels in the broker's counters file; fails if one is missing. */
    static long[] counters(final BrokerProcess broker, final String... labels) throws IOException
    {
        final Path cnc = broker.aeronDir.resolve(CncFileDescriptor.CNC_FILE);
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(cnc, StandardOpenOption.READ))
        {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
        }
        try
        {
            final UnsafeBuffer meta = CncFileDescriptor.createMetaDataBuffer(mapped);
            final CountersReader reader = new CountersReader(
                CncFileDescriptor.createCountersMetaDataBuffer(mapped, meta),
                CncFileDescriptor.createCountersValuesBuffer(mapped, meta));
            final long[] values = new long[labels.length];
            final boolean[] found = new boolean[labels.length];
            reader.forEach((id, typeId, key, label) ->
            {
                for (int i = 0; i < labels.length; i++)
                {
                    if (labels[i].equals(label))
                    {
                        values[i] = reader.getCounterValue(id);
                        found[i] = true;
                    }
                }
            });
            for (int i = 0; i < labels.length; i++)
            {
                assertTrue(found[i], "counter '" + labels[i] + "' not in " + cnc);
            }
            return values;
        }
        finally
        {
            IoUtil.unmap(mapped);
        }
    }

}
