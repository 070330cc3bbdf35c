package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.broker.cli.SwitchboardCli;
import io.switchboard.examples.codec.AddEncoder;
import io.switchboard.examples.codec.MessageHeaderDecoder;
import io.switchboard.examples.codec.MessageHeaderEncoder;
import io.switchboard.examples.codec.ResultDecoder;
import io.switchboard.transport.Reply;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.SwitchboardException;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One set of naming rules for both paths, with real processes: a Python process joins the {@code calculator} a Java
 * process (DemoServices) serves shared with SBE, and callers on both paths reach both instances in turn; two Python
 * processes share a name; exclusive names refuse a second owner from either path; DISCOVER, STATS and
 * {@code switchboard services} count and name every instance.
 */
@Timeout(180)
class SharedNameSystemTest
{
    private static final Path ROOT = DemoBroker.ROOT;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What the Python instance of calculator adds to its answers, so callers can tell the instances apart. */
    private static final long PYTHON_MARK = 1000;

    private static DemoBroker demo;
    private static Switchboard java;

    @BeforeAll
    static void start() throws Exception
    {
        demo = DemoBroker.start("shared-name-test");
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

    private static ProcessHarness python(final String name, final String... lines) throws Exception
    {
        return demo.python(name, lines);
    }

    private static ProcessHarness pythonServer(final String name, final String service, final String types,
        final String handler) throws Exception
    {
        final ProcessHarness server = python(name,
            "import sys, threading, switchboard",
            "c = switchboard.Client(sys.argv[1])",
            "def handle(r):",
            "    " + handler,
            "c.serve('" + service + "', handle, message_types=" + types + ", mode='shared')",
            "print('python serving', flush=True)",
            "threading.Event().wait(600)");
        server.awaitLine("python serving", 30_000);
        return server;
    }

    private static long javaAdd(final long a, final long b) throws Exception
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        final AddEncoder add = new AddEncoder();
        add.wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder()).a(a).b(b);
        final Reply reply = java.requestAsync("calculator", "Add", buffer, 0,
            MessageHeaderEncoder.ENCODED_LENGTH + add.encodedLength(), Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
        return new ResultDecoder().wrapAndApplyHeader(reply.buffer(), 0, new MessageHeaderDecoder()).value();
    }

    private static JsonNode jsonAfter(final ProcessHarness process, final String label) throws Exception
    {
        final String line = process.awaitLine(label + " ", 30_000);
        return JSON.readTree(line.substring(line.indexOf(label + " ") + label.length() + 1));
    }

    private static String cli(final String... args) throws Exception
    {
        final String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket();
        System.arraycopy(args, 0, all, 2, args.length);
        try (ProcessHarness cli = ProcessHarness.start("cli", SwitchboardCli.class, all))
        {
            assertTrue(cli.process().waitFor(60, TimeUnit.SECONDS), "the tool exits");
            cli.awaitEnd();
            assertEquals(0, cli.process().exitValue(), cli.output());
            return cli.output();
        }
    }

    @Test
    void shouldLetPythonJoinJavaServedCalculatorAndReachBothInstancesFromBothPaths() throws Exception
    {
        try (ProcessHarness server = pythonServer("python-calculator", "calculator", "['Add', 'Multiply']",
            "return {'value': (r.payload['a'] + r.payload['b'] if r.message_type == 'Add' else " +
            "r.payload['a'] * r.payload['b']) + " + PYTHON_MARK + "}"))
        {
            // a socket caller: DISCOVER, STATS, then ten calls spread over both instances
            try (ProcessHarness caller = python("python-caller",
                "import sys, json, switchboard",
                "with switchboard.Client(sys.argv[1]) as c:",
                "    d = [s for s in c.discover()['services'] if s['name'] == 'calculator'][0]",
                "    print('discover', json.dumps(d), flush=True)",
                "    print('stats', json.dumps(c.stats().get('service_instances')), flush=True)",
                "    vals = [c.request('calculator', 'Add', {'a': i, 'b': 1})['value'] for i in range(10)]",
                "    print('calls', json.dumps({'python': sum(1 for i, v in enumerate(vals) if v == i + 1 + " +
                    PYTHON_MARK + "), 'java': sum(1 for i, v in enumerate(vals) if v == i + 1)}), flush=True)",
                "    print('multiply', c.request('calculator', 'Multiply', {'a': 6, 'b': 7})['value'], flush=True)"))
            {
                final JsonNode calculator = jsonAfter(caller, "discover");
                assertEquals(2, calculator.path("instances").asInt(), calculator::toString);
                assertEquals("mixed", calculator.path("transport").asText(), calculator::toString);
                int javaInstances = 0;
                int socketInstances = 0;
                for (final JsonNode instance : calculator.path("instances_detail"))
                {
                    if ("shared-memory".equals(instance.path("path").asText()))
                    {
                        javaInstances++;
                        assertEquals(demo.services.process().pid(), instance.path("pid").asLong(), instance::toString);
                    }
                    else if ("socket".equals(instance.path("path").asText()))
                    {
                        socketInstances++;
                        assertTrue(instance.path("connection").asLong() > 0, instance::toString);
                    }
                }
                assertEquals(1, javaInstances, calculator::toString);
                assertEquals(1, socketInstances, calculator::toString);
                assertEquals(2, jsonAfter(caller, "stats").path("calculator").asInt());
                final JsonNode calls = jsonAfter(caller, "calls");
                assertEquals(5, calls.path("python").asInt(), calls::toString);
                assertEquals(5, calls.path("java").asInt(), calls::toString);
                final String multiply = caller.awaitLine("multiply ", 30_000);
                assertTrue(multiply.endsWith("multiply 42") || multiply.endsWith("multiply " + (42 + PYTHON_MARK)),
                    multiply);
            }

            // a Java caller, in SBE: the Python instance's JSON answers come back as SBE Results
            int fromPython = 0;
            int fromJava = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (fromPython < 3 || fromJava < 3)
            {
                assertTrue(System.nanoTime() - deadline < 0, "Java caller: " + fromPython + " from Python, " +
                    fromJava + " from Java");
                final long sum = javaAdd(40, 2);
                if (42 + PYTHON_MARK == sum)
                {
                    fromPython++;
                }
                else
                {
                    assertEquals(42, sum);
                    fromJava++;
                }
            }

            // switchboard services: who serves
            final String listing = cli("services");
            final String line = listing.lines().filter((l) -> l.startsWith("calculator ")).findFirst().orElse("");
            assertTrue(line.contains("mixed") && line.contains(" 2 instance(s)"), listing);
            assertTrue(listing.contains("shared-memory  client ") &&
                listing.contains("(pid " + demo.services.process().pid() + ")"), listing);
            assertTrue(listing.contains("socket  connection "), listing);
        }
    }

    @Test
    void shouldCountTwoPythonServersOfOneSharedName() throws Exception
    {
        try (ProcessHarness first = pythonServer("python-shared-1", "py_shared", "['Who']", "return {'who': 1}");
            ProcessHarness second = pythonServer("python-shared-2", "py_shared", "['Who']", "return {'who': 2}");
            ProcessHarness caller = python("python-caller",
                "import sys, json, switchboard",
                "with switchboard.Client(sys.argv[1]) as c:",
                "    d = [s for s in c.discover()['services'] if s['name'] == 'py_shared'][0]",
                "    print('discover', json.dumps(d), flush=True)",
                "    print('stats', json.dumps(c.stats().get('service_instances')), flush=True)",
                "    whos = [c.request('py_shared', 'Who', {})['who'] for i in range(4)]",
                "    print('whos', json.dumps(sorted(whos)), flush=True)"))
        {
            final JsonNode shared = jsonAfter(caller, "discover");
            assertEquals(2, shared.path("instances").asInt(), shared::toString);
            assertEquals("socket", shared.path("transport").asText(), shared::toString);
            assertEquals(2, shared.path("instances_detail").size(), shared::toString);
            assertEquals(2, jsonAfter(caller, "stats").path("py_shared").asInt());
            assertEquals("[1,1,2,2]", jsonAfter(caller, "whos").toString());
        }
    }

    @Test
    void shouldRefuseSecondOwnerOfExclusiveNameFromEitherPath() throws Exception
    {
        // Java (DemoServices) holds kv_store exclusive: Python is refused, exclusive or shared
        try (ProcessHarness py = python("python-intruder",
            "import sys, switchboard",
            "with switchboard.Client(sys.argv[1]) as c:",
            "    for mode in ('exclusive', 'shared'):",
            "        try:",
            "            c.serve('kv_store', lambda r: None, message_types=['Get', 'Set'], mode=mode)",
            "            print('served', mode, flush=True)",
            "        except switchboard.NameInUse as e:",
            "            print('refused', mode, e, flush=True)"))
        {
            py.awaitLine("refused exclusive", 30_000);
            py.awaitLine("refused shared", 30_000);
            assertFalse(py.output().contains("served"), py.output());
        }

        // Python holds py_only exclusive: Java is refused
        try (ProcessHarness py = python("python-holder",
            "import sys, threading, switchboard",
            "c = switchboard.Client(sys.argv[1])",
            "c.serve('py_only', lambda r: {'ok': True}, message_types=['Ping'])",
            "print('python serving', flush=True)",
            "threading.Event().wait(600)"))
        {
            py.awaitLine("python serving", 30_000);
            for (final boolean shared : new boolean[]{ false, true })
            {
                final ServiceDefinition definition = ServiceDefinition.named("py_only")
                    .onOpaqueRequest("Ping", (request, buffer, offset, length) -> {});
                if (shared)
                {
                    definition.shared();
                }
                final SwitchboardException refused =
                    assertThrows(SwitchboardException.class, () -> java.serve(definition));
                assertEquals("NAME_IN_USE", refused.errorCode(), refused::getMessage);
            }
        }
    }
}
