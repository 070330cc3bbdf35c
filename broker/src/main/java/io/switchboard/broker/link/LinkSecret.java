package io.switchboard.broker.link;

import io.switchboard.broker.access.StartRefusedException;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * The shared secret of a broker's links, read once at start from a file that only its owner may read (mode 0600 or
 * 0400, owned by the broker's user, not a symbolic link), and the HMAC-SHA256 proofs made with it.
 * <p>
 * Not thread-safe: used by the link conductor's thread only.
 */
public final class LinkSecret
{
    /** Fewest bytes a secret may have. */
    public static final int MIN_SECRET_BYTES = 16;

    private static final Set<PosixFilePermission> ALLOWED =
        EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private final Mac mac;

    private LinkSecret(final byte[] secret)
    {
        try
        {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM: " + ex, ex);
        }
    }

    /**
     * Read the secret file, refusing a file others could read or write.
     *
     * @param file holding the secret (its bytes, trailing white space dropped).
     * @return the secret.
     * @throws StartRefusedException if the file is missing, a symbolic link, not owned by this user, readable or
     * writable by group or others, or shorter than {@link #MIN_SECRET_BYTES}.
     */
    public static LinkSecret read(final Path file)
    {
        final byte[] bytes;
        try
        {
            final PosixFileAttributes attrs =
                Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (attrs.isSymbolicLink() || !attrs.isRegularFile())
            {
                throw new StartRefusedException("link secret " + file + ": expected a regular file, found " +
                    (attrs.isSymbolicLink() ? "a symbolic link" : "something else") + "; give the file itself");
            }
            final String me = System.getProperty("user.name");
            if (!attrs.owner().getName().equals(me))
            {
                throw new StartRefusedException("link secret " + file + ": expected owner " + me + ", found " +
                    attrs.owner().getName() + "; chown it to the broker's user");
            }
            if (!ALLOWED.containsAll(attrs.permissions()))
            {
                throw new StartRefusedException("link secret " + file + ": expected mode 0600, found " +
                    java.nio.file.attribute.PosixFilePermissions.toString(attrs.permissions()) +
                    "; run chmod 600 " + file);
            }
            bytes = Files.readAllBytes(file);
        }
        catch (final IOException ex)
        {
            throw new StartRefusedException("link secret " + file + ": cannot read it: " + ex, ex);
        }
        int length = bytes.length;
        while (length > 0 && Character.isWhitespace(bytes[length - 1]))
        {
            length--;
        }
        if (length < MIN_SECRET_BYTES)
        {
            throw new StartRefusedException("link secret " + file + ": expected at least " + MIN_SECRET_BYTES +
                " bytes, found " + length + " (make one with: head -c 32 /dev/urandom | base64 > FILE)");
        }
        final LinkSecret secret = new LinkSecret(Arrays.copyOf(bytes, length));
        Arrays.fill(bytes, (byte)0);
        return secret;
    }

    /**
     * The proof that a sender holds the secret: HMAC-SHA256 over the nonce, the sender's and the receiver's
     * endpoints, and the Aeron session id of the sender's publication, so that a proof seen on the wire cannot be
     * replayed from another session.
     *
     * @param nonce the receiver chose.
     * @param from the sender's endpoint.
     * @param to the receiver's endpoint.
     * @param sessionId of the sender's publication to the receiver.
     * @return the 32-byte proof.
     */
    public byte[] proof(final byte[] nonce, final String from, final String to, final int sessionId)
    {
        mac.reset();
        mac.update(nonce);
        mac.update((byte)(sessionId >>> 24));
        mac.update((byte)(sessionId >>> 16));
        mac.update((byte)(sessionId >>> 8));
        mac.update((byte)sessionId);
        mac.update((byte)0);
        mac.update(from.getBytes(StandardCharsets.US_ASCII));
        mac.update((byte)0);
        mac.update(to.getBytes(StandardCharsets.US_ASCII));
        return mac.doFinal();
    }

    /**
     * Check a proof in constant time.
     *
     * @param nonce this side chose.
     * @param from the sender's endpoint.
     * @param to this side's endpoint.
     * @param sessionId of the image the proof came on.
     * @param proof as received.
     * @return true if it was made with the same secret.
     */
    public boolean verify(final byte[] nonce, final String from, final String to, final int sessionId,
        final byte[] proof)
    {
        return MessageDigest.isEqual(proof(nonce, from, to, sessionId), proof);
    }
}
