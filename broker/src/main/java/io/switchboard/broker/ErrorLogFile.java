package io.switchboard.broker;

import org.agrona.ErrorHandler;
import org.agrona.IoUtil;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.errors.ErrorConsumer;
import org.agrona.concurrent.errors.ErrorLogReader;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;

/**
 * The broker's distinct error log: each distinct error (its stack trace) once, with how often it was seen and when
 * first and last, in a memory-mapped file {@code errors.dat} in the socket directory (Agrona's
 * {@link DistinctErrorLog}). Unlike the media driver's error log in {@code cnc.dat}, which the driver deletes at
 * shutdown, this file stays after the broker exits, whether it stopped or crashed, and {@code switchboard errors}
 * reads it; the next broker moves it to {@code errors.previous.dat} before it starts its own.
 * <p>
 * Layout: a header of {@link #HEADER_LENGTH} bytes (magic, the broker's pid, its start time in epoch milliseconds),
 * then the error log. Recording is thread-safe (the conductor, the gateway and the media driver all report here) and
 * happens on cold paths only. A full log drops further distinct errors (they are still logged).
 */
public final class ErrorLogFile implements ErrorHandler
{
    /** Name of the file in the socket directory. */
    public static final String FILE_NAME = "errors.dat";
    /** Name the previous broker's file is given at start. */
    public static final String PREVIOUS_FILE_NAME = "errors.previous.dat";
    /** Bytes of the header. */
    public static final int HEADER_LENGTH = 64;
    /** Bytes of the error log after the header. */
    public static final int LOG_LENGTH = 1024 * 1024;

    private static final int MAGIC = 0x53424552; // "SBER"
    private static final int PID_OFFSET = 8;
    private static final int START_OFFSET = 16;

    private final DistinctErrorLog log;
    private final ErrorHandler next;
    private final MappedByteBuffer mapped;

    private ErrorLogFile(final MappedByteBuffer mapped, final ErrorHandler next)
    {
        this.mapped = mapped;
        this.next = next;
        this.log = new DistinctErrorLog(new UnsafeBuffer(mapped, HEADER_LENGTH, LOG_LENGTH), SystemEpochClock.INSTANCE);
    }

    /**
     * Start a new error log in the socket directory (the last one kept as {@link #PREVIOUS_FILE_NAME}).
     *
     * @param socketDir the broker's socket directory, already claimed.
     * @param next handler each error is passed on to after it is recorded (the log).
     * @return the error log, an {@link ErrorHandler}.
     * @throws IOException if the file cannot be made.
     */
    public static ErrorLogFile create(final Path socketDir, final ErrorHandler next) throws IOException
    {
        final Path file = socketDir.resolve(FILE_NAME);
        if (Files.exists(file))
        {
            Files.move(file, socketDir.resolve(PREVIOUS_FILE_NAME), StandardCopyOption.REPLACE_EXISTING);
        }
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))))
        {
            io.switchboard.transport.PeerCountersFile.allocate(channel, HEADER_LENGTH + LOG_LENGTH);
            mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, HEADER_LENGTH + LOG_LENGTH);
        }
        catch (final IOException ex)
        {
            Files.deleteIfExists(file);
            throw ex;
        }
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        header.putInt(0, MAGIC);
        final ProcessHandle self = ProcessHandle.current();
        header.putLong(PID_OFFSET, self.pid());
        header.putLong(START_OFFSET, self.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
        return new ErrorLogFile(mapped, next);
    }

    /**
     * Record the error, then pass it on.
     *
     * @param throwable the error.
     */
    public void onError(final Throwable throwable)
    {
        try
        {
            log.record(throwable);
        }
        catch (final RuntimeException ignore)
        {
            // never let the error log hide the error: it is still passed on
        }
        next.onError(throwable);
    }

    /**
     * Write the log to the file system now (the kernel does so anyway, also when the process dies).
     */
    public void force()
    {
        mapped.force();
    }

    /**
     * What {@link #read(Path, ErrorConsumer)} found besides the errors.
     *
     * @param pid of the broker that wrote the file.
     * @param startMillis its start time, epoch milliseconds.
     * @param errors distinct errors read.
     */
    public record Summary(long pid, long startMillis, int errors)
    {
    }

    /**
     * Read an error log file, which its broker may still be writing.
     *
     * @param file to read.
     * @param consumer given each distinct error: count, first and last time (epoch ms) and the stack trace.
     * @return what was read, or null if there is no such file or it is not an error log.
     * @throws IOException if it cannot be read.
     */
    public static Summary read(final Path file, final ErrorConsumer consumer) throws IOException
    {
        final MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            if (channel.size() < HEADER_LENGTH + LOG_LENGTH)
            {
                return null;
            }
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, HEADER_LENGTH + LOG_LENGTH);
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
        try
        {
            final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
            if (header.getInt(0) != MAGIC)
            {
                return null;
            }
            final int errors = ErrorLogReader.read(new UnsafeBuffer(mapped, HEADER_LENGTH, LOG_LENGTH), consumer);
            return new Summary(header.getLong(PID_OFFSET), header.getLong(START_OFFSET), errors);
        }
        finally
        {
            IoUtil.unmap(mapped);
        }
    }
}
