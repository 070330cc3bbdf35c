package io.switchboard.transport;

import org.agrona.DirectBuffer;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A retained publish: ask the broker to keep it (the client lock held), have the answer (waited for by an API
 * thread, the lock released and the duty cycle reading it; or, asynchronously, in the duty cycle that reads it), then
 * write the publication with its reserved sequence.
 */
final class RetainedPublisher
{
    private RetainedPublisher()
    {
    }

    static long publish(
        final ReentrantLock lock,
        final ConductorRunner runner,
        final ClientConductor conductor,
        final String subject,
        final String messageType,
        final int templateId,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        final RetainedPublish retained;
        lock.lock();
        try
        {
            retained = conductor.retain(subject, messageType, templateId, buffer, offset, length);
        }
        finally
        {
            lock.unlock();
        }
        try
        {
            runner.await(retained.answer, "retain on '" + subject + "'");
        }
        catch (final SwitchboardException ex)
        {
            if (!ErrorCodes.TIMEOUT.equals(ex.errorCode())) // unanswered, the broker may hold it by that sequence
            {
                lock.lock();
                try
                {
                    conductor.publications().releaseSequence(retained.sequence);
                }
                finally
                {
                    lock.unlock();
                }
            }
            throw ex;
        }
        lock.lock();
        try
        {
            return conductor.publications().publishReserved(
                retained.sequence, subject, messageType, templateId, buffer, offset, length);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Ask the broker, the client lock held by the caller; the publication is written, with the lock, in the duty
     * cycle that reads the answer.
     *
     * @param payload a copy of the payload, all of it, which nobody else writes.
     */
    static CompletableFuture<Long> publishAsync(
        final ReentrantLock lock,
        final ClientConductor conductor,
        final String subject,
        final String messageType,
        final int templateId,
        final DirectBuffer payload)
    {
        final RetainedPublish retained;
        try
        {
            retained = conductor.retain(subject, messageType, templateId, payload, 0, payload.capacity());
        }
        catch (final SwitchboardException ex)
        {
            return CompletableFuture.failedFuture(ex);
        }
        return retained.answer.handle((ignored, failure) ->
        {
            lock.lock();
            try
            {
                if (null != failure)
                {
                    final Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                    if (!(cause instanceof SwitchboardException &&
                        ErrorCodes.TIMEOUT.equals(((SwitchboardException)cause).errorCode())))
                    {
                        conductor.publications().releaseSequence(retained.sequence);
                    }
                    throw cause instanceof RuntimeException ? (RuntimeException)cause : new CompletionException(cause);
                }
                return conductor.publications().publishReserved(
                    retained.sequence, subject, messageType, templateId, payload, 0, payload.capacity());
            }
            finally
            {
                lock.unlock();
            }
        });
    }
}
