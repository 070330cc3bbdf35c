package io.switchboard.examples;

import io.switchboard.broker.BrokerMain;
import io.switchboard.transport.Push;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two brokers in two network namespaces joined by a veth pair, linked over Aeron UDP across it: a Java service and
 * the demo services on A's side, Java, socket and Python callers and subscribers on B's. Packet loss injected on the
 * pair (a clsact qdisc with a classic-BPF filter) loses and duplicates no request and no publication; the pair cut
 * and restored; broker A SIGKILLed and restarted. Needs root and iproute2; fails loudly without them unless
 * switched off with {@code -Dswitchboard.test.netns=off}.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinkNetnsSystemTest
{
    private static final long LIVENESS_MS = io.switchboard.broker.link.LinkContext.LIVENESS_TIMEOUT_DEFAULT_MS;
    private static final int PORT = 40_301;

    private static NetnsLink net;
    private static Path workDir;
    private static Path socketA;
    private static Path socketB;
    private static Path aeronRootA;
    private static Path aeronRootB;
    private static String[] argsA;
    private static String[] argsB;
    private static ProcessHarness brokerA;
    private static ProcessHarness brokerB;
    private static ProcessHarness services;
    private static ProcessHarness hanging;
    private static Switchboard counterOnA;
    private static Switchboard callerOnB;
    private static final Map<Long, AtomicInteger> SEEN = new ConcurrentHashMap<>();

    @BeforeAll
    static void startBrokersInTwoNamespaces() throws Exception
    {
        if ("off".equals(System.getProperty(NetnsLink.NETNS_PROP)))
        {
            org.junit.jupiter.api.Assumptions.abort("switched off with -D" + NetnsLink.NETNS_PROP + "=off");
        }
        net = NetnsLink.create();
        workDir = ProcessHarness.tempDir("sb-test-netns");
        final Path secret = LinkedBrokers.secretFile(workDir, "link.secret", "a secret both namespaces share 1234");
        socketA = workDir.resolve("a");
        socketB = workDir.resolve("b");
        aeronRootA = Path.of("/dev/shm", "sb-test-netns-a-" + UUID.randomUUID());
        aeronRootB = Path.of("/dev/shm", "sb-test-netns-b-" + UUID.randomUUID());
        final String linkA = net.addressA + ":" + PORT;
        final String linkB = net.addressB + ":" + PORT;
        argsA = concat(new String[] {"--socket-dir", socketA.toString(), "--aeron-dir", aeronRootA + "/aeron"},
            LinkedBrokers.linkArgs(linkA, secret, LIVENESS_MS, linkB));
        argsB = concat(new String[] {"--socket-dir", socketB.toString(), "--aeron-dir", aeronRootB + "/aeron"},
            LinkedBrokers.linkArgs(linkB, secret, LIVENESS_MS, linkA));
        brokerA = NetnsLink.startJava(net.nsA, "broker-a", workDir, BrokerMain.class, argsA);
        brokerB = NetnsLink.startJava(net.nsB, "broker-b", workDir, BrokerMain.class, argsB);
        brokerA.awaitLine("broker ready", 30_000);
        brokerB.awaitLine("broker ready", 30_000);
        brokerB.awaitLine(linkB + " -> " + linkA + " up", 30_000);

        services = ProcessHarness.start("demo-services", DemoServices.class, "--socket-dir", socketA.toString(),
            "--no-price-feed");
        services.awaitLine("demo services ready", 30_000);
        hanging = ProcessHarness.start("hanging-service", HangingService.class, socketA.toString());
        hanging.awaitLine("hang service ready", 30_000);
        counterOnA = connect(socketA, "counter-on-a");
        counterOnA.serve(ServiceDefinition.named("counter").onOpaqueRequest("Count", (request, b, o, l) ->
        {
            final long id = Long.parseLong(b.getStringWithoutLengthAscii(o, l));
            SEEN.computeIfAbsent(id, (k) -> new AtomicInteger()).incrementAndGet();
            request.reply(b, o, l);
        }));
        callerOnB = connect(socketB, "caller-on-b");
        LinkedBrokers.awaitRoute(callerOnB, "counter", true, 20_000);
        LinkedBrokers.awaitRoute(callerOnB, "calculator", true, 20_000);
        LinkedBrokers.awaitRoute(callerOnB, "hang", true, 20_000);
    }

    @AfterAll
    static void stopEverything() throws Exception
    {
        try
        {
            for (final AutoCloseable c : new AutoCloseable[] {callerOnB, counterOnA, hanging, services, brokerB,
                brokerA})
            {
                if (null != c)
                {
                    try
                    {
                        c.close();
                    }
                    catch (final Exception ignore)
                    {
                        // the rest still goes
                    }
                }
            }
        }
        finally
        {
            if (null != net)
            {
                net.close();
            }
            for (final Path p : new Path[] {workDir, aeronRootA, aeronRootB})
            {
                if (null != p)
                {
                    ProcessHarness.deleteRecursively(p.toFile());
                }
            }
        }
    }

    private static Switchboard connect(final Path socketDir, final String name)
    {
        return Switchboard.connect(new Switchboard.Context()
            .controlSocket(socketDir.resolve("control.sock"))
            .clientName(name)
            .idleStrategy(new YieldingIdleStrategy()));
    }

    private static String[] concat(final String[] a, final String[] b)
    {
        final String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Make calls with ids from..to across the link, a window at a time; each must come back with its own id. */
    private static void countCalls(final long from, final long to, final int window) throws Exception
    {
        final List<CompletableFuture<Reply>> inFlight = new ArrayList<>();
        final List<Long> ids = new ArrayList<>();
        for (long id = from; id < to; id++)
        {
            final byte[] body = Long.toString(id).getBytes(StandardCharsets.US_ASCII);
            inFlight.add(callerOnB.requestAsync("counter", "Count", new UnsafeBuffer(body), 0, body.length,
                Duration.ofSeconds(30)));
            ids.add(id);
            if (inFlight.size() == window || id == to - 1)
            {
                for (int i = 0; i < inFlight.size(); i++)
                {
                    final Reply reply = inFlight.get(i).get(60, TimeUnit.SECONDS);
                    assertEquals(String.valueOf(ids.get(i)),
                        reply.buffer().getStringWithoutLengthAscii(0, reply.length()), "the reply to call " + ids.get(i));
                }
                inFlight.clear();
                ids.clear();
            }
        }
    }

    private static void assertEachSeenOnce(final long from, final long to)
    {
        for (long id = from; id < to; id++)
        {
            final AtomicInteger count = SEEN.get(id);
            assertNotNull(count, "call " + id + " never reached the service");
            assertEquals(1, count.get(), "call " + id + " reached the service " + count.get() + " times");
        }
    }

    @Test
    @Order(1)
    void shouldCallAcrossTheVethPairFromJavaASocketPythonAndNode() throws Exception
    {
        countCalls(0, 500, 50);
        assertEachSeenOnce(0, 500);

        try (RawSocketClient socket = new RawSocketClient(socketB.resolve("broker.sock")))
        {
            socket.send(RawSocketClient.REQUEST, "{\"correlation_id\":\"n1\",\"target\":\"calculator\"," +
                "\"message_type\":\"Add\",\"payload\":{\"a\":40,\"b\":2},\"expects_reply\":true}");
            assertEquals(42, socket.await(RawSocketClient.RESPONSE, "n1", 10_000).body.get("payload").get("value")
                .asInt());
        }

        final String script = String.join("\n",
            "import sys, switchboard",
            "with switchboard.Client(sys.argv[1]) as c:",
            "    for i in range(100):",
            "        r = c.request('calculator', 'Add', {'a': i, 'b': 1})",
            "        assert r['value'] == i + 1, r",
            "    print('python calls ok', flush=True)",
            "    frames = list(c.stream('countdown', 'Countdown', {'from': 5, 'interval_ms': 0}))",
            "    print('python frames', len(frames), flush=True)",
            "    sub = c.subscribe('netns.*')",
            "    print('python subscribed', flush=True)",
            "    note = sub.get(timeout=30)",
            "    print('python got', note.subject, flush=True)");
        try (ProcessHarness py = ProcessHarness.startCommand("python-on-b", DemoBroker.ROOT, "env",
            "PYTHONPATH=" + DemoBroker.ROOT.resolve("clients/python"), "python3", "-u", "-c", script,
            socketB.resolve("broker.sock").toString());
            Switchboard publisherOnA = connect(socketA, "publisher-on-a"))
        {
            py.awaitLine("python calls ok", 60_000);
            py.awaitLine("python frames 5", 30_000);
            py.awaitLine("python subscribed", 30_000);
            final byte[] body = "{\"hello\":\"from A\"}".getBytes(StandardCharsets.US_ASCII);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!py.awaitLineOrNothing("python got netns.hello", 200))
            {
                assertTrue(System.nanoTime() - deadline < 0, "python on B never got A's publication:\n" + py.output());
                publisherOnA.publish("netns.hello", "Json", -1, new UnsafeBuffer(body), 0, body.length);
            }
        }

        final String node = String.join("\n",
            "import { connect } from '" + DemoBroker.ROOT.resolve("clients/node/index.js") + "';",
            "const client = await connect({ socketPath: process.argv[1] });",
            "for (let i = 0; i < 100; i++) {",
            "  const r = await client.request('calculator', 'Add', { a: i, b: 2 });",
            "  if (r.value !== i + 2) { console.log('node wrong answer', JSON.stringify(r)); process.exit(1); }",
            "}",
            "console.log('node calls ok');",
            "let frames = 0;",
            "for await (const item of client.stream('countdown', 'Countdown', { from: 7, interval_ms: 0 })) { frames++; }",
            "console.log('node frames ' + frames);",
            "const sub = await client.subscribe('netnsnode.*');",
            "console.log('node subscribed');",
            "for await (const n of sub) { console.log('node got ' + n.subject); break; }",
            "process.exit(0);");
        try (ProcessHarness js = ProcessHarness.startCommand("node-on-b", DemoBroker.ROOT, "node",
            "--input-type=module", "-e", node, socketB.resolve("broker.sock").toString());
            Switchboard publisherOnA = connect(socketA, "publisher-on-a"))
        {
            js.awaitLine("node calls ok", 60_000);
            js.awaitLine("node frames 7", 30_000);
            js.awaitLine("node subscribed", 30_000);
            final byte[] body = "{\"hello\":\"node\"}".getBytes(StandardCharsets.US_ASCII);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!js.awaitLineOrNothing("node got netnsnode.hello", 200))
            {
                assertTrue(System.nanoTime() - deadline < 0, "node on B never got A's publication:\n" + js.output());
                publisherOnA.publish("netnsnode.hello", "Json", -1, new UnsafeBuffer(body), 0, body.length);
            }
        }
    }

    @Test
    @Order(2)
    void shouldLoseAndDuplicateNothingUnderPacketLoss() throws Exception
    {
        final List<String> received = new CopyOnWriteArrayList<>();
        try (Switchboard publisherOnA = connect(socketA, "publisher-on-a");
            Switchboard subscriberOnB = connect(socketB, "subscriber-on-b"))
        {
            subscriberOnB.subscribe("lossy.*", (Push push, DirectBuffer b, int o, int l) ->
                received.add(b.getStringWithoutLengthAscii(o, l)));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (received.isEmpty())
            {
                assertTrue(System.nanoTime() - deadline < 0, "interest never crossed the veth pair");
                publish(publisherOnA, "lossy.probe", "-1");
                final long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
                while (received.isEmpty() && System.nanoTime() - wait < 0)
                {
                    Thread.yield();
                }
            }
            received.clear();

            net.dropShare(0.1);
            try
            {
                try
                {
                countCalls(1_000, 3_000, 50);
                for (int i = 0; i < 2_000; i++)
                {
                    publish(publisherOnA, "lossy.x", String.valueOf(i));
                }
                final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (received.size() < 2_000 || received.contains("-1") && received.size() < 2_001)
                {
                    assertTrue(System.nanoTime() - end < 0, "publications lost under packet loss: " +
                        received.size() + " of 2000 arrived");
                    Thread.yield();
                }
                final String tc = net.filterStats().replace('\n', ' ');
                System.out.println("under 10% packet loss each way: 2000 calls and 2000 publications across; " +
                    "tc on A's end: " + tc);
                final java.util.regex.Matcher dropped =
                    java.util.regex.Pattern.compile("qdisc clsact .*?dropped (\\d+)").matcher(tc);
                assertTrue(dropped.find() && Long.parseLong(dropped.group(1)) > 0,
                    "the filter dropped nothing, so this proved nothing: " + tc);
                }
                catch (final Exception | AssertionError ex)
                {
                    throw new AssertionError(ex + "\nbroker A:\n" + brokerA.output() + "\nbroker B:\n" +
                        brokerB.output(), ex);
                }
            }
            finally
            {
                net.dropShare(0);
            }
        }
        assertEachSeenOnce(1_000, 3_000);
        final List<String> xs = new ArrayList<>(received);
        xs.remove("-1"); // a late probe
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2_000; i++)
        {
            expected.add(String.valueOf(i));
        }
        assertEquals(expected, xs, "every publication once, in order");
    }

    private static void publish(final Switchboard client, final String subject, final String json)
    {
        final byte[] bytes = json.getBytes(StandardCharsets.US_ASCII);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (client.publish(subject, "Json", -1, new UnsafeBuffer(bytes), 0, bytes.length) < 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "cannot publish " + subject);
            Thread.yield();
        }
    }

    @Test
    @Order(3)
    void shouldAnswerCallsInFlightWhenThePairIsCutAndComeBackWhenRestored() throws Exception
    {
        final byte[] hang = "{}".getBytes(StandardCharsets.US_ASCII);
        final CompletableFuture<Reply> inFlight = callerOnB.requestAsync("hang", "Hang", new UnsafeBuffer(hang), 0,
            hang.length, Duration.ofSeconds(120));
        hanging.awaitLine("hang: request", 30_000);
        final long cutNs = System.nanoTime();
        net.setUp(false);
        try
        {
            final ExecutionException ex = assertThrows(ExecutionException.class,
                () -> inFlight.get(LIVENESS_MS + 10_000, TimeUnit.MILLISECONDS));
            final long noticedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutNs);
            assertEquals("SERVICE_UNAVAILABLE", ((SwitchboardException)ex.getCause()).errorCode());
            System.out.println("cut noticed by the caller on B " + noticedMs + " ms after ip link set down (liveness " +
                LIVENESS_MS + " ms)");
            assertTrue(noticedMs < LIVENESS_MS + 2 * (LIVENESS_MS / 6) + 1_000, "noticed after " + noticedMs + " ms");
            LinkedBrokers.awaitRoute(callerOnB, "counter", false, 10_000);
        }
        finally
        {
            net.setUp(true);
        }
        LinkedBrokers.awaitRoute(callerOnB, "counter", true, 30_000);
        countCalls(10_000, 10_100, 20);
        assertEachSeenOnce(10_000, 10_100);
    }

    @Test
    @Order(4)
    void shouldComeBackAfterTheRemoteBrokerIsKilledAndRestarted() throws Exception
    {
        brokerA.kill();
        LinkedBrokers.awaitRoute(callerOnB, "counter", false, LIVENESS_MS + 10_000);
        brokerA = NetnsLink.startJava(net.nsA, "broker-a", workDir, BrokerMain.class, argsA);
        brokerA.awaitLine("broker ready", 30_000);
        // the counter service and the demo services reconnect to the new broker by themselves
        try
        {
            LinkedBrokers.awaitRoute(callerOnB, "counter", true, 30_000);
        }
        catch (final AssertionError ex)
        {
            throw new AssertionError(ex.getMessage() + "\nbroker A:\n" + brokerA.output() + "\nbroker B:\n" +
                brokerB.output(), ex);
        }
        countCalls(20_000, 20_100, 20);
        assertEachSeenOnce(20_000, 20_100);
    }
}
