package io.switchboard.transport;

import com.sun.security.auth.module.UnixSystem;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

/**
 * Property names and defaults shared by the broker and its Java peers, in one place.
 * <p>
 * Default locations, in order of precedence: a system property, an environment variable, then
 * {@code $XDG_RUNTIME_DIR/switchboard/...} or a per-user directory ({@code /tmp/switchboard-<uid>} for sockets,
 * {@code /dev/shm/switchboard-<user>} for the media driver).
 * <p>
 * Without {@code XDG_RUNTIME_DIR} these defaults sit in world-writable folders, where another user can create the
 * names first: the broker therefore accepts each folder only if lstat shows it is its user's, not a link, and
 * writable by no one else (and the media driver directory's parent likewise), and refuses to start otherwise; a
 * Java client refuses a socket directory not owned by its user or root ({@link TrustedDirectory}).
 */
public final class Configuration
{
    /** Version of the control protocol spoken over the control socket. */
    public static final int CONTROL_PROTOCOL_VERSION = 1;

    /** System property naming the directory of the broker's sockets. */
    public static final String SOCKET_DIR_PROP = "switchboard.socket.dir";

    /** System property naming the media driver directory. */
    public static final String AERON_DIR_PROP = "aeron.dir";

    /** Environment variable naming the gateway socket (PROTOCOL.md); its directory holds the control socket. */
    public static final String SOCKET_ENV = "SWITCHBOARD_SOCKET";

    /** Environment variable naming the media driver directory. */
    public static final String AERON_DIR_ENV = "SWITCHBOARD_AERON_DIR";

    /** File name of the control socket inside the socket directory. */
    public static final String CONTROL_SOCKET_NAME = "control.sock";

    /** File name of the gateway socket inside the socket directory. */
    public static final String GATEWAY_SOCKET_NAME = "broker.sock";

    /** Property: interval between a peer's heartbeats on its control connection, in milliseconds. */
    public static final String HEARTBEAT_INTERVAL_PROP = "switchboard.heartbeat.interval.ms";

    /** Default heartbeat interval. */
    public static final long HEARTBEAT_INTERVAL_DEFAULT_MS = 1_000;

    /** Property: silence after which the broker declares a live-but-hung peer dead, in milliseconds. */
    public static final String LIVENESS_TIMEOUT_PROP = "switchboard.liveness.timeout.ms";

    /** Default liveness timeout. */
    public static final long LIVENESS_TIMEOUT_DEFAULT_MS = 10_000;

    /** Property: term length of the IPC logs, in bytes (a power of two, 64 KiB to 8 MiB). */
    public static final String TERM_LENGTH_PROP = "switchboard.term.length";

    /** Default term length: small, so many peers do not exhaust /dev/shm. */
    public static final int TERM_LENGTH_DEFAULT = 1024 * 1024;

    /**
     * Property: the longest payload of a call, a reply, a stream frame or a publication, in bytes, the same on the
     * Java and the socket paths. What one message of a log cannot carry (an eighth of the term) travels in
     * fragments, joined by the reader.
     */
    public static final String MAX_MESSAGE_LENGTH_PROP = "switchboard.max.message.length";

    /**
     * Default longest payload: 16 MiB. Large enough for the documents, images and batches a program on one machine
     * hands another without inventing its own chunking, and the same bound Aeron itself puts on one message; small
     * enough that the memory it can make a reader hold (one message being joined per writer, within the reassembly
     * bound) and a socket frame stay modest.
     */
    public static final int MAX_MESSAGE_LENGTH_DEFAULT = 16 * 1024 * 1024;

    /** Highest maximum payload that may be configured: 256 MiB. */
    public static final int MAX_MESSAGE_LENGTH_LIMIT = 256 * 1024 * 1024;

    /**
     * Property: bound on the bytes a peer holds for messages still being joined from their fragments, all writers
     * together; a message that would pass it is dropped and counted (its caller times out).
     */
    public static final String MAX_REASSEMBLY_BYTES_PROP = "switchboard.max.reassembly.bytes";

    /** Default reassembly bound: 64 MiB, four messages of the default maximum at once. */
    public static final long MAX_REASSEMBLY_BYTES_DEFAULT = 64L * 1024 * 1024;

    /** Aeron stream id of the shared pub/sub log. */
    public static final int PUB_SUB_STREAM_ID = 10;

    /** First stream id handed out for peer inboxes. */
    public static final int FIRST_INBOX_STREAM_ID = 1_000;

    /** Property: how long a publisher may be held back by a subscriber that stopped reading, in milliseconds. */
    public static final String UNTETHERED_WINDOW_LIMIT_TIMEOUT_PROP = "switchboard.untethered.window.limit.timeout.ms";

    /** Default: a slow subscriber is cut loose after this long and its losses show as sequence gaps. */
    public static final long UNTETHERED_WINDOW_LIMIT_TIMEOUT_DEFAULT_MS = 200;

    /** Property: how long a cut-loose subscriber rests before it rejoins the log at its tail, in milliseconds. */
    public static final String UNTETHERED_RESTING_TIMEOUT_PROP = "switchboard.untethered.resting.timeout.ms";

    /** Default resting timeout before rejoining. */
    public static final long UNTETHERED_RESTING_TIMEOUT_DEFAULT_MS = 200;

    /** Longest control message accepted, in bytes (a registration carries the schema IR). */
    public static final int MAX_CONTROL_MESSAGE_LENGTH = 4 * 1024 * 1024;

    /** Default timeout of a request when the caller gives none. */
    public static final long DEFAULT_REQUEST_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);

    private Configuration()
    {
    }

    /**
     * The directory holding the broker's sockets.
     *
     * @return the socket directory.
     */
    public static Path socketDir()
    {
        final String prop = System.getProperty(SOCKET_DIR_PROP);
        if (null != prop && !prop.isEmpty())
        {
            return Paths.get(prop);
        }
        final String socket = System.getenv(SOCKET_ENV);
        if (null != socket && !socket.isEmpty())
        {
            final Path parent = Paths.get(socket).toAbsolutePath().getParent();
            if (null != parent)
            {
                return parent;
            }
        }
        final String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (null != xdg && !xdg.isEmpty())
        {
            return Paths.get(xdg, "switchboard");
        }
        return Paths.get("/tmp", "switchboard-" + uid());
    }

    /**
     * The media driver directory the broker runs its driver in and peers attach to.
     *
     * @return the media driver directory.
     */
    public static Path aeronDir()
    {
        final String prop = System.getProperty(AERON_DIR_PROP);
        if (null != prop && !prop.isEmpty())
        {
            return Paths.get(prop);
        }
        final String env = System.getenv(AERON_DIR_ENV);
        if (null != env && !env.isEmpty())
        {
            return Paths.get(env);
        }
        final String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (null != xdg && !xdg.isEmpty())
        {
            return Paths.get(xdg, "switchboard", "aeron");
        }
        return Paths.get("/dev/shm", "switchboard-" + System.getProperty("user.name", String.valueOf(uid())), "aeron");
    }

    /**
     * The control socket inside the default socket directory.
     *
     * @return the control socket path.
     */
    public static Path controlSocket()
    {
        return socketDir().resolve(CONTROL_SOCKET_NAME);
    }

    /**
     * The numeric user id of this process.
     *
     * @return the uid.
     */
    public static long uid()
    {
        return new UnixSystem().getUid();
    }

    /**
     * Read a long property with a default.
     *
     * @param name of the property.
     * @param defaultValue when the property is not set.
     * @return the value.
     */
    public static long longProperty(final String name, final long defaultValue)
    {
        final String value = System.getProperty(name);
        if (null == value || value.isEmpty())
        {
            return defaultValue;
        }
        try
        {
            return Long.parseLong(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("property " + name + ": expected an integer, actual='" + value + "'");
        }
    }

    /**
     * The IPC channel of a peer's inbox, for both its subscription and the publications of its callers.
     *
     * @param termLength of the log, in bytes.
     * @return the channel URI.
     */
    public static String inboxChannel(final int termLength)
    {
        return "aeron:ipc?term-length=" + termLength;
    }

    /**
     * The IPC channel a publisher writes the shared pub/sub log on.
     *
     * @param termLength of the log, in bytes.
     * @return the channel URI.
     */
    public static String pubSubPublicationChannel(final int termLength)
    {
        return "aeron:ipc?term-length=" + termLength;
    }

    /**
     * The IPC channel a subscriber reads the shared pub/sub log on: untethered, so it can never hold the publisher
     * back for longer than the window limit timeout.
     *
     * @return the channel URI.
     */
    public static String pubSubSubscriptionChannel()
    {
        return "aeron:ipc?tether=false";
    }
}
