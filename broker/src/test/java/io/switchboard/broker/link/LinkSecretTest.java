package io.switchboard.broker.link;

import io.switchboard.broker.access.StartRefusedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class LinkSecretTest
{
    @TempDir
    Path dir;

    private Path secretFile(final String name, final String secret, final String mode) throws Exception
    {
        final Path file = dir.resolve(name);
        Files.writeString(file, secret, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    @Test
    void shouldCheckAProofMadeWithTheSameSecretOnlyForItsNonceEndpointsAndSession() throws Exception
    {
        final LinkSecret a = LinkSecret.read(secretFile("a", "the shared secret of two brokers\n", "rw-------"));
        final LinkSecret b = LinkSecret.read(secretFile("b", "the shared secret of two brokers", "r--------"));
        final LinkSecret other = LinkSecret.read(secretFile("c", "another secret of sixteen bytes", "rw-------"));
        final byte[] nonce = new byte[16];
        nonce[3] = 7;
        final byte[] proof = a.proof(nonce, "10.0.0.1:7000", "10.0.0.2:7000", 42);
        assertEquals(32, proof.length);
        assertTrue(b.verify(nonce, "10.0.0.1:7000", "10.0.0.2:7000", 42, proof), "trailing newline ignored");
        assertFalse(other.verify(nonce, "10.0.0.1:7000", "10.0.0.2:7000", 42, proof), "another secret");
        assertFalse(b.verify(nonce, "10.0.0.1:7000", "10.0.0.2:7000", 43, proof), "replayed on another session");
        assertFalse(b.verify(nonce, "10.0.0.2:7000", "10.0.0.1:7000", 42, proof), "the other direction");
        final byte[] otherNonce = nonce.clone();
        otherNonce[0] = 1;
        assertFalse(b.verify(otherNonce, "10.0.0.1:7000", "10.0.0.2:7000", 42, proof), "an old nonce");
    }

    @Test
    void shouldRefuseASecretFileOthersCanReadOrWrite() throws Exception
    {
        for (final String mode : new String[] {"rw-r-----", "rw----r--", "rw--w----", "rwx------"})
        {
            final Path file = secretFile("s-" + mode, "0123456789abcdef0123", mode);
            final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> LinkSecret.read(file));
            assertTrue(ex.getMessage().contains("expected mode 0600, found " + mode), ex.getMessage());
        }
    }

    @Test
    void shouldRefuseASymbolicLinkAMissingFileAndAShortSecret() throws Exception
    {
        final Path target = secretFile("target", "0123456789abcdef0123", "rw-------");
        final Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertTrue(assertThrows(StartRefusedException.class, () -> LinkSecret.read(link)).getMessage()
            .contains("found a symbolic link"));
        assertTrue(assertThrows(StartRefusedException.class, () -> LinkSecret.read(dir.resolve("missing")))
            .getMessage().contains("cannot read it"));
        final Path shortOne = secretFile("short", "fifteen bytes!!\n\n", "rw-------");
        assertTrue(assertThrows(StartRefusedException.class, () -> LinkSecret.read(shortOne)).getMessage()
            .contains("expected at least 16 bytes, found 15"));
    }

    @Test
    void shouldRefuseInconsistentLinkSettings()
    {
        assertTrue(new LinkContext().conclude().peers().isEmpty(), "no links by default");
        assertThrows(IllegalArgumentException.class, () -> new LinkContext().peer("10.0.0.2:7000").conclude());
        assertThrows(IllegalArgumentException.class, () -> new LinkContext().endpoint("10.0.0.1:7000")
            .secretFile(Path.of("/x")).conclude());
        assertThrows(IllegalArgumentException.class, () -> new LinkContext().endpoint("10.0.0.1:7000")
            .peer("10.0.0.1:7000").secretFile(Path.of("/x")).conclude());
        assertThrows(IllegalArgumentException.class, () -> new LinkContext().endpoint("10.0.0.1:70000")
            .peer("10.0.0.2:7000").secretFile(Path.of("/x")).conclude());
        assertThrows(IllegalArgumentException.class, () -> new LinkContext().endpoint("10.0.0.1:7000|ttl=4")
            .peer("10.0.0.2:7000").secretFile(Path.of("/x")).conclude());
        assertThrows(IllegalArgumentException.class, () -> new LinkContext().endpoint("10.0.0.1:7000")
            .peer("10.0.0.2:7000").secretFile(Path.of("/x")).livenessTimeoutMs(10).conclude());
        final LinkContext ok = new LinkContext().endpoint("10.0.0.1:7000").peer("10.0.0.2:7000")
            .secretFile(Path.of("/x")).conclude();
        assertEquals(3_000, ok.livenessTimeoutMs(), "the documented default");
        assertEquals(500, ok.heartbeatIntervalMs());
    }
}
