package io.switchboard.transport;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.DeclareSchemaDecoder;
import io.switchboard.codec.wire.HeartbeatDecoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RequestDecoder;
import io.switchboard.codec.wire.RequestKind;
import io.switchboard.codec.wire.ResponseEncoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.Status;
import io.switchboard.codec.wire.SubscribeDecoder;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client conductor driven the way Aeron tests its conductors: the broker's end of the control socket played by
 * the test ({@link FakeBroker}), the media driver replaced by a {@link FakeDataPlane}, and time by a
 * {@link CachedNanoClock} the test advances. No process, no media driver.
 */
class ClientConductorTest
{
    private static final int INBOX = 1001;
    private static final int SERVICE_PEER = 7;
    private static final int SERVICE_INBOX = 1007;
    private static final long TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(50);

    @TempDir
    Path dir;

    private final CachedNanoClock clock = new CachedNanoClock();
    private final List<FakeDataPlane> dataPlanes = new ArrayList<>();
    private final List<Throwable> errors = new ArrayList<>();
    private final List<String> outcomes = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private FakeBroker broker;
    private Switchboard.Context ctx;
    private ClientConductor conductor;

    private final ResponseListener listener = new ResponseListener()
    {
        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
            outcomes.add("OK " + correlationId + " " + buffer.getStringWithoutLengthAscii(offset, length));
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            outcomes.add(errorCode + " " + correlationId);
        }
    };

    @BeforeEach
    void setUp() throws Exception
    {
        clock.update(1_000_000_000L);
        final Path socket = dir.resolve("control.sock");
        broker = new FakeBroker(socket);
        ctx = new Switchboard.Context()
            .controlSocket(socket)
            .clientName("conductor-test")
            .useConductorAgentInvoker(true)
            .nanoClock(clock)
            .errorHandler(errors::add)
            .logger((line) -> {})
            .sendTimeoutNs(TimeUnit.MILLISECONDS.toNanos(1))
            .reconnectBackoffNs(TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.SECONDS.toNanos(1))
            .conclude();
        conductor = connect();
    }

    @AfterEach
    void tearDown()
    {
        if (null != conductor)
        {
            conductor.onClose();
        }
        broker.close();
    }

    private ClientConductor connect() throws Exception
    {
        final CompletableFuture<Integer> accepted = CompletableFuture.supplyAsync(() -> acceptAndAck());
        final ClientConductor conductor = new ClientConductor(ctx, lock, (c, aeronDir) ->
        {
            final FakeDataPlane plane = new FakeDataPlane();
            dataPlanes.add(plane);
            return plane;
        });
        assertEquals(1, (int)accepted.get(10, TimeUnit.SECONDS));
        return conductor;
    }

    private int acceptAndAck()
    {
        try
        {
            return broker.acceptAndAck(INBOX);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private FakeDataPlane dataPlane()
    {
        return dataPlanes.get(dataPlanes.size() - 1);
    }

    /** Advance time past the control poll interval and run duty cycles until the control message is read. */
    private void dutyCycleAfter(final long advanceNs)
    {
        clock.advance(advanceNs);
        conductor.doWork();
    }

    private void routeCalculator() throws Exception
    {
        broker.routeUpdate(RouteAction.ADD, "calc", SERVICE_PEER, SERVICE_INBOX, "Add", 1);
        awaitRoute("calc", true);
    }

    private void awaitRoute(final String service, final boolean present)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((null != conductor.routes().route(service)) != present)
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "route of " + service + " never became " + present);
            dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
            Thread.yield();
        }
    }

    private long call()
    {
        final UnsafeBuffer payload = new UnsafeBuffer("1+2".getBytes());
        return conductor.request(
            "calc", "Add", payload, 0, payload.capacity(), TIMEOUT_NS, listener, null, RequestKind.REQUEST);
    }

    @Test
    void shouldSendRequestToTheRoutedPeersInbox() throws Exception
    {
        routeCalculator();
        final long correlationId = call();

        final List<byte[]> sent = dataPlane().sent(SERVICE_INBOX);
        assertEquals(1, sent.size());
        final RequestDecoder request = new RequestDecoder();
        final UnsafeBuffer buffer = new UnsafeBuffer(sent.get(0));
        request.wrap(buffer, MessageHeaderEncoder.ENCODED_LENGTH, RequestDecoder.BLOCK_LENGTH,
            RequestDecoder.SCHEMA_VERSION);
        assertEquals(correlationId, request.correlationId());
        assertEquals(1, request.callerId());
        assertEquals(INBOX, request.callerInboxStreamId());
        assertEquals(1, request.templateId());
        assertEquals("calc", request.service());
        assertEquals("Add", request.messageType());
        assertEquals(1, conductor.pendingCount());
    }

    @Test
    void shouldDeliverResponseFromInboxToThePendingCall() throws Exception
    {
        routeCalculator();
        final long correlationId = call();

        queueResponse(correlationId, "3");
        conductor.doWork();

        assertEquals(List.of("OK " + correlationId + " 3"), outcomes);
        assertEquals(0, conductor.pendingCount());

        queueResponse(correlationId, "3"); // a second answer to the same call is late, never delivered
        conductor.doWork();
        assertEquals(1, outcomes.size());
        assertEquals(1, conductor.counters().lateReplies.get());
    }

    @Test
    void shouldTimeOutCallOnlyWhenItsDeadlinePasses() throws Exception
    {
        routeCalculator();
        final long correlationId = call();

        dutyCycleAfter(TIMEOUT_NS - TimeUnit.MILLISECONDS.toNanos(2));
        assertEquals(List.of(), outcomes);

        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(2));
        assertEquals(List.of(ErrorCodes.TIMEOUT + " " + correlationId), outcomes);
        assertEquals(1, conductor.counters().timeouts.get());
        assertEquals(0, conductor.pendingCount());
    }

    @Test
    void shouldFailPendingCallsWhenServicePeerGoes() throws Exception
    {
        routeCalculator();
        final long correlationId = call();

        broker.peerGone(SERVICE_PEER);
        awaitRoute("calc", false);

        assertEquals(List.of(ErrorCodes.SERVICE_UNAVAILABLE + " " + correlationId), outcomes);
        assertEquals(0, conductor.pendingCount());
    }

    @Test
    void shouldAnswerActorNotFoundOnceRouteIsRemoved() throws Exception
    {
        routeCalculator();
        broker.routeUpdate(RouteAction.REMOVE, "calc", SERVICE_PEER, SERVICE_INBOX, "Add", 1);
        awaitRoute("calc", false);

        final long correlationId = call();

        assertEquals(List.of(ErrorCodes.ACTOR_NOT_FOUND + " " + correlationId), outcomes);
        assertTrue(dataPlane().sent(SERVICE_INBOX).isEmpty());
    }

    @Test
    void shouldAnswerTargetBusyWhenPeerInboxIsBackPressured() throws Exception
    {
        routeCalculator();
        dataPlane().offerResult = io.aeron.Publication.BACK_PRESSURED;
        clock.advance(0);
        final long correlationId = callAdvancingClockInOffer();

        assertEquals(List.of(ErrorCodes.TARGET_BUSY + " " + correlationId), outcomes);
        assertEquals(0, conductor.pendingCount());
    }

    @Test
    void shouldHoldABackPressuredRequestAndSendItWhenTheInboxHasRoom() throws Exception
    {
        ctx.holdBackPressuredRequests(true);
        routeCalculator();
        dataPlane().offerResult = io.aeron.Publication.BACK_PRESSURED;
        final long correlationId = call(); // returns at once: nothing waits for the inbox
        assertTrue(conductor.isRequestHeld(correlationId));
        assertEquals(List.of(), outcomes);
        clock.advance(TimeUnit.MICROSECONDS.toNanos(500)); // within the send timeout (1 ms here)
        conductor.doWork();
        assertTrue(conductor.isRequestHeld(correlationId));
        dataPlane().offerResult = 64;
        conductor.doWork();
        assertFalse(conductor.isRequestHeld(correlationId));
        assertEquals(1, dataPlane().sent(SERVICE_INBOX).size());
        assertEquals(List.of(), outcomes, "in flight, waiting for its answer");
        assertEquals(1, conductor.pendingCount());
    }

    @Test
    void shouldFailAHeldRequestTargetBusyAfterTheSendTimeout() throws Exception
    {
        ctx.holdBackPressuredRequests(true);
        routeCalculator();
        dataPlane().offerResult = io.aeron.Publication.BACK_PRESSURED;
        final long first = call();
        final long second = call(); // behind the first, in order
        assertTrue(conductor.isRequestHeld(first) && conductor.isRequestHeld(second));
        clock.advance(TimeUnit.MILLISECONDS.toNanos(2));
        conductor.doWork();
        assertEquals(List.of(ErrorCodes.TARGET_BUSY + " " + first, ErrorCodes.TARGET_BUSY + " " + second), outcomes);
        assertFalse(conductor.isRequestHeld(first) || conductor.isRequestHeld(second));
        assertEquals(0, conductor.pendingCount());
        assertEquals(List.of(), dataPlane().sent(SERVICE_INBOX));
    }

    @Test
    // without the guard the long answer's blocking offer waits on a test clock that stands still: fail, not hang
    @org.junit.jupiter.api.Timeout(value = 20, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void shouldResumeALongRequestFromThePieceTheInboxDidNotTake() throws Exception
    {
        ctx.holdBackPressuredRequests(true);
        routeCalculator();
        final FakeDataPlane plane = dataPlane();
        plane.offersTaken = 1; // the first piece of three goes, then the reader stops
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[20_000]);
        final long correlationId = conductor.request(
            "calc", "Add", payload, 0, payload.capacity(), TIMEOUT_NS, listener, null, RequestKind.REQUEST);
        assertTrue(conductor.isRequestHeld(correlationId));
        assertEquals(1, plane.sent(SERVICE_INBOX).size());

        // a long answer to the same inbox now would make its reader drop the half-written request: refused
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[20_000]);
        assertFalse(conductor.peers().sendResponse(SERVICE_INBOX, 99, null, null, reply, 0, reply.capacity(), 1000));
        assertEquals(1, plane.sent(SERVICE_INBOX).size(), "nothing of the answer written");

        plane.offersTaken = Integer.MAX_VALUE;
        conductor.doWork();
        assertFalse(conductor.isRequestHeld(correlationId));
        // the two pieces left, and the small TARGET_BUSY owed to the refused answer's caller (a whole message, which
        // a reader joining pieces takes between them)
        assertEquals(4, plane.sent(SERVICE_INBOX).size());
        assertEquals(List.of(), outcomes);
    }

    private long callAdvancingClockInOffer()
    {
        // the bounded retry reads the clock: a thread advances it past the send timeout while the offer retries
        final Thread ticker = new Thread(() ->
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (outcomes.isEmpty() && System.nanoTime() - deadlineNs < 0)
            {
                clock.advance(TimeUnit.MICROSECONDS.toNanos(100));
                Thread.yield();
            }
        });
        ticker.start();
        try
        {
            return call();
        }
        finally
        {
            try
            {
                ticker.join();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void shouldSendHeartbeatEachInterval() throws Exception
    {
        broker.poll();
        final int before = count(HeartbeatDecoder.TEMPLATE_ID);

        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(FakeBroker.HEARTBEAT_INTERVAL_MS - 1));
        conductor.doWork();
        broker.poll();
        assertEquals(before, count(HeartbeatDecoder.TEMPLATE_ID));

        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1)); // queued, then flushed by the next control poll
        broker.awaitMessage();
        assertEquals(before + 1, count(HeartbeatDecoder.TEMPLATE_ID));
    }

    private int count(final int templateId)
    {
        int count = 0;
        for (final int id : broker.received)
        {
            if (id == templateId)
            {
                count++;
            }
        }
        return count;
    }

    @Test
    void shouldFailCallsWhenBrokerGoesThenReconnectAfterBackoffAndSubscribeAgain() throws Exception
    {
        lock.lock();
        try
        {
            conductor.subscribe(io.switchboard.codec.subject.SubjectPattern.compile("prices.*"), (p, b, o, l) -> {});
        }
        finally
        {
            lock.unlock();
        }
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
        broker.awaitMessage();
        broker.ack(broker.correlationIds.get(broker.correlationIds.size() - 1));
        routeCalculator();
        final long correlationId = call();

        broker.dropConnection();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!conductor.isBrokerLost())
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "the end of the control connection went unnoticed");
            dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
            Thread.yield();
        }
        assertEquals(List.of(ErrorCodes.SERVICE_UNAVAILABLE + " " + correlationId), outcomes);
        assertFalse((null != conductor.routes().route("calc")), "routes of a lost session are forgotten");
        assertTrue(dataPlane().closed, "the lost session's data plane is closed");

        final int planes = dataPlanes.size();
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(50));
        assertEquals(planes, dataPlanes.size(), "no reconnection before the backoff");

        final CompletableFuture<Integer> accepted = CompletableFuture.supplyAsync(this::acceptAndAck);
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(60));
        assertEquals(2, (int)accepted.get(10, TimeUnit.SECONDS));
        assertFalse(conductor.isBrokerLost());
        assertEquals(planes + 1, dataPlanes.size());

        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
        broker.awaitMessage();
        assertEquals(SubscribeDecoder.TEMPLATE_ID, (int)broker.received.get(broker.received.size() - 1),
            "the subscription is announced again in the new session");
    }

    private static final int PUB_SUB_STREAM = 5000;
    private static final int FAKE_LOG_SESSION = 42;

    private void queuePublication(final int publisherId, final long sequence, final String subject, final String payload)
    {
        final org.agrona.ExpandableArrayBuffer buffer = new org.agrona.ExpandableArrayBuffer(256);
        final io.switchboard.codec.wire.PublicationEncoder publication = new io.switchboard.codec.wire.PublicationEncoder();
        final byte[] bytes = payload.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        publication.wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .publisherId(publisherId).sequence(sequence).timestampMs(88).templateId(-1)
            .subject(subject).messageType(subject).putPayload(bytes, 0, bytes.length);
        dataPlane().queue(PUB_SUB_STREAM, buffer, MessageHeaderEncoder.ENCODED_LENGTH + publication.encodedLength());
    }

    @Test
    void shouldHandANewSubscriptionItsRetainedValuesBeforeLiveOnesAndEachOnce() throws Exception
    {
        final List<String> pushes = new ArrayList<>();
        final CompletableFuture<Void> subscribed;
        lock.lock();
        try
        {
            subscribed = conductor.subscribe(io.switchboard.codec.subject.SubjectPattern.compile("cfg.*"),
                (p, b, o, l) -> pushes.add((p.isRetained() ? "retained " : "live ") + p.subject() + " " +
                    p.sequence() + " " + b.getStringWithoutLengthAscii(o, l)));
        }
        finally
        {
            lock.unlock();
        }
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
        broker.awaitMessage();
        final long correlationId = broker.correlationIds.get(broker.correlationIds.size() - 1);

        queuePublication(9, 2, "cfg.a", "before");
        dutyCycleAfter(0); // control is read every duty cycle while a subscription is pending
        assertTrue(pushes.isEmpty(), "no live publication before the retained values: " + pushes);

        broker.retained(correlationId, 9, FAKE_LOG_SESSION, 7, "cfg.b", "b");
        broker.retained(correlationId, 9, FAKE_LOG_SESSION, 3, "cfg.a", "kept"); // older, on another subject
        broker.retained(correlationId, 9, FAKE_LOG_SESSION, 3, "cfg.a", "kept"); // sent again: the same value
        broker.retained(correlationId + 1000, 9, FAKE_LOG_SESSION, 1, "cfg.b", "not-ours");
        broker.ack(correlationId);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!subscribed.isDone())
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "the ack was never read");
            dutyCycleAfter(0);
            Thread.yield();
        }
        assertEquals(List.of("retained cfg.b 7 b", "retained cfg.a 3 kept"), pushes);

        queuePublication(9, 3, "cfg.a", "kept");     // the retained value's live copy: handed over already
        queuePublication(9, 7, "cfg.b", "b");        // likewise
        queuePublication(9, 8, "cfg.a", "newer");
        queuePublication(9, 9, "other.x", "unmatched");
        queuePublication(9, 10, "cfg.b", "newest");
        dutyCycleAfter(0);
        assertEquals(List.of("retained cfg.b 7 b", "retained cfg.a 3 kept", "live cfg.a 8 newer", "live cfg.b 10 newest"),
            pushes);
        assertEquals(4, conductor.counters().pushes.get());
    }

    @Test
    void shouldDeclareAnAcceptedSchemaAgainAfterReconnecting() throws Exception
    {
        final String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" +
            "<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" package=\"t\" id=\"55\" version=\"2\"" +
            " byteOrder=\"littleEndian\"><types><composite name=\"messageHeader\">" +
            "<type name=\"blockLength\" primitiveType=\"uint16\"/><type name=\"templateId\" primitiveType=\"uint16\"/>" +
            "<type name=\"schemaId\" primitiveType=\"uint16\"/><type name=\"version\" primitiveType=\"uint16\"/>" +
            "</composite></types><sbe:message name=\"Tick\" id=\"1\"><field name=\"n\" id=\"1\" type=\"int32\"/>" +
            "</sbe:message></sbe:messageSchema>";
        final MessageSchema schema = MessageSchema.fromXml(
            new java.io.ByteArrayInputStream(xml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        final CompletableFuture<Void> declared;
        lock.lock();
        try
        {
            declared = conductor.declareSchema(schema);
        }
        finally
        {
            lock.unlock();
        }
        broker.awaitMessage();
        assertEquals(DeclareSchemaDecoder.TEMPLATE_ID, (int)broker.received.get(broker.received.size() - 1));
        broker.ack(broker.correlationIds.get(broker.correlationIds.size() - 1));
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!declared.isDone())
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "the ack of DeclareSchema was never read");
            dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
            Thread.yield();
        }
        declared.get(); // accepted, not failed

        broker.dropConnection();
        while (!conductor.isBrokerLost())
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "the end of the control connection went unnoticed");
            dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(1));
            Thread.yield();
        }
        final CompletableFuture<Integer> accepted = CompletableFuture.supplyAsync(this::acceptAndAck);
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(150));
        assertEquals(2, (int)accepted.get(10, TimeUnit.SECONDS));
        broker.awaitMessage();
        assertEquals(DeclareSchemaDecoder.TEMPLATE_ID, (int)broker.received.get(broker.received.size() - 1),
            "the schema is declared again in the new session");
    }

    @Test
    void shouldReconnectWhenItsOwnAeronClientClosed() throws Exception
    {
        routeCalculator();
        final long correlationId = call();
        dataPlane().closed = true; // the media driver timed the client out, as after a pause

        conductor.doWork();

        assertTrue(conductor.isBrokerLost());
        assertEquals(List.of(ErrorCodes.SERVICE_UNAVAILABLE + " " + correlationId), outcomes);
        final CompletableFuture<Integer> accepted = CompletableFuture.supplyAsync(this::acceptAndAck);
        dutyCycleAfter(TimeUnit.MILLISECONDS.toNanos(100));
        assertEquals(2, (int)accepted.get(10, TimeUnit.SECONDS));
        assertFalse(conductor.isBrokerLost());
    }

    @Test
    void shouldCountMalformedInboxMessageAndGoOn() throws Exception
    {
        routeCalculator();
        final long correlationId = call();
        final UnsafeBuffer junk = new UnsafeBuffer(new byte[]{ 1, 2, 3 });
        dataPlane().queue(INBOX, junk, junk.capacity());
        queueResponse(correlationId, "3");

        conductor.doWork();

        assertEquals(1, conductor.counters().malformed.get());
        assertEquals(List.of("OK " + correlationId + " 3"), outcomes);
    }

    @Test
    void shouldRefuseCallBackIntoTheClientFromAHandlerInInvokerMode() throws Exception
    {
        final Switchboard client = Switchboard.connectForTest(ctx, conductor, lock);
        routeCalculator();
        final List<Throwable> thrown = new ArrayList<>();
        final UnsafeBuffer payload = new UnsafeBuffer("1+2".getBytes());
        final long correlationId = conductor.request("calc", "Add", payload, 0, payload.capacity(), TIMEOUT_NS,
            new ResponseListener()
            {
                public void onResponse(final long id, final DirectBuffer buffer, final int offset, final int length)
                {
                    thrown.add(assertThrows(IllegalStateException.class, client::poll));
                    thrown.add(assertThrows(IllegalStateException.class,
                        () -> client.subscribe("prices.*", (p, b, o, l) -> {})));
                    outcomes.add("handled");
                }

                public void onError(final long id, final String errorCode, final String message)
                {
                    outcomes.add(errorCode);
                }
            }, null, RequestKind.REQUEST);
        queueResponse(correlationId, "3");

        client.poll();
        client.poll(); // the fragment is not delivered again

        assertEquals(List.of("handled"), outcomes);
        assertEquals(2, thrown.size());
        assertTrue(thrown.get(0).getMessage().contains("handler"), thrown.get(0).getMessage());
    }

    private void queueResponse(final long correlationId, final String payload)
    {
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer();
        final ResponseEncoder response = new ResponseEncoder();
        final byte[] bytes = payload.getBytes();
        response.wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .correlationId(correlationId)
            .responderId(SERVICE_PEER)
            .status(Status.OK)
            .errorCode("")
            .errorMessage("")
            .putPayload(bytes, 0, bytes.length);
        dataPlane().queue(INBOX, buffer, MessageHeaderEncoder.ENCODED_LENGTH + response.encodedLength());
    }
}
