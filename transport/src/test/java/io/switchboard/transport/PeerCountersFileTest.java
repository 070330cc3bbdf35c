package io.switchboard.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeerCountersFileTest
{
    @TempDir
    Path dir;

    @Test
    void shouldShowAPeersCountersToAReaderWhileItRunsAndDeleteTheFileOnClose() throws Exception
    {
        final Path counters = dir.resolve(PeerCountersFile.DIRECTORY_NAME);
        final ClientCounters peer = new ClientCounters("pricer", counters);
        assertNotNull(peer.file(), "the counters must be in a file");
        peer.requests.incrementOrdered();
        peer.requests.incrementOrdered();
        peer.pushesLost.getAndAddOrdered(5);

        final List<PeerCountersFile.Peer> peers = PeerCountersFile.read(counters);
        assertEquals(1, peers.size());
        try (PeerCountersFile.Peer seen = peers.get(0))
        {
            assertEquals("pricer", seen.name());
            assertEquals(ProcessHandle.current().pid(), seen.pid());
            assertTrue(seen.alive());
            assertEquals(2, seen.value("sb-requests"));
            assertEquals(5, seen.value("sb-pushes-lost"));
            peer.requests.incrementOrdered();
            assertEquals(3, seen.value("sb-requests"), "read live from the mapped file");
        }
        assertEquals(0, PeerCountersFile.reclaim(counters), "a live peer's file is never reclaimed");
        peer.close();
        assertFalse(Files.exists(peer.file()));
        assertEquals(3, peer.requests(), "the values can still be read after close");
    }

    @Test
    void shouldReclaimTheFileOfAPeerThatDied() throws Exception
    {
        final Path counters = dir.resolve(PeerCountersFile.DIRECTORY_NAME);
        final ClientCounters peer = new ClientCounters("victim", counters);
        final Process dead = new ProcessBuilder("true").start();
        assertTrue(dead.waitFor(10, TimeUnit.SECONDS));
        final Path orphan = counters.resolve(dead.pid() + "-0" + PeerCountersFile.SUFFIX);
        Files.copy(peer.file(), orphan);
        try (FileChannel channel = FileChannel.open(orphan, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, dead.pid()), 8);
        }
        final List<PeerCountersFile.Peer> peers = PeerCountersFile.read(counters);
        assertEquals(2, peers.size());
        assertEquals(1, peers.stream().filter((p) -> !p.alive()).count(), "the dead owner is seen as gone");
        peers.forEach(PeerCountersFile.Peer::close);

        assertEquals(1, PeerCountersFile.reclaim(counters));
        assertFalse(Files.exists(orphan));
        assertTrue(Files.exists(peer.file()), "the live peer's file stays");
        peer.close();
    }
}
