package io.switchboard.transport;

import org.agrona.DirectBuffer;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A retained publish from an API thread: ask the broker to keep it (the client lock held), wait for the answer (the
 * lock released, the duty cycle reading it), then write the publication with its reserved sequence.
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
}
