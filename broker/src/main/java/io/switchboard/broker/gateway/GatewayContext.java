package io.switchboard.broker.gateway;

import io.switchboard.codec.frame.FrameHeader;
import org.agrona.ErrorHandler;

import java.nio.file.Path;

/**
 * Settings of the gateway. Fluent; validated by {@link #conclude()}.
 */
public final class GatewayContext
{
    /** Default bound on socket connections. */
    public static final int MAX_CONNECTIONS_DEFAULT = 1024;
    /** Default bound on pushes queued for one connection; more are dropped and counted. */
    public static final int MAX_QUEUED_PUSHES_DEFAULT = 4096;
    /** Default bound on bytes queued for one connection; a connection over it is closed. */
    public static final long MAX_QUEUED_BYTES_DEFAULT = 64L << 20;

    private Path socketPath;
    private int maxConnections = MAX_CONNECTIONS_DEFAULT;
    private int maxPayloadLength = FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH;
    private int maxQueuedPushes = MAX_QUEUED_PUSHES_DEFAULT;
    private long maxQueuedBytes = MAX_QUEUED_BYTES_DEFAULT;
    private ErrorHandler errorHandler;

    /**
     * Check the settings.
     *
     * @return this for a fluent API.
     */
    public GatewayContext conclude()
    {
        if (null == socketPath)
        {
            throw new IllegalArgumentException("gateway socket path: expected a path, actual=null");
        }
        FrameHeader.checkMaxPayloadLength(maxPayloadLength);
        if (maxConnections <= 0 || maxQueuedPushes <= 0 || maxQueuedBytes <= 0)
        {
            throw new IllegalArgumentException("gateway limits must be positive: maxConnections=" + maxConnections +
                ", maxQueuedPushes=" + maxQueuedPushes + ", maxQueuedBytes=" + maxQueuedBytes);
        }
        if (null == errorHandler)
        {
            errorHandler = (ex) -> System.err.println("switchboard gateway: error: " + ex);
        }
        return this;
    }

    /**
     * Path of the gateway socket.
     *
     * @param socketPath the path.
     * @return this for a fluent API.
     */
    public GatewayContext socketPath(final Path socketPath)
    {
        this.socketPath = socketPath;
        return this;
    }

    /**
     * Path of the gateway socket.
     *
     * @return the path.
     */
    public Path socketPath()
    {
        return socketPath;
    }

    /**
     * Bound on socket connections; one more is answered CONNECTION_LIMIT_REACHED and closed.
     *
     * @param maxConnections the bound.
     * @return this for a fluent API.
     */
    public GatewayContext maxConnections(final int maxConnections)
    {
        this.maxConnections = maxConnections;
        return this;
    }

    /**
     * Bound on socket connections.
     *
     * @return the bound.
     */
    public int maxConnections()
    {
        return maxConnections;
    }

    /**
     * Largest payload accepted (1 MiB default, up to 16 MiB).
     *
     * @param maxPayloadLength in bytes.
     * @return this for a fluent API.
     */
    public GatewayContext maxPayloadLength(final int maxPayloadLength)
    {
        this.maxPayloadLength = maxPayloadLength;
        return this;
    }

    /**
     * Largest payload accepted.
     *
     * @return the length in bytes.
     */
    public int maxPayloadLength()
    {
        return maxPayloadLength;
    }

    /**
     * Bound on pushes queued for one connection.
     *
     * @param maxQueuedPushes the bound.
     * @return this for a fluent API.
     */
    public GatewayContext maxQueuedPushes(final int maxQueuedPushes)
    {
        this.maxQueuedPushes = maxQueuedPushes;
        return this;
    }

    /**
     * Bound on pushes queued for one connection.
     *
     * @return the bound.
     */
    public int maxQueuedPushes()
    {
        return maxQueuedPushes;
    }

    /**
     * Bound on bytes of replies queued for one connection.
     *
     * @param maxQueuedBytes the bound.
     * @return this for a fluent API.
     */
    public GatewayContext maxQueuedBytes(final long maxQueuedBytes)
    {
        this.maxQueuedBytes = maxQueuedBytes;
        return this;
    }

    /**
     * Bound on bytes of replies queued for one connection.
     *
     * @return the bound.
     */
    public long maxQueuedBytes()
    {
        return maxQueuedBytes;
    }

    /**
     * Where errors go.
     *
     * @param errorHandler to receive them.
     * @return this for a fluent API.
     */
    public GatewayContext errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return this;
    }

    /**
     * Where errors go.
     *
     * @return the error handler.
     */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }
}
