package io.switchboard.broker.gateway;

import io.switchboard.broker.access.LingeringRefusals;
import io.switchboard.broker.access.SocketFiles;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameBodies;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.CachedNanoClock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's agent: accepts socket connections (JDK 17 {@code AF_UNIX} channels), reads and writes them, and
 * turns their frames into calls and publications of its own {@link Switchboard} client, which it polls from the same
 * duty cycle. It owns the sessions and their socket I/O; the roles are split as in Aeron's conductors:
 * <ul>
 * <li>{@link FrameAdapter}: decodes a connection's frames, admission (shutdown, rate limit), dispatch;</li>
 * <li>{@link SessionProxy}: every outbound frame (v1 or v2), queued within the bounds and flushed;</li>
 * <li>{@link RequestBridge}: REQUEST and CANCEL to Java services, pending calls;</li>
 * <li>{@link SocketServices}: services that sockets serve (REGISTER), requests forwarded to them, transcoded when
 * the name is shared with Java peers' SBE;</li>
 * <li>{@link SubjectBridge}: SUBSCRIBE, PUBLISH, pushes, retained values (kept by the broker, as for any peer);</li>
 * <li>{@link Discovery} and {@link GatewayStats}: DISCOVER and STATS, counting instances by
 * {@link ServiceInstances};</li>
 * </ul>
 * Its clocks come from the {@link GatewayContext} and are read once per duty cycle.
 * <p>
 * A well-formed REQUEST is read, and an opaque service's RESPONSE and an opaque Java publication's PUSH written, with a
 * streaming parser and generator ({@code RequestEnvelope}, {@code ResponseWriter}, {@code PushWriter}: no tree, same
 * bytes); every other frame, and any body those fast
 * paths are not sure of, is handled as a Jackson tree, which allocates per frame: the Java-to-Java hot path does not
 * go through here. A connection's queued frames go out with one gathering write per 64 frames.
 * <p>
 * Shutdown ({@link #beginShutdown()}, from any thread) runs in the duty cycle too: stop accepting, answer new
 * requests SHUTTING_DOWN, give in-flight calls the drain period, answer what is left SHUTTING_DOWN, flush the
 * outbound queues for a bounded time, close the connections and remove the socket file.
 * <p>
 * Not thread-safe: everything runs on the gateway's duty-cycle thread, except {@link #beginShutdown()} and
 * {@link #awaitShutdown(long)}.
 */
public final class GatewayConductor implements Agent
{
    /** Polls of the gateway's client per duty cycle at most, as long as each finds work. */
    private static final int CLIENT_POLLS_PER_CYCLE = 8;

    private static final int RUNNING = 0;
    private static final int DRAINING = 1;
    private static final int FLUSHING = 2;
    private static final int STOPPED = 3;

    private final GatewayContext ctx;
    private final Switchboard client;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final PayloadCodec codec = new PayloadCodec();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final List<GatewaySession> sessions = new ArrayList<>();
    private final List<GatewaySession> toClose = new ArrayList<>();
    private final CachedEpochClock epochClock = new CachedEpochClock();
    private final CachedNanoClock nanoClock = new CachedNanoClock();
    private final SubjectBridge subjects;
    private final RequestBridge requests;
    private final FrameAdapter frameAdapter;
    private long readBufferBytes;
    private final GatewaySession.QueueBudget queueBudget;
    private final SessionProxy proxy;
    private final GatewayCounters counters = new GatewayCounters();
    private final SocketServices socketServices;
    private final LingeringRefusals refusals;
    private long nextSessionId = 1;
    private int state = RUNNING;
    private long drainDeadlineNs;
    private long flushDeadlineNs;
    private volatile boolean shutdownRequested;
    private final CountDownLatch stopped = new CountDownLatch(1);

    /**
     * Bind the gateway socket.
     *
     * @param ctx settings of the gateway.
     * @param registry supplies the latest snapshot of the broker's service registry (thread-safe).
     * @param client the gateway's own Java client, in invoker mode; closed with this.
     * @throws IOException if the socket cannot be bound, or a live broker answers on it.
     */
    public GatewayConductor(final GatewayContext ctx, final Switchboard client)
        throws IOException
    {
        this.ctx = ctx;
        this.client = client;
        this.queueBudget = new GatewaySession.QueueBudget(ctx.maxTotalQueuedBytes());
        this.proxy = new SessionProxy(ctx, codec, counters, queueBudget, toClose);
        final Transcoders transcoders = new Transcoders();
        final GatewayClient peer = GatewayClient.of(client);
        this.socketServices = new SocketServices(peer, transcoders, codec, proxy, counters);
        final ServiceInstances instances = new ServiceInstances(socketServices, client::clientId);
        this.requests = new RequestBridge(ctx, peer, codec, proxy, counters, transcoders);
        this.subjects = new SubjectBridge(ctx, peer, codec, proxy, counters, sessions, transcoders, epochClock);
        final Discovery discovery = new Discovery(client.routes(), proxy, transcoders, instances);
        final GatewayStats stats = new GatewayStats(
            client.routes(), instances, proxy, counters, sessions, requests, subjects, queueBudget, () -> readBufferBytes,
            socketServices);
        this.frameAdapter = new FrameAdapter(ctx, peer::poll, codec, proxy, counters, nanoClock,
            () -> RUNNING == state && !shutdownRequested, requests, subjects, discovery, stats, socketServices);
        final Path path = ctx.socketPath();
        SocketFiles.prepareForBind(path);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try
        {
            server.bind(UnixDomainSocketAddress.of(path));
            if (ctx.allowedPeers().allowsOthers())
            {
                SocketFiles.openToOtherUsers(path); // the peer-credential check at accept does the filtering
            }
            else
            {
                SocketFiles.restrictToOwner(path);
            }
            server.configureBlocking(false);
            this.selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            this.refusals = new LingeringRefusals(selector);
        }
        catch (final IOException | RuntimeException ex)
        {
            CloseHelper.quietClose(server);
            SocketFiles.deleteSocket(path);
            throw ex;
        }
    }

    /**
     * {@inheritDoc}
     */
    public String roleName()
    {
        return "switchboard-gateway";
    }

    /**
     * The gateway's counters (read on the duty-cycle thread, or racily for display).
     *
     * @return the counters.
     */
    public GatewayCounters counters()
    {
        return counters;
    }

    /**
     * Begin a graceful shutdown; returns at once. Thread-safe.
     */
    public void beginShutdown()
    {
        shutdownRequested = true;
    }

    /**
     * Wait until a shutdown begun with {@link #beginShutdown()} has drained, flushed and closed every connection.
     * Thread-safe; must not be called from the duty-cycle thread.
     *
     * @param timeoutMs how long to wait at most.
     * @return true if the gateway stopped in time.
     * @throws InterruptedException if interrupted while waiting.
     */
    public boolean awaitShutdown(final long timeoutMs) throws InterruptedException
    {
        return stopped.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /**
     * {@inheritDoc}
     */
    public int doWork() throws IOException
    {
        epochClock.update(ctx.epochClock().time());
        nanoClock.update(ctx.nanoClock().nanoTime());
        if (RUNNING != state)
        {
            return shutdownWork();
        }
        if (shutdownRequested)
        {
            beginDrain();
            return 1;
        }
        return dutyCycle();
    }

    private int dutyCycle() throws IOException
    {
        int work = client.poll();
        // large publications come in many fragments: read on while there is work (bounded), so that the gateway's
        // own subscription to the logs keeps up with what it publishes itself
        for (int i = 1, polled = work; i < CLIENT_POLLS_PER_CYCLE && polled > 0; i++)
        {
            polled = client.poll();
            work += polled;
        }
        work += socketServices.expire(epochClock.time());
        work += socketServices.retryRegistrations();
        subjects.logRouteFailures();
        work += subjects.retryBackPressured();
        work += requests.releaseHeld();
        proxy.flushDirty();
        selector.selectNow();
        if (!selector.selectedKeys().isEmpty()) // keys may also have been selected while idle in awaitSocket
        {
            final Iterator<SelectionKey> it = selector.selectedKeys().iterator();
            while (it.hasNext())
            {
                final SelectionKey key = it.next();
                it.remove();
                if (!key.isValid())
                {
                    continue;
                }
                if (key.isAcceptable())
                {
                    work += accept();
                    continue;
                }
                if (LingeringRefusals.isRefused(key))
                {
                    work += refusals.onReadable(key);
                    continue;
                }
                final GatewaySession session = (GatewaySession)key.attachment();
                if (key.isWritable())
                {
                    work += proxy.flush(session);
                }
                if (key.isValid() && key.isReadable() && !session.closeAfterFlush && !session.inputClosed &&
                    0 == session.heldPublishes && 0 == session.heldRequests)
                {
                    // a connection whose publication waits for subscribers, or whose request waits for a Java
                    // inbox, is not read
                    work += read(session);
                }
            }
        }
        for (int i = 0, size = sessions.size(); i < size; i++)
        {
            final GatewaySession session = sessions.get(i);
            if ((session.closeAfterFlush || (session.inputClosed && session.pendingByClientId.isEmpty())) &&
                !session.hasQueued())
            {
                toClose.add(session); // closing, or its input ended and every answer it awaited is written
            }
            else if (0 != session.partialFrameSinceMs && !session.closeAfterFlush && !session.inputClosed &&
                epochClock.time() - session.partialFrameSinceMs > ctx.incompleteFrameTimeoutMs())
            {
                // a truncated frame, or a length promised and never sent: its bytes are not coming
                counters.protocolErrors++;
                proxy.send(session, FrameType.ERROR, FrameFormat.JSON, FrameBodies.error("", ErrorCode.PROTOCOL_ERROR,
                    "incomplete frame for more than " + ctx.incompleteFrameTimeoutMs() + " ms"), false);
                session.closeAfterFlush = true;
                session.partialFrameSinceMs = 0;
            }
        }
        proxy.flushDirty();
        closeDead();
        work += refusals.expire(nanoClock.nanoTime());
        return work;
    }

    /**
     * Whether nothing is in flight through the Java side, so that only a socket can bring work before the next
     * timer: then the idle gateway may block on its selector and wake the moment a connection sends.
     *
     * @return true when no call is waiting for a Java answer.
     */
    boolean canBlockOnSockets()
    {
        return RUNNING == state && !shutdownRequested && 0 == requests.inFlight() && 0 == socketServices.inFlight();
    }

    /**
     * How long the idle gateway yields while an answer from Java is awaited before it parks.
     *
     * @return the time in nanoseconds.
     */
    long answerYieldNs()
    {
        return TimeUnit.MICROSECONDS.toNanos(ctx.answerYieldUs());
    }

    /**
     * Block on the selector until a socket is ready or the timeout passes; the duty cycle handles what it selected.
     *
     * @param timeoutMs at most this long, at least 1.
     * @throws IOException if the selector fails.
     */
    void awaitSockets(final long timeoutMs) throws IOException
    {
        selector.select(Math.max(1, timeoutMs));
    }

    // ----------------------------------------------------------------------------------------------- shutdown

    private void beginDrain()
    {
        state = DRAINING;
        drainDeadlineNs = nanoClock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ctx.shutdownDrainTimeoutMs());
        final SelectionKey key = server.keyFor(selector);
        if (null != key)
        {
            key.cancel();
        }
        CloseHelper.quietClose(server); // stop accepting: a new connection is refused from here on
    }

    private int shutdownWork() throws IOException
    {
        if (STOPPED == state)
        {
            return 0;
        }
        final int work = dutyCycle(); // in-flight answers still arrive, queued frames still go out
        if (DRAINING == state &&
            ((0 == requests.inFlight() && 0 == socketServices.inFlight()) ||
            nanoClock.nanoTime() - drainDeadlineNs >= 0))
        {
            answerInFlightShuttingDown();
            state = FLUSHING;
            flushDeadlineNs = nanoClock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ctx.shutdownFlushTimeoutMs());
            for (int i = 0, size = sessions.size(); i < size; i++)
            {
                final GatewaySession session = sessions.get(i);
                session.closeAfterFlush = true; // read no more; closed by the duty cycle once its queue is empty
                proxy.flush(session);
            }
            closeDead();
        }
        if (FLUSHING == state && (sessions.isEmpty() || nanoClock.nanoTime() - flushDeadlineNs >= 0))
        {
            for (final GatewaySession session : new ArrayList<>(sessions))
            {
                closeSession(session);
            }
            refusals.closeAll();
            SocketFiles.deleteSocket(ctx.socketPath());
            state = STOPPED;
            stopped.countDown();
        }
        return work;
    }

    /** Answer every call still in flight SHUTTING_DOWN: socket callers here, Java callers of socket services. */
    private void answerInFlightShuttingDown()
    {
        socketServices.shutDown();
        requests.answerAllShuttingDown();
    }

    /**
     * {@inheritDoc}
     */
    public void onClose()
    {
        if (STOPPED != state)
        {
            answerInFlightShuttingDown(); // closed without a graceful shutdown: answer what we can, best effort
            for (int i = 0, size = sessions.size(); i < size; i++)
            {
                proxy.flush(sessions.get(i));
            }
        }
        stopped.countDown();
        for (final GatewaySession session : new ArrayList<>(sessions))
        {
            closeSession(session);
        }
        refusals.closeAll();
        CloseHelper.quietCloseAll(client, selector, server);
        SocketFiles.deleteSocket(ctx.socketPath());
    }

    // ---------------------------------------------------------------------------------------------- connections

    private int accept() throws IOException
    {
        int accepted = 0;
        SocketChannel channel;
        while (null != (channel = server.accept()))
        {
            accepted++;
            channel.configureBlocking(false);
            if (!SocketFiles.isAllowed(channel, ctx.allowedPeers()))
            {
                counters.peersForbidden++;
                refuse(channel, ErrorCode.FORBIDDEN, "peer runs as another user, one not allowed");
                continue;
            }
            if (sessions.size() >= ctx.maxConnections())
            {
                counters.connectionsRefused++;
                refuse(channel, ErrorCode.CONNECTION_LIMIT_REACHED,
                    "connection limit of " + ctx.maxConnections() + " reached");
                continue;
            }
            final SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            final GatewaySession session = new GatewaySession(nextSessionId++, channel, key,
                ctx.maxPayloadLength(), ctx.maxQueuedPushes(), ctx.maxQueuedPushBytes(), ctx.maxQueuedBytes(),
                queueBudget,
                ctx.rateLimit() > 0 ? new TokenBucket(ctx.rateLimit(), ctx.rateLimitBurst(), nanoClock.nanoTime()) : null);
            key.attach(session);
            sessions.add(session);
            counters.connectionsAccepted++;
        }
        return accepted;
    }

    private void refuse(final SocketChannel channel, final ErrorCode code, final String message)
    {
        // answered, then held open (bounded) until the peer has read it: see LingeringRefusals
        refusals.refuse(channel, ByteBuffer.wrap(proxy.frame(2, FrameType.ERROR, FrameFormat.JSON,
            FrameBodies.error("", code, message))), nanoClock.nanoTime());
    }

    private int read(final GatewaySession session)
    {
        final int n;
        try
        {
            readBuffer.clear();
            n = session.channel.read(readBuffer);
        }
        catch (final IOException ex)
        {
            toClose.add(session);
            return 0;
        }
        if (n < 0)
        {
            onEndOfInput(session);
            return 1;
        }
        readBuffer.flip();
        counters.framesIn += frameAdapter.decode(session, readBuffer);
        if (!session.decoder.hasPartialFrame())
        {
            session.partialFrameSinceMs = 0;
        }
        else if (n > 0 || 0 == session.partialFrameSinceMs)
        {
            // the read ended inside a frame, so bytes of that frame arrived now: the timer measures a stall, not a
            // slow writer (a client writing valid frames in 1,000-byte pieces was cut off when it only reset here
            // on reads that ended on a frame boundary)
            session.partialFrameSinceMs = epochClock.time();
        }
        countReadBuffer(session);
        proxy.flush(session);
        return n;
    }

    /**
     * The peer shut down its write side (or is gone): nothing more will be read, but the answers to what it has in
     * flight are still written; the duty cycle closes it once they are. What it served or subscribed to is released
     * at once, since it can answer no request and ask for nothing more.
     */
    private void onEndOfInput(final GatewaySession session)
    {
        session.inputClosed = true;
        session.partialFrameSinceMs = 0;
        if (!session.pendingByClientId.isEmpty())
        {
            // a peer that shut only its write side still reads its answers; one that closed altogether (most often a
            // process that died) is told apart by a write, which fails at once (EPIPE), and is freed at once instead
            // of holding its calls until they time out; a HEARTBEAT is the frame every client already takes unasked
            proxy.sendNow(session, FrameType.HEARTBEAT, FrameFormat.JSON, FrameBodies.heartbeat()); // flushed here
            proxy.flush(session);
            if (!toClose.contains(session))
            {
                counters.halfClosed++;
            }
        }
        socketServices.onSessionClosed(session);
        session.updateInterest();
    }

    /**
     * Count what the connection's frame decoder holds against the gateway's bound on unfinished frames; a connection
     * whose unfinished frame takes the total past it is refused.
     */
    private void countReadBuffer(final GatewaySession session)
    {
        final long held = session.decoder.hasPartialFrame() ? session.decoder.bufferCapacity() : 0;
        readBufferBytes += held - session.readBufferBytes;
        session.readBufferBytes = held;
        if (held > 0 && readBufferBytes > ctx.maxTotalReadBufferBytes() && !session.closeAfterFlush)
        {
            counters.readBuffersRefused++;
            counters.protocolErrors++;
            final String message = "unfinished frames of all connections hold " + readBufferBytes +
                " bytes, over the gateway's bound of " + ctx.maxTotalReadBufferBytes();
            proxy.logLimit(session, SessionProxy.LOGGED_READ_BUFFERS, message);
            proxy.send(session, FrameType.ERROR, FrameFormat.JSON,
                FrameBodies.error("", ErrorCode.PAYLOAD_TOO_LARGE, message), false);
            session.closeAfterFlush = true;
            session.updateInterest();
        }
    }

    private void closeDead()
    {
        if (toClose.isEmpty())
        {
            return;
        }
        for (int i = 0; i < toClose.size(); i++)
        {
            closeSession(toClose.get(i));
        }
        toClose.clear();
    }

    private void closeSession(final GatewaySession session)
    {
        if (session.closed)
        {
            return;
        }
        session.closed = true;
        sessions.remove(session);
        session.key.cancel();
        CloseHelper.quietClose(session.channel);
        CloseHelper.quietClose(session.peerCredentials); // after the channel: closing it shuts the socket down
        session.releaseQueue();
        readBufferBytes -= session.readBufferBytes;
        session.readBufferBytes = 0;
        counters.connectionsClosed++;
        requests.onSessionClosed(session);
        subjects.onSessionClosed(session);
        socketServices.onSessionClosed(session);
    }
}
