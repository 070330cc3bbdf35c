package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.frame.FrameEncoder;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHandler;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.CachedNanoClock;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The gateway's adapters wired as the conductor wires them, with no socket, no media driver and no broker: sessions
 * without a channel, a {@link FakeGatewayClient} whose route table the test feeds with encoded route updates, and
 * cached clocks the test moves.
 * Frames are fed as encoded bytes through {@link FrameAdapter#decode}; what the gateway sent a session is read back by
 * decoding its outbound queue.
 */
final class AdapterHarness
{
    /** A frame the gateway sent. */
    static final class Sent
    {
        final int version;
        final FrameType type;
        final FrameFormat format;
        final JsonNode body;

        Sent(final int version, final FrameType type, final FrameFormat format, final JsonNode body)
        {
            this.version = version;
            this.type = type;
            this.format = format;
            this.body = body;
        }

        public String toString()
        {
            return type + " " + format + " " + body;
        }
    }

    final List<Throwable> logged = new ArrayList<>();
    final CachedEpochClock epochClock = new CachedEpochClock();
    final CachedNanoClock nanoClock = new CachedNanoClock();
    final GatewayContext ctx;
    final PayloadCodec codec = new PayloadCodec();
    final FrameEncoder encoder = new FrameEncoder(codec);
    final GatewayCounters counters = new GatewayCounters();
    final List<GatewaySession> sessions = new ArrayList<>();
    final List<GatewaySession> toClose = new ArrayList<>();
    final FakeGatewayClient client = new FakeGatewayClient();
    final GatewaySession.QueueBudget budget;
    final SessionProxy proxy;
    final RequestBridge requests;
    final SubjectBridge subjects;
    final SocketServices socketServices;
    final FrameAdapter adapter;
    /** The gateway's own client id in these tests: no instance in a test's registry has it. */
    static final int GATEWAY_CLIENT_ID = -7;

    boolean admitting = true;
    private long nextSessionId = 1;

    AdapterHarness()
    {
        this((ctx) -> {});
    }

    AdapterHarness(final Consumer<GatewayContext> settings)
    {
        epochClock.update(1_000_000);
        nanoClock.update(5_000_000_000L);
        final GatewayContext ctx = new GatewayContext()
            .socketPath(Path.of("/nonexistent/unit-test.sock"))
            .errorHandler(logged::add)
            .epochClock(epochClock)
            .nanoClock(nanoClock);
        settings.accept(ctx);
        this.ctx = ctx.conclude();
        budget = new GatewaySession.QueueBudget(ctx.maxTotalQueuedBytes());
        proxy = new SessionProxy(ctx, codec, counters, budget, toClose);
        final Transcoders transcoders = new Transcoders();
        requests = new RequestBridge(ctx, client, codec, proxy, counters, transcoders);
        subjects = new SubjectBridge(
            ctx, client, codec, proxy, counters, sessions, transcoders, epochClock);
        socketServices = new SocketServices(client, transcoders, codec, proxy, counters);
        final ServiceInstances instances = new ServiceInstances(socketServices, () -> GATEWAY_CLIENT_ID);
        final Discovery discovery = new Discovery(client.routes, proxy, transcoders, instances);
        final GatewayStats stats = new GatewayStats(
            client.routes, instances, proxy, counters, sessions, requests, subjects, budget, () -> 0, socketServices);
        adapter = new FrameAdapter(ctx, client::poll, codec, proxy, counters, nanoClock, () -> admitting,
            requests, subjects, discovery, stats, socketServices);
    }

    GatewaySession connect()
    {
        final GatewaySession session = new GatewaySession(nextSessionId++, null, null, ctx.maxPayloadLength(),
            ctx.maxQueuedPushes(), ctx.maxQueuedPushBytes(), ctx.maxQueuedBytes(), budget,
            ctx.rateLimit() > 0 ? new TokenBucket(ctx.rateLimit(), ctx.rateLimitBurst(), nanoClock.nanoTime()) : null);
        sessions.add(session);
        return session;
    }

    void close(final GatewaySession session)
    {
        session.closed = true;
        sessions.remove(session);
        session.releaseQueue();
        requests.onSessionClosed(session);
        subjects.onSessionClosed(session);
        socketServices.onSessionClosed(session);
    }

    byte[] frame(final FrameType type, final String json)
    {
        return encoder.encode(type, FrameFormat.JSON, FakeGatewayClient.utf8(json));
    }

    int feed(final GatewaySession session, final FrameType type, final String json)
    {
        return feed(session, frame(type, json));
    }

    int feed(final GatewaySession session, final byte[]... frames)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (final byte[] frame : frames)
        {
            bytes.writeBytes(frame);
        }
        final int decoded = adapter.decode(session, ByteBuffer.wrap(bytes.toByteArray()));
        counters.framesIn += decoded;
        return decoded;
    }

    /**
     * Take every frame queued for a session, as its socket would have received them.
     */
    List<Sent> sent(final GatewaySession session)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try
        {
            session.flushTo(Channels.newChannel(out));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        final List<Sent> frames = new ArrayList<>();
        final FrameDecoder decoder = new FrameDecoder(16 * 1024 * 1024);
        decoder.decode(ByteBuffer.wrap(out.toByteArray()), new FrameHandler()
        {
            public void onFrame(
                final int version, final FrameType type, final FrameFormat format, final byte[] payload,
                final int offset, final int length)
            {
                frames.add(new Sent(version, type, format, codec.read(format, payload, offset, length)));
            }

            public void onFatalError(final ErrorCode code, final String reason)
            {
                throw new AssertionError("the gateway wrote a broken frame: " + code + " " + reason);
            }
        });
        return frames;
    }

    /**
     * The one frame queued for a session.
     */
    Sent one(final GatewaySession session)
    {
        final List<Sent> frames = sent(session);
        assertEquals(1, frames.size(), "frames sent: " + frames);
        return frames.get(0);
    }
}
