package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicReference;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "metrics", usageHelpWidth = 110,
    description = {"The broker's, the gateway's and every Java peer's counters in the Prometheus text format " +
        "(docs/METRICS.md lists them). Opt-in: nothing is exported unless this runs.",
        "",
        "Without options: print them once. --textfile FILE: rewrite FILE (atomically, for node_exporter's textfile " +
        "collector: a name ending .prom in its --collector.textfile.directory) every --interval seconds. " +
        "--http PORT: serve them at http://127.0.0.1:PORT/metrics (loopback only), refreshed every --interval."},
    footer = {"", ExitCodes.TABLE})
final class MetricsCommand extends OperatorCommand
{
    @Option(names = "--textfile", paramLabel = "FILE", description = "write the metrics to FILE, again each interval")
    Path textfile;

    @Option(names = "--http", paramLabel = "PORT", description = "serve /metrics on 127.0.0.1:PORT")
    Integer port;

    private final AtomicReference<String> latest = new AtomicReference<>("");
    private HttpServer server;

    @Override
    boolean repeats()
    {
        return null != textfile || null != port;
    }

    @Override
    boolean needsBroker()
    {
        return false; // exported as switchboard_up 0
    }

    @Override
    void refresh(final BrokerFiles files, final JsonNode stats, final int n) throws Exception
    {
        final ObjectNode broker = NODES.objectNode().put("pid", files.brokerPid()).put("running", files.brokerRunning());
        final String text = PrometheusText.render(broker, files.driverCounters(), stats, files.peers());
        latest.set(text);
        if (null != textfile)
        {
            final Path absolute = textfile.toAbsolutePath();
            final Path temporary = absolute.resolveSibling("." + absolute.getFileName() + ".tmp");
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        if (null != port && null == server)
        {
            startServer();
        }
        if (null == textfile && null == port)
        {
            cli.out.print(text);
        }
    }

    private void startServer() throws IOException
    {
        if (port < 1 || port > 65_535)
        {
            throw new UsageException("--http expects a port from 1 to 65535, found " + port);
        }
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        server.createContext("/metrics", (exchange) ->
        {
            final byte[] body = latest.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            final boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(200, head ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody())
            {
                if (!head)
                {
                    out.write(body);
                }
            }
        });
        server.setExecutor(null);
        server.start();
        cli.err.println("switchboard: serving metrics at http://127.0.0.1:" + server.getAddress().getPort() + "/metrics");
    }
}
