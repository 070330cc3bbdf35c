package io.switchboard.transport;

import io.switchboard.codec.wire.RequestKind;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Java peer of a Switchboard broker: it calls services, serves them, publishes and subscribes, with the data going
 * directly to the other peers over Aeron IPC.
 * <p>
 * Two ways to run it, chosen in the {@link Context}:
 * <ul>
 *     <li>with its own thread (the default): callbacks run on that thread, and the {@code *Async} methods return
 *     futures;</li>
 *     <li>with no thread ({@link Context#useConductorAgentInvoker(boolean)}): the application calls {@link #poll()}
 *     from its own duty cycle, and callbacks run inside that call.</li>
 * </ul>
 * Thread-safe: API calls and the duty cycle share one lock, uncontended when the application drives the duty cycle
 * itself.
 */
public final class Switchboard extends ControlApi implements AutoCloseable
{
    private final Context ctx;
    private final FireAndForgetOutcome fireAndForget = new FireAndForgetOutcome();

    private Switchboard(final Context ctx) throws IOException
    {
        this(ctx, new ReentrantLock(), null);
    }

    private Switchboard(final Context ctx, final ReentrantLock lock, final ClientConductor conductor)
        throws IOException
    {
        super(ctx, lock, null == conductor ? new ClientConductor(ctx, lock) : conductor);
        this.ctx = ctx;
    }

    /**
     * Connect to the broker at the default location.
     *
     * @return a connected client.
     */
    public static Switchboard connect()
    {
        return connect(new Context());
    }

    /**
     * Connect to the broker the context names.
     *
     * @param ctx settings of the client.
     * @return a connected client.
     * @throws UncheckedIOException if there is no broker (within {@link Context#waitForBrokerNs(long)}) or its media
     * driver cannot be reached.
     * @throws SwitchboardException with the broker's code (FORBIDDEN for a peer of another user) if it refuses.
     */
    public static Switchboard connect(final Context ctx)
    {
        ctx.conclude();
        try
        {
            return new Switchboard(ctx);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex.getMessage(), ex);
        }
    }

    /**
     * A client around a conductor a test built (on a fake data plane); no thread of its own.
     *
     * @param ctx of the conductor, with useConductorAgentInvoker set.
     * @param conductor built by the test.
     * @param lock the conductor was built with.
     * @return the client.
     */
    static Switchboard connectForTest(final Context ctx, final ClientConductor conductor, final ReentrantLock lock)
        throws IOException
    {
        return new Switchboard(ctx, lock, conductor);
    }

    /**
     * Run one duty cycle: read the control connection, the inbox and subscriptions, expire timed-out calls.
     * Only for a client with no thread of its own.
     *
     * @return amount of work done, 0 when idle.
     */
    public int poll()
    {
        return runner.poll();
    }

    /**
     * Call a service; the outcome goes to the listener, exactly once.
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the request payload (an SBE message with its header, or JSON bytes for opaque types).
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param timeoutNs after which the call fails with {@code TIMEOUT}.
     * @param listener to receive the outcome ({@code PAYLOAD_TOO_LARGE} at once, nothing sent, for a payload longer
     * than {@link Context#maxMessageLength()}).
     * @return the correlation id of the call.
     */
    public long request(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long timeoutNs,
        final ResponseListener listener)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.request(
                service, messageType, buffer, offset, length, timeoutNs, listener, null, RequestKind.REQUEST);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Call a service and get the reply as a future (copies the reply; use {@link #request} on hot paths).
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the request payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param timeout after which the call fails with {@code TIMEOUT}.
     * @return a future completed with the reply, or exceptionally with a {@link SwitchboardException}.
     */
    public CompletableFuture<Reply> requestAsync(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final Duration timeout)
    {
        final CompletableFuture<Reply> future = new CompletableFuture<>();
        request(service, messageType, buffer, offset, length, timeout.toNanos(), new ResponseListener()
        {
            public void onResponse(final long correlationId, final DirectBuffer b, final int o, final int l)
            {
                future.complete(new Reply(correlationId, b, o, l));
            }

            public void onError(final long correlationId, final String errorCode, final String message)
            {
                future.completeExceptionally(new SwitchboardException(errorCode, message));
            }
        });
        return future;
    }

    /**
     * Ask a service for a stream of items.
     *
     * @param service name of the service.
     * @param messageType name of the request's message type.
     * @param buffer holding the request payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @param idleTimeoutNs longest wait for the next frame before the stream fails with {@code TIMEOUT}.
     * @param listener to receive the frames and the end.
     * @return the correlation id of the stream, for {@link #cancel(long)}.
     */
    public long stream(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final long idleTimeoutNs,
        final StreamListener listener)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.request(
                service, messageType, buffer, offset, length, idleTimeoutNs, null, listener, RequestKind.STREAM);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Cancel a stream in flight: the service is told, and the listener gets {@code CANCELLED} at once.
     *
     * @param correlationId of the stream.
     * @return true if the stream was in flight.
     */
    public boolean cancel(final long correlationId)
    {
        lock.lock();
        try
        {
            return conductor.cancel(correlationId);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Stop waiting for a request or stream whose answer nobody wants any more (its caller went away): the listener
     * is not called, and an answer that arrives later is counted as late. A stream is also cancelled at the
     * service.
     *
     * @param correlationId of the request or stream.
     * @return true if it was in flight.
     */
    /**
     * Whether a call's request is still kept by this client, not all of it taken by the service's inbox yet (see
     * {@link Context#holdBackPressuredRequests(boolean)}); always false otherwise.
     *
     * @param correlationId of the call.
     * @return true while held.
     */
    public boolean isRequestHeld(final long correlationId)
    {
        lock.lock();
        try
        {
            return conductor.isRequestHeld(correlationId);
        }
        finally
        {
            lock.unlock();
        }
    }

    public boolean abandon(final long correlationId)
    {
        lock.lock();
        try
        {
            return conductor.abandon(correlationId);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Send a message to a service with no reply (fire-and-forget).
     *
     * @param service name of the service.
     * @param messageType name of the message type.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @throws SwitchboardException if the message could not be handed to the service.
     */
    public void send(
        final String service,
        final String messageType,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        lock.lock();
        try
        {
            checkOpen();
            fireAndForget.errorCode = null;
            conductor.request(service, messageType, buffer, offset, length, 0, fireAndForget, null,
                RequestKind.FIRE_AND_FORGET);
            if (null != fireAndForget.errorCode)
            {
                throw new SwitchboardException(fireAndForget.errorCode, fireAndForget.message);
            }
        }
        finally
        {
            lock.unlock();
        }
    }


    /**
     * Publish on a subject, and with {@code retain} keep it as the subject's retained value: the broker holds the
     * last retained publication of each subject, even after this peer is gone (not across a broker restart), and
     * hands it to every new subscription whose pattern matches, Java or socket, before live ones. A retained
     * publish with an empty payload clears the subject's retained value (and is published, empty, to the
     * subscribers there are).
     * <p>
     * A retained publish is a cold path: it waits for the broker to keep it (one control round trip) and only then
     * writes the publication, so that a subscriber never sees it live without it being retained. Its sequence is
     * taken when the broker is asked: a plain publish from another thread of this client in the meantime goes out
     * first, and its subscribers count a gap until the retained one follows. Without {@code retain} this is
     * {@link #publish(String, String, int, DirectBuffer, int, int)}.
     *
     * @param subject such as {@code prices.ACME} (no wildcards).
     * @param messageType name of the payload's message type.
     * @param templateId SBE template id of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload; 0 with {@code retain} clears the subject's retained value.
     * @param retain whether the broker keeps it for new subscribers.
     * @return the publication's sequence number if written, else a negative Aeron publication result (retained,
     * then, but not delivered to the subscribers there are).
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} if the broker's retained values would pass their
     * bound in subjects or bytes, or the publication is longer than one control message (4 MiB) or its payload than
     * {@link Context#maxMessageLength()}: neither retained nor published; {@code SERVICE_UNAVAILABLE} with no broker;
     * {@code TIMEOUT} if the broker did not answer in the control timeout (it may have kept it; nothing was
     * published).
     */
    public long publish(
        final String subject,
        final String messageType,
        final int templateId,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final boolean retain)
    {
        if (!retain)
        {
            return publish(subject, messageType, templateId, buffer, offset, length);
        }
        lock.lock();
        try
        {
            checkOpen();
            runner.checkNotInHandler("publish('" + subject + "', retain)");
        }
        finally
        {
            lock.unlock();
        }
        return RetainedPublisher.publish(lock, runner, conductor, subject, messageType, templateId, buffer, offset,
            length);
    }

    /**
     * A retained publish that never waits, for a duty cycle that must not (the gateway's): the payload is copied,
     * the broker asked, and the publication written in the duty cycle that reads the broker's answer.
     *
     * @param subject such as {@code prices.ACME} (no wildcards).
     * @param messageType name of the payload's message type.
     * @param templateId SBE template id of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload (copied before this returns).
     * @param offset at which the payload begins.
     * @param length of the payload; 0 clears the subject's retained value.
     * @return completed with the publication's sequence number (or a negative Aeron publication result: retained,
     * not delivered) once written, or exceptionally with the {@link SwitchboardException} of
     * {@link #publish(String, String, int, DirectBuffer, int, int, boolean)}.
     */
    public CompletableFuture<Long> publishRetainedAsync(
        final String subject,
        final String messageType,
        final int templateId,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        final org.agrona.concurrent.UnsafeBuffer copy = new org.agrona.concurrent.UnsafeBuffer(new byte[length]);
        copy.putBytes(0, buffer, offset, length);
        return locked(() -> RetainedPublisher.publishAsync(lock, conductor, subject, messageType, templateId, copy));
    }

    /**
     * Publish on a subject; every subscriber with a matching pattern reads it from one shared log.
     *
     * @param subject such as {@code prices.ACME} (no wildcards).
     * @param messageType name of the payload's message type.
     * @param templateId SBE template id of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return the publication's sequence number (from 1) if written, else a negative Aeron publication result
     * (e.g. {@code Publication.BACK_PRESSURED}: the subscribers did not keep up within the back-pressure timeout)
     * meaning it was not published. A payload longer than one message of the log (an eighth of its term) is written
     * in pieces, joined by each subscriber.
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} if the payload is longer than
     * {@link Context#maxMessageLength()}: nothing is published. With {@code SERVICE_UNAVAILABLE} if this client's publication log had to be
     * created (its first publish, or the first after a reconnection) and the media driver could not create it, most
     * likely for want of space in its directory; nothing was published, and a later publish asks again.
     */
    public long publish(
        final String subject,
        final String messageType,
        final int templateId,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        lock.lock();
        try
        {
            checkOpen();
            return conductor.publish(subject, messageType, templateId, buffer, offset, length);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Count publications this client was to publish but could not, because they were lost before they reached it
     * (a relay such as a broker link): its subscribers see them as a gap, {@link Push#lostBefore()} on its next
     * publication, and count them, as for publications a slow subscriber was cut loose from.
     *
     * @param count of publications lost; 0 or less does nothing.
     */
    public void markPublicationsLost(final long count)
    {
        if (count <= 0)
        {
            return;
        }
        lock.lock();
        try
        {
            checkOpen();
            conductor.skipPublications(count);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * A publisher for one subject and message type, for a thread that publishes often: its {@link
     * SubjectPublisher#offer} skips the client's lock and the subject check, and writes to a log of its own.
     *
     * @param subject such as {@code prices.ACME} (no wildcards).
     * @param messageType name of the payload's message type.
     * @param templateId SBE template id of the payload, or -1 for opaque JSON.
     * @return the publisher, open until it or this client is closed.
     * @throws IllegalArgumentException if the subject is not a valid subject.
     */
    public SubjectPublisher publisher(final String subject, final String messageType, final int templateId)
    {
        return locked(() -> conductor.newPublisher(subject, messageType, templateId));
    }

    /**
     * This peer's id, assigned by the broker.
     *
     * @return the client id.
     */
    public int clientId()
    {
        return conductor.clientId();
    }

    /**
     * This peer's counters.
     *
     * @return the counters.
     */
    public ClientCounters counters()
    {
        return conductor.counters();
    }

    /**
     * This peer's copy of the broker's registry: services, message types, instances and (if asked for with
     * {@link Context#maxSchemaBytes(long)}) schemas, as the control stream told them. Not thread-safe: read it on the
     * thread that polls this client in invoker mode, or from a handler.
     *
     * @return the route table.
     */
    public RouteTable routes()
    {
        return conductor.routes();
    }

    /**
     * Whether the route table knows the service (route updates arrive asynchronously).
     *
     * @param service name of the service.
     * @return true if at least one instance is known.
     */
    public boolean hasService(final String service)
    {
        lock.lock();
        try
        {
            return null != conductor.routes().route(service);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Whether the connection to the broker is down (lost and, if reconnecting, not yet back).
     *
     * @return true while there is no broker connection.
     */
    public boolean isBrokerLost()
    {
        lock.lock();
        try
        {
            return conductor.isBrokerLost();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Fail every call in flight with {@code SERVICE_UNAVAILABLE}, stop the thread, and release the connection.
     */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        runner.close();
    }

    /**
     * The settings this client was built with.
     *
     * @return the context.
     */
    public Context context()
    {
        return ctx;
    }

    private static final class FireAndForgetOutcome implements ResponseListener
    {
        String errorCode;
        String message;

        public void onResponse(final long correlationId, final DirectBuffer buffer, final int offset, final int length)
        {
        }

        public void onError(final long correlationId, final String errorCode, final String message)
        {
            this.errorCode = errorCode;
            this.message = message;
        }
    }

    /**
     * Settings of a client, with defaults from {@link Configuration}. Fluent (every setter returns this
     * {@code Context}); validated by {@link #conclude()}. Each setting is described on its setter.
     */
    public static final class Context extends ClientContext<Context>
    {
    }
}
