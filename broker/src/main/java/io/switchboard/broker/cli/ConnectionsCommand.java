package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "connections", usageHelpWidth = 110,
    description = {"Every live connection: Java peers (shared memory) and socket clients, with pid, user, process " +
        "name, the services each serves, its subscription patterns (socket clients), calls in flight and pushes " +
        "dropped or lost.",
        "",
        "Where each column comes from: a socket client's user is the kernel's (SO_PEERCRED), and so is its pid " +
        "(read through junixsocket; -1 if the broker cannot read it). A Java peer's pid is the one it wrote into its " +
        "counters file (its own process's), its user is the file's owner (the kernel's), and its drops are " +
        "publications it lost; Java peers' patterns are not shown (the broker keeps them, the tool cannot see them)."},
    footer = {"", "--json prints one document: {\"connections\":[{\"kind\":\"java\"|\"socket\",\"id\":...," +
        "\"name\":...,\"pid\":...,\"pid_source\":\"peer\"|\"kernel\",\"user\":...,\"process\":...,\"services\":[...]," +
        "\"patterns\":[...],\"in_flight\":...,\"drops\":...}]}", "", ExitCodes.TABLE})
final class ConnectionsCommand extends OperatorCommand
{
    @Override
    boolean wantsConnections()
    {
        return true;
    }

    @Override
    boolean repeats()
    {
        return false;
    }

    @Override
    void refresh(final BrokerFiles files, final JsonNode stats, final int n) throws Exception
    {
        final JsonNode discovery = cli.discover(connection, null, Seconds.ofSeconds(10));
        final ArrayNode rows = NODES.arrayNode();
        for (final JsonNode peer : files.peers())
        {
            final long pid = peer.get("pid").asLong();
            final String name = peer.get("name").asText();
            final ObjectNode row = rows.addObject().put("kind", "java").putNull("id").put("name", name)
                .put("pid", pid).put("pid_source", "peer").put("user", BrokerFiles.userName(peer.get("uid")))
                .put("process", processName(pid));
            final ArrayNode services = row.putArray("services");
            if (null != discovery)
            {
                for (final JsonNode service : discovery.path("services"))
                {
                    for (final JsonNode instance : service.path("instances_detail"))
                    {
                        if ("shared-memory".equals(instance.path("path").asText()) &&
                            instance.path("pid").asLong() == pid && name.equals(instance.path("peer").asText()))
                        {
                            services.add(service.path("name").asText());
                        }
                    }
                }
            }
            row.putNull("patterns");
            row.put("in_flight", peer.path("counters").path("sb-in-flight").asLong())
                .put("drops", peer.path("counters").path("sb-pushes-lost").asLong());
        }
        for (final JsonNode socket : null == stats ? NODES.arrayNode() : stats.path("connections_detail"))
        {
            if (socket.path("pid").asLong() == ProcessHandle.current().pid())
            {
                continue; // this command's own connection
            }
            final ObjectNode row = rows.addObject().put("kind", "socket").put("id", socket.path("id").asLong())
                .putNull("name").put("pid", socket.path("pid").asLong()).put("pid_source", "kernel")
                .put("user", socket.path("user").asText("?")).put("process", socket.path("process").asText(null));
            row.set("services", socket.path("services"));
            row.set("patterns", socket.path("patterns"));
            row.put("in_flight", socket.path("requests_in_flight").asLong())
                .put("drops", socket.path("pushes_dropped").asLong());
        }
        if (cli.json)
        {
            cli.print(NODES.objectNode().set("connections", rows));
            return;
        }
        final String format = "%-7s %-5s %-8s %-9s %-12s %-20s %-30s %-14s %9s %6s%n";
        cli.out.printf(Locale.US, format, "KIND", "ID", "PID", "USER", "PROCESS", "NAME", "SERVICES", "PATTERNS", "IN-FLIGHT",
            "DROPS");
        for (final JsonNode row : rows)
        {
            cli.out.printf(Locale.US, format, row.get("kind").asText(), text(row.get("id")), row.get("pid").asLong(),
                row.get("user").asText(), text(row.get("process")), text(row.get("name")), list(row.get("services")),
                row.get("patterns").isNull() ? "(not shown)" : list(row.get("patterns")), row.get("in_flight").asLong(),
                row.get("drops").asLong());
        }
    }

    private static String text(final JsonNode node)
    {
        return null == node || node.isNull() ? "-" : node.asText();
    }

    private static String list(final JsonNode array)
    {
        if (null == array || !array.isArray() || array.isEmpty())
        {
            return "-";
        }
        final StringBuilder text = new StringBuilder();
        for (final JsonNode item : array)
        {
            text.append(text.length() == 0 ? "" : ",").append(item.asText());
        }
        return text.toString();
    }

    static String processName(final long pid)
    {
        try
        {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.UTF_8).strip();
        }
        catch (final java.io.IOException | RuntimeException ex)
        {
            return null;
        }
    }
}
