package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.broker.cli.SwitchboardCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The operator commands as an operator runs them: each its own process, against a real broker, a Java peer in a
 * process of its own and socket clients (other runs of the tool).
 */
@Timeout(180)
class OperatorCommandsSystemTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** One sample line of the Prometheus text format (0.0.4): name, optional labels, a number. */
    private static final Pattern SAMPLE = Pattern.compile(
        "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*})? -?[0-9.e+E-]+|.* [+-]Inf|.* NaN");

    private record Result(int exitCode, String output)
    {
    }

    private static Result run(final BrokerProcess broker, final String... args) throws Exception
    {
        final List<String> all = new ArrayList<>(List.of("--socket", broker.socketDir.resolve("broker.sock").toString()));
        all.addAll(List.of(args));
        try (ProcessHarness cli = ProcessHarness.start("cli", SwitchboardCli.class, all.toArray(new String[0])))
        {
            cli.process().getOutputStream().close();
            assertTrue(cli.process().waitFor(60, TimeUnit.SECONDS), "the tool exits");
            cli.awaitEnd();
            return new Result(cli.process().exitValue(), cli.output());
        }
    }

    private static JsonNode json(final Result result) throws Exception
    {
        assertEquals(0, result.exitCode, result.output);
        return JSON.readTree(result.output);
    }

    private static JsonNode peerNamed(final JsonNode peers, final String name)
    {
        for (final JsonNode peer : peers)
        {
            if (name.equals(peer.path("name").asText()))
            {
                return peer;
            }
        }
        return null;
    }

    /**
     * Every metric that a query of docs/grafana-dashboard.json (its panels' and its variables') names is one that
     * {@code switchboard metrics} printed a sample of, against a broker with a Java peer, socket clients, calls, an
     * error and a publication: a renamed or misspelled metric is an empty panel nobody notices.
     */
    private static void assertDashboardQueriesOnlyMetricsThatExist(final String metricsText) throws Exception
    {
        final java.util.Set<String> emitted = new java.util.TreeSet<>();
        for (final String line : metricsText.split("\n"))
        {
            if (!line.isEmpty() && !line.startsWith("#"))
            {
                emitted.add(line.split("[{ ]", 2)[0]);
            }
        }
        final JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        final List<String> queries = new ArrayList<>();
        for (final JsonNode panel : dashboard.path("panels"))
        {
            for (final JsonNode target : panel.path("targets"))
            {
                queries.add(target.path("expr").asText());
            }
        }
        for (final JsonNode variable : dashboard.path("templating").path("list"))
        {
            if ("query".equals(variable.path("type").asText()))
            {
                queries.add(variable.path("definition").asText());
                queries.add(variable.path("query").path("query").asText());
            }
        }
        final java.util.Set<String> named = new java.util.TreeSet<>();
        for (final String query : queries)
        {
            assertFalse(query.isBlank(), "a query of the dashboard is empty");
            named.addAll(metricNames(query));
        }
        final List<String> missing = new ArrayList<>();
        for (final String name : named)
        {
            if (!emitted.contains(name))
            {
                missing.add(name);
            }
        }
        assertEquals(List.of(), missing, "metrics the dashboard queries but `switchboard metrics` does not print " +
            "(it printed " + emitted + ")");
        assertTrue(queries.size() >= 40 && named.size() >= 40,
            "the dashboard's queries were read: " + queries.size() + " queries naming " + named);
    }

    /** The metric names in one PromQL expression (or a Grafana {@code label_values(METRIC, LABEL)} query). */
    static java.util.Set<String> metricNames(final String query)
    {
        String text = query.replaceAll("\"([^\"\\\\]|\\\\.)*\"", "\"\"") // strings, label values included
            .replaceAll("\\{[^}]*}", " ") // label matchers
            .replaceAll("\\[[^\\]]*]", " ") // range selectors
            .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " "); // label lists
        text = text.replaceAll("\\blabel_values\\s*\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,[^)]*\\)", "$1");
        final java.util.Set<String> names = new java.util.TreeSet<>();
        final java.util.regex.Matcher identifier =
            Pattern.compile("(?<![\\w:.$])[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()").matcher(text);
        while (identifier.find())
        {
            if (!PROMQL_WORDS.contains(identifier.group().toLowerCase(java.util.Locale.ROOT)))
            {
                names.add(identifier.group());
            }
        }
        return names;
    }

    private static final java.util.Set<String> PROMQL_WORDS =
        java.util.Set.of("and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring",
            "group_left", "group_right");
    private static final Path DASHBOARD =
        Path.of(System.getProperty("user.dir")).getParent().resolve("docs").resolve("grafana-dashboard.json");

    @Test
    void shouldFindTheMetricNamesOfAPromqlQuery()
    {
        assertEquals(java.util.Set.of("a_total", "b_seconds_bucket", "c"), metricNames(
            "sum by (service, le) (rate(a_total{service=~\"$service\",x=\"y{z}\"}[$__rate_interval])) / " +
            "histogram_quantile(0.99, sum without (pid) (rate(b_seconds_bucket[5m]))) + on (peer) group_left c " +
            "> bool 1e3"));
        assertEquals(java.util.Set.of("m_total"), metricNames("label_values(m_total, service)"));
    }

    @Test
    void shouldShowCountersConnectionsTrafficAndMetricsAndKeepErrorsAfterTheBrokerExited() throws Exception
    {
        final BrokerProcess broker = new BrokerProcess();
        ProcessHarness services = null;
        ProcessHarness peer = null;
        ProcessHarness listener = null;
        ProcessHarness monitor = null;
        try
        {
            services = broker.startDemoServices();
            // a Java peer in its own process: serves 'churny', holds a call, a stream, a subscription, a publication
            peer = ProcessHarness.start("churny", ChurningPeer.class, broker.socketDir.toString(), "churny");
            peer.awaitLine("churn ready churny", 60_000);

            // stat: the Java peer's counters, read from its file while it runs
            final JsonNode stat = json(run(broker, "--json", "stat"));
            final JsonNode churny = peerNamed(stat.path("peers"), "churny");
            assertNotNull(churny, "stat lists the running Java peer: " + stat.path("peers"));
            assertEquals(peer.pid(), churny.path("pid").asLong());
            assertTrue(churny.path("counters").path("sb-requests").asLong() >= 2, "its hold and its stream: " + churny);
            assertTrue(churny.path("counters").path("sb-published").asLong() >= 1, churny.toString());
            assertTrue(churny.path("counters").path("sb-in-flight").asLong() >= 1, "the held call is in flight");
            assertTrue(Files.exists(broker.socketDir.resolve(churny.path("file").asText())));
            assertTrue(stat.path("driver").path("counters").size() > 10, "the driver's counters");
            assertTrue(stat.path("driver").toString().contains("sb-broker peers connected"), "the broker's counters");
            assertTrue(stat.path("gateway").path("connections_accepted").asLong() >= 1, "the gateway's counters");
            final Result watch = run(broker, "stat", "--watch", "--count", "2", "--interval", "0.2");
            assertEquals(0, watch.exitCode, watch.output);
            assertEquals(2, watch.output.split("== peer churny \\(pid " + peer.pid(), -1).length - 1,
                "two refreshes, each with the peer: " + watch.output);

            // monitor: a socket client's call of the Java peer's service and a publication, as they pass
            monitor = ProcessHarness.start("cli-monitor", SwitchboardCli.class, "--socket",
                broker.socketDir.resolve("broker.sock").toString(), "monitor");
            monitor.awaitLine("switchboard: monitoring '>'", 30_000);
            listener = ProcessHarness.start("cli-listen", SwitchboardCli.class, "--socket",
                broker.socketDir.resolve("broker.sock").toString(), "listen", "churn.>");
            listener.awaitLine("listening to", 30_000);
            assertEquals(0, run(broker, "call", "churny", "Ping", "n:=1").exitCode);
            assertEquals(0, run(broker, "publish", "churn.price", "p:=7").exitCode);
            assertEquals(4, run(broker, "call", "churny", "Nope").exitCode);
            monitor.awaitLine("REQ  churny", 30_000);
            monitor.awaitLine("REP  churny", 30_000);
            monitor.awaitLine("ERR  churny UNKNOWN_MESSAGE_TYPE", 30_000);
            monitor.awaitLine("PUB  churn.price {\"p\":7}", 30_000);

            // connections: the Java peer with its pid and service, the socket clients with kernel pids and patterns
            final JsonNode connections = json(run(broker, "--json", "connections")).path("connections");
            JsonNode javaRow = null;
            JsonNode listenRow = null;
            for (final JsonNode row : connections)
            {
                if ("churny".equals(row.path("name").asText()))
                {
                    javaRow = row;
                }
                if (row.path("pid").asLong() == listener.pid())
                {
                    listenRow = row;
                }
            }
            assertNotNull(javaRow, connections.toString());
            assertEquals("java", javaRow.path("kind").asText());
            assertEquals(peer.pid(), javaRow.path("pid").asLong());
            assertEquals("[\"churny\"]", javaRow.path("services").toString());
            assertNotNull(listenRow, "the listener's pid, from the kernel: " + connections);
            assertEquals("socket", listenRow.path("kind").asText());
            assertEquals("kernel", listenRow.path("pid_source").asText());
            assertEquals("[\"churn.>\"]", listenRow.path("patterns").toString());
            assertEquals(System.getProperty("user.name"), listenRow.path("user").asText());
            final Result table = run(broker, "connections");
            assertTrue(table.output.startsWith("KIND"), table.output);
            assertTrue(table.output.contains(" " + peer.pid() + " "), table.output);

            // top: rates with latency per service for calls made during its interval
            try (ProcessHarness top = ProcessHarness.start("cli-top", SwitchboardCli.class, "--socket",
                broker.socketDir.resolve("broker.sock").toString(), "--json", "top", "--count", "1", "--interval", "3"))
            {
                for (int i = 0; i < 3; i++)
                {
                    final Result ping = run(broker, "call", "churny", "Ping", "n:=2");
                    assertEquals(0, ping.exitCode, ping.output);
                }
                assertTrue(top.process().waitFor(60, TimeUnit.SECONDS));
                top.awaitEnd();
                assertEquals(0, top.process().exitValue(), top.output());
                final JsonNode rates = JSON.readTree(top.output());
                JsonNode row = null;
                for (final JsonNode service : rates.path("services"))
                {
                    row = "churny".equals(service.path("name").asText()) ? service : row;
                }
                assertNotNull(row, rates.toString());
                assertTrue(row.path("requests_per_s").asDouble() > 0, row.toString());
                assertTrue(row.path("p50_ms").asDouble() > 0 && row.path("p99_ms").asDouble() >= row.path("p50_ms")
                    .asDouble(), row.toString());
                assertNotNull(peerNamed(rates.path("peers"), "churny"), rates.toString());
            }

            // metrics: the Prometheus text format, every sample line well formed, one TYPE per family
            final Result metrics = run(broker, "metrics");
            assertEquals(0, metrics.exitCode, metrics.output);
            for (final String line : metrics.output.split("\n"))
            {
                assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || SAMPLE.matcher(line).matches(),
                    "a Prometheus text line: " + line);
            }
            assertTrue(metrics.output.contains("switchboard_up 1"));
            assertTrue(metrics.output.contains("# TYPE switchboard_gateway_requests_total counter"));
            assertTrue(metrics.output.contains("switchboard_peer_requests_total{peer=\"churny\",pid=\"" + peer.pid()));
            assertTrue(metrics.output.contains("switchboard_gateway_service_latency_seconds_count{service=\"churny\"}"));
            assertDashboardQueriesOnlyMetricsThatExist(metrics.output);

            // a Java peer that dies: its counters file is reclaimed, and stat no longer lists it
            final Path file = broker.socketDir.resolve(churny.path("file").asText());
            peer.kill();
            final JsonNode after = json(run(broker, "--json", "stat"));
            assertNull(peerNamed(after.path("peers"), "churny"), after.path("peers").toString());
            assertFalse(Files.exists(file), "a dead peer's counters file is reclaimed");

            // errors: a protocol error on the control socket, read back after the broker exited
            try (SocketChannel control = SocketChannel.open(StandardProtocolFamily.UNIX))
            {
                control.connect(UnixDomainSocketAddress.of(broker.socketDir.resolve("control.sock")));
                final ByteBuffer garbage = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(16);
                while (garbage.hasRemaining())
                {
                    garbage.put((byte)7);
                }
                control.write(garbage.flip());
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!json(run(broker, "--json", "errors")).path("errors").toString().contains("expected schemaId"))
                {
                    assertTrue(System.nanoTime() - deadline < 0, "the protocol error reaches the error log");
                }
            }
            monitor.terminate();
            listener.terminate();
            services.terminate();
            broker.process.terminate();
            final JsonNode errors = json(run(broker, "--json", "errors"));
            assertFalse(errors.path("broker_running").asBoolean(true), errors.toString());
            final JsonNode first = errors.path("errors").get(0);
            assertTrue(first.path("stack_trace").asText().contains("expected schemaId=7301, actual=1799"), first.toString());
            assertTrue(first.path("stack_trace").asText().contains("\tat io.switchboard.broker."), "with its stack trace");
            assertEquals(1, first.path("count").asInt());
            final Result text = run(broker, "errors");
            assertTrue(text.output.contains("exited; 1 distinct error"), text.output);
            assertEquals(3, run(broker, "errors", "--previous").exitCode, "no broker ran before this one");
        }
        finally
        {
            for (final ProcessHarness process : new ProcessHarness[]{monitor, listener, peer, services})
            {
                if (null != process && process.process().isAlive())
                {
                    process.kill();
                }
            }
            broker.close();
        }
    }
}
