package io.switchboard.transport;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.subject.SubjectPattern;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The half of a {@link Switchboard}'s API that asks the broker: offering and withdrawing services, declaring
 * schemas, subscribing and unsubscribing. Each is a control round trip (a cold path), waited for or returned as a
 * future; the calls and publications (the hot paths) are {@link Switchboard}'s own.
 * <p>
 * Thread-safe: each call takes the client's lock.
 */
abstract class ControlApi
{
    final ReentrantLock lock;
    final ClientConductor conductor;
    final ConductorRunner runner;
    volatile boolean closed;

    /**
     * @param ctx of the client, concluded.
     * @param lock shared by the API calls and the duty cycle.
     * @param conductor of the client, which this starts running.
     */
    ControlApi(final ClientContext<?> ctx, final ReentrantLock lock, final ClientConductor conductor)
    {
        this.lock = lock;
        this.conductor = conductor;
        this.runner = new ConductorRunner(ctx, lock, conductor);
    }

    /**
     * Offer a service and wait until the broker has registered it.
     *
     * @param definition of the service.
     * @throws SwitchboardException with {@code NAME_IN_USE} if the name is held, or another code on failure.
     */
    public void serve(final ServiceDefinition definition)
    {
        runner.checkNotInHandler("serve('" + definition.name() + "')");
        runner.await(serveAsync(definition), "register '" + definition.name() + "'");
    }

    /**
     * Offer a service without waiting: the future completes with the broker's answer, on the thread that runs the
     * duty cycle (in invoker mode, inside a later {@link #poll()}); a refusal fails it with a
     * {@link SwitchboardException}. Do not call back into this client from the future's callbacks.
     *
     * @param definition of the service.
     * @return the broker's answer to come.
     */
    public CompletableFuture<Void> serveAsync(final ServiceDefinition definition)
    {
        return locked(() -> conductor.register(definition));
    }

    /**
     * Declare the SBE schema of what this peer publishes, and wait until the broker has it: a socket subscriber then
     * receives this peer's typed publications as JSON, read by the schema id and version in each one's SBE header,
     * even if this peer serves nothing. Declared again after a reconnection, as services are registered again; the
     * broker keeps it until this peer goes, counted against the schema bytes a peer may hand over.
     *
     * @param schema of the typed messages this peer publishes.
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} over the broker's schema limits, or another code
     * on failure.
     */
    public void declareSchema(final MessageSchema schema)
    {
        runner.checkNotInHandler("declareSchema(" + schema.schemaId() + ")");
        runner.await(locked(() -> conductor.declareSchema(schema)), "declare schema id " + schema.schemaId());
    }

    /**
     * Withdraw a service; requests in flight to it are still answered by its handlers if they arrive.
     *
     * @param service name of the service.
     */
    public void unserve(final String service)
    {
        runner.checkNotInHandler("unserve('" + service + "')");
        runner.await(unserveAsync(service), "unregister '" + service + "'");
    }

    /**
     * Withdraw a service without waiting; the future completes as for {@link #serveAsync}.
     *
     * @param service name of the service.
     * @return the broker's answer to come.
     */
    public CompletableFuture<Void> unserveAsync(final String service)
    {
        return locked(() -> conductor.unregister(service));
    }

    /**
     * Receive every publication whose subject matches the pattern. First, before any live publication, the handler
     * receives the last retained value of every subject the pattern matches ({@link Push#isRetained()}), each once:
     * its live copy, if this subscription reads it too, is not handed over again. Returns once the broker has
     * answered, the retained values delivered.
     *
     * @param pattern such as {@code prices.*} or {@code orders.>}.
     * @param handler to receive matching publications.
     */
    public void subscribe(final String pattern, final PushHandler handler)
    {
        runner.checkNotInHandler("subscribe('" + pattern + "')");
        runner.await(subscribeAsync(pattern, handler), "subscribe '" + pattern + "'");
    }

    /**
     * Receive every publication whose subject matches the pattern from the next duty cycle on, and announce the
     * pattern to the broker without waiting; the future completes with the broker's answer as for {@link #serveAsync}.
     *
     * @param pattern such as {@code prices.*} or {@code orders.>}.
     * @param handler to receive matching publications.
     * @return the broker's answer to come.
     */
    public CompletableFuture<Void> subscribeAsync(final String pattern, final PushHandler handler)
    {
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        return locked(() ->
        {
            return conductor.subscribe(compiled, handler);
        });
    }

    /**
     * Drop the subscriptions held with this pattern.
     *
     * @param pattern as given to {@link #subscribe}.
     */
    public void unsubscribe(final String pattern)
    {
        runner.checkNotInHandler("unsubscribe('" + pattern + "')");
        runner.await(unsubscribeAsync(pattern), "unsubscribe '" + pattern + "'");
    }

    /**
     * Drop the subscriptions held with this pattern at once, and tell the broker without waiting; the future
     * completes with the broker's answer as for {@link #serveAsync}.
     *
     * @param pattern as given to {@link #subscribe}.
     * @return the broker's answer to come.
     */
    public CompletableFuture<Void> unsubscribeAsync(final String pattern)
    {
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        return locked(() ->
        {
            conductor.unsubscribe(compiled, null);
            return conductor.announceSubscription(pattern, false);
        });
    }

    /**
     * Drop one handler's subscription with this pattern; the broker is told once no subscription with the pattern
     * is left.
     *
     * @param pattern as given to {@link #subscribe}.
     * @param handler as given to {@link #subscribe}.
     */
    public void unsubscribe(final String pattern, final PushHandler handler)
    {
        runner.checkNotInHandler("unsubscribe('" + pattern + "')");
        runner.await(unsubscribeAsync(pattern, handler), "unsubscribe '" + pattern + "'");
    }

    /**
     * {@link #unsubscribe(String, PushHandler)} without waiting: the future completes at once if the broker need not
     * be told, else with its answer.
     *
     * @param pattern as given to {@link #subscribe}.
     * @param handler as given to {@link #subscribe}.
     * @return the broker's answer to come, if it is told.
     */
    public CompletableFuture<Void> unsubscribeAsync(final String pattern, final PushHandler handler)
    {
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        return locked(() -> conductor.unsubscribe(compiled, handler) && !conductor.holdsSubscription(compiled) ?
            conductor.announceSubscription(pattern, false) : CompletableFuture.completedFuture(null));
    }

    /** Run a cold-path action on the conductor with the lock held, once the client is known to be open. */
    <T> T locked(final Supplier<T> action)
    {
        lock.lock();
        try
        {
            checkOpen();
            return action.get();
        }
        finally
        {
            lock.unlock();
        }
    }

    void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("client is closed");
        }
    }
}
