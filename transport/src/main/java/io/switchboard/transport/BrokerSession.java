package io.switchboard.transport;

import io.switchboard.codec.wire.ConnectAckDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import org.agrona.CloseHelper;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * This peer's session with the broker: the control connection (connect, handshake, send, poll, close), what the
 * broker assigned in its ConnectAck, when the next heartbeat is due, and the backoff between reconnection attempts.
 * The end of the connection is how the broker's death is learnt: whatever fails on it reports the broker lost, once.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class BrokerSession implements ControlProxy.Sender
{
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
        TrustedDirectory.checkSocketDirectory(ctx.controlSocket()); // an impostor's directory is never connected to
        final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try
        {
            channel.connect(UnixDomainSocketAddress.of(ctx.controlSocket()));
        }
        catch (final IOException ex)
        {
            CloseHelper.quietClose(channel);
            throw new IOException("no Switchboard broker at " + ctx.controlSocket() +
                " (start one with: scripts/switchboard broker): " + ex.getMessage(), ex);
        }
        control = new ControlConnection(channel, Configuration.MAX_CONTROL_MESSAGE_LENGTH);
        lost = false;
        try
        {
            controlProxy.connect(ctx.clientName(), ctx.maxSchemaBytes() > 0);
            handshake(handler, timeoutNs);
        }
        catch (final IOException ex)
        {
            lost = true;
            control.close();
            throw ex;
        }
        nextHeartbeatNs = clock.nanoTime() + heartbeatIntervalNs;
    }

    private void handshake(final ControlConnection.MessageHandler handler, final long timeoutNs) throws IOException
    {
        final ConnectAckDecoder ack = new ConnectAckDecoder();
        final boolean[] acked = new boolean[1];
        final long deadlineNs = clock.nanoTime() + timeoutNs;
        while (!acked[0])
        {
            if (lost)
            {
                throw new IOException("control connection failed during the handshake");
            }
            final int read = control.poll((buffer, offset, length) ->
            {
                headerDecoder.wrap(buffer, offset);
                if (headerDecoder.templateId() == ConnectAckDecoder.TEMPLATE_ID)
                {
                    final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
                    copy.putBytes(0, buffer, offset, length);
                    headerDecoder.wrap(copy, 0);
                    ack.wrapAndApplyHeader(copy, 0, headerDecoder);
                    acked[0] = true;
                }
                else
                {
                    handler.onMessage(buffer, offset, length);
                }
            });
            if (read < 0)
            {
                throw new IOException("broker closed the control connection during the handshake");
            }
            if (clock.nanoTime() - deadlineNs > 0)
            {
                throw new IOException("broker did not answer Connect within " +
                    TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
            }
            if (read == 0)
            {
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

    public boolean send(final ExpandableDirectByteBuffer buffer, final int length)
    {
        if (lost)
        {
            return false;
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
            lost(ex.toString());
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
            control.flush();
            final int messages = control.poll(handler);
            if (messages < 0)
            {
                lost("broker closed the control connection");
                return 1;
            }
            return messages;
        }
        catch (final IOException ex)
        {
            lost(ex.toString());
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
