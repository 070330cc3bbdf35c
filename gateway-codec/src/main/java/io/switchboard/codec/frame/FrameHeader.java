package io.switchboard.codec.frame;

/**
 * Layout and limits of the frame header (PROTOCOL.md, "Frame").
 */
public final class FrameHeader
{
    /** Protocol version written by this codec. */
    public static final int VERSION_2 = 2;
    /** Older protocol version accepted on input: no format byte, JSON implied. */
    public static final int VERSION_1 = 1;
    /** Header length of version 2: length, version, type, format. */
    public static final int LENGTH_V2 = 7;
    /** Header length of version 1: length, version, type. */
    public static final int LENGTH_V1 = 6;
    /** Offset of the version byte. */
    public static final int VERSION_OFFSET = 4;
    /** Offset of the type byte. */
    public static final int TYPE_OFFSET = 5;
    /** Offset of the format byte (version 2 only). */
    public static final int FORMAT_OFFSET = 6;
    /**
     * Room in a frame for the envelope (correlation id, names, flags) around a message's payload: a frame may be this
     * much longer than the longest message the broker takes.
     */
    public static final int ENVELOPE_ALLOWANCE = 64 << 10;
    /**
     * Default maximum payload length of a frame: 16 MiB and the envelope allowance, so that a frame carries a message
     * of the broker's default maximum (16 MiB, {@code switchboard.max.message.length}) with its envelope.
     */
    public static final int DEFAULT_MAX_PAYLOAD_LENGTH = (16 << 20) + ENVELOPE_ALLOWANCE;
    /** Largest maximum payload length of a frame that may be configured: 256 MiB and the envelope allowance. */
    public static final int MAX_PAYLOAD_LENGTH_LIMIT = (256 << 20) + ENVELOPE_ALLOWANCE;

    private FrameHeader()
    {
    }

    /**
     * Check a configured maximum payload length.
     *
     * @param maxPayloadLength to check.
     * @return the same value, if it is between 1 and {@link #MAX_PAYLOAD_LENGTH_LIMIT}.
     * @throws IllegalArgumentException if it is not.
     */
    public static int checkMaxPayloadLength(final int maxPayloadLength)
    {
        if (maxPayloadLength < 1 || maxPayloadLength > MAX_PAYLOAD_LENGTH_LIMIT)
        {
            throw new IllegalArgumentException(
                "maxPayloadLength must be in [1, " + MAX_PAYLOAD_LENGTH_LIMIT + "], actual=" + maxPayloadLength);
        }
        return maxPayloadLength;
    }
}
