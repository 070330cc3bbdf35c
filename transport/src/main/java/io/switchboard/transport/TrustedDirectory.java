package io.switchboard.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether a directory of the broker's runtime files can be trusted: looked at with lstat (a symbolic link is never
 * followed), it must be a real directory, owned by an expected user, and writable by nobody else. A directory
 * that anyone else can write to lets them replace a socket (and answer in the broker's name) or plant a link
 * that makes the broker delete or chmod their choice of files.
 * <p>
 * Stateless and thread-safe.
 */
public final class TrustedDirectory
{
    /** Mode bits that let the group or others create, rename or delete entries. */
    public static final int WRITABLE_BY_OTHERS = 0022;

    private static final int TYPE_MASK = 0170000;
    private static final int TYPE_DIRECTORY = 0040000;
    private static final int TYPE_SYMLINK = 0120000;

    private TrustedDirectory()
    {
    }

    /**
     * What lstat says of a path: enough to decide whether it is trusted, and to name what was found.
     */
    public static final class Status
    {
        /** The path looked at. */
        public final Path path;
        /** Whether anything exists at the path (a dangling link counts). */
        public final boolean exists;
        /** Owner's numeric user id, or -1 if nothing exists. */
        public final int uid;
        /** Owner's name (the uid as text when it has no name), or null if nothing exists. */
        public final String owner;
        /** st_mode: file type and permission bits, or 0 if nothing exists. */
        public final int mode;

        Status(final Path path, final boolean exists, final int uid, final String owner, final int mode)
        {
            this.path = path;
            this.exists = exists;
            this.uid = uid;
            this.owner = owner;
            this.mode = mode;
        }

        /**
         * Whether it is a real directory (not a link to one).
         *
         * @return true if a directory.
         */
        public boolean isDirectory()
        {
            return (mode & TYPE_MASK) == TYPE_DIRECTORY;
        }

        /**
         * Whether it is a symbolic link.
         *
         * @return true if a link.
         */
        public boolean isSymbolicLink()
        {
            return (mode & TYPE_MASK) == TYPE_SYMLINK;
        }

        /**
         * Permission bits only, e.g. 0700.
         *
         * @return the permission bits.
         */
        public int permissions()
        {
            return mode & 07777;
        }

        /**
         * Describe what was found, e.g. "a directory owned by nobody (uid 65534), mode 0777".
         *
         * @return the description.
         */
        public String describe()
        {
            if (!exists)
            {
                return "nothing";
            }
            final String kind = isSymbolicLink() ? "a symbolic link" : isDirectory() ? "a directory" : "a file";
            return kind + " owned by " + owner + " (uid " + uid + "), mode " + String.format("%04o", permissions());
        }
    }

    /**
     * lstat the path: never follows a symbolic link.
     *
     * @param path to look at.
     * @return what is there.
     * @throws IOException if it cannot be read (other than not existing).
     */
    public static Status lstat(final Path path) throws IOException
    {
        final Map<String, Object> attrs;
        try
        {
            attrs = Files.readAttributes(path, "unix:uid,mode,owner", LinkOption.NOFOLLOW_LINKS);
        }
        catch (final NoSuchFileException ex)
        {
            return new Status(path, false, -1, null, 0);
        }
        final int uid = (Integer)attrs.get("uid");
        final Object owner = attrs.get("owner");
        return new Status(path, true, uid, null == owner ? String.valueOf(uid) : owner.toString(), (Integer)attrs.get("mode"));
    }

    /**
     * The user id of this process.
     *
     * @return the uid.
     */
    public static int ownUid()
    {
        return (int)Configuration.uid();
    }

    /**
     * Check, before connecting, the directory holding a broker's socket: a real directory, owned by this process's
     * user or by root, and writable by no one else. Anything else could be an impostor's, who could rename the
     * broker's socket and bind their own in its place.
     *
     * @param socket the socket about to be connected to.
     * @throws IOException naming the directory, what was found and what to do, if it is not trusted.
     */
    public static void checkSocketDirectory(final Path socket) throws IOException
    {
        final Path dir = socket.toAbsolutePath().getParent();
        if (null == dir)
        {
            return;
        }
        final Status status = lstat(dir);
        if (!status.exists)
        {
            return; // connecting fails with "no broker at ..."
        }
        final int own = ownUid();
        if (!status.isDirectory() || (status.uid != own && status.uid != 0) ||
            (status.permissions() & WRITABLE_BY_OTHERS) != 0)
        {
            throw new UntrustedDirectoryException("not connecting to " + socket + ": its directory " + dir + " is " + status.describe() +
                "; expected a directory owned by uid " + own + " or root, writable by no one else (not a link). " +
                "Another user may be impersonating the broker: remove " + dir + ", or use a socket directory of your own " +
                "(XDG_RUNTIME_DIR, --socket-dir or SWITCHBOARD_SOCKET)");
        }
    }

    /**
     * A broker socket refused before connecting because its directory could be another user's.
     */
    public static final class UntrustedDirectoryException extends IOException
    {
        private static final long serialVersionUID = 1L;

        UntrustedDirectoryException(final String message)
        {
            super(message);
        }
    }
}
