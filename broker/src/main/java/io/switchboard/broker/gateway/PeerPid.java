package io.switchboard.broker.gateway;

import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pid of a socket connection's peer, from the kernel (SO_PEERCRED): the JDK reports only its user and group,
 * junixsocket reports the pid too. The gateway keeps the JDK's channels for its data (nothing on the data path
 * changes); junixsocket is given a duplicate of the channel's descriptor once, when {@code switchboard connections}
 * first asks about the connection.
 * <p>
 * The duplicate is kept open with the session and closed after the session's channel: junixsocket shuts the socket
 * down when it closes its socket, which would cut the connection if done while it is open. The duplicate shares the
 * descriptor's open file description, blocking flag included: it is cast to a non-blocking channel, never to a
 * (blocking) socket, which turned the gateway's own channel blocking and stalled the gateway (GatewayLimitsTest).
 * <p>
 * Needs {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED} (to reach the channel's descriptor; the launcher and the
 * tests set it) and junixsocket's native library for this platform; without either the pid is reported as -1 and the
 * reason is logged once. Cold path only, on the gateway's duty cycle.
 */
final class PeerPid
{
    private static volatile boolean failureLogged;
    private static Method getFD;

    private PeerPid()
    {
    }

    /**
     * The peer's pid, looked up once per session.
     *
     * @param session the connection.
     * @return its peer's pid, or -1 if it cannot be known.
     */
    static long of(final GatewaySession session)
    {
        if (0 == session.peerPid)
        {
            session.peerPid = lookUp(session);
        }
        return session.peerPid;
    }

    private static long lookUp(final GatewaySession session)
    {
        try
        {
            final FileDescriptor fd = descriptor(session.channel);
            // a channel, not a socket: a socket sets its descriptor blocking, and the flag belongs to the open file
            // description the duplicate shares with the gateway's channel, which would then block the gateway
            final AFUNIXSocketChannel duplicate = FileDescriptorCast.duplicating(fd).as(AFUNIXSocketChannel.class);
            session.peerCredentials = duplicate;
            duplicate.configureBlocking(false); // the gateway's channel is non-blocking, whatever the cast did
            return duplicate.getPeerCredentials().getPid();
        }
        catch (final Exception | LinkageError ex)
        {
            if (!failureLogged)
            {
                failureLogged = true;
                System.getLogger("switchboard.gateway").log(System.Logger.Level.WARNING,
                    "cannot read socket peers' pids (shown as -1): " + ex +
                    "; the broker needs --add-opens java.base/sun.nio.ch=ALL-UNNAMED and junixsocket");
            }
            return -1;
        }
    }

    private static synchronized FileDescriptor descriptor(final SocketChannel channel) throws ReflectiveOperationException
    {
        if (null == getFD)
        {
            final Method method = channel.getClass().getMethod("getFD");
            method.setAccessible(true);
            getFD = method;
        }
        return (FileDescriptor)getFD.invoke(channel);
    }

    /**
     * The name of a process, as the kernel keeps it ({@code /proc/<pid>/comm}), else its command's file name.
     *
     * @param pid of the process.
     * @return its name, or null if unknown.
     */
    static String processName(final long pid)
    {
        if (pid <= 0)
        {
            return null;
        }
        try
        {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.UTF_8).strip();
        }
        catch (final IOException | RuntimeException ex)
        {
            return ProcessHandle.of(pid).flatMap((p) -> p.info().command())
                .map((c) -> Path.of(c).getFileName().toString()).orElse(null);
        }
    }
}
