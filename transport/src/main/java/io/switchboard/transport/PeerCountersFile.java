package io.switchboard.transport;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A peer's counters in a small memory-mapped file of its own, {@code <socket dir>/counters/<pid>-<n>.counters}, so
 * that another process ({@code switchboard stat}, {@code connections}, the metrics exporter) reads them while the peer
 * runs. The file is the peer's, not the media driver's: a driver that dies with its broker takes nothing of it away,
 * and the counters go on across reconnections.
 * <p>
 * Layout: a header of {@link #HEADER_LENGTH} bytes (magic, version, owner pid, the owner's process start time in
 * epoch milliseconds, the peer's name), then the counters' metadata and values as Agrona's {@link CountersManager}
 * lays them out for {@link #MAX_COUNTERS} counters.
 * <p>
 * <b>Reclaimed when the owner is gone.</b> The owner deletes its file when it closes. A file whose owner died
 * (SIGKILL) is found by the pid and start time in its header: no such process, or one started at another time (the
 * pid was reused), means the owner is gone, and readers with the right to delete it ({@link #reclaim(Path)}) do.
 * <p>
 * Thread-safety: the header is written once before the file is given its final name; counters are Agrona counters
 * (single writer, any reader).
 */
public final class PeerCountersFile
{
    /** Name of the folder, inside the socket directory, holding one file per peer. */
    public static final String DIRECTORY_NAME = "counters";
    /** File name suffix. */
    public static final String SUFFIX = ".counters";
    /** Counters a peer's file holds at most. */
    public static final int MAX_COUNTERS = 32;
    /** Bytes of the header before the counters' metadata. */
    public static final int HEADER_LENGTH = 1024;
    /** Longest peer name kept in the header, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 512;

    private static final int MAGIC = 0x53425043; // "SBPC"
    private static final int VERSION = 1;
    private static final int MAGIC_OFFSET = 0;
    private static final int VERSION_OFFSET = 4;
    private static final int PID_OFFSET = 8;
    private static final int START_OFFSET = 16;
    private static final int NAME_OFFSET = 24;
    private static final int METADATA_LENGTH = MAX_COUNTERS * CountersReader.METADATA_LENGTH;
    private static final int VALUES_LENGTH = MAX_COUNTERS * CountersReader.COUNTER_LENGTH;
    /** Total length of a file. */
    public static final int FILE_LENGTH = HEADER_LENGTH + METADATA_LENGTH + VALUES_LENGTH;
    private static final AtomicInteger NEXT_IN_PROCESS = new AtomicInteger();

    private PeerCountersFile()
    {
    }

    /**
     * The counters folder for the broker whose control socket is given.
     *
     * @param controlSocket of the broker.
     * @return its counters folder, or null if the socket has no parent.
     */
    public static Path directoryFor(final Path controlSocket)
    {
        final Path parent = null == controlSocket ? null : controlSocket.toAbsolutePath().getParent();
        return null == parent ? null : parent.resolve(DIRECTORY_NAME);
    }

    /**
     * A mapped file of this process's, created in {@code directory}.
     */
    static final class Mapped
    {
        final Path path;
        final MappedByteBuffer mapped;
        final UnsafeBuffer metadata;
        final UnsafeBuffer values;

        private Mapped(final Path path, final MappedByteBuffer mapped)
        {
            this.path = path;
            this.mapped = mapped;
            this.metadata = new UnsafeBuffer(mapped, HEADER_LENGTH, METADATA_LENGTH);
            this.values = new UnsafeBuffer(mapped, HEADER_LENGTH + METADATA_LENGTH, VALUES_LENGTH);
        }

        /**
         * Delete the file. The mapping stays until the buffer is collected, so a thread that still reads a counter
         * reads memory that is there.
         */
        void delete()
        {
            try
            {
                Files.deleteIfExists(path);
            }
            catch (final IOException ignore)
            {
                // a reader reclaims it once this process is gone
            }
        }
    }

    /**
     * Create and map a counters file for a peer of this process. The file is written under a temporary name and
     * renamed, so a reader never sees it without its header.
     *
     * @param directory the counters folder (created 0700 if missing).
     * @param peerName the peer's name, kept in the header.
     * @return the mapped file.
     * @throws IOException if the folder or the file cannot be made.
     */
    static Mapped create(final Path directory, final String peerName) throws IOException
    {
        if (!Files.isDirectory(directory))
        {
            try
            {
                Files.createDirectory(directory,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            catch (final java.nio.file.FileAlreadyExistsException ignore)
            {
                // made by the broker or another peer meanwhile
            }
        }
        final ProcessHandle self = ProcessHandle.current();
        final String base = self.pid() + "-" + NEXT_IN_PROCESS.getAndIncrement();
        final Path temporary = directory.resolve("." + base + ".tmp");
        final Path path = directory.resolve(base + SUFFIX);
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            allocate(channel, FILE_LENGTH);
            mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, FILE_LENGTH);
        }
        catch (final IOException ex)
        {
            Files.deleteIfExists(temporary);
            throw ex;
        }
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        header.putInt(MAGIC_OFFSET, MAGIC);
        header.putInt(VERSION_OFFSET, VERSION);
        header.putLong(PID_OFFSET, self.pid());
        header.putLong(START_OFFSET, startMillis(self));
        byte[] name = peerName.getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_NAME_BYTES)
        {
            name = java.util.Arrays.copyOf(name, MAX_NAME_BYTES);
        }
        header.putInt(NAME_OFFSET, name.length);
        header.putBytes(NAME_OFFSET + 4, name);
        try
        {
            Files.move(temporary, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final IOException ex)
        {
            Files.deleteIfExists(temporary);
            IoUtil.unmap(mapped);
            throw ex;
        }
        return new Mapped(path, mapped);
    }

    /**
     * Write zeros over the whole length before the file is mapped: every page then exists on disk, and a full disk
     * is an {@link IOException} here instead of a SIGBUS at the first write into an unallocated page of the mapping.
     *
     * @param channel of the new file.
     * @param length to allocate.
     * @throws IOException if the file system cannot hold it.
     */
    public static void allocate(final FileChannel channel, final int length) throws IOException
    {
        final java.nio.ByteBuffer zeros = java.nio.ByteBuffer.allocate(Math.min(length, 64 * 1024));
        long position = 0;
        while (position < length)
        {
            zeros.clear().limit((int)Math.min(zeros.capacity(), length - position));
            position += channel.write(zeros, position);
        }
        channel.force(false);
    }

    private static long startMillis(final ProcessHandle process)
    {
        final Optional<Instant> start = process.info().startInstant();
        return start.map(Instant::toEpochMilli).orElse(0L);
    }

    /**
     * One peer's counters as another process sees them.
     *
     * @param path of the file.
     * @param pid of the owner, as it wrote it.
     * @param name of the peer.
     * @param alive whether the owner runs.
     * @param counters the counters, read live from the mapped file.
     * @param mapped to unmap with {@link #close()}.
     */
    public record Peer(Path path, long pid, String name, boolean alive, CountersReader counters,
        MappedByteBuffer mapped) implements AutoCloseable
    {
        /**
         * The value of the counter with this label prefix (e.g. {@code sb-requests}), or -1 if none.
         *
         * @param labelPrefix of the counter, up to the first ':'.
         * @return its value.
         */
        public long value(final String labelPrefix)
        {
            final long[] found = {-1};
            counters.forEach((counterId, typeId, keyBuffer, label) ->
            {
                final int colon = label.indexOf(':');
                if ((colon < 0 ? label : label.substring(0, colon)).equals(labelPrefix))
                {
                    found[0] = counters.getCounterValue(counterId);
                }
            });
            return found[0];
        }

        /** Unmap the file. */
        public void close()
        {
            IoUtil.unmap(mapped);
        }
    }

    /**
     * Map every peer file in the folder, read-only. Files of owners that are gone are listed with
     * {@code alive == false} and left where they are (see {@link #reclaim(Path)}).
     *
     * @param directory the counters folder.
     * @return the peers, in file name order; empty if the folder does not exist.
     * @throws IOException if the folder cannot be listed.
     */
    public static List<Peer> read(final Path directory) throws IOException
    {
        final List<Peer> peers = new ArrayList<>();
        if (!Files.isDirectory(directory))
        {
            return peers;
        }
        final List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*" + SUFFIX))
        {
            stream.forEach(files::add);
        }
        files.sort(null);
        for (final Path file : files)
        {
            final Peer peer = open(file);
            if (null != peer)
            {
                peers.add(peer);
            }
        }
        return peers;
    }

    /**
     * Map one peer file read-only.
     *
     * @param file to map.
     * @return the peer, or null if the file is gone, too short or not a peer's counters file.
     * @throws IOException if it cannot be read.
     */
    public static Peer open(final Path file) throws IOException
    {
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            if (channel.size() < FILE_LENGTH)
            {
                return null;
            }
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, FILE_LENGTH);
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        if (header.getInt(MAGIC_OFFSET) != MAGIC || header.getInt(VERSION_OFFSET) != VERSION)
        {
            IoUtil.unmap(mapped);
            return null;
        }
        final long pid = header.getLong(PID_OFFSET);
        final long startMillis = header.getLong(START_OFFSET);
        final int nameLength = Math.min(MAX_NAME_BYTES, Math.max(0, header.getInt(NAME_OFFSET)));
        final byte[] name = new byte[nameLength];
        header.getBytes(NAME_OFFSET + 4, name);
        final CountersReader reader = new CountersReader(
            new UnsafeBuffer(mapped, HEADER_LENGTH, METADATA_LENGTH),
            new UnsafeBuffer(mapped, HEADER_LENGTH + METADATA_LENGTH, VALUES_LENGTH));
        return new Peer(file, pid, new String(name, StandardCharsets.UTF_8), isAlive(pid, startMillis), reader, mapped);
    }

    /**
     * Whether the process that wrote a header runs: one with that pid, started when the header says.
     *
     * @param pid of the owner.
     * @param startMillis the owner's start time as it wrote it (0: unknown, then the pid alone decides).
     * @return true if it runs.
     */
    public static boolean isAlive(final long pid, final long startMillis)
    {
        final Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive())
        {
            return false;
        }
        return 0 == startMillis || startMillis(process.get()) == startMillis;
    }

    /**
     * Delete the files of peers that are gone, and temporary files of dead creators.
     *
     * @param directory the counters folder.
     * @return how many were deleted.
     */
    public static int reclaim(final Path directory)
    {
        int deleted = 0;
        if (!Files.isDirectory(directory))
        {
            return 0;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory))
        {
            for (final Path file : stream)
            {
                final String fileName = file.getFileName().toString();
                if (!fileName.endsWith(SUFFIX) && !fileName.endsWith(".tmp"))
                {
                    continue;
                }
                final long pid = leadingPid(fileName);
                if (pid < 0 || ProcessHandle.current().pid() == pid)
                {
                    continue;
                }
                boolean gone;
                if (fileName.endsWith(SUFFIX))
                {
                    try (Peer peer = open(file))
                    {
                        gone = null != peer && !peer.alive();
                    }
                }
                else
                {
                    gone = ProcessHandle.of(pid).isEmpty();
                }
                if (gone && Files.deleteIfExists(file))
                {
                    deleted++;
                }
            }
        }
        catch (final IOException ignore)
        {
            // not ours to delete, or gone meanwhile: the next reader tries again
        }
        return deleted;
    }

    private static long leadingPid(final String fileName)
    {
        final int start = fileName.startsWith(".") ? 1 : 0;
        final int dash = fileName.indexOf('-', start);
        if (dash <= start)
        {
            return -1;
        }
        try
        {
            return Long.parseLong(fileName.substring(start, dash));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }
}
