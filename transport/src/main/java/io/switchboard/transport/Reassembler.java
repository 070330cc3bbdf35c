package io.switchboard.transport;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.switchboard.codec.wire.FragmentDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;

/**
 * Joins the {@link FragmentDecoder Fragment}s of messages longer than one message of their log, and hands each whole
 * message to the adapter that reads that log, as if it had come in one piece.
 * <p>
 * A writer sends a message's fragments in order and back to back on its own log (one Aeron image on the reader's
 * side), so a reader joins at most one message per image: keyed by the log (stream) and the image's session id. What
 * it holds is bounded in bytes, every image together ({@link ClientContext#maxReassemblyBytes()}): a message that
 * would pass the bound is dropped, its fragments skipped, and reported. A message left unfinished is let go when the
 * next message of its image begins, when its image goes (its writer closed or died), or when no fragment came for
 * it within the expiry (its writer gave up). One spare buffer, the last one used, is kept so that a stream of large
 * messages does not allocate each time; it is at most one message of the maximum length.
 * <p>
 * Messages that fit one message of the log never come here: they pay nothing for it. Not thread-safe: call with the
 * client lock held.
 */
final class Reassembler
{
    /** Bytes before a fragment's piece of the message: the SBE header and the Fragment block. */
    static final int HEADER_LENGTH = MessageHeaderDecoder.ENCODED_LENGTH + FragmentDecoder.BLOCK_LENGTH;
    /** Names the inbox in {@link #key(int, int)}. */
    static final int INBOX = 1;
    /** Names the pub/sub log in {@link #key(int, int)}. */
    static final int PUB_SUB = 2;
    /** Room for a message's envelope (names, ids, error texts) over its payload. */
    static final int ENVELOPE_ALLOWANCE = 64 * 1024;

    private final long maxBytes;
    private final int maxMessageLength;
    private final long expiryNs;
    private final ClientCounters counters;
    private final ErrorHandler errorHandler;
    private final Long2ObjectHashMap<Partial> partials = new Long2ObjectHashMap<>();
    private final ArrayList<Partial> expired = new ArrayList<>();
    private long heldBytes;
    private UnsafeBuffer spare;

    /**
     * @param maxBytes bound on the bytes held for unfinished messages, every image together.
     * @param maxMessageLength longest payload taken; a message may be longer by its envelope.
     * @param expiryNs after which an unfinished message with no new fragment is let go.
     * @param counters where malformed fragments, and messages dropped or expired unfinished, are counted.
     * @param errorHandler told of each message dropped.
     */
    Reassembler(
        final long maxBytes,
        final int maxMessageLength,
        final long expiryNs,
        final ClientCounters counters,
        final ErrorHandler errorHandler)
    {
        this.maxBytes = maxBytes;
        this.maxMessageLength = maxMessageLength;
        this.expiryNs = expiryNs;
        this.counters = counters;
        this.errorHandler = errorHandler;
    }

    /**
     * The key of an image of a log.
     *
     * @param log a small number naming the log (the inbox, the pub/sub log).
     * @param sessionId of the image.
     * @return the key.
     */
    static long key(final int log, final int sessionId)
    {
        return ((long)log << 32) | (sessionId & 0xFFFF_FFFFL);
    }

    /**
     * A Fragment read from a log: kept, and once its message is whole, handed on.
     *
     * @param log naming the log it was read from, as in {@link #key(int, int)}.
     * @param buffer holding the fragment (its SBE header at offset).
     * @param offset at which the fragment begins.
     * @param length of the fragment.
     * @param header of the Aeron frame, handed on with the whole message.
     * @param target the adapter of the log, which reads the whole message.
     * @param nowNs the duty cycle's time.
     */
    void onFragment(
        final int log,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final Header header,
        final FragmentHandler target,
        final long nowNs)
    {
        if (length < HEADER_LENGTH)
        {
            counters.malformed.incrementOrdered();
            return;
        }
        final int body = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int messageLength = buffer.getInt(body + FragmentDecoder.messageLengthEncodingOffset(),
            java.nio.ByteOrder.LITTLE_ENDIAN);
        final int fragmentOffset = buffer.getInt(body + FragmentDecoder.fragmentOffsetEncodingOffset(),
            java.nio.ByteOrder.LITTLE_ENDIAN);
        final int pieceLength = length - HEADER_LENGTH;
        final long key = key(log, header.sessionId());

        Partial partial = partials.get(key);
        if (0 == fragmentOffset)
        {
            if (null != partial)
            {
                drop(key, partial); // its writer gave it up and began another
            }
            if (messageLength <= 0 || messageLength > maxMessageLength + ENVELOPE_ALLOWANCE)
            {
                counters.malformed.incrementOrdered();
                errorHandler.onError(new SwitchboardException(ErrorCodes.PAYLOAD_TOO_LARGE,
                    "dropped a message of " + messageLength + " bytes from session " + header.sessionId() +
                    ": expected at most maxMessageLength=" + maxMessageLength + " and its envelope"));
                return;
            }
            if (heldBytes + messageLength > maxBytes)
            {
                counters.partialsDropped.incrementOrdered();
                errorHandler.onError(new SwitchboardException(ErrorCodes.TARGET_BUSY,
                    "dropped a message of " + messageLength + " bytes from session " + header.sessionId() +
                    ": messages being joined would hold more than maxReassemblyBytes=" + maxBytes + ", held=" +
                    heldBytes));
                return;
            }
            partial = new Partial(take(messageLength), messageLength);
            partials.put(key, partial);
            heldBytes += messageLength;
        }
        else if (null == partial)
        {
            return; // the rest of a message dropped, or begun before this reader came
        }
        if (fragmentOffset != partial.filled || messageLength != partial.length ||
            pieceLength > partial.length - partial.filled)
        {
            counters.malformed.incrementOrdered();
            drop(key, partial);
            return;
        }

        partial.buffer.putBytes(partial.filled, buffer, offset + HEADER_LENGTH, pieceLength);
        partial.filled += pieceLength;
        partial.lastNs = nowNs;
        if (partial.filled == partial.length)
        {
            partials.remove(key);
            heldBytes -= partial.length;
            try
            {
                target.onFragment(partial.buffer, 0, partial.length, header);
            }
            finally
            {
                spare = partial.buffer; // for the next large message
            }
        }
    }

    /**
     * Let go of the unfinished messages no fragment came for within the expiry.
     *
     * @param nowNs the duty cycle's time.
     * @return how many were let go.
     */
    int expire(final long nowNs)
    {
        if (partials.isEmpty())
        {
            return 0;
        }
        for (final Partial partial : partials.values())
        {
            if (nowNs - partial.lastNs - expiryNs > 0)
            {
                expired.add(partial);
            }
        }
        final int count = expired.size();
        for (int i = 0; i < count; i++)
        {
            final Partial partial = expired.get(i);
            partials.values().remove(partial);
            heldBytes -= partial.length;
            counters.partialsExpired.incrementOrdered();
        }
        expired.clear();
        return count;
    }

    /**
     * An image went away (its writer closed or died): let go of the message it was writing, if any, at once rather
     * than at the expiry.
     *
     * @param key of the image, as made by {@link #key(int, int)}.
     * @return 1 if a message was let go, else 0.
     */
    int onImageGone(final long key)
    {
        final Partial partial = partials.get(key);
        if (null == partial)
        {
            return 0;
        }
        drop(key, partial);
        return 1;
    }

    /**
     * Let go of everything (the session ended).
     */
    void clear()
    {
        for (int i = partials.size(); i > 0; i--)
        {
            counters.partialsDropped.incrementOrdered();
        }
        partials.clear();
        heldBytes = 0;
    }

    /**
     * Bytes held for unfinished messages.
     *
     * @return the bytes.
     */
    long heldBytes()
    {
        return heldBytes;
    }

    private void drop(final long key, final Partial partial)
    {
        partials.remove(key);
        heldBytes -= partial.length;
        counters.partialsDropped.incrementOrdered();
    }

    private UnsafeBuffer take(final int length)
    {
        final UnsafeBuffer spare = this.spare;
        if (null != spare && spare.capacity() >= length)
        {
            this.spare = null;
            return spare;
        }
        this.spare = null; // too small: let it go rather than hold two
        return new UnsafeBuffer(new byte[length]);
    }

    private static final class Partial
    {
        final UnsafeBuffer buffer;
        final int length;
        int filled;
        long lastNs;

        Partial(final UnsafeBuffer buffer, final int length)
        {
            this.buffer = buffer;
            this.length = length;
        }
    }
}
