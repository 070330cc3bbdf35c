package io.switchboard.examples;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.switchboard.broker.link.LinkSecret;
import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.LinkHeartbeatEncoder;
import io.switchboard.codec.wire.LinkHelloDecoder;
import io.switchboard.codec.wire.LinkHelloEncoder;
import io.switchboard.codec.wire.LinkInterestEncoder;
import io.switchboard.codec.wire.LinkProofEncoder;
import io.switchboard.codec.wire.LinkPublicationEncoder;
import io.switchboard.codec.wire.LinkRequestEncoder;
import io.switchboard.codec.wire.LinkResponseDecoder;
import io.switchboard.codec.wire.LinkRouteEncoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RequestKind;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A proven peer that sends malformed link messages (length fields pointing past the message, a claimed 1 GiB schema
 * or string, a block length past the end): a real broker process counts each one ({@code sb-broker link malformed
 * messages}), logs the first, drops it, and goes on answering the same peer's next valid call. The peer is this test
 * itself: an embedded media driver, a UDP publication to the broker's link endpoint and a subscription on its own,
 * and the handshake made with the shared secret as a broker makes it.
 */
class LinkMalformedSystemTest
{
    private static final String HOST = "127.0.0.1";
    private static final String SECRET = "correct horse battery staple 0123456789";
    private static final int STREAM_ID = 7301;

    private final UnsafeBuffer out = new UnsafeBuffer(new byte[64 * 1024]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private byte[] brokerNonce;
    private String answerCode;
    private long answeredCorrelationId = -1;

    @Test
    void shouldCountAndDropMalformedMessagesFromAProvenPeerAndGoOn() throws Exception
    {
        try (FakePeer peer = new FakePeer("link-malformed", java.util.List.of()))
        {
            final BrokerProcess brokerA = peer.brokerA;
            final String linkF = peer.linkF;
            final Subscription in = peer.in;
            final ExclusivePublication pub = peer.pub;
            final FragmentAssembler handler = peer.handler;
            final long[] before = LinkScaleSystemTest.counters(brokerA, "sb-broker link malformed messages",
                "sb-broker link links down");

            // 1. a request whose service name claims 1 GiB
            int length = new LinkRequestEncoder().wrapAndApplyHeader(out, 0, header).linkCorrelationId(1)
                .kind(RequestKind.REQUEST).templateId(-1).timeoutMs(1000).service("x").messageType("Echo")
                .putPayload(out, 0, 0).encodedLength();
            out.putInt(MessageHeaderEncoder.ENCODED_LENGTH + LinkRequestEncoder.BLOCK_LENGTH, 1 << 30);
            send(pub, MessageHeaderEncoder.ENCODED_LENGTH + length);
            // 2. a route whose schema claims 1 GiB
            final LinkRouteEncoder route = new LinkRouteEncoder().wrapAndApplyHeader(out, 0, header)
                .action(RouteAction.ADD).mode(ServiceMode.SHARED);
            route.messageTypesCount(0);
            length = route.service("ghost").putSchemaIr(out, 0, 0).encodedLength();
            out.putInt(MessageHeaderEncoder.ENCODED_LENGTH + length - 4, 1 << 30);
            send(pub, MessageHeaderEncoder.ENCODED_LENGTH + length);
            // 3. a publication cut short in the middle of its subject
            length = new LinkPublicationEncoder().wrapAndApplyHeader(out, 0, header).templateId(-1)
                .retained(BooleanType.FALSE).linkSequence(1).subject("prices.ACME").messageType("Json")
                .putPayload(out, 0, 0).encodedLength();
            send(pub, MessageHeaderEncoder.ENCODED_LENGTH + LinkPublicationEncoder.BLOCK_LENGTH + 6);
            // 4. a request whose block length points far past its end
            length = new LinkRequestEncoder().wrapAndApplyHeader(out, 0, header).linkCorrelationId(2)
                .kind(RequestKind.REQUEST).templateId(-1).timeoutMs(1000).service("x").messageType("Echo")
                .putPayload(out, 0, 0).encodedLength();
            out.putShort(0, (short)60_000, java.nio.ByteOrder.LITTLE_ENDIAN); // the header's block length
            send(pub, MessageHeaderEncoder.ENCODED_LENGTH + length);

            // then a valid call from the same peer: answered (no such service there: its error code comes back)
            callAndAwaitAnswer(brokerA, linkF, in, pub, handler, 77);

            long[] after = before;
            final long counted = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // counters published every 50 ms
            while (after[0] < before[0] + 4 && System.nanoTime() - counted < 0)
            {
                send(pub, heartbeat(linkF));
                Thread.sleep(50);
                after = LinkScaleSystemTest.counters(brokerA, "sb-broker link malformed messages",
                    "sb-broker link links down");
            }
            assertEquals(before[0] + 4, after[0], "malformed messages counted:\n" + brokerA.process.output());
            assertEquals(before[1], after[1], "the link stayed up");
            assertEquals(1, LinkScaleSystemTest.counters(brokerA, "sb-broker link links up")[0], "links up (gauge)");
            brokerA.process.awaitLine("a malformed link message", 1_000);
            assertEquals(1, brokerA.process.output().split("a malformed link message", -1).length - 1,
                "logged once per session, then counted:\n" + brokerA.process.output());
        }
    }

    /**
     * A proven peer that floods its interest (more patterns than a peer may make this broker hold): the broker's stand-in
     * subscribes to the first ones up to the bound, refuses the rest (counted, logged once), the link stays up, a
     * pattern the peer drops makes room for another, and the peer's next call is answered.
     */
    @Test
    void shouldRefuseInterestFloodedBeyondTheBoundAndGoOn() throws Exception
    {
        final int cap = 300;
        final int flood = 400;
        try (FakePeer peer = new FakePeer("link-interest",
            java.util.List.of("-D" + io.switchboard.broker.link.LinkContext.MAX_REMOTE_PATTERNS_PROP + "=" + cap,
                "-D" + io.switchboard.broker.link.LinkContext.MAX_REMOTE_PATTERN_BYTES_PROP + "=" + 65_536)))
        {
            final BrokerProcess brokerA = peer.brokerA;
            final String linkF = peer.linkF;
            final Subscription in = peer.in;
            final ExclusivePublication pub = peer.pub;
            final FragmentAssembler handler = peer.handler;
            final String[] labels = {"sb-broker link interest refused", "sb-broker link links down"};
            final long[] before = LinkScaleSystemTest.counters(brokerA, labels);
            assertEquals(0, before[0], "nothing refused before the flood");

            for (int i = 0; i < flood; i++)
            {
                send(pub, interest(RouteAction.ADD, "flood." + i + ".*"));
            }
            awaitCounter(brokerA, pub, linkF, labels, before[0] + flood - cap);
            // a pattern the peer drops makes room for one more; the one after it is refused again
            send(pub, interest(RouteAction.REMOVE, "flood.0.*"));
            send(pub, interest(RouteAction.ADD, "room.for.one"));
            send(pub, interest(RouteAction.ADD, "and.no.more"));
            final long[] after = awaitCounter(brokerA, pub, linkF, labels, before[0] + flood - cap + 1);
            assertEquals(before[1], after[1], "the link stayed up:\n" + brokerA.process.output());
            assertEquals(before[0] + flood - cap + 1, after[0], "'room.for.one' taken in the room 'flood.0.*' left");
            assertEquals(1, LinkScaleSystemTest.counters(brokerA, "sb-broker link links up")[0], "links up (gauge)");

            // the bound in bytes: with room for two more patterns, a 20,000-character one (40,096 bytes held, on
            // top of about 35,000) is refused, a short one is taken
            send(pub, interest(RouteAction.REMOVE, "flood.1.*"));
            send(pub, interest(RouteAction.REMOVE, "flood.2.*"));
            send(pub, interest(RouteAction.ADD, "long." + "x".repeat(20_000 - 5)));
            send(pub, interest(RouteAction.ADD, "short.one"));
            final long refused = before[0] + flood - cap + 2;
            assertEquals(before[1], awaitCounter(brokerA, pub, linkF, labels, refused)[1], "the link stayed up");

            callAndAwaitAnswer(brokerA, linkF, in, pub, handler, 78);
            brokerA.process.awaitLine("its interest in 'flood." + cap + ".*' refused", 1_000);
            assertEquals(1, brokerA.process.output().split("' refused: it holds", -1).length - 1,
                "logged once per link-up, then counted:\n" + brokerA.process.output());
            for (int i = 0; i < 4; i++) // four publications of the counters (every 50 ms): no further refusal shows
            {
                assertEquals(refused, LinkScaleSystemTest.counters(brokerA, labels)[0], "refusals counted exactly " +
                    "('room.for.one' taken in the room 'flood.0.*' left, 'short.one' in the room of two)");
                Thread.sleep(50);
            }
        }
    }

    /**
     * This test as a linked peer of a real broker process: its own media driver, a UDP publication to the broker's
     * link endpoint and a subscription on its own; when constructed, the handshake is made and the link is up.
     * Closed: the broker first, then the peer's client and driver, then its folder.
     */
    private final class FakePeer implements AutoCloseable
    {
        final Path dir;
        final String linkA = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
        final String linkF = HOST + ":" + LinkedBrokers.freeUdpPort(HOST);
        final MediaDriver driver;
        final Aeron aeron;
        final BrokerProcess brokerA;
        final Subscription in;
        final ExclusivePublication pub;
        final FragmentAssembler handler =
            new FragmentAssembler((buffer, offset, length, h) -> onMessage(buffer, offset));

        FakePeer(final String name, final java.util.List<String> brokerJvmArgs) throws Exception
        {
            dir = ProcessHarness.tempDir("sb-test-" + name);
            MediaDriver startedDriver = null;
            Aeron startedAeron = null;
            BrokerProcess startedBroker = null;
            try
            {
                final Path secretFile = LinkedBrokers.secretFile(dir, "link.secret", SECRET);
                final LinkSecret secret = LinkSecret.read(secretFile);
                startedDriver = MediaDriver.launch(new MediaDriver.Context()
                    .aeronDirectoryName("/dev/shm/sb-test-" + name + "-" + UUID.randomUUID())
                    .dirDeleteOnStart(true).dirDeleteOnShutdown(true).threadingMode(ThreadingMode.SHARED));
                startedAeron = Aeron.connect(
                    new Aeron.Context().aeronDirectoryName(startedDriver.aeronDirectoryName()));
                startedBroker =
                    new BrokerProcess(brokerJvmArgs, LinkedBrokers.linkArgs(linkA, secretFile, 3_000, linkF));
                in = startedAeron.addSubscription("aeron:udp?endpoint=" + linkF, STREAM_ID);
                pub = startedAeron.addExclusivePublication(
                    "aeron:udp?endpoint=" + linkA + "|term-length=1m", STREAM_ID);
                handshake(startedBroker, secret, linkA, linkF, in, pub, handler);
                startedBroker.process.awaitLine("link " + linkA + " -> " + linkF + " up", 20_000);
            }
            catch (final Exception | AssertionError ex)
            {
                close(startedBroker, startedAeron, startedDriver, dir);
                throw ex;
            }
            driver = startedDriver;
            aeron = startedAeron;
            brokerA = startedBroker;
        }

        @Override
        public void close() throws Exception
        {
            close(brokerA, aeron, driver, dir);
        }

        private static void close(
            final BrokerProcess broker, final Aeron aeron, final MediaDriver driver, final Path dir) throws Exception
        {
            try (BrokerProcess closedFirst = broker)
            {
                // the broker goes first, as its link to this peer goes down
            }
            finally
            {
                CloseHelper.closeAll(aeron, driver);
                ProcessHarness.deleteRecursively(dir.toFile());
            }
        }
    }

    private int interest(final RouteAction action, final String pattern)
    {
        return new LinkInterestEncoder().wrapAndApplyHeader(out, 0, header).action(action).pattern(pattern)
            .encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    /** Wait (heartbeating, so the link stays up) until the first counter reaches the value; the counters then. */
    private long[] awaitCounter(
        final BrokerProcess broker, final ExclusivePublication pub, final String linkF, final String[] labels,
        final long expected) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); // counters published every 50 ms
        long[] now = LinkScaleSystemTest.counters(broker, labels);
        while (now[0] < expected)
        {
            assertTrue(System.nanoTime() - deadline < 0, labels[0] + ": expected " + expected + ", found " + now[0] +
                "\n" + broker.process.output());
            send(pub, heartbeat(linkF));
            Thread.sleep(50); // the broker publishes its counters every 50 ms: polling the file at that pace
            now = LinkScaleSystemTest.counters(broker, labels);
        }
        return now;
    }

    /** The handshake, both ways, as a broker makes it: wait for the broker's hello, prove the secret, say verified. */
    private void handshake(
        final BrokerProcess brokerA, final LinkSecret secret, final String linkA, final String linkF,
        final Subscription in, final ExclusivePublication pub, final FragmentAssembler handler) throws Exception
    {
        final byte[] nonce = new byte[16];
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (null == brokerNonce)
        {
            assertTrue(System.nanoTime() - deadline < 0, "no hello from the broker:\n" + brokerA.process.output());
            if (pub.isConnected())
            {
                send(pub, new LinkHelloEncoder().wrapAndApplyHeader(out, 0, header).from(linkF)
                    .putNonce(nonce, 0, nonce.length).encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH);
            }
            in.poll(handler, 10);
            Thread.sleep(10); // the broker says hello every heartbeat interval (500 ms): waiting for it
        }
        final byte[] mac = secret.proof(brokerNonce, linkF, linkA, pub.sessionId());
        send(pub, new LinkProofEncoder().wrapAndApplyHeader(out, 0, header).from(linkF).to(linkA)
            .putMac(mac, 0, mac.length).encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH);
        send(pub, heartbeat(linkF));
    }

    /** A valid call from the fake peer to a missing service, answered with its error code across the link. */
    private void callAndAwaitAnswer(
        final BrokerProcess brokerA, final String linkF, final Subscription in, final ExclusivePublication pub,
        final FragmentAssembler handler, final long correlationId)
    {
        final int length = new LinkRequestEncoder().wrapAndApplyHeader(out, 0, header).linkCorrelationId(correlationId)
            .kind(RequestKind.REQUEST).templateId(-1).timeoutMs(2000).service("no-such-service")
            .messageType("Echo").putPayload(out, 0, 0).encodedLength();
        send(pub, MessageHeaderEncoder.ENCODED_LENGTH + length);
        final long answerDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long nextHeartbeat = 0;
        while (correlationId != answeredCorrelationId)
        {
            assertTrue(System.nanoTime() - answerDeadline < 0, "no answer to the valid call:\n" +
                brokerA.process.output());
            if (System.nanoTime() - nextHeartbeat > 0)
            {
                send(pub, heartbeat(linkF));
                nextHeartbeat = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            }
            if (0 == in.poll(handler, 10))
            {
                Thread.yield();
            }
        }
        assertFalse(answerCode.isEmpty(), "expected the error code of a call to a missing service");
    }

    private int heartbeat(final String from)
    {
        return new LinkHeartbeatEncoder().wrapAndApplyHeader(out, 0, header).verifiedYou(BooleanType.TRUE).from(from)
            .encodedLength() + MessageHeaderEncoder.ENCODED_LENGTH;
    }

    private void onMessage(final org.agrona.DirectBuffer buffer, final int offset)
    {
        final MessageHeaderDecoder h = new MessageHeaderDecoder().wrap(buffer, offset);
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        if (LinkHelloDecoder.TEMPLATE_ID == h.templateId())
        {
            final LinkHelloDecoder hello = new LinkHelloDecoder().wrap(buffer, body, h.blockLength(), h.version());
            hello.from();
            final byte[] n = new byte[hello.nonceLength()];
            hello.getNonce(n, 0, n.length);
            brokerNonce = n;
        }
        else if (LinkResponseDecoder.TEMPLATE_ID == h.templateId())
        {
            final LinkResponseDecoder r = new LinkResponseDecoder().wrap(buffer, body, h.blockLength(), h.version());
            final long id = r.linkCorrelationId();
            answerCode = r.errorCode();
            answeredCorrelationId = id;
        }
    }

    private void send(final ExclusivePublication pub, final int length)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pub.offer(out, 0, length) < 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "cannot offer to the broker's link endpoint");
            Thread.yield();
        }
    }
}
