package io.switchboard.transport;

import io.switchboard.codec.wire.ConnectAckDecoder;
import io.switchboard.codec.wire.ControlErrorDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.Status;
import org.agrona.CloseHelper;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * This peer's session with the broker: the control connection (connect, handshake, send, poll, close), what the
 * broker assigned in its ConnectAck, when the next heartbeat is due, and the backoff between reconnection attempts.
 * The end of the connection is how the broker's death is learnt: whatever fails on it reports the broker lost, once,
 * after what the broker sent before it is read (its last message may say why: a write that fails first is reported
 * by the next {@link #poll}, which reads that message).
 * <p>
 * The first connect waits, bounded by {@link ClientContext#waitForBrokerNs(long)}, for a broker that is not up yet
 * (no socket, or a stale one nobody listens on), as Aeron's client waits for its media driver. A broker that refuses
 * the peer answers Connect with a ControlError (FORBIDDEN for another user) and keeps the connection open until it
 * is read: the first connect throws it as a {@link SwitchboardException} with that code, a reconnection as an
 * {@link IOException} (the reconnection backs off and tries again).
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class BrokerSession implements ControlProxy.Sender
{
    /** Backoff between attempts to reach a broker that is not up yet: from this... */
    private static final long WAIT_BACKOFF_MIN_MS = 10;
    /** ...doubling up to this. */
    private static final long WAIT_BACKOFF_MAX_MS = 500;

    private final Switchboard.Context ctx;
    private final NanoClock clock;
    private final Consumer<String> onLost;
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private ControlConnection control;
    private boolean lost = true;
    private int clientId;
    private int inboxStreamId;
    private int pubSubStreamId;
    private int termLength;
    private long heartbeatIntervalNs;
    private String aeronDirectory;
    private long nextHeartbeatNs;
    private long nextReconnectNs;
    private long reconnectBackoffNs;
    private boolean connectedOnce;
    private String writeFailure;
    private Status refusalStatus;
    private String refusalMessage;

    /**
     * A session, not yet connected.
     *
     * @param ctx of the client.
     * @param clock of the client.
     * @param onLost told the reason, once, when the connection fails.
     */
    BrokerSession(final Switchboard.Context ctx, final NanoClock clock, final Consumer<String> onLost)
    {
        this.ctx = ctx;
        this.clock = clock;
        this.onLost = onLost;
    }

    /**
     * Connect to the broker's control socket and shake hands; on failure nothing is left open.
     *
     * @param controlProxy to send Connect with.
     * @param handler for control messages that arrive before the ConnectAck.
     * @param timeoutNs longest wait for the ConnectAck.
     * @throws IOException if there is no broker, or it does not answer in time.
     */
    void connect(
        final ControlProxy controlProxy, final ControlConnection.MessageHandler handler, final long timeoutNs)
        throws IOException
    {
        final SocketChannel channel = open(connectedOnce ? 0 : ctx.waitForBrokerNs());
        control = new ControlConnection(channel, Configuration.MAX_CONTROL_MESSAGE_LENGTH);
        lost = false;
        writeFailure = null;
        refusalStatus = null;
        try
        {
            controlProxy.connect(ctx.clientName(), ctx.maxSchemaBytes() > 0);
            handshake(handler, timeoutNs);
        }
        catch (final IOException | RuntimeException ex)
        {
            lost = true;
            control.close();
            throw ex;
        }
        connectedOnce = true;
        nextHeartbeatNs = clock.nanoTime() + heartbeatIntervalNs;
    }

    /**
     * Connect the control socket, waiting up to waitNs, trying again with backoff, while the broker is not up yet: no
     * socket file (or no directory), or a socket nobody listens on (left by a broker that died).
     */
    private SocketChannel open(final long waitNs) throws IOException
    {
        final Path socket = ctx.controlSocket();
        // the wall clock of this thread, not the duty-cycle clock (a test's clock may stand still while we wait)
        final long startNs = System.nanoTime();
        long backoffMs = WAIT_BACKOFF_MIN_MS;
        int attempts = 0;
        while (true)
        {
            TrustedDirectory.checkSocketDirectory(socket); // an impostor's directory is never connected to
            attempts++;
            final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try
            {
                channel.connect(UnixDomainSocketAddress.of(socket));
                return channel;
            }
            catch (final IOException ex)
            {
                CloseHelper.quietClose(channel);
                final boolean notUpYet = ex instanceof ConnectException || !Files.exists(socket, LinkOption.NOFOLLOW_LINKS);
                final long waitedNs = System.nanoTime() - startNs;
                if (!notUpYet || waitedNs >= waitNs)
                {
                    throw new IOException("no Switchboard broker at " + socket +
                        (waitNs > 0 ? " after waiting " + TimeUnit.NANOSECONDS.toMillis(waitedNs) + " ms (waitForBroker " +
                        TimeUnit.NANOSECONDS.toMillis(waitNs) + " ms, " + attempts + " attempts)" : "") +
                        " (start one with: scripts/switchboard broker): " + ex.getMessage(), ex);
                }
                pause(Math.min(backoffMs, TimeUnit.NANOSECONDS.toMillis(waitNs - waitedNs) + 1));
                backoffMs = Math.min(backoffMs * 2, WAIT_BACKOFF_MAX_MS);
            }
        }
    }

    private static void pause(final long ms) throws IOException
    {
        try
        {
            Thread.sleep(ms); // a socket file that appears is nothing to await on: backoff, as Aeron awaits its driver
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the broker", ex);
        }
    }

    private void handshake(final ControlConnection.MessageHandler handler, final long timeoutNs) throws IOException
    {
        final ConnectAckDecoder ack = new ConnectAckDecoder();
        final ControlErrorDecoder error = new ControlErrorDecoder();
        final boolean[] acked = new boolean[1];
        final long deadlineNs = clock.nanoTime() + timeoutNs;
        while (!acked[0])
        {
            final int read;
            try
            {
                read = control.poll((buffer, offset, length) ->
                {
                    headerDecoder.wrap(buffer, offset);
                    if (null != refusalStatus)
                    {
                        return; // the broker's answer is in: nothing after it counts
                    }
                    if (headerDecoder.templateId() == ConnectAckDecoder.TEMPLATE_ID)
                    {
                        final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
                        copy.putBytes(0, buffer, offset, length);
                        headerDecoder.wrap(copy, 0);
                        ack.wrapAndApplyHeader(copy, 0, headerDecoder);
                        acked[0] = true;
                    }
                    else if (headerDecoder.templateId() == ControlErrorDecoder.TEMPLATE_ID &&
                        0 == error.wrapAndApplyHeader(buffer, offset, headerDecoder).correlationId())
                    {
                        // an error that answers no request, before the ConnectAck: Connect was refused
                        refusalStatus = error.status();
                        refusalMessage = error.message();
                    }
                    else
                    {
                        handler.onMessage(buffer, offset, length);
                    }
                });
            }
            catch (final IOException ex)
            {
                throwIfRefused();
                throw new IOException("control connection failed during the handshake: " + ex.getMessage() +
                    (null == writeFailure ? "" : " (sending Connect failed: " + writeFailure + ")"), ex);
            }
            throwIfRefused();
            if (read < 0)
            {
                throw new IOException("broker closed the control connection during the handshake" +
                    (null == writeFailure ? "" : " (sending Connect failed: " + writeFailure + ")"));
            }
            if (clock.nanoTime() - deadlineNs > 0)
            {
                throw new IOException("broker did not answer Connect within " +
                    TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
            }
            if (read == 0)
            {
                ctx.invokeDriver(); // the broker answers once the driver has made our logs
                Thread.onSpinWait();
                Thread.yield();
            }
        }
        clientId = ack.clientId();
        inboxStreamId = ack.inboxStreamId();
        pubSubStreamId = ack.pubSubStreamId();
        heartbeatIntervalNs = TimeUnit.MILLISECONDS.toNanos(ack.heartbeatIntervalMs());
        termLength = ack.termLength();
        aeronDirectory = ack.aeronDirectory();
    }

    private void throwIfRefused() throws IOException
    {
        if (null == refusalStatus)
        {
            return;
        }
        final String message = "the broker at " + ctx.controlSocket() + " refused this peer: " + refusalMessage;
        if (connectedOnce)
        {
            throw new IOException(refusalStatus.name() + ": " + message);
        }
        throw new SwitchboardException(refusalStatus.name(), message);
    }

    public boolean send(final ExpandableDirectByteBuffer buffer, final int length)
    {
        if (lost)
        {
            return false;
        }
        if (null != writeFailure)
        {
            return true; // the connection is broken: the next poll reads what the broker sent, then reports it lost
        }
        try
        {
            if (!control.send(buffer, 0, length))
            {
                lost("control connection not draining");
            }
        }
        catch (final IOException ex)
        {
            // the broker closed, perhaps having said why in its last message: read it before reporting the loss
            writeFailure = ex.toString();
        }
        return true;
    }

    /**
     * Flush what is queued and read what the broker sent.
     *
     * @param handler for each message.
     * @return messages read, or 1 if the connection was found lost.
     */
    int poll(final ControlConnection.MessageHandler handler)
    {
        if (lost)
        {
            return 0;
        }
        try
        {
            if (null == writeFailure)
            {
                control.flush();
            }
            final int messages = control.poll(handler);
            if (messages < 0 || null != writeFailure)
            {
                lost(null != writeFailure ? writeFailure : "broker closed the control connection");
                return 1;
            }
            return messages;
        }
        catch (final IOException ex)
        {
            lost(null != writeFailure ? writeFailure : ex.toString());
            return 1;
        }
    }

    private void lost(final String reason)
    {
        if (!lost)
        {
            lost = true;
            onLost.accept(reason);
        }
    }

    /**
     * Mark the session lost without a failure of the connection (the media driver went away): the caller does what
     * losing the broker means.
     */
    void markLost()
    {
        lost = true;
    }

    boolean isLost()
    {
        return lost;
    }

    /**
     * Close the connection.
     */
    void close()
    {
        lost = true;
        if (null != control)
        {
            control.close();
        }
    }

    /**
     * The broker was lost: the first reconnection attempt is due after the shortest backoff.
     */
    void scheduleReconnect()
    {
        reconnectBackoffNs = ctx.reconnectBackoffMinNs();
        nextReconnectNs = clock.nanoTime() + reconnectBackoffNs;
    }

    boolean isReconnectDue(final long nowNs)
    {
        return nowNs - nextReconnectNs >= 0;
    }

    /**
     * A reconnection attempt failed: wait twice as long, up to the longest backoff, before the next.
     */
    void onReconnectFailed()
    {
        reconnectBackoffNs = Math.min(reconnectBackoffNs * 2, ctx.reconnectBackoffMaxNs());
        nextReconnectNs = clock.nanoTime() + reconnectBackoffNs;
    }

    void onReconnected()
    {
        reconnectBackoffNs = ctx.reconnectBackoffMinNs();
    }

    /**
     * Whether a heartbeat is due, scheduling the next if so.
     *
     * @param nowNs the duty cycle's time.
     * @return true if one is due.
     */
    boolean isHeartbeatDue(final long nowNs)
    {
        if (nowNs - nextHeartbeatNs >= 0 && !lost)
        {
            nextHeartbeatNs = nowNs + heartbeatIntervalNs;
            return true;
        }
        return false;
    }

    int clientId()
    {
        return clientId;
    }

    int inboxStreamId()
    {
        return inboxStreamId;
    }

    int pubSubStreamId()
    {
        return pubSubStreamId;
    }

    int termLength()
    {
        return termLength;
    }

    String aeronDirectory()
    {
        return aeronDirectory;
    }
}
