package io.switchboard.transport;

import java.util.concurrent.CompletableFuture;

/**
 * A retained publication on its way: the broker is asked to keep it under a reserved sequence of the client's log,
 * and it is written once the broker said yes.
 */
final class RetainedPublish
{
    final long sequence;
    final CompletableFuture<Void> answer;

    RetainedPublish(final long sequence, final CompletableFuture<Void> answer)
    {
        this.sequence = sequence;
        this.answer = answer;
    }
}
