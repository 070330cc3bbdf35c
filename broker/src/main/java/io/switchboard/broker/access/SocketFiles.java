package io.switchboard.broker.access;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Safe handling of the broker's socket files: a private directory, a stale socket probed before it is replaced,
 * nothing that is not a socket ever deleted, peers of another user refused.
 */
public final class SocketFiles
{
    private SocketFiles()
    {
    }

    /**
     * Check (or create) the socket's directory, see {@link PrivateDirectory#ensurePrivate(Path, String)}, and clear
     * a stale socket at the path.
     *
     * @param path where the socket will be bound.
     * @throws IOException if a live broker answers there, or the path holds something that is not a socket.
     * @throws StartRefusedException if the directory is not safely the broker's own.
     */
    public static void prepareForBind(final Path path) throws IOException
    {
        // owned, not a link, 0700 (or refused untouched): never a chmod through another user's link
        PrivateDirectory.ensurePrivate(path.toAbsolutePath().getParent(), "socket directory");

        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS))
        {
            if (!isSocket(path))
            {
                throw new IOException(path + " exists and is not a socket: not touching it");
            }
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX))
            {
                probe.connect(UnixDomainSocketAddress.of(path));
                throw new IOException("a broker is already listening on " + path);
            }
            catch (final IOException ex)
            {
                if (ex.getMessage() != null && ex.getMessage().startsWith("a broker is already listening"))
                {
                    throw ex;
                }
                Files.delete(path); // stale: nothing answers
            }
        }
    }

    /**
     * Restrict a bound socket to its owner (0600).
     *
     * @param path of the socket.
     * @throws IOException if permissions cannot be set.
     */
    public static void restrictToOwner(final Path path) throws IOException
    {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * Let other users reach a bound socket: its directory 0711 (traverse, not list) and the socket 0666. Only for a
     * socket whose accepted peers are then checked one by one ({@link #isAllowed(SocketChannel, AllowedPeers)}).
     *
     * @param path of the socket.
     * @throws IOException if permissions cannot be set.
     */
    public static void openToOtherUsers(final Path path) throws IOException
    {
        Files.setPosixFilePermissions(path.toAbsolutePath().getParent(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
    }

    /**
     * Whether the connected peer may use the socket (SO_PEERCRED): the same user as this process, or one allowed.
     *
     * @param channel of the accepted peer.
     * @param allowed users and groups allowed besides the owner.
     * @return true if allowed; false also when the credentials cannot be read.
     */
    public static boolean isAllowed(final SocketChannel channel, final AllowedPeers allowed)
    {
        try
        {
            return allowed.isAllowed(channel.getOption(ExtendedSocketOptions.SO_PEERCRED));
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return false;
        }
    }

    /**
     * Delete the socket file if, and only if, it is a socket.
     *
     * @param path of the socket.
     */
    public static void deleteSocket(final Path path)
    {
        try
        {
            if (isSocket(path))
            {
                Files.deleteIfExists(path);
            }
        }
        catch (final IOException ignore)
        {
            // best effort on shutdown; a stale socket is probed and replaced at the next start
        }
    }

    /**
     * Whether the connected peer runs as the same user as this process (SO_PEERCRED).
     *
     * @param channel of the accepted peer.
     * @return true if the same user.
     */
    public static boolean isSameUser(final SocketChannel channel)
    {
        try
        {
            final UnixDomainPrincipal principal = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return principal.user().getName().equals(System.getProperty("user.name"));
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return false;
        }
    }

    private static boolean isSocket(final Path path)
    {
        try
        {
            final Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return mode instanceof Integer && (((Integer)mode) & 0170000) == 0140000;
        }
        catch (final IOException | UnsupportedOperationException | IllegalArgumentException ex)
        {
            return false;
        }
    }
}
