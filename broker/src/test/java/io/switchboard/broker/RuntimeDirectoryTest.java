package io.switchboard.broker;

import io.switchboard.broker.access.StartRefusedException;
import io.switchboard.transport.Switchboard;
import io.switchboard.transport.TrustedDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;

import static io.switchboard.broker.PrivilegedCommands.asNobody;
import static io.switchboard.broker.PrivilegedCommands.requirePrivileges;
import static io.switchboard.broker.PrivilegedCommands.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker's runtime folders against another user: real folders made by another user ({@code setpriv} as
 * {@code nobody}) in a temporary area that is 1777 like {@code /tmp}, symbolic links to a victim's folder, a
 * 2 MiB tmpfs for a full disk. Needs root, {@code setpriv} and {@code mount}; without them these tests FAIL, unless
 * switched off with {@code -Dswitchboard.test.privileged=false}.
 */
@Timeout(60)
class RuntimeDirectoryTest
{
    /** Set to false to switch off the tests that need root, setpriv and mount (they fail without them otherwise). */

    private Path shared;
    private Path victim;
    private Path mine;
    private Path mount;
    private Broker broker;

    @BeforeEach
    void setUp() throws Exception
    {
        requirePrivileges("to act as another user and mount a small tmpfs");
        shared = Files.createTempDirectory(Paths.get("/tmp"), "sb-rtd-shared");
        run("chmod", "1777", shared.toString()); // like /tmp: anyone may create, only owners may rename or delete
        victim = Files.createTempDirectory(Paths.get("/tmp"), "sb-rtd-victim");
        Files.setPosixFilePermissions(victim, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(victim.resolve("precious.txt"), "keep me");
        mine = Files.createTempDirectory(Paths.get("/tmp"), "sb-rtd-mine");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        try
        {
            if (null != broker)
            {
                broker.close();
            }
        }
        finally
        {
            if (null != mount)
            {
                run("umount", mount.toString());
            }
            for (final Path p : new Path[]{shared, victim, mine})
            {
                if (null != p)
                {
                    RuntimeDirectory.deleteTree(p);
                }
            }
        }
    }

    @Test
    void shouldRefuseASocketDirectoryPreCreatedByAnotherUserAndTouchNothingInIt() throws Exception
    {
        final Path socketDir = shared.resolve("switchboard-0");
        asNobody("mkdir", "-m", "0777", socketDir.toString());

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(socketDir,
            mine.resolve("shm").resolve("aeron")));

        assertTrue(ex.getMessage().contains("socket directory " + socketDir) &&
            ex.getMessage().contains("owned by nobody (uid 65534)") && ex.getMessage().contains("Remove it"),
            ex.getMessage());
        assertEquals(0777, TrustedDirectory.lstat(socketDir).permissions(), "its mode is left as found");
        try (Stream<Path> entries = Files.list(socketDir))
        {
            assertEquals(0, entries.count(), "nothing created in it (no lock file, no socket)");
        }
        assertFalse(Files.exists(mine.resolve("shm")), "the refusal comes before anything else is made");
    }

    @Test
    void shouldRefuseAMediaDriverParentOfAnotherUserWithALinkToAVictimAndKeepTheVictimsFiles() throws Exception
    {
        final Path parent = shared.resolve("switchboard-root");
        asNobody("mkdir", "-m", "0777", parent.toString());
        asNobody("ln", "-s", victim.toString(), parent.resolve("aeron").toString());

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(mine.resolve("sock"),
            parent.resolve("aeron")));

        assertTrue(ex.getMessage().contains("media driver directory's parent " + parent) &&
            ex.getMessage().contains("owned by nobody (uid 65534)"), ex.getMessage());
        assertEquals("keep me", Files.readString(victim.resolve("precious.txt")), "the victim's file is still there");
        assertEquals(0755, TrustedDirectory.lstat(victim).permissions(), "the victim's folder mode is unchanged");
        assertTrue(Files.isSymbolicLink(parent.resolve("aeron")), "the link is left as found");
    }

    @Test
    void shouldRefuseALinkInPlaceOfTheMediaDriverDirectoryEvenInAParentOfOurs() throws Exception
    {
        final Path parent = Files.createDirectory(mine.resolve("shm"));
        Files.createSymbolicLink(parent.resolve("aeron"), victim);

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(mine.resolve("sock"),
            parent.resolve("aeron")));

        assertTrue(ex.getMessage().contains("media driver directory " + parent.resolve("aeron") + " is a symbolic link"),
            ex.getMessage());
        assertEquals("keep me", Files.readString(victim.resolve("precious.txt")));
    }

    @Test
    void shouldRefuseADirectoryOfOursThatOthersCanWriteToAndLeaveItAsFound() throws Exception
    {
        final Path parent = Files.createDirectory(shared.resolve("ours-but-open"));
        run("chmod", "0777", parent.toString());
        asNobody("ln", "-s", victim.toString(), parent.resolve("aeron").toString()); // planted while it was open

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(mine.resolve("sock"),
            parent.resolve("aeron")));

        assertTrue(ex.getMessage().contains(parent + " is a directory owned by root (uid 0), mode 0777: others can " +
            "write to it"), ex.getMessage());
        assertEquals(0777, TrustedDirectory.lstat(parent).permissions(), "not chmodded");
        assertEquals("keep me", Files.readString(victim.resolve("precious.txt")));
    }

    @Test
    void shouldRefuseASymbolicallyLinkedSocketDirectoryAndLeaveItsTargetsModeUnchanged() throws Exception
    {
        final Path link = shared.resolve("switchboard-0");
        asNobody("ln", "-s", victim.toString(), link.toString());

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(link,
            mine.resolve("shm").resolve("aeron")));

        assertTrue(ex.getMessage().contains("socket directory " + link + " is a symbolic link owned by nobody"),
            ex.getMessage());
        assertEquals(0755, TrustedDirectory.lstat(victim).permissions(), "the link's target was not chmodded");
        try (Stream<Path> entries = Files.list(victim))
        {
            assertEquals(List.of(victim.resolve("precious.txt")), entries.toList(), "nothing added to the target");
        }
    }

    @Test
    void shouldCreateMissingFoldersOwnerOnlyAndTightenOneOfOursThatOthersCouldOnlyRead() throws Exception
    {
        final Path socketDir = Files.createDirectory(mine.resolve("sock"));
        Files.setPosixFilePermissions(socketDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        final Path aeronDir = mine.resolve("shm").resolve("aeron");

        broker = launch(socketDir, aeronDir);

        assertEquals(0700, TrustedDirectory.lstat(socketDir).permissions(), "0711 of an --allow-user run tightened");
        assertEquals(0700, TrustedDirectory.lstat(aeronDir.getParent()).permissions(), "created 0700");
        assertTrue(TrustedDirectory.lstat(aeronDir).isDirectory());
        assertEquals(ProcessHandle.current().pid() + "\n",
            Files.readString(socketDir.resolve(RuntimeDirectory.LOCK_FILE_NAME)), "the lock file names its holder");
    }

    @Test
    void shouldRefuseASecondBrokerOnTheSameFoldersAndKeepTheFirstServing() throws Exception
    {
        final Path socketDir = mine.resolve("sock");
        broker = launch(socketDir, mine.resolve("shm").resolve("aeron"));

        final StartRefusedException sameSocketDir = assertThrows(StartRefusedException.class, () -> launch(socketDir,
            mine.resolve("shm2").resolve("aeron")));
        assertTrue(sameSocketDir.getMessage().contains("holds " + socketDir.resolve("broker.lock")),
            sameSocketDir.getMessage());
        final StartRefusedException sameAeronDir = assertThrows(StartRefusedException.class, () -> launch(
            mine.resolve("sock2"), mine.resolve("shm").resolve("aeron")));
        assertTrue(sameAeronDir.getMessage().contains("holds " + mine.resolve("shm").resolve("aeron.lock")),
            sameAeronDir.getMessage());

        assertTrue(Files.exists(mine.resolve("shm").resolve("aeron").resolve("cnc.dat")), "the first driver's files");
        try (Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket()).clientName("still-served")))
        {
            assertFalse(client.isBrokerLost(), "the first broker still serves");
        }
    }

    @Test
    void shouldRefuseToStartTheMediaDriverOnAFullDiskNamingFreeAndNeededBytesAndLeaveNoCncFile() throws Exception
    {
        mount = Files.createDirectory(mine.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mount.toString());
        final Path aeronDir = mount.resolve("shm").resolve("aeron");

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(mine.resolve("sock"),
            aeronDir));

        assertTrue(ex.getMessage().matches("not enough space for the media driver in " + aeronDir +
            ": \\d+ bytes free on its file system, \\d+ needed .*"), ex.getMessage());
        final long free = Long.parseLong(ex.getMessage().replaceAll(".*: (\\d+) bytes free.*", "$1"));
        final long needed = Long.parseLong(ex.getMessage().replaceAll(".* (\\d+) needed.*", "$1"));
        assertTrue(free <= 2 * 1024 * 1024 && needed > free, ex.getMessage());
        assertFalse(Files.exists(aeronDir.resolve("cnc.dat"), LinkOption.NOFOLLOW_LINKS), "no partial cnc.dat");
        assertFalse(Files.exists(aeronDir, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void shouldRefuseWithTheLockFilesPathWhenTheSocketDirectorysDiskIsFull() throws Exception
    {
        mount = Files.createDirectory(mine.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mount.toString());
        final Path socketDir = Files.createDirectory(mount.resolve("sock"), java.nio.file.attribute.PosixFilePermissions
            .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        fill(mount.resolve("filler"));

        final StartRefusedException ex = assertThrows(StartRefusedException.class, () -> launch(socketDir,
            mine.resolve("shm").resolve("aeron")));

        assertTrue(ex.getMessage().contains(socketDir.resolve("broker.lock").toString()) &&
            ex.getMessage().contains("No space left on device") && ex.getMessage().contains(" bytes free"),
            ex.getMessage());
    }

    @Test
    void shouldNotConnectAJavaClientToASocketInAnotherUsersDirectory() throws Exception
    {
        final Path socketDir = shared.resolve("impostor");
        asNobody("mkdir", "-m", "0755", socketDir.toString());

        final Exception ex = assertThrows(Exception.class, () -> Switchboard.connect(new Switchboard.Context()
            .controlSocket(socketDir.resolve("control.sock")).clientName("careful")));

        final String message = String.valueOf(ex.getMessage()) + " " + ex.getCause();
        assertTrue(message.contains("not connecting to " + socketDir.resolve("control.sock")) &&
            message.contains("owned by nobody (uid 65534)"), message);
    }

    private static Broker launch(final Path socketDir, final Path aeronDir)
    {
        return Broker.launch(new Broker.Context()
            .socketDir(socketDir)
            .aeronDirectoryName(aeronDir.toString())
            .termLength(1 << 20)
            .logger((m) -> {}));
    }

    private static void fill(final Path file) throws IOException
    {
        final byte[] block = new byte[64 * 1024];
        try (java.io.OutputStream out = Files.newOutputStream(file))
        {
            while (true)
            {
                out.write(block);
            }
        }
        catch (final IOException full)
        {
            if (!String.valueOf(full.getMessage()).contains("No space left"))
            {
                throw full;
            }
        }
    }
}
