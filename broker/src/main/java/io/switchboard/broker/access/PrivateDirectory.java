package io.switchboard.broker.access;

import io.switchboard.transport.TrustedDirectory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A folder of the broker's own: checked with lstat (owned by this process's user, a real directory, writable by no one
 * else) or created 0700, and never followed, chmodded or deleted when it fails the check.
 */
public final class PrivateDirectory
{
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIR =
        PosixFilePermissions.asFileAttribute(OWNER_ONLY);

    private PrivateDirectory()
    {
    }

    /**
     * Check a folder of the broker's, or create it 0700: a real directory (lstat), owned by this process's user,
     * writable by no one else. Never follows, chmods or deletes anything that fails the check.
     *
     * @param dir  to check or create.
     * @param role of the folder, for the message ("socket directory").
     * @throws StartRefusedException naming the path, the owner found and what to do.
     * @throws IOException if the folder cannot be looked at or created.
     */
    public static void ensurePrivate(final Path dir, final String role) throws IOException
    {
        TrustedDirectory.Status status = TrustedDirectory.lstat(dir);
        if (!status.exists)
        {
            final Path parent = dir.getParent();
            if (null != parent && !Files.exists(parent, LinkOption.NOFOLLOW_LINKS))
            {
                Files.createDirectories(parent, OWNER_ONLY_DIR); // ancestors: the user's choice of place
            }
            try
            {
                Files.createDirectory(dir, OWNER_ONLY_DIR); // mkdir(dir, 0700): never wider, whatever the umask
            }
            catch (final FileAlreadyExistsException raced)
            {
                // someone created it in between: judged below like any existing one
            }
            status = TrustedDirectory.lstat(dir);
        }
        final int own = TrustedDirectory.ownUid();
        if (!status.isDirectory() || status.uid != own)
        {
            throw new StartRefusedException(role + " " + dir + " is " + status.describe() + "; expected a directory " +
                "owned by uid " + own + " (not a link). Another user may have created it to take the broker's place: " +
                "nothing in it was touched. Remove it, or set XDG_RUNTIME_DIR, --socket-dir or --aeron-dir to a " +
                "directory of your own");
        }
        if ((status.permissions() & TrustedDirectory.WRITABLE_BY_OTHERS) != 0)
        {
            throw new StartRefusedException(role + " " + dir + " is " + status.describe() + ": others can write to " +
                "it, so anything in it may be theirs; nothing in it was touched. " +
                ((status.permissions() & 01000) != 0 ?
                    "A shared folder such as /tmp or /dev/shm cannot hold the broker's files directly: give them a " +
                    "folder of their own inside it (e.g. --aeron-dir " + dir.resolve("switchboard-" +
                    System.getProperty("user.name", "me")).resolve("aeron") + ")" :
                    "Check it and remove it, or, if it and everything in it are yours, make it 0700 (chmod 700 " + dir +
                    ")"));
        }
        if (status.permissions() != 0700)
        {
            // fchmod on a descriptor opened with O_NOFOLLOW: a link put in its place meanwhile fails, is not followed
            Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setPermissions(OWNER_ONLY);
            final TrustedDirectory.Status after = TrustedDirectory.lstat(dir);
            if (!after.isDirectory() || after.uid != own || after.permissions() != 0700)
            {
                throw new StartRefusedException(role + " " + dir + " is " + after.describe() + " after making it 0700");
            }
        }
    }
}
