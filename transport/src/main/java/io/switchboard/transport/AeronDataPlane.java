package io.switchboard.transport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.UnavailableImageHandler;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;

/**
 * The data plane of a session on a real Aeron client attached to the broker's media driver.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class AeronDataPlane implements DataPlane
{
    private final Aeron aeron;
    private final AgentInvoker invoker;

    private AeronDataPlane(final Aeron aeron)
    {
        this.aeron = aeron;
        this.invoker = aeron.conductorAgentInvoker();
    }

    /**
     * Attach to a media driver.
     *
     * @param ctx of the client.
     * @param aeronDirectory of the media driver.
     * @return the data plane.
     */
    static DataPlane connect(final Switchboard.Context ctx, final String aeronDirectory)
    {
        return new AeronDataPlane(Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(aeronDirectory)
            .useConductorAgentInvoker(ctx.useConductorAgentInvoker())
            .driverAgentInvoker(ctx.driverAgentInvoker()) // Aeron's synchronous calls run the driver while they wait
            .errorHandler(ctx.errorHandler())
            .clientName("switchboard-" + ctx.clientName())));
    }

    public Log addLog(final String channel, final int streamId)
    {
        return new PublicationLog(aeron.addExclusivePublication(channel, streamId));
    }

    public ExclusivePublication addPublisherLog(final String channel, final int streamId)
    {
        return aeron.addExclusivePublication(channel, streamId);
    }

    public Reader addReader(final String channel, final int streamId, final UnavailableImageHandler onImageLost)
    {
        final Subscription subscription = null == onImageLost ?
            aeron.addSubscription(channel, streamId) : aeron.addSubscription(channel, streamId, null, onImageLost);
        return subscription::poll;
    }

    public int invoke()
    {
        return null == invoker ? 0 : invoker.invoke();
    }

    public boolean isClosed()
    {
        return aeron.isClosed();
    }

    public void lingerOnClose(final long lingerNs)
    {
        aeron.context().closeLingerDurationNs(lingerNs);
    }

    public void close()
    {
        CloseHelper.quietClose(aeron);
    }

    private static final class PublicationLog implements Log
    {
        private final ExclusivePublication publication;

        PublicationLog(final ExclusivePublication publication)
        {
            this.publication = publication;
        }

        public long offer(final DirectBuffer buffer, final int offset, final int length)
        {
            return publication.offer(buffer, offset, length);
        }

        public long offer(
            final DirectBuffer bufferOne, final int offsetOne, final int lengthOne,
            final DirectBuffer bufferTwo, final int offsetTwo, final int lengthTwo)
        {
            return publication.offer(bufferOne, offsetOne, lengthOne, bufferTwo, offsetTwo, lengthTwo, null);
        }

        public int sessionId()
        {
            return publication.sessionId();
        }

        public int maxMessageLength()
        {
            return publication.maxMessageLength();
        }

        public void close()
        {
            CloseHelper.quietClose(publication);
        }
    }
}
