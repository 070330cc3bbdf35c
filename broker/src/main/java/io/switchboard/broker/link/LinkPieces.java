package io.switchboard.broker.link;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

/**
 * Joins the pieces (LinkPiece) of one long link message from one peer. The pieces of a message follow each other on
 * the peer's publication (one sender thread, Aeron keeps the order); a piece that does not continue the message being
 * joined (its sender gave up half way) drops what was joined. Memory is bounded in bytes: a message longer than the
 * broker's maximum message length and an envelope is refused at its first piece, and the room of a long message is
 * given back once it is handed on.
 * <p>
 * Not thread-safe: used by the link conductor's thread only.
 */
final class LinkPieces
{
    private final int maxMessageLength;
    private ExpandableDirectByteBuffer joined;
    private int messageLength = -1;
    private int filled;

    /**
     * @param maxMessageLength of a whole message, envelope included.
     */
    LinkPieces(final int maxMessageLength)
    {
        this.maxMessageLength = maxMessageLength;
    }

    /**
     * Add a piece.
     *
     * @return the length of the whole message once this piece completes it (it is then in {@link #message()} until
     * {@link #reset()}), 0 while more pieces are to come, -1 if the piece was refused (too long a message) or did not
     * continue the message being joined, which is then dropped.
     */
    int onPiece(
        final int wholeLength, final int pieceOffset, final DirectBuffer piece, final int offset, final int length)
    {
        if (0 == pieceOffset)
        {
            reset(); // a message half joined is dropped: its sender gave it up
            if (wholeLength <= 0 || wholeLength > maxMessageLength)
            {
                return -1;
            }
            messageLength = wholeLength;
            joined = new ExpandableDirectByteBuffer(Math.min(wholeLength, 1024 * 1024));
        }
        else if (-1 == messageLength || pieceOffset != filled || wholeLength != messageLength)
        {
            reset();
            return -1;
        }
        if (length <= 0 || filled + length > messageLength)
        {
            reset();
            return -1;
        }
        joined.putBytes(filled, piece, offset, length);
        filled += length;
        return filled == messageLength ? messageLength : 0;
    }

    /**
     * The joined message, valid until the next piece.
     *
     * @return the buffer it begins at offset 0 of.
     */
    DirectBuffer message()
    {
        return joined;
    }

    /** Forget the message being joined and give back its room. */
    void reset()
    {
        messageLength = -1;
        filled = 0;
        joined = null;
    }
}
