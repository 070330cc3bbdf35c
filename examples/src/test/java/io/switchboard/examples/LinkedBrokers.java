package io.switchboard.examples;

import io.switchboard.transport.Switchboard;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the link tests share: free UDP ports, a secret file of mode 0600, the options of a linked broker, and waiting
 * for a route or a log line to come or go.
 */
final class LinkedBrokers
{
    private LinkedBrokers()
    {
    }

    /**
     * A UDP port nobody holds right now on the address.
     */
    static int freeUdpPort(final String address) throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0, java.net.InetAddress.getByName(address)))
        {
            return socket.getLocalPort();
        }
    }

    /**
     * A secret file of mode 0600 in the directory.
     */
    static Path secretFile(final Path dir, final String name, final String secret) throws IOException
    {
        final Path file = dir.resolve(name);
        Files.writeString(file, secret + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /**
     * The options of a broker linked to peers.
     */
    static String[] linkArgs(final String link, final Path secret, final long livenessMs, final String... peers)
    {
        final List<String> args = new ArrayList<>(List.of("--link", link, "--link-secret", secret.toString(),
            "--link-liveness-timeout-ms", String.valueOf(livenessMs)));
        for (final String peer : peers)
        {
            args.add("--peer");
            args.add(peer);
        }
        return args.toArray(new String[0]);
    }

    /**
     * Wait until the client has (or has no longer) a route to the service.
     */
    static void awaitRoute(final Switchboard client, final String service, final boolean present, final long timeoutMs)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (client.hasService(service) != present)
        {
            assertTrue(System.nanoTime() - deadline < 0, "route to '" + service + "' " +
                (present ? "never arrived" : "never went") + " within " + timeoutMs + " ms");
            Thread.yield();
        }
    }
}
