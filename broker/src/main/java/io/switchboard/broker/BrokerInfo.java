package io.switchboard.broker;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * {@code broker.info} in the socket directory: what the tools ({@code switchboard stat}, {@code errors}, the
 * metrics exporter) need to find the rest of a broker's files from its socket: its pid and start time, the media
 * driver directory (for the driver's and the broker's counters in {@code cnc.dat}) and the sockets. Written at start
 * (a temporary file renamed, so readers never see half of it) and kept after exit.
 */
public final class BrokerInfo
{
    /** Name of the file in the socket directory. */
    public static final String FILE_NAME = "broker.info";

    private BrokerInfo()
    {
    }

    static void write(final Path socketDir, final BrokerContext<?> ctx) throws IOException
    {
        final ProcessHandle self = ProcessHandle.current();
        final Properties info = new Properties();
        info.setProperty("pid", Long.toString(self.pid()));
        info.setProperty("start_ms", Long.toString(
            self.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L)));
        info.setProperty("aeron_dir", Path.of(ctx.aeronDirectoryName()).toAbsolutePath().normalize().toString());
        info.setProperty("embedded_driver", Boolean.toString(ctx.embeddedDriver()));
        info.setProperty("gateway_socket", ctx.gatewaySocket().toAbsolutePath().toString());
        info.setProperty("control_socket", ctx.controlSocket().toAbsolutePath().toString());
        final Path temporary = socketDir.resolve(FILE_NAME + ".tmp");
        try (Writer out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8))
        {
            info.store(out, "written by the switchboard broker at start; read by switchboard stat and errors");
        }
        Files.move(temporary, socketDir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Read a broker's info.
     *
     * @param socketDir its socket directory.
     * @return the properties, or null if there is no such file.
     * @throws IOException if it cannot be read.
     */
    public static Properties read(final Path socketDir) throws IOException
    {
        final Properties info = new Properties();
        try (java.io.Reader in = Files.newBufferedReader(socketDir.resolve(FILE_NAME), StandardCharsets.UTF_8))
        {
            info.load(in);
            return info;
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
    }
}
