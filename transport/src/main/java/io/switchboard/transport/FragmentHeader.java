package io.switchboard.transport;

import io.switchboard.codec.wire.FragmentEncoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The header a writer puts before each piece of a message longer than one message of its log: the SBE header and
 * the {@link FragmentEncoder Fragment} block, offered together with the piece (Aeron's two-buffer offer: the piece is
 * not copied). Read back by the {@link Reassembler}.
 * <p>
 * Not thread-safe: one per writer.
 */
final class FragmentHeader
{
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final FragmentEncoder encoder = new FragmentEncoder();
    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[Reassembler.HEADER_LENGTH]);

    /**
     * The longest piece of a message one offer takes.
     *
     * @param maxMessageLength of the log.
     * @return the length in bytes.
     */
    static int pieceLength(final int maxMessageLength)
    {
        return maxMessageLength - Reassembler.HEADER_LENGTH;
    }

    /**
     * Write the header of a piece into {@link #buffer}.
     *
     * @param messageLength of the whole message.
     * @param fragmentOffset of the piece in the whole message.
     * @return the header's length.
     */
    int encode(final int messageLength, final int fragmentOffset)
    {
        encoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .messageLength(messageLength)
            .fragmentOffset(fragmentOffset);
        return Reassembler.HEADER_LENGTH;
    }
}
