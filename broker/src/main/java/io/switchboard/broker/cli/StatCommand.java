package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "stat", usageHelpWidth = 110,
    description = {"Every counter: the media driver's and the broker's (cnc.dat), the gateway's (STATS) and each " +
        "peer's (its counters file), like AeronStat. Peers' counters are read from their files while they run, " +
        "whether or not the broker is up."},
    footer = {"", "--json prints one document per refresh: {\"time\":\"...\",\"broker\":{\"pid\":...,\"running\":true," +
        "\"socket_dir\":\"...\"},\"driver\":{\"cnc\":\"...\",\"pid\":...,\"counters\":[{\"id\",\"type_id\",\"label\"," +
        "\"value\"}]},\"gateway\":{...STATS...},\"peers\":[{\"name\",\"pid\",\"uid\",\"file\",\"counters\":{label: value}}]}",
        "", ExitCodes.TABLE})
final class StatCommand extends OperatorCommand
{
    @Option(names = {"-w", "--watch"}, description = "refresh every --interval seconds (default: print once)")
    boolean watch;

    @Override
    boolean repeats()
    {
        return watch;
    }

    @Override
    boolean needsBroker()
    {
        return false; // the peers' counters and the last broker's files are still worth reading
    }

    @Override
    void refresh(final BrokerFiles files, final JsonNode stats, final int n) throws Exception
    {
        final ObjectNode doc = NODES.objectNode().put("time", Instant.now().toString());
        doc.putObject("broker").put("pid", files.brokerPid()).put("running", files.brokerRunning())
            .put("socket_dir", files.socketDir.toString());
        doc.set("driver", files.driverCounters());
        doc.set("gateway", stats);
        doc.set("peers", files.peers());
        if (cli.json)
        {
            cli.print(doc);
            return;
        }
        final StringBuilder out = new StringBuilder(4096);
        out.append(doc.get("time").asText()).append("  broker pid ").append(files.brokerPid())
            .append(files.brokerRunning() ? " running" : " not running").append(", socket dir ")
            .append(files.socketDir).append('\n');
        final JsonNode driver = doc.get("driver");
        if (null == driver || driver.isNull())
        {
            out.append("== media driver: no counters file (the broker is not running)\n");
        }
        else
        {
            out.append("== media driver and broker: ").append(driver.get("cnc").asText()).append('\n');
            for (final JsonNode counter : driver.get("counters"))
            {
                out.append(String.format(Locale.US, "%4d: %,20d - %s%n", counter.get("id").asInt(), counter.get("value").asLong(),
                    counter.get("label").asText()));
            }
        }
        if (null == stats)
        {
            out.append("== gateway: no answer (the broker is not running)\n");
        }
        else
        {
            out.append("== gateway\n");
            for (final Iterator<Map.Entry<String, JsonNode>> it = stats.fields(); it.hasNext(); )
            {
                final Map.Entry<String, JsonNode> field = it.next();
                if (field.getValue().isNumber())
                {
                    out.append(String.format(Locale.US, "%,26d - %s%n", field.getValue().asLong(), field.getKey()));
                }
            }
            for (final Iterator<Map.Entry<String, JsonNode>> it = stats.path("errors_by_code").fields(); it.hasNext(); )
            {
                final Map.Entry<String, JsonNode> field = it.next();
                out.append(String.format(Locale.US, "%,26d - errors %s%n", field.getValue().asLong(), field.getKey()));
            }
        }
        for (final JsonNode peer : doc.get("peers"))
        {
            out.append("== peer ").append(peer.get("name").asText()).append(" (pid ").append(peer.get("pid").asLong())
                .append(", user ").append(BrokerFiles.userName(peer.get("uid"))).append(", ")
                .append(peer.get("file").asText()).append(")\n");
            for (final Iterator<Map.Entry<String, JsonNode>> it = peer.get("counters").fields(); it.hasNext(); )
            {
                final Map.Entry<String, JsonNode> field = it.next();
                out.append(String.format(Locale.US, "%,26d - %s%n", field.getValue().asLong(), field.getKey()));
            }
        }
        cli.out.print(out);
    }
}
