package io.switchboard.examples;

import io.switchboard.broker.BrokerMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Start-up of a broker with links: a secret file others can read refuses the start; links without peers or secret
 * are a usage error; the options work from the config file too and are listed by --help.
 */
@Timeout(120)
class LinkStartSystemTest
{
    private static final int REFUSED = 3;

    private Path dir;
    private Path socketDir;
    private Path aeronRoot;

    @BeforeEach
    void makeDirectories() throws Exception
    {
        dir = ProcessHarness.tempDir("sb-test-linkstart");
        socketDir = dir.resolve("sock");
        aeronRoot = Path.of("/dev/shm", "sb-test-linkstart-" + UUID.randomUUID());
    }

    @AfterEach
    void removeDirectories()
    {
        ProcessHarness.deleteRecursively(dir.toFile());
        ProcessHarness.deleteRecursively(aeronRoot.toFile());
    }

    private ProcessHarness broker(final String... linkArgs) throws Exception
    {
        final String[] args = new String[4 + linkArgs.length];
        args[0] = "--socket-dir";
        args[1] = socketDir.toString();
        args[2] = "--aeron-dir";
        args[3] = aeronRoot.resolve("aeron").toString();
        System.arraycopy(linkArgs, 0, args, 4, linkArgs.length);
        return ProcessHarness.start("broker", BrokerMain.class, args);
    }

    private static int exitOf(final ProcessHarness process) throws Exception
    {
        assertTrue(process.process().waitFor(60, TimeUnit.SECONDS), "still running: " + process.output());
        process.awaitEnd();
        return process.process().exitValue();
    }

    @Test
    void shouldRefuseToStartWithASecretFileOthersCanRead() throws Exception
    {
        final Path secret = LinkedBrokers.secretFile(dir, "secret", "0123456789abcdef0123456789abcdef");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        try (ProcessHarness broker = broker(LinkedBrokers.linkArgs("127.0.0.1:40001", secret, 3000,
            "127.0.0.1:40002")))
        {
            assertEquals(REFUSED, exitOf(broker), broker.output());
            assertTrue(broker.output().contains("expected mode 0600, found rw-r--r--"), broker.output());
        }
    }

    @Test
    void shouldRefuseToStartWithAShortSecret() throws Exception
    {
        final Path secret = LinkedBrokers.secretFile(dir, "secret", "short");
        try (ProcessHarness broker = broker(LinkedBrokers.linkArgs("127.0.0.1:40001", secret, 3000,
            "127.0.0.1:40002")))
        {
            assertEquals(REFUSED, exitOf(broker), broker.output());
            assertTrue(broker.output().contains("expected at least 16 bytes, found 5"), broker.output());
        }
    }

    @Test
    void shouldRefuseALinkWithoutPeersOrSecret() throws Exception
    {
        try (ProcessHarness broker = broker("--link", "127.0.0.1:40001", "--link-secret", "/nonexistent"))
        {
            assertNotEquals(0, exitOf(broker), broker.output());
            assertTrue(broker.output().contains("needs at least one --peer"), broker.output());
        }
        try (ProcessHarness broker = broker("--link", "127.0.0.1:40001", "--peer", "127.0.0.1:40002"))
        {
            assertNotEquals(0, exitOf(broker), broker.output());
            assertTrue(broker.output().contains("--link needs --link-secret FILE"), broker.output());
        }
        try (ProcessHarness broker = broker("--link", "nowhere", "--peer", "127.0.0.1:40002"))
        {
            assertNotEquals(0, exitOf(broker), broker.output());
            assertTrue(broker.output().contains("expected HOST:PORT (port 1 to 65535), found 'nowhere'"),
                broker.output());
        }
    }

    @Test
    void shouldTakeTheLinkOptionsFromTheConfigFileAndListThemInHelp() throws Exception
    {
        final Path secret = LinkedBrokers.secretFile(dir, "secret", "0123456789abcdef0123456789abcdef");
        final int port = LinkedBrokers.freeUdpPort("127.0.0.1");
        final Path config = dir.resolve("broker.properties");
        Files.writeString(config, "link=127.0.0.1:" + port + "\npeer=127.0.0.1:40002\nlink-secret=" + secret +
            "\nlink-liveness-timeout-ms=1500\n");
        try (ProcessHarness broker = broker("--config", config.toString()))
        {
            broker.awaitLine("broker ready", 30_000);
            broker.awaitLine("link endpoint 127.0.0.1:" + port + " (aeron:udp, stream 7301), peers " +
                "[127.0.0.1:40002], liveness timeout 1500 ms", 10_000);
            assertEquals(0, broker.terminate(), broker.output());
        }
        try (ProcessHarness help = ProcessHarness.start("help", BrokerMain.class, "--help"))
        {
            assertEquals(0, exitOf(help), help.output());
            for (final String option : new String[] {"--link=HOST:PORT", "--peer=HOST:PORT", "--link-secret=FILE",
                "--link-liveness-timeout-ms=N", "switchboard.link.liveness.timeout.ms"})
            {
                assertTrue(help.output().contains(option), option + " not in --help:\n" + help.output());
            }
        }
    }
}
