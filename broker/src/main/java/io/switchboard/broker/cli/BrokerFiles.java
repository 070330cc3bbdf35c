package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aeron.CncFileDescriptor;
import io.switchboard.broker.BrokerInfo;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.PeerCountersFile;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Properties;

/**
 * What the operator commands read besides the gateway socket, all found from the socket's directory: {@code
 * broker.info} (pid, media driver directory), the media driver's counters in {@code cnc.dat} (the driver's and the
 * broker's own), every peer's counters file ({@code counters/}) and the error log ({@code errors.dat}).
 */
final class BrokerFiles
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    final Path socketDir;
    final Properties info;

    private BrokerFiles(final Path socketDir, final Properties info)
    {
        this.socketDir = socketDir;
        this.info = info;
    }

    static BrokerFiles of(final Path gatewaySocket)
    {
        final Path dir = gatewaySocket.toAbsolutePath().normalize().getParent();
        Properties info = null;
        try
        {
            info = BrokerInfo.read(dir);
        }
        catch (final IOException ignore)
        {
            // shown as unknown
        }
        return new BrokerFiles(dir, info);
    }

    long brokerPid()
    {
        return null == info ? -1 : Long.parseLong(info.getProperty("pid", "-1"));
    }

    boolean brokerRunning()
    {
        return null != info && PeerCountersFile.isAlive(brokerPid(), Long.parseLong(info.getProperty("start_ms", "0")));
    }

    Path countersDir()
    {
        return socketDir.resolve(PeerCountersFile.DIRECTORY_NAME);
    }

    /**
     * Every counter of the media driver's counters file (the driver's and the broker's), or null if there is none.
     */
    ObjectNode driverCounters() throws IOException
    {
        if (null == info || !brokerRunning())
        {
            return null;
        }
        final Path cnc = Path.of(info.getProperty("aeron_dir")).resolve(CncFileDescriptor.CNC_FILE);
        if (!Files.exists(cnc))
        {
            return null;
        }
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(cnc, StandardOpenOption.READ))
        {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
        }
        try
        {
            final UnsafeBuffer meta = CncFileDescriptor.createMetaDataBuffer(mapped);
            final int version = meta.getInt(CncFileDescriptor.cncVersionOffset(0));
            if (version != CncFileDescriptor.CNC_VERSION)
            {
                throw new IOException(cnc + " has version " + version + ", expected " + CncFileDescriptor.CNC_VERSION);
            }
            final CountersReader reader = new CountersReader(
                CncFileDescriptor.createCountersMetaDataBuffer(mapped, meta),
                CncFileDescriptor.createCountersValuesBuffer(mapped, meta));
            final ObjectNode driver = NODES.objectNode().put("cnc", cnc.toString())
                .put("pid", meta.getLong(CncFileDescriptor.pidOffset(0)));
            final ArrayNode counters = driver.putArray("counters");
            reader.forEach((id, typeId, key, label) -> counters.addObject()
                .put("id", id).put("type_id", typeId).put("label", label).put("value", reader.getCounterValue(id)));
            return driver;
        }
        finally
        {
            IoUtil.unmap(mapped);
        }
    }

    /**
     * Every live peer's counters: {@code [{name, pid, uid, file, counters: {label: value}}]}. Files of peers that
     * are gone are reclaimed first.
     */
    ArrayNode peers() throws IOException
    {
        PeerCountersFile.reclaim(countersDir());
        final ArrayNode peers = NODES.arrayNode();
        final List<PeerCountersFile.Peer> found = PeerCountersFile.read(countersDir());
        for (final PeerCountersFile.Peer peer : found)
        {
            try (peer)
            {
                if (!peer.alive())
                {
                    continue;
                }
                final ObjectNode node = peers.addObject().put("name", peer.name()).put("pid", peer.pid());
                try
                {
                    node.put("uid", (Integer)Files.getAttribute(peer.path(), "unix:uid"));
                }
                catch (final IOException | RuntimeException ex)
                {
                    node.putNull("uid");
                }
                node.put("file", socketDir.relativize(peer.path()).toString());
                final ObjectNode counters = node.putObject("counters");
                peer.counters().forEach((id, typeId, key, label) ->
                {
                    final int colon = label.indexOf(':');
                    counters.put(colon < 0 ? label : label.substring(0, colon), peer.counters().getCounterValue(id));
                });
            }
        }
        return peers;
    }

    /** The gateway's STATS payload, or null if the broker did not answer in time. */
    static JsonNode gatewayStats(
        final SwitchboardCli cli, final GatewayConnection connection, final long timeoutNs, final boolean connections)
    {
        final String id = cli.nextId();
        cli.send(connection, FrameType.STATS, NODES.objectNode().put("correlation_id", id)
            .put("connections", connections));
        final JsonNode answer = cli.awaitFrame(connection, id, System.nanoTime() + timeoutNs);
        return null == answer || !answer.path("success").asBoolean(false) ? null : answer.path("payload");
    }

    static String userName(final JsonNode uid)
    {
        if (null == uid || uid.isNull())
        {
            return "?";
        }
        try
        {
            final List<String> lines = Files.readAllLines(Path.of("/etc/passwd"));
            for (final String line : lines)
            {
                final String[] fields = line.split(":", -1);
                if (fields.length > 2 && fields[2].equals(uid.asText()))
                {
                    return fields[0];
                }
            }
        }
        catch (final IOException ignore)
        {
            // the number then
        }
        return uid.asText();
    }
}
