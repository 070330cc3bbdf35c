package io.switchboard.transport;

import org.agrona.ErrorHandler;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.Arrays;

/**
 * The calls this peer has in flight, keyed by correlation id: their deadlines, and the one terminal outcome each
 * gets (an answer, an error, a timeout, or the failure of everything when the broker or the client goes).
 * <p>
 * Pooled: a steady stream of calls reuses its {@link PendingCall}s, last released first taken (the one a closed loop
 * reuses is still in cache); the pool is a plain array stack, no ring to wrap. Not thread-safe: call with the client
 * lock held.
 */
final class PendingCalls
{
    private static final int MAX_POOLED_CALLS = 4096;

    private final Long2ObjectHashMap<PendingCall> calls = new Long2ObjectHashMap<>();
    private PendingCall[] pool = new PendingCall[16];
    private int pooled;
    private final ArrayList<PendingCall> expired = new ArrayList<>();
    private final ClientCounters counters;
    private final ErrorHandler errorHandler;
    private long nextCorrelationId = 1;

    PendingCalls(final ClientCounters counters, final ErrorHandler errorHandler)
    {
        this.counters = counters;
        this.errorHandler = errorHandler;
    }

    /**
     * The correlation id of the next call.
     *
     * @return a new correlation id, unique for the life of the client.
     */
    long nextCorrelationId()
    {
        return nextCorrelationId++;
    }

    /**
     * Wait for the outcome of a call that was sent.
     *
     * @param correlationId of the call.
     * @param targetClientId the peer that serves it, whose death fails it.
     * @param timeoutNs how long it may wait (for a stream: for each next frame).
     * @param nowNs the time it was sent.
     * @param responseListener for a request, or null.
     * @param streamListener for a stream, or null.
     */
    void add(
        final long correlationId,
        final int targetClientId,
        final long timeoutNs,
        final long nowNs,
        final ResponseListener responseListener,
        final StreamListener streamListener)
    {
        final PendingCall call;
        if (pooled > 0)
        {
            call = pool[--pooled]; // its slot keeps the reference: a pooled call is reused, never collected
        }
        else
        {
            call = new PendingCall();
        }
        call.correlationId = correlationId;
        call.targetClientId = targetClientId;
        call.timeoutNs = timeoutNs;
        call.deadlineNs = nowNs + timeoutNs;
        call.responseListener = responseListener;
        call.streamListener = streamListener;
        calls.put(correlationId, call);
    }

    PendingCall get(final long correlationId)
    {
        return calls.get(correlationId);
    }

    /**
     * Take a request's call out of the table for its response; a stream's call, or none, stays and is counted late.
     *
     * @param correlationId of the response.
     * @return the request's call, to {@link #release} once its listener was read, or null.
     */
    PendingCall removeRequest(final long correlationId)
    {
        final PendingCall call = calls.get(correlationId);
        if (null == call || null == call.responseListener)
        {
            counters.lateReplies.incrementOrdered();
            return null;
        }
        calls.remove(correlationId);
        return call;
    }

    /**
     * Forget a call without telling its listener (its caller went away).
     *
     * @param call to forget.
     */
    void forget(final PendingCall call)
    {
        calls.remove(call.correlationId);
        release(call);
    }

    /**
     * End a stream's call that completed: taken out of the table and pooled.
     *
     * @param call to end.
     */
    void remove(final PendingCall call)
    {
        calls.remove(call.correlationId);
    }

    int size()
    {
        return calls.size();
    }

    /**
     * Fail every call whose deadline has passed with {@code TIMEOUT}.
     *
     * @param nowNs the duty cycle's time.
     * @return how many timed out.
     */
    int expire(final long nowNs)
    {
        counters.inFlight.setOrdered(calls.size());
        final ArrayList<PendingCall> expired = this.expired;
        expired.clear();
        for (final PendingCall call : calls.values())
        {
            if (nowNs - call.deadlineNs >= 0)
            {
                expired.add(call);
            }
        }
        final int count = expired.size();
        for (int i = 0; i < count; i++)
        {
            counters.timeouts.incrementOrdered();
            complete(expired.get(i), ErrorCodes.TIMEOUT, "no answer within the timeout");
        }
        expired.clear();
        return count;
    }

    /**
     * Fail every call to a peer that went away.
     *
     * @param peerId of the peer.
     */
    void failTarget(final int peerId)
    {
        final ArrayList<PendingCall> expired = this.expired;
        expired.clear();
        for (final PendingCall call : calls.values())
        {
            if (call.targetClientId == peerId)
            {
                expired.add(call);
            }
        }
        for (int i = 0; i < expired.size(); i++)
        {
            complete(expired.get(i), ErrorCodes.SERVICE_UNAVAILABLE, "service peer " + peerId + " went away");
        }
        expired.clear();
    }

    /**
     * Fail every call in flight.
     *
     * @param code of the error.
     * @param message of the error.
     */
    void failAll(final String code, final String message)
    {
        expired.clear();
        expired.addAll(calls.values());
        for (final PendingCall call : expired)
        {
            complete(call, code, message);
        }
        expired.clear();
    }

    /**
     * Take a call out of the table and fail it.
     *
     * @param call to fail.
     * @param code of the error.
     * @param message of the error.
     */
    void complete(final PendingCall call, final String code, final String message)
    {
        calls.remove(call.correlationId);
        final long correlationId = call.correlationId;
        final ResponseListener rl = call.responseListener;
        final StreamListener sl = call.streamListener;
        release(call);
        counters.errors.incrementOrdered();
        fail(correlationId, rl, sl, code, message);
    }

    /**
     * Tell a listener its call failed; what the listener throws goes to the error handler.
     *
     * @param correlationId of the call.
     * @param rl listener of a request, or null.
     * @param sl listener of a stream, or null.
     * @param code of the error.
     * @param message of the error.
     */
    void fail(final long correlationId, final ResponseListener rl, final StreamListener sl,
        final String code, final String message)
    {
        try
        {
            if (null != rl)
            {
                rl.onError(correlationId, code, message);
            }
            else if (null != sl)
            {
                sl.onError(correlationId, code, message);
            }
        }
        catch (final Throwable ex)
        {
            errorHandler.onError(ex);
        }
    }

    void release(final PendingCall call)
    {
        call.reset();
        if (pooled < MAX_POOLED_CALLS)
        {
            if (pooled == pool.length)
            {
                pool = Arrays.copyOf(pool, Math.min(MAX_POOLED_CALLS, 2 * pooled)); // grows with the calls in flight
            }
            pool[pooled++] = call;
        }
    }
}
