package io.switchboard.transport;

import io.aeron.Publication;
import io.switchboard.codec.subject.SubjectPattern;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.PublicationEncoder;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.concurrent.NanoClock;

import java.util.ArrayList;

/**
 * Encodes this peer's publications onto its pub/sub log (opened on first use: a peer that never publishes keeps no
 * log), numbered in sequence so subscribers can count what they lost; keeps the {@link SubjectPublisher}s, which
 * write logs of their own.
 * <p>
 * Not thread-safe: call with the client lock held.
 */
final class PublicationProxy
{
    private final Switchboard.Context ctx;
    private final NanoClock clock;
    private final LogFactory logs;
    private final ClientCounters counters;
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final PublicationEncoder publicationEncoder = new PublicationEncoder();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(64 * 1024);
    private final FragmentHeader fragmentHeader = new FragmentHeader();
    private Runnable ownReader;
    private final EncodedName publishedSubject = new EncodedName();
    private final EncodedName publishedMessageType = new EncodedName();
    private final ArrayList<SubjectPublisher> publishers = new ArrayList<>();
    private DataPlane dataPlane;
    private DataPlane.Log log;
    private String channel;
    private int clientId;
    private int pubSubStreamId;
    private long createdNs;
    private boolean settled;
    private long publishSequence;

    PublicationProxy(
        final Switchboard.Context ctx, final NanoClock clock, final LogFactory logs, final ClientCounters counters)
    {
        this.ctx = ctx;
        this.clock = clock;
        this.logs = logs;
        this.counters = counters;
    }

    /**
     * How this peer reads the pub/sub log itself, run while a long publication waits for its readers: the peer may be
     * one of them, and it holds the lock its own duty cycle needs.
     *
     * @param ownReader polls this peer's subscriptions once.
     */
    void ownReader(final Runnable ownReader)
    {
        this.ownReader = ownReader;
    }

    void onSession(final DataPlane dataPlane, final int clientId, final int pubSubStreamId, final int termLength)
    {
        this.dataPlane = dataPlane;
        this.clientId = clientId;
        this.pubSubStreamId = pubSubStreamId;
        this.channel = Configuration.pubSubPublicationChannel(termLength);
    }

    /**
     * The session ended: its log closes with its Aeron client; the next publish opens one in the new session.
     */
    void onSessionClosed()
    {
        dataPlane = null;
        log = null;
        settled = false;
    }

    /**
     * Publish on a subject from the client's own log.
     *
     * @param subject of the publication.
     * @param messageType of the payload.
     * @param templateId of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return the sequence if published, or a negative {@link Publication} result.
     */
    long publish(
        final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        checkPayloadLength(subject, length);
        if (!openLog(subject))
        {
            return Publication.CLOSED;
        }
        return offer(publishSequence + 1, subject, messageType, templateId, buffer, offset, length);
    }

    /**
     * Count publications this client was to publish but could not (lost before they reached it) as a gap in its
     * log's sequence, which its subscribers see as {@link Push#lostBefore()} on its next publication.
     *
     * @param count of publications lost, at least 1.
     */
    void skip(final long count)
    {
        publishSequence += count;
    }

    /**
     * Check the subject and open this client's log if it has none in this session.
     *
     * @param subject to publish on.
     * @return false if there is no session (nothing can be published).
     * @throws SwitchboardException with {@code SERVICE_UNAVAILABLE} if the media driver refused the log.
     */
    boolean openLog(final String subject)
    {
        if (!publishedSubject.isLast(subject)) // checked and encoded once for a subject published again
        {
            checkSubject(subject);
        }
        if (null == dataPlane)
        {
            counters.publishFailures.increment();
            return false;
        }
        if (null == log)
        {
            final DataPlane.Log log = logs.newLog(channel, pubSubStreamId);
            if (null == log)
            {
                counters.publishFailures.increment();
                throw new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                    "could not publish on '" + subject + "': " + logs.refusal());
            }
            this.log = log;
            createdNs = clock.nanoTime();
            settled = false;
        }
        return true;
    }

    /**
     * Take the next sequence of this client's log for a retained publication, written once the broker keeps it;
     * publications in between take the ones after. Call after {@link #openLog(String)} succeeded.
     *
     * @return the sequence.
     */
    long reserveSequence()
    {
        return ++publishSequence;
    }

    /**
     * Give back a reserved sequence the broker refused, if nothing was published after it (else it stays a gap).
     *
     * @param sequence reserved.
     */
    void releaseSequence(final long sequence)
    {
        if (publishSequence == sequence)
        {
            publishSequence--;
        }
    }

    /**
     * The session id of this client's log, to name it to the broker.
     *
     * @return the session id, or 0 with no log.
     */
    int logSessionId()
    {
        return null == log ? 0 : log.sessionId();
    }

    int clientId()
    {
        return clientId;
    }

    /**
     * Refuse a retained publication longer than the maximum, before anything is sent.
     *
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} naming both lengths.
     */
    void checkLength(final String subject, final String messageType, final int length)
    {
        checkPayloadLength(subject, length);
    }

    /**
     * Ask the broker to keep a publication as its subject's retained value, under the next sequence of this
     * client's log, reserved for it (the publication is written once the broker said yes).
     *
     * @param controlProxy through which the broker is asked.
     * @param subject of the publication.
     * @param messageType of the payload.
     * @param templateId of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload, 0 to clear.
     * @return the reserved sequence and the broker's answer to come.
     * @throws SwitchboardException with {@code SERVICE_UNAVAILABLE} with no log, or {@code PAYLOAD_TOO_LARGE} if it
     * fits neither one message of the log nor one control message: nothing is sent.
     */
    RetainedPublish retain(
        final ControlProxy controlProxy, final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        if (!openLog(subject))
        {
            throw new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                "could not publish retained on '" + subject + "': lost the broker");
        }
        checkLength(subject, messageType, length);
        final long sequence = reserveSequence();
        try
        {
            return new RetainedPublish(sequence, controlProxy.retain(clientId, logSessionId(), sequence,
                ctx.epochClock().time(), templateId, subject, messageType, buffer, offset, length));
        }
        catch (final RuntimeException ex)
        {
            releaseSequence(sequence);
            throw ex;
        }
    }

    /**
     * Write a publication with a sequence reserved for it.
     *
     * @param sequence reserved by {@link #reserveSequence()}.
     * @param subject of the publication.
     * @param messageType of the payload.
     * @param templateId of the payload, or -1 for opaque JSON.
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return the sequence if published, or a negative {@link Publication} result.
     */
    long publishReserved(
        final long sequence, final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        if (!openLog(subject))
        {
            return Publication.CLOSED;
        }
        return offer(sequence, subject, messageType, templateId, buffer, offset, length);
    }

    private long offer(
        final long sequence, final String subject, final String messageType, final int templateId,
        final DirectBuffer buffer, final int offset, final int length)
    {
        publicationEncoder.wrapAndApplyHeader(sendBuffer, 0, headerEncoder)
            .publisherId(clientId)
            .sequence(sequence)
            .timestampMs(ctx.epochClock().time())
            .templateId(templateId)
            .putSubject(publishedSubject.of(subject), 0, subject.length())
            .putMessageType(publishedMessageType.of(messageType), 0, messageType.length())
            .putPayload(buffer, offset, length);
        final int messageLength = MessageHeaderEncoder.ENCODED_LENGTH + publicationEncoder.encodedLength();
        if (messageLength > log.maxMessageLength())
        {
            return offerInPieces(sequence, messageLength);
        }

        // a new publication reports back-pressure, or no subscribers, until the driver has linked its subscribers:
        // give it the send timeout (created lazily: a peer that never publishes keeps no log in /dev/shm)
        final boolean settling = !settled &&
            !(settled = clock.nanoTime() - createdNs >= ctx.sendTimeoutNs());
        final long settleDeadlineNs = createdNs + ctx.sendTimeoutNs();
        long result = 0;
        for (int attempt = 0; attempt < ctx.offerAttempts() || (settling && clock.nanoTime() - settleDeadlineNs < 0);
            attempt++)
        {
            result = log.offer(sendBuffer, 0, messageLength);
            if (result > 0 || (Publication.NOT_CONNECTED == result && !settling))
            {
                break; // nobody subscribed: nothing to deliver, nothing lost
            }
            if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                break;
            }
            dataPlane.invoke();
            ctx.invokeDriver(); // a back-pressured or unlinked log moves only when the driver runs
            Thread.yield();
        }

        if (result > 0 || Publication.NOT_CONNECTED == result)
        {
            publishSequence = Math.max(publishSequence, sequence);
            counters.published.increment();
            return sequence;
        }
        counters.publishFailures.increment();
        return result;
    }

    /**
     * A publication longer than one message of the log, in pieces back to back: each retried while back-pressured
     * or not yet linked, within the back-pressure timeout (or the send timeout while the log settles); a piece that
     * still fails fails the publication, and its subscribers let the unfinished message go.
     */
    private long offerInPieces(final long sequence, final int messageLength)
    {
        final int pieceLength = FragmentHeader.pieceLength(log.maxMessageLength());
        long result = Publication.CLOSED;
        for (int position = 0; position < messageLength; position += pieceLength)
        {
            fragmentHeader.encode(messageLength, position);
            final int n = Math.min(pieceLength, messageLength - position);
            final long startNs = clock.nanoTime();
            final boolean settling = !settled && !(settled = startNs - createdNs >= ctx.sendTimeoutNs());
            // the first piece is refused as a short publication would be; the pieces after it wait for the readers
            // within the piece timeout, since a long publication cannot all fit the log's window at once
            final long deadlineNs = settling ? createdNs + ctx.sendTimeoutNs() :
                startNs + (0 == position ? ctx.backPressureTimeoutNs() : ctx.pieceTimeoutNs());
            while (true)
            {
                result = log.offer(fragmentHeader.buffer, 0, Reassembler.HEADER_LENGTH, sendBuffer, position, n);
                if (result > 0 || (Publication.NOT_CONNECTED == result && !settling) ||
                    Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result ||
                    clock.nanoTime() - deadlineNs >= 0)
                {
                    break;
                }
                dataPlane.invoke();
                ctx.invokeDriver();
                if (null != ownReader)
                {
                    ownReader.run(); // this peer may be one of the readers holding the log back
                }
                Thread.yield();
            }
            if (result < 0 && Publication.NOT_CONNECTED != result)
            {
                break;
            }
        }
        if (result > 0 || Publication.NOT_CONNECTED == result)
        {
            publishSequence = Math.max(publishSequence, sequence);
            counters.published.increment();
            return sequence;
        }
        counters.publishFailures.increment();
        return result;
    }

    /**
     * Refuse a payload longer than the maximum, before anything is sent.
     *
     * @param subject of the publication.
     * @param length of the payload.
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} naming both lengths.
     */
    void checkPayloadLength(final String subject, final int length)
    {
        if (length > ctx.maxMessageLength())
        {
            counters.publishFailures.increment();
            throw new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, "a publication on '" + subject +
                "' of " + length + " bytes: expected at most maxMessageLength=" + ctx.maxMessageLength());
        }
    }

    static void checkSubject(final String subject)
    {
        if (!SubjectPattern.isValidSubject(subject))
        {
            throw new IllegalArgumentException("invalid subject '" + subject + "': " +
                SubjectPattern.validateSubject(subject));
        }
    }

    /**
     * Open a publisher's own log in this session and hand it over with the session's client id and generation.
     *
     * @param publisher to open a log for.
     * @param generation of the session.
     * @throws SwitchboardException with {@code SERVICE_UNAVAILABLE} if the media driver refused the log.
     */
    void openPublisherLog(final SubjectPublisher publisher, final int generation)
    {
        final io.aeron.ExclusivePublication log = logs.newPublisherLog(channel, pubSubStreamId);
        if (null == log)
        {
            counters.publishFailures.increment();
            throw new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                "could not open a log for publishing on '" + publisher.subject() + "': " + logs.refusal());
        }
        publisher.onOpened(log, clientId, generation);
    }

    void addPublisher(final SubjectPublisher publisher)
    {
        publishers.add(publisher);
    }

    /**
     * Take a publisher out, closing its log unless the session's Aeron client closes it.
     *
     * @param publisher to take out.
     * @param closeLog whether to close its log here.
     */
    void removePublisher(final SubjectPublisher publisher, final boolean closeLog)
    {
        if (publishers.remove(publisher))
        {
            final io.aeron.ExclusivePublication log = publisher.onClosed();
            if (closeLog && null != log)
            {
                CloseHelper.quietClose(log); // Aeron lingers the log before unmapping it
            }
        }
    }

    boolean hasPublishers()
    {
        return !publishers.isEmpty();
    }

    /**
     * The client closes: every publisher is told; their logs close with the Aeron client.
     */
    void closePublishers()
    {
        for (final SubjectPublisher publisher : publishers)
        {
            publisher.onClosed();
        }
        publishers.clear();
    }
}
