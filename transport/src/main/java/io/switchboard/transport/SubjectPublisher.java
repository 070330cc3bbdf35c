package io.switchboard.transport;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.PublicationEncoder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * A publisher bound to one subject and message type, for a thread that publishes often: the subject is checked and
 * encoded once, and {@link #offer} writes into the publisher's own log without taking the client's lock, as an
 * {@link ExclusivePublication} does. Subscribers see its publications exactly as those of
 * {@link Switchboard#publish}; the sequence numbers are this publisher's own, counted from 1.
 * <p>
 * <b>Not thread-safe:</b> offer from one thread at a time. Obtain one from {@link Switchboard#publisher}; closing the
 * client closes it.
 */
public final class SubjectPublisher implements AutoCloseable
{
    private static final int SEQUENCE_OFFSET =
        MessageHeaderEncoder.ENCODED_LENGTH + PublicationEncoder.sequenceEncodingOffset();
    private static final int TIMESTAMP_OFFSET =
        MessageHeaderEncoder.ENCODED_LENGTH + PublicationEncoder.timestampMsEncodingOffset();
    private static final int PUBLISHER_ID_OFFSET =
        MessageHeaderEncoder.ENCODED_LENGTH + PublicationEncoder.publisherIdEncodingOffset();

    private final ClientConductor conductor;
    private final String subject;
    private final String messageType;
    private final EpochClock epochClock;
    private final NanoClock nanoClock = SystemNanoClock.INSTANCE;
    private final long settleTimeoutNs;
    private final UnsafeBuffer prefix;
    private final int prefixLength;
    private final int payloadLengthOffset;
    private final int maxMessageLength;
    private FragmentHeader fragmentHeader;
    private org.agrona.ExpandableDirectByteBuffer wholeMessage;

    private ExclusivePublication publication;
    private int generation;
    private long sequence;
    private long createdNs;
    private boolean settled;
    private volatile boolean closed;

    SubjectPublisher(
        final ClientConductor conductor,
        final String subject,
        final String messageType,
        final int templateId,
        final EpochClock epochClock,
        final long settleTimeoutNs,
        final int maxMessageLength)
    {
        this.conductor = conductor;
        this.maxMessageLength = maxMessageLength;
        this.subject = subject;
        this.messageType = messageType;
        this.epochClock = epochClock;
        this.settleTimeoutNs = settleTimeoutNs;

        // the whole message up to the payload, encoded once; offer patches sequence, time and payload length
        final int capacity = MessageHeaderEncoder.ENCODED_LENGTH + PublicationEncoder.BLOCK_LENGTH +
            PublicationEncoder.subjectHeaderLength() + subject.length() +
            PublicationEncoder.messageTypeHeaderLength() + messageType.length() +
            PublicationEncoder.payloadHeaderLength();
        prefix = new UnsafeBuffer(new byte[capacity]);
        final PublicationEncoder encoder = new PublicationEncoder()
            .wrapAndApplyHeader(prefix, 0, new MessageHeaderEncoder())
            .templateId(templateId)
            .subject(subject)
            .messageType(messageType)
            .putPayload(prefix, 0, 0);
        prefixLength = MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();
        payloadLengthOffset = prefixLength - PublicationEncoder.payloadHeaderLength();
    }

    /**
     * Publish one message.
     * <p>
     * Like an Aeron publication, a new publisher reports {@link Publication#NOT_CONNECTED} until the media driver has
     * linked the subscribers that exist (retry, as for back-pressure); once the client's send timeout has passed
     * since it was opened, a publication that no subscriber reads counts as published to nobody.
     *
     * @param buffer holding the payload.
     * @param offset at which the payload begins.
     * @param length of the payload.
     * @return the sequence number (from 1) if published, else a negative {@link Publication} result such as
     * {@link Publication#BACK_PRESSURED} or {@link Publication#CLOSED} (the client is closed or has lost the broker).
     * @throws SwitchboardException with {@code PAYLOAD_TOO_LARGE} if the payload is longer than the client's
     * {@link ClientContext#maxMessageLength()}: nothing is published. With {@code SERVICE_UNAVAILABLE} if the
     * publisher's log had to be opened (its first offer, or the first after a reconnection) and the media driver could not create it, most likely for want of
     * space in its directory (the message says so and names it); nothing was published, and a later offer asks
     * again.
     */
    public long offer(final DirectBuffer buffer, final int offset, final int length)
    {
        if (closed)
        {
            return Publication.CLOSED;
        }
        if (length > maxMessageLength)
        {
            throw new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE, "a publication on '" + subject +
                "' of " + length + " bytes: expected at most maxMessageLength=" + maxMessageLength);
        }
        ExclusivePublication publication = this.publication; // read once: the client's close may clear the field
        if (null == publication || generation != conductor.sessionGeneration())
        {
            // a log in the current session, handed over through onOpened
            if (!conductor.openPublisherLog(this) || null == (publication = this.publication))
            {
                return Publication.CLOSED;
            }
        }

        final long next = sequence + 1;
        final UnsafeBuffer prefix = this.prefix;
        prefix.putLong(SEQUENCE_OFFSET, next, ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(TIMESTAMP_OFFSET, epochClock.time(), ByteOrder.LITTLE_ENDIAN);
        prefix.putInt(payloadLengthOffset, length, ByteOrder.LITTLE_ENDIAN);
        final long result = prefixLength + length <= publication.maxMessageLength() ?
            publication.offer(prefix, 0, prefixLength, buffer, offset, length) :
            offerInPieces(publication, buffer, offset, length);
        if (result > 0 || (Publication.NOT_CONNECTED == result && isSettled()))
        {
            sequence = next;
            return next;
        }
        if (Publication.CLOSED == result)
        {
            this.publication = null; // the session ended: the next offer opens a log in the new one
        }
        return result;
    }

    /**
     * A message longer than one message of the log: joined into one buffer (one copy, for large messages only), then
     * offered in pieces back to back, each retried while back-pressured within the piece timeout (the send timeout,
     * at least a second); a piece that still
     * fails fails the whole (its subscribers let the unfinished message go).
     */
    private long offerInPieces(
        final ExclusivePublication publication, final DirectBuffer buffer, final int offset, final int length)
    {
        if (null == fragmentHeader)
        {
            fragmentHeader = new FragmentHeader();
            wholeMessage = new org.agrona.ExpandableDirectByteBuffer(prefixLength + length);
        }
        final int messageLength = prefixLength + length;
        wholeMessage.putBytes(0, prefix, 0, prefixLength);
        wholeMessage.putBytes(prefixLength, buffer, offset, length);
        final int pieceLength = FragmentHeader.pieceLength(publication.maxMessageLength());
        long result = Publication.CLOSED;
        for (int position = 0; position < messageLength; position += pieceLength)
        {
            fragmentHeader.encode(messageLength, position);
            final int n = Math.min(pieceLength, messageLength - position);
            final long deadlineNs = System.nanoTime() + Math.max(TimeUnit.SECONDS.toNanos(1), settleTimeoutNs);
            do
            {
                result = publication.offer(
                    fragmentHeader.buffer, 0, Reassembler.HEADER_LENGTH, wholeMessage, position, n, null);
            }
            while ((Publication.BACK_PRESSURED == result || Publication.ADMIN_ACTION == result) &&
                System.nanoTime() - deadlineNs < 0 && readOwnAndYield());
            if (result < 0)
            {
                break;
            }
        }
        return result;
    }

    private boolean readOwnAndYield()
    {
        conductor.pollOwnSubscriptionsWhileWaiting(); // this peer may be one of the readers holding the log back
        Thread.yield();
        return true;
    }

    /**
     * The subject this publisher writes.
     *
     * @return the subject.
     */
    public String subject()
    {
        return subject;
    }

    /**
     * The message type this publisher writes.
     *
     * @return the message type name.
     */
    public String messageType()
    {
        return messageType;
    }

    /**
     * Publications written so far, which is also the last sequence number.
     *
     * @return the count.
     */
    public long published()
    {
        return sequence;
    }

    /**
     * Whether this publisher is closed.
     *
     * @return true once closed, by itself or by its client.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Close the publisher's log; later offers return {@link Publication#CLOSED}.
     */
    public void close()
    {
        if (!closed)
        {
            conductor.closePublisher(this);
        }
    }

    ExclusivePublication onClosed()
    {
        closed = true;
        final ExclusivePublication publication = this.publication;
        this.publication = null;
        return publication;
    }

    private boolean isSettled()
    {
        if (!settled && nanoClock.nanoTime() - createdNs >= settleTimeoutNs)
        {
            settled = true;
        }
        return settled;
    }

    void onOpened(final ExclusivePublication publication, final int clientId, final int generation)
    {
        prefix.putInt(PUBLISHER_ID_OFFSET, clientId, ByteOrder.LITTLE_ENDIAN);
        this.publication = publication;
        this.generation = generation;
        createdNs = nanoClock.nanoTime();
        settled = false;
    }
}
