package io.switchboard.broker.link;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.transport.RouteTable;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntHashSet;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The agent that runs a broker's links: one UDP subscription on the broker's link endpoint, one {@link PeerLink}
 * per configured peer. Its duty cycle polls the subscription, the Aeron client and the peers' Java clients; its
 * timers send hellos and heartbeats, take silent links down, and compare the broker's routes and subscribers'
 * interest with what the peers were told.
 * <p>
 * Handshake, both ways: a side sends LinkHello with a fresh nonce until the peer answers a LinkProof that checks
 * with the shared secret; the image that carried the proof is then bound to the peer, and nothing but hellos and
 * proofs is read from an image that is not bound. A side's heartbeats say whether it has checked the other's proof;
 * the link is up when both have. A hello from an endpoint that is not a configured peer, a proof that does not
 * check, and any other message on an unbound image are refused, logged once per sender and counted.
 * <p>
 * Not thread-safe: runs on its own thread; every object it holds is used from that thread only.
 */
public final class LinkConductor implements Agent
{
    private static final int FRAGMENT_LIMIT = 32;
    private static final long SCAN_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int MAX_LOGGED_REFUSALS = 64;
    private static final int NONCE_LENGTH = 16;
    private static final long SCHEMA_WAIT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long REOPEN_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private final LinkContext ctx;
    private final String endpoint;
    private final LinkSecret secret;
    private final LinkInterest interest;
    private final Consumer<String> log;
    private final String aeronDirectoryName;
    private final ErrorHandler errorHandler;
    private Aeron aeron;
    private AgentInvoker aeronInvoker;
    private final AgentInvoker driverInvoker;
    private Subscription subscription;
    private final PeerLink[] peers;
    private final Map<String, PeerLink> byEndpoint = new HashMap<>();
    private final Int2ObjectHashMap<PeerLink> bySession = new Int2ObjectHashMap<>();
    private final IntHashSet linkClientIds = new IntHashSet();
    private final LinkCounters counters = new LinkCounters();
    private final Set<String> loggedRefusals = new LinkedHashSet<>();
    private final Map<String, PeerLink.RemoteRoute> advertised = new LinkedHashMap<>();
    private final Map<String, Long> schemaWaitSinceNs = new HashMap<>();
    private final long livenessTimeoutNs;
    private final long heartbeatIntervalNs;
    private final long inFlightYieldNs = LinkContext.inFlightYieldNs();
    private final FragmentHandler fragmentHandler;


    private boolean closing;
    private long lastDutyCycleNs;
    private long nowNs;
    private long nextTickNs;
    private long nextScanNs;
    private long yieldUntilNs;
    private long nextReopenNs;

    /**
     * Open the link endpoint, the publications to the peers and one client of the broker per peer.
     *
     * @param ctx of the links, concluded.
     * @param secret read from the context's secret file.
     * @param aeronDirectoryName of the broker's media driver.
     * @param controlSocket of the broker, which the peers' clients connect to.
     * @param maxSchemaBytes the clients keep, to hand the peers the schemas of the services here.
     * @param interest the broker's subscribers' patterns, as they come and go.
     * @param log for cold-path lines.
     * @param errorHandler for the clients' errors.
     * @param driverInvoker of the broker's media driver when it runs in {@code ThreadingMode.INVOKER} on this
     * agent's thread, which must then also construct this agent: each duty cycle runs the driver's before reading
     * the link and after writing to it, and every wait on the driver runs it; null for a driver with its own threads.
     */
    public LinkConductor(
        final LinkContext ctx,
        final LinkSecret secret,
        final String aeronDirectoryName,
        final Path controlSocket,
        final long maxSchemaBytes,
        final LinkInterest interest,
        final Consumer<String> log,
        final ErrorHandler errorHandler,
        final AgentInvoker driverInvoker)
    {
        this.ctx = ctx;
        this.driverInvoker = driverInvoker;
        this.aeronDirectoryName = aeronDirectoryName;
        this.errorHandler = errorHandler;
        this.endpoint = ctx.endpoint();
        this.secret = secret;
        this.interest = interest;
        this.log = log;
        this.livenessTimeoutNs = TimeUnit.MILLISECONDS.toNanos(ctx.livenessTimeoutMs());
        this.heartbeatIntervalNs = TimeUnit.MILLISECONDS.toNanos(ctx.heartbeatIntervalMs());
        this.fragmentHandler = new FragmentAssembler(new LinkAdapter(this));
        final List<AutoCloseable> opened = new ArrayList<>();
        try
        {
            openAeron();
            opened.add(aeron);
            final SecureRandom random = new SecureRandom();
            peers = new PeerLink[ctx.peers().size()];
            for (int i = 0; i < peers.length; i++)
            {
                final String peer = ctx.peers().get(i);
                final ExclusivePublication pub = addPeerPublication(peer);
                final Switchboard client = Switchboard.connect(new Switchboard.Context()
                    .controlSocket(controlSocket)
                    .clientName("link:" + peer)
                    .useConductorAgentInvoker(true)
                    .driverAgentInvoker(driverInvoker)
                    .reconnect(true)
                    .maxSchemaBytes(Math.max(1, maxSchemaBytes))
                    .errorHandler(errorHandler));
                opened.add(client);
                peers[i] = new PeerLink(peer, new LinkSender(pub, counters, client.context().maxMessageLength(), driverInvoker), client, this, random, log);
                byEndpoint.put(peer, peers[i]);
                linkClientIds.add(client.clientId());
            }
        }
        catch (final RuntimeException ex)
        {
            for (int i = opened.size() - 1; i >= 0; i--)
            {
                CloseHelper.quietClose(opened.get(i));
            }
            throw ex;
        }
        log.accept("link endpoint " + endpoint + " (aeron:udp, stream " + LinkContext.STREAM_ID + "), peers " +
            ctx.peers() + ", liveness timeout " + ctx.livenessTimeoutMs() + " ms");
    }

    /** The link's own Aeron client, its endpoint's subscription and the counters: at the start, and again after a pause. */
    private void openAeron()
    {
        aeron = Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(aeronDirectoryName)
            .clientName("switchboard-link")
            .useConductorAgentInvoker(true)
            .driverAgentInvoker(driverInvoker)
            .errorHandler(errorHandler));
        aeronInvoker = aeron.conductorAgentInvoker();
        counters.attach(aeron);
        subscription = aeron.addSubscription("aeron:udp?endpoint=" + endpoint, LinkContext.STREAM_ID,
            (image) -> { }, this::onUnavailableImage);
    }

    private ExclusivePublication addPeerPublication(final String peer)
    {
        return aeron.addExclusivePublication(
            "aeron:udp?endpoint=" + peer + "|term-length=" + ctx.termLength(), LinkContext.STREAM_ID);
    }

    /**
     * The link's Aeron client closes itself when it was not run for longer than its timeouts (the process paused:
     * SIGSTOP, a long GC, a suspended VM) and would then never carry a message again. Take every link down, open a
     * new client with a new endpoint subscription and new publications, and let the handshakes bring the links up
     * again, as the broker's and the stand-ins' clients reconnect on their own. Retried at most once a second while
     * it fails (the driver itself gone).
     */
    private int reopenIfClosed()
    {
        if (!aeron.isClosed() || closing || nowNs - nextReopenNs < 0)
        {
            return 0;
        }
        nextReopenNs = nowNs + REOPEN_INTERVAL_NS;
        log.accept("link endpoint " + endpoint + ": its Aeron client was closed under it (a pause longer than the " +
            "media driver's timeouts?); taking the links down and opening a new one");
        for (final PeerLink peer : peers)
        {
            peer.down("this broker's link client was closed under it (a pause?)");
            unbind(peer);
        }
        counters.close();
        try
        {
            openAeron();
            for (final PeerLink peer : peers)
            {
                peer.sender = new LinkSender(addPeerPublication(peer.endpoint), counters,
                    peer.sender.maxPayloadLength(), driverInvoker);
            }
            log.accept("link endpoint " + endpoint + ": a new Aeron client is open; the links come up as their " +
                "handshakes complete");
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(aeron); // a half-open client is closed: the next attempt starts again
            errorHandler.onError(new IllegalStateException("link endpoint " + endpoint +
                ": cannot open a new Aeron client (trying again in 1 s): " + ex.getMessage(), ex));
        }
        return 1;
    }

    /** {@inheritDoc} */
    public String roleName()
    {
        return "switchboard-link";
    }

    /** {@inheritDoc} */
    public int doWork()
    {
        nowNs = System.nanoTime();
        if (0 != lastDutyCycleNs && nowNs - lastDutyCycleNs > livenessTimeoutNs / 2)
        {
            // this thread did not run for that long (a pause, a stall): the peers' silence is ours, not theirs
            for (final PeerLink peer : peers)
            {
                peer.lastHeardNs = nowNs;
            }
        }
        lastDutyCycleNs = nowNs;
        // the driver on this thread first: what arrived over UDP is in the images before they are read
        int work = null == driverInvoker ? 0 : driverInvoker.invoke();
        final long writtenBefore = null == driverInvoker ? 0 : writtenPositions();
        work += aeronInvoker.invoke();
        work += reopenIfClosed();
        for (final PeerLink peer : peers)
        {
            work += peer.client.poll();
        }
        work += subscription.poll(fragmentHandler, FRAGMENT_LIMIT);
        work += interest.drain(linkClientIds, peers);
        if (nowNs - nextScanNs >= 0)
        {
            nextScanNs = nowNs + SCAN_INTERVAL_NS;
            work += scanRoutes();
            int up = 0;
            for (final PeerLink peer : peers)
            {
                up += peer.up ? 1 : 0;
            }
            counters.linksUp = up;
            counters.publish();
        }
        if (nowNs - nextTickNs >= 0)
        {
            nextTickNs = nowNs + heartbeatIntervalNs;
            tick();
        }
        if (null != driverInvoker && writtenPositions() != writtenBefore)
        {
            // and again after writing to a link: what this cycle wrote leaves now, not after a park. Only then: each
            // run of the driver polls its sockets, and at a stream of publications most of those polls came back
            // empty (h-pubsub, perf stat: 1.0-1.7 recvfrom per 32-byte publication, nine in ten finding nothing)
            work += driverInvoker.invoke();
        }
        return inFlightYield(work);
    }

    /**
     * While calls are in flight across a link, yield instead of letting the runner's back-off park this thread: the
     * answer is on its way, and a parked thread wakes late (the timer slack, 50 µs on Linux), twice per call on each
     * host. Bounded by {@link LinkContext#inFlightYieldNs()} after the last work, so a slow service or a long stream
     * does not keep the thread yielding; with nothing in flight the runner backs off as before.
     */
    private int inFlightYield(final int work)
    {
        if (0 == inFlightYieldNs || !callsInFlight())
        {
            return work;
        }
        if (work > 0)
        {
            yieldUntilNs = nowNs + inFlightYieldNs;
            return work;
        }
        if (nowNs - yieldUntilNs < 0)
        {
            Thread.yield();
            return 1; // keeps the runner's back-off from parking
        }
        return 0;
    }

    /** The sum of the positions written to the peers' publications: it moves when this cycle wrote to a link. */
    private long writtenPositions()
    {
        long sum = 0;
        for (final PeerLink peer : peers)
        {
            sum += peer.sender.position();
        }
        return sum;
    }

    private boolean callsInFlight()
    {
        for (final PeerLink peer : peers)
        {
            if (peer.callsInFlight())
            {
                return true;
            }
        }
        return false;
    }

    /** {@inheritDoc} */
    public void onClose()
    {
        closing = true; // closing the Aeron client takes the images away: not a link going down
        log.accept("link endpoint " + endpoint + " closing: " + counters);
        counters.close();
        CloseHelper.quietClose(aeron);
        for (int i = peers.length - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(peers[i].client);
        }
    }

    String endpoint()
    {
        return endpoint;
    }

    long nowNs()
    {
        return nowNs;
    }

    long livenessTimeoutMs()
    {
        return ctx.livenessTimeoutMs();
    }

    LinkCounters counters()
    {
        return counters;
    }

    boolean isLinkClient(final int clientId)
    {
        return linkClientIds.contains(clientId);
    }

    void unbind(final PeerLink peer)
    {
        if (-1 != peer.boundSession)
        {
            bySession.remove(peer.boundSession);
            peer.boundSession = -1;
        }
    }

    // ---------------------------------------------------------------- timers

    private void tick()
    {
        for (final PeerLink peer : peers)
        {
            if (peer.verified && nowNs - peer.lastHeardNs > livenessTimeoutNs)
            {
                peer.down("silent for more than " + ctx.livenessTimeoutMs() + " ms");
            }
            if (!peer.verified)
            {
                peer.sender.hello(endpoint, peer.nonce);
            }
            peer.sender.heartbeat(endpoint, peer.verified);
            peer.expire(nowNs);
        }
    }

    /**
     * Compare the services that have an instance here (not a link's) with what the peers were told, and each peer's
     * services with what its client serves here.
     */
    private int scanRoutes()
    {
        for (final PeerLink peer : peers)
        {
            linkClientIds.add(peer.client.clientId()); // a new id after a reconnection is a link's too
        }
        final RouteTable routes = peers[0].client.routes();
        final Map<String, PeerLink.RemoteRoute> local = new LinkedHashMap<>();
        for (final RouteTable.Route r : routes.routes())
        {
            for (final RouteTable.Instance instance : r.instances())
            {
                if (!linkClientIds.contains(instance.clientId()))
                {
                    local.put(r.name(), new PeerLink.RemoteRoute(
                        r.name(), r.mode(), new LinkedHashMap<>(r.messageTypes()), routes.schemaIr(r)));
                    break;
                }
            }
        }
        int work = 0;
        for (final Map.Entry<String, PeerLink.RemoteRoute> e : local.entrySet())
        {
            final PeerLink.RemoteRoute was = advertised.get(e.getKey());
            if (null == was && waitForSchema(e.getValue(), routes))
            {
                continue; // its schema comes just after its route: advertise both at once, not twice
            }
            if (null == was || !was.sameAs(e.getValue()))
            {
                work++; // new here, or served here now with other message types or schema: the peers learn it again
                advertised.put(e.getKey(), e.getValue());
                for (final PeerLink peer : peers)
                {
                    if (peer.up)
                    {
                        sendRoute(peer, RouteAction.ADD, e.getValue());
                    }
                }
            }
        }
        for (final java.util.Iterator<Map.Entry<String, PeerLink.RemoteRoute>> it = advertised.entrySet().iterator();
            it.hasNext(); )
        {
            final Map.Entry<String, PeerLink.RemoteRoute> e = it.next();
            if (!local.containsKey(e.getKey()))
            {
                work++;
                it.remove();
                for (final PeerLink peer : peers)
                {
                    if (peer.up)
                    {
                        sendRoute(peer, RouteAction.REMOVE, e.getValue());
                    }
                }
            }
        }
        for (final PeerLink peer : peers)
        {
            reconcile(peer, local);
        }
        return work;
    }

    /**
     * Whether a service new here has a schema this broker's route table does not hold yet (it arrives just after the
     * route): wait for it up to {@link #SCHEMA_WAIT_NS}, then advertise without (a schema the table did not keep).
     */
    private boolean waitForSchema(final PeerLink.RemoteRoute route, final RouteTable routes)
    {
        final RouteTable.Route r = routes.route(route.name);
        if (null == r || r.schemaId() < 0 || null != route.schemaIr)
        {
            schemaWaitSinceNs.remove(route.name);
            return false;
        }
        final Long since = schemaWaitSinceNs.putIfAbsent(route.name, nowNs);
        if (null != since && nowNs - since > SCHEMA_WAIT_NS)
        {
            schemaWaitSinceNs.remove(route.name);
            return false;
        }
        return true;
    }

    private void reconcile(final PeerLink peer, final Map<String, PeerLink.RemoteRoute> local)
    {
        for (final String name : new ArrayList<>(peer.served))
        {
            if (!peer.remoteRoutes.containsKey(name) || local.containsKey(name) || !peer.up)
            {
                peer.unserve(name); // gone there, or an instance here now: local instances are preferred
            }
        }
        if (!peer.up)
        {
            return;
        }
        for (final PeerLink.RemoteRoute remote : peer.remoteRoutes.values())
        {
            final PeerLink.RemoteRoute here = local.get(remote.name);
            if (null != here)
            {
                peer.served.remove(remote.name);
                if ((ServiceMode.EXCLUSIVE == remote.mode || ServiceMode.EXCLUSIVE == here.mode) &&
                    peer.conflictsReported.add(remote.name))
                {
                    counters.conflicts++;
                    log.accept("link " + endpoint + " -> " + peer.endpoint + ": name conflict: '" + remote.name +
                        "' is served here (" + here.mode + ") and on " + peer.endpoint + " (" + remote.mode +
                        "): an exclusive name is held by one host; calls here stay here, the name is not " +
                        "taken across the link");
                }
                continue;
            }
            peer.conflictsReported.remove(remote.name);
            if (peer.served.contains(remote.name))
            {
                continue;
            }
            final PeerLink other = servedByOther(peer, remote.name);
            if (null != other && (ServiceMode.EXCLUSIVE == remote.mode ||
                ServiceMode.EXCLUSIVE == other.remoteRoutes.get(remote.name).mode))
            {
                if (peer.conflictsReported.add(remote.name))
                {
                    counters.conflicts++;
                    log.accept("link " + endpoint + ": name conflict: exclusive name '" + remote.name +
                        "' is served on both " + other.endpoint + " and " + peer.endpoint + "; " + other.endpoint +
                        " keeps it here");
                }
                continue;
            }
            peer.serve(remote);
        }
    }

    private PeerLink servedByOther(final PeerLink peer, final String name)
    {
        for (final PeerLink other : peers)
        {
            if (other != peer && other.served.contains(name))
            {
                return other;
            }
        }
        return null;
    }

    private void sendRoute(final PeerLink peer, final RouteAction action, final PeerLink.RemoteRoute r)
    {
        if (!peer.sender.route(action, r.name, r.mode, r.types, r.schemaIr))
        {
            counters.sendFailures++;
            log.accept("link " + endpoint + " -> " + peer.endpoint + ": cannot send the route of '" + r.name + "': " +
                peer.sender.lastFailure());
        }
    }

    private void onUp(final PeerLink peer)
    {
        peer.up = true;
        log.accept("link " + endpoint + " -> " + peer.endpoint + " up" + (peer.everUp ? " again" : ""));
        peer.everUp = true;
        for (final PeerLink.RemoteRoute r : advertised.values())
        {
            sendRoute(peer, RouteAction.ADD, r);
        }
        for (final String pattern : interest.patterns())
        {
            peer.sender.interest(RouteAction.ADD, pattern);
        }
    }

    // ---------------------------------------------------------------- inbound (decoded by LinkAdapter)

    PeerLink peerBySession(final int sessionId)
    {
        final PeerLink peer = bySession.get(sessionId);
        if (null != peer)
        {
            peer.lastHeardNs = nowNs;
        }
        return peer;
    }

    private void onUnavailableImage(final Image image)
    {
        final PeerLink peer = bySession.get(image.sessionId());
        if (null != peer && !closing)
        {
            peer.down("its image on " + endpoint + " went away");
        }
    }

    void refuse(final String key, final String message)
    {
        if (loggedRefusals.size() < MAX_LOGGED_REFUSALS && loggedRefusals.add(key))
        {
            log.accept("link " + endpoint + ": refused: " + message + " (further refusals from this sender are " +
                "counted, not logged)");
        }
    }

    void onHello(final int sessionId, final String from, final byte[] nonce)
    {
        final PeerLink peer = byEndpoint.get(from);
        if (null == peer)
        {
            counters.refusedUnconfigured++;
            refuse("hello:" + from, "a hello from " + from + ", which is not a configured peer (peers: " +
                ctx.peers() + ")");
            return;
        }
        if (nonce.length != NONCE_LENGTH)
        {
            counters.refusedProofs++;
            refuse("nonce:" + from, "a hello from " + from + " with a nonce of " + nonce.length + " bytes: expected " +
                NONCE_LENGTH);
            return;
        }
        if (-1 != peer.boundSession && peer.boundSession != sessionId)
        {
            peer.down("it started again (a hello on a new session)");
        }
        peer.sender.proof(endpoint, from, secret.proof(nonce, endpoint, from, peer.sender.sessionId()));
    }

    void onProof(final int sessionId, final String from, final String to, final byte[] mac)
    {
        final PeerLink peer = byEndpoint.get(from);
        if (null == peer || !endpoint.equals(to))
        {
            counters.refusedUnconfigured++;
            refuse("proof:" + from, "a proof from " + from + " for " + to + ": expected a configured peer " +
                ctx.peers() + " proving itself to " + endpoint);
            return;
        }
        if (peer.verified && peer.boundSession == sessionId)
        {
            return; // an answer to an earlier hello
        }
        if (!secret.verify(peer.nonce, from, endpoint, sessionId, mac))
        {
            counters.refusedProofs++;
            refuse("badproof:" + from, "the proof from " + from + " does not check with this broker's link " +
                "secret (a different secret?): nothing from it is read");
            return;
        }
        if (-1 != peer.boundSession)
        {
            peer.down("it proved itself on a new session");
        }
        final PeerLink previous = bySession.put(sessionId, peer);
        if (null != previous && previous != peer)
        {
            previous.down("its session was taken by " + peer.endpoint);
        }
        peer.boundSession = sessionId;
        peer.verified = true;
        peer.lastHeardNs = nowNs;
        loggedRefusals.remove("badproof:" + from);
        log.accept("link " + endpoint + " -> " + from + ": the peer proved the link secret");
        peer.sender.heartbeat(endpoint, true);
        if (peer.acceptedByPeer && !peer.up)
        {
            onUp(peer);
        }
    }

    void onHeartbeat(final PeerLink peer, final boolean verifiedYou)
    {
        if (verifiedYou)
        {
            peer.acceptedByPeer = true;
            if (peer.verified && !peer.up)
            {
                onUp(peer);
            }
        }
        else if (peer.up)
        {
            peer.down("the peer took its side of the link down");
        }
        else
        {
            peer.acceptedByPeer = false;
        }
    }

    void onRoute(final PeerLink peer, final RouteAction action, final String name, final PeerLink.RemoteRoute r)
    {
        if (RouteAction.ADD == action)
        {
            final PeerLink.RemoteRoute previous = peer.remoteRoutes.put(name, r);
            if (null != previous && !previous.sameAs(r))
            {
                peer.unserve(name); // served there now with other types or schema: served here again as it is now
            }
        }
        else
        {
            peer.remoteRoutes.remove(name);
            peer.unserve(name);
        }
        nextScanNs = nowNs; // reconcile in this duty cycle's scan
    }
}
