package io.switchboard.broker;

import io.aeron.CncFileDescriptor;
import io.aeron.driver.MediaDriver;
import io.aeron.exceptions.StorageSpaceException;
import io.aeron.logbuffer.LogBufferDescriptor;
import io.switchboard.broker.access.PrivateDirectory;
import io.switchboard.broker.access.StartRefusedException;
import io.switchboard.transport.TrustedDirectory;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The broker's runtime folders, claimed before anything is bound, created or deleted in them: the socket directory,
 * the media driver directory and its parent.
 * <ul>
 *   <li><b>Owned.</b> Each folder is looked at with lstat (a link is never followed): it must be a real directory
 *   owned by the broker's user and writable by no one else. A missing one is created 0700 by mkdir itself (the mode
 *   is given to the system call, so there is no moment when it is wider). An existing one of ours that others can
 *   read or traverse but not write (0755, or 0711 left by an {@code --allow-user} run) is tightened to 0700: no one
 *   else can have put anything in it. One that others can write to (or that belongs to someone else, or is a link)
 *   is refused and left exactly as found: anyone could have planted a link or a socket in it.</li>
 *   <li><b>One broker per folder.</b> A lock ({@code flock}-style, {@link FileChannel#tryLock()}) on
 *   {@code broker.lock} in the socket directory, and on {@code <name>.lock} beside the media driver directory, held
 *   for the broker's life: the kernel releases it when the process dies however it dies, so a crashed broker's
 *   leftovers can be replaced safely and two brokers started at once cannot both proceed.</li>
 *   <li><b>Room for the driver.</b> The free space of the driver directory's file system is checked before the
 *   driver maps its files, and a driver that fails for want of space leaves nothing behind.</li>
 * </ul>
 * Not thread-safe: used by the thread that starts and closes the broker.
 */
public final class RuntimeDirectory implements AutoCloseable
{
    /** Name of the lock file in the socket directory. */
    public static final String LOCK_FILE_NAME = "broker.lock";

    /** IPC logs the free-space check makes room for besides cnc.dat and loss-report.dat. */
    public static final int MIN_IPC_LOGS = 4;

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    /** FileChannel locks belong to the process: two brokers in one JVM are told apart here. */
    private static final Set<Path> HELD_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();
    private static final long HOLDER_PID_WAIT_MS = 2_000;

    private final List<HeldLock> locks = new ArrayList<>(2);
    private final Path aeronDir;

    private RuntimeDirectory(final Path aeronDir)
    {
        this.aeronDir = aeronDir;
    }

    /**
     * Claim the broker's folders: check or create each one, then lock them. Nothing in a folder that fails the check
     * is touched.
     *
     * @param ctx of the broker, concluded.
     * @return the claim, to be closed after the media driver (which deletes its directory on close).
     * @throws StartRefusedException naming the path, what was found and what to do.
     */
    public static RuntimeDirectory claim(final Broker.Context ctx)
    {
        final Path socketDir = ctx.socketDir().toAbsolutePath().normalize();
        final Path aeronDir = ctx.embeddedDriver() ? Path.of(ctx.aeronDirectoryName()).toAbsolutePath().normalize() : null;
        final RuntimeDirectory claim = new RuntimeDirectory(aeronDir);
        try
        {
            PrivateDirectory.ensurePrivate(socketDir, "socket directory");
            final Path gatewayDir = ctx.gatewaySocket().toAbsolutePath().normalize().getParent();
            if (ctx.gateway() && null != gatewayDir && !gatewayDir.equals(socketDir))
            {
                PrivateDirectory.ensurePrivate(gatewayDir, "gateway socket's directory");
            }
            claim.lock(socketDir.resolve(LOCK_FILE_NAME));
            if (null != aeronDir)
            {
                // The media driver deletes its directory at start and at shutdown, and recreates it in between.
                // Checking the directory itself is not enough: whoever can write to its parent could swap it for a
                // link to a victim's folder between our check and the driver's delete. A parent that is ours and
                // 0700 makes that impossible for any other user, so the parent is what must be private.
                final Path parent = aeronDir.getParent();
                if (null == parent)
                {
                    throw new StartRefusedException("media driver directory " + aeronDir + " has no parent to own; " +
                        "give --aeron-dir a folder inside a directory of your own");
                }
                PrivateDirectory.ensurePrivate(parent, "media driver directory's parent");
                claim.lock(parent.resolve(aeronDir.getFileName() + ".lock"));
                final TrustedDirectory.Status status = TrustedDirectory.lstat(aeronDir);
                if (status.exists && (!status.isDirectory() || status.uid != TrustedDirectory.ownUid()))
                {
                    throw new StartRefusedException("media driver directory " + aeronDir + " is " + status.describe() +
                        "; expected a directory owned by uid " + TrustedDirectory.ownUid() +
                        " (not a link): remove it, or give --aeron-dir");
                }
            }
            return claim;
        }
        catch (final IOException ex)
        {
            claim.close();
            throw new StartRefusedException(describe(ex), ex);
        }
        catch (final RuntimeException ex)
        {
            claim.close();
            throw ex;
        }
    }

    /**
     * Bytes the embedded media driver needs in its directory to start and carry the first logs:
     * {@code cnc.dat} (page-aligned: metadata + to-driver ring + to-clients broadcast + counters metadata
     * (values x 4) + counters values + error log) + {@code loss-report.dat} + {@link #MIN_IPC_LOGS} IPC logs of
     * (3 x term length + log metadata, page-aligned) each.
     *
     * @param driverCtx the driver's settings.
     * @return the bytes needed.
     */
    public static long driverBytesNeeded(final MediaDriver.Context driverCtx)
    {
        final int pageSize = driverCtx.filePageSize();
        final long countersValues = driverCtx.counterValuesBufferLength();
        final long countersMetadata = countersValues * (CountersReader.METADATA_LENGTH / CountersReader.COUNTER_LENGTH);
        final long cnc = CncFileDescriptor.computeCncFileLength((int)(driverCtx.conductorBufferLength() +
            driverCtx.toClientsBufferLength() + countersMetadata + countersValues + driverCtx.errorBufferLength()),
            pageSize);
        final long log = LogBufferDescriptor.computeLogLength(driverCtx.ipcTermBufferLength(), pageSize);
        return cnc + driverCtx.lossReportBufferLength() + MIN_IPC_LOGS * log;
    }

    /**
     * Launch the embedded media driver in the claimed directory: clear what a dead broker left there (the locks
     * say none is alive), check the free space, launch. A launch that fails for want of space leaves no files.
     *
     * @param driverCtx the driver's settings, with this claim's directory.
     * @return the running driver.
     * @throws StartRefusedException naming the directory, the free and the needed bytes, if space is short.
     */
    public MediaDriver launchDriver(final MediaDriver.Context driverCtx)
    {
        final long needed = driverBytesNeeded(driverCtx);
        final long free;
        try
        {
            deleteTree(aeronDir); // a dead broker's: the driver would delete it anyway, before we can count its space
            free = Files.getFileStore(aeronDir.getParent()).getUsableSpace();
        }
        catch (final IOException ex)
        {
            throw new StartRefusedException(describe(ex), ex);
        }
        if (free < needed)
        {
            throw new StartRefusedException(noSpace(free, needed, driverCtx));
        }
        try
        {
            return MediaDriver.launch(driverCtx);
        }
        catch (final StorageSpaceException | InternalError ex)
        {
            // InternalError: the system's SIGBUS when a page of a mapped file cannot be backed (disk full meanwhile)
            throw driverFailed(ex, needed, driverCtx);
        }
        catch (final RuntimeException ex)
        {
            if (isNoSpace(ex))
            {
                throw driverFailed(ex, needed, driverCtx);
            }
            throw ex;
        }
    }

    /**
     * Release the locks, after the driver has been closed.
     */
    public void close()
    {
        for (int i = locks.size() - 1; i >= 0; i--)
        {
            locks.get(i).release();
        }
        locks.clear();
    }

    private void lock(final Path path) throws IOException
    {
        for (final HeldLock held : locks)
        {
            if (held.path.equals(path))
            {
                return;
            }
        }
        if (!HELD_IN_THIS_PROCESS.add(path))
        {
            throw new StartRefusedException("another broker in this process (pid " + ProcessHandle.current().pid() +
                ") holds " + path + ": close it first, or give this one its own --socket-dir and --aeron-dir");
        }
        FileChannel channel = null;
        try
        {
            channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY_FILE); // O_NOFOLLOW: never a link
            final FileLock lock;
            try
            {
                lock = channel.tryLock();
            }
            catch (final OverlappingFileLockException ex)
            {
                throw new StartRefusedException("another broker in this process holds " + path);
            }
            if (null == lock)
            {
                throw new StartRefusedException("another broker (pid " + holderPid(channel) + ") holds " + path +
                    ": it serves these folders. Stop it first, or give this one its own --socket-dir and --aeron-dir");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            channel.force(false);
            locks.add(new HeldLock(path, channel));
        }
        catch (final IOException | RuntimeException ex)
        {
            HELD_IN_THIS_PROCESS.remove(path);
            if (null != channel)
            {
                channel.close(); // releases the lock if taken; the file stays: deleting a lock file races its takers
            }
            if (ex instanceof IOException)
            {
                throw new StartRefusedException("cannot create or write the lock file " + path + ": " +
                    ex.getMessage() + freeSpace(path.getParent()), ex);
            }
            throw ex;
        }
    }

    /**
     * The pid the holder wrote into the lock file: it writes it just after taking the lock, so wait a moment for it.
     */
    private static String holderPid(final FileChannel channel) throws IOException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOLDER_PID_WAIT_MS);
        final ByteBuffer buffer = ByteBuffer.allocate(32);
        do
        {
            buffer.clear();
            final int read = channel.read(buffer, 0);
            if (read > 0)
            {
                final String text = new String(buffer.array(), 0, read, StandardCharsets.US_ASCII);
                if (text.endsWith("\n"))
                {
                    return text.trim();
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // another process writes it: nothing to await
        }
        while (System.nanoTime() - deadlineNs < 0);
        return "unknown";
    }

    private StartRefusedException driverFailed(final Throwable ex, final long needed, final MediaDriver.Context driverCtx)
    {
        long free = -1;
        try
        {
            deleteTree(aeronDir); // our own partial cnc.dat and logs, in a directory checked to be ours
            free = Files.getFileStore(aeronDir.getParent()).getUsableSpace();
        }
        catch (final IOException cleanup)
        {
            ex.addSuppressed(cleanup);
        }
        return new StartRefusedException("the media driver could not start for want of space (" + ex + "); " +
            noSpace(free, needed, driverCtx) + "; its partial files were removed", ex);
    }

    private String noSpace(final long free, final long needed, final MediaDriver.Context driverCtx)
    {
        return "not enough space for the media driver in " + aeronDir + ": " + free + " bytes free on its file " +
            "system, " + needed + " needed (cnc.dat, loss-report.dat and " + MIN_IPC_LOGS + " IPC logs of 3 x term " +
            "length " + driverCtx.ipcTermBufferLength() + " + metadata). Free some space, give --aeron-dir on a " +
            "larger file system, or a smaller term length (-Dswitchboard.term.length)";
    }

    private static String freeSpace(final Path dir)
    {
        try
        {
            return " (" + Files.getFileStore(dir).getUsableSpace() + " bytes free on its file system)";
        }
        catch (final IOException ex)
        {
            return "";
        }
    }

    private static boolean isNoSpace(final Throwable ex)
    {
        for (Throwable t = ex; null != t; t = t.getCause())
        {
            if (t instanceof StorageSpaceException || t instanceof InternalError ||
                (null != t.getMessage() && t.getMessage().contains("No space left")))
            {
                return true;
            }
        }
        return false;
    }

    private static String describe(final IOException ex)
    {
        final String reason = null == ex.getMessage() ? ex.toString() : ex.getMessage();
        if (ex instanceof java.nio.file.FileSystemException)
        {
            final java.nio.file.FileSystemException fse = (java.nio.file.FileSystemException)ex;
            final String why = null == fse.getReason() ? ex.getClass().getSimpleName() : fse.getReason();
            return "cannot prepare " + fse.getFile() + ": " + why;
        }
        return "cannot prepare the broker's folders: " + reason;
    }

    /**
     * Delete a tree of ours without following links (a link inside is removed, not its target).
     */
    static void deleteTree(final Path root) throws IOException
    {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS))
        {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>()
        {
            public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs) throws IOException
            {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            public FileVisitResult postVisitDirectory(final Path dir, final IOException ex) throws IOException
            {
                if (null != ex)
                {
                    throw ex;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static final class HeldLock
    {
        private final Path path;
        private final FileChannel channel;

        HeldLock(final Path path, final FileChannel channel)
        {
            this.path = path;
            this.channel = channel;
        }

        void release()
        {
            try
            {
                channel.close(); // releases the lock; the file stays (a lock file deleted while others open it races)
            }
            catch (final IOException ignore)
            {
                // closing a file we only locked: nothing to lose
            }
            finally
            {
                HELD_IN_THIS_PROCESS.remove(path);
            }
        }
    }
}
