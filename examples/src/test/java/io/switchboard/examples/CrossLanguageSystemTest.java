package io.switchboard.examples;

import io.switchboard.transport.Reply;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Both paths at once, with the real interpreters: a Java peer calls a service a Node.js process serves over the
 * socket; a Java publication reaches a Python subscriber; a Python publication reaches a Java subscriber; a Python
 * client calls a Java service with JSON transcoded to SBE.
 */
@Timeout(120)
class CrossLanguageSystemTest
{
    private static final Path ROOT = DemoBroker.ROOT;
    private static DemoBroker demo;
    private static Switchboard java;

    @BeforeAll
    static void start() throws Exception
    {
        demo = DemoBroker.start("cross-language-test");
        java = demo.java;
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (null != demo)
        {
            demo.close();
        }
    }

    private static String socket()
    {
        return demo.socket();
    }

    private static ProcessHarness python(final String name, final String script) throws Exception
    {
        return demo.python(name, script);
    }

    @Test
    void shouldLetAJavaPeerCallAServiceANodeProcessServes() throws Exception
    {
        final String script = String.join("\n",
            "import { connect } from '" + ROOT.resolve("clients/node/index.js") + "';",
            "const client = await connect({ socketPath: process.argv[1] });",
            "await client.serve('node_upper', async (payload) => ({ text: payload.text.toUpperCase(), by: 'node' }),",
            "  { messageTypes: ['Upper'] });",
            "console.log('node service ready');");
        try (ProcessHarness node = ProcessHarness.startCommand("node-service", ROOT,
            "node", "--input-type=module", "-e", script, socket()))
        {
            node.awaitLine("node service ready", 30_000);
            JavaPathSystemTest.awaitService(java, "node_upper");
            final byte[] body = "{\"text\":\"from java\"}".getBytes(StandardCharsets.UTF_8);
            final Reply reply = java.requestAsync("node_upper", "Upper", new UnsafeBuffer(body), 0, body.length,
                Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS);
            final String json = reply.buffer().getStringWithoutLengthUtf8(0, reply.length());
            assertTrue(json.contains("\"FROM JAVA\"") && json.contains("\"node\""), json);
        }
    }

    @Test
    void shouldDeliverJavaPublicationsToAPythonSubscriber() throws Exception
    {
        final String script = String.join("\n",
            "import sys, json, switchboard",
            "with switchboard.Client(sys.argv[1]) as c:",
            "    sub = c.subscribe(['cross.*', 'prices.ACME'])",
            "    print('python subscribed', flush=True)",
            "    seen = set()",
            "    while len(seen) < 2:",
            "        n = sub.get(timeout=30)",
            "        kind = 'typed' if n.subject == 'prices.ACME' else 'opaque'",
            "        if kind not in seen:",
            "            seen.add(kind)",
            "            print(kind, n.subject, json.dumps(n.payload, sort_keys=True), flush=True)");
        try (ProcessHarness py = python("python-subscriber", script))
        {
            py.awaitLine("python subscribed", 30_000);
            final byte[] body = "{\"from\":\"java\",\"n\":7}".getBytes(StandardCharsets.UTF_8);
            final UnsafeBuffer buffer = new UnsafeBuffer(body);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!py.output().contains("opaque cross.java"))
            {
                assertTrue(System.nanoTime() - deadline < 0, "python never got the Java publication:\n" + py.output());
                java.publish("cross.java", "cross.java", -1, buffer, 0, body.length);
                py.awaitLineOrNothing("opaque cross.java", 200);
            }
            assertTrue(py.output().contains("opaque cross.java {\"from\": \"java\", \"n\": 7}"), py.output());

            // the demo price feed is a Java peer publishing SBE: the gateway transcodes it with the publisher's IR
            final String typed = py.awaitLine("typed prices.ACME", 30_000);
            assertTrue(typed.contains("\"symbol\": \"ACME\"") && typed.contains("\"price\": "), typed);
        }
    }

    @Test
    void shouldDeliverPythonPublicationsToAJavaSubscriber() throws Exception
    {
        final CompletableFuture<String> received = new CompletableFuture<>();
        java.subscribe("from.python.>", (push, buffer, offset, length) ->
            received.complete(push.subject() + " " + buffer.getStringWithoutLengthUtf8(offset, length)));
        final String script = String.join("\n",
            "import sys, switchboard",
            "with switchboard.Client(sys.argv[1]) as c:",
            "    c.publish('from.python.hello', {'greeting': 'hi java'})",
            "    print('python published', flush=True)");
        try (ProcessHarness py = python("python-publisher", script))
        {
            py.awaitLine("python published", 30_000);
            final String push = received.get(30, TimeUnit.SECONDS);
            assertTrue(push.startsWith("from.python.hello "), push);
            assertTrue(push.contains("\"greeting\"") && push.contains("\"hi java\""), push);
        }
    }

    @Test
    void shouldLetPythonCallAJavaServiceWithJsonTranscodedToSbe() throws Exception
    {
        final String script = String.join("\n",
            "import sys, switchboard",
            "with switchboard.Client(sys.argv[1]) as c:",
            "    print('sum', c.request('calculator', 'Add', {'a': 40, 'b': 2})['value'], flush=True)",
            "    try:",
            "        c.request('calculator', 'Add', {'a': 'forty', 'b': 2})",
            "    except switchboard.SerializationError as e:",
            "        print('serialization error:', e, flush=True)");
        try (ProcessHarness py = python("python-caller", script))
        {
            py.awaitLine("sum 42", 30_000);
            final String error = py.awaitLine("serialization error:", 30_000);
            assertTrue(error.contains("'a'"), "the error names the field: " + error);
        }
    }
}
