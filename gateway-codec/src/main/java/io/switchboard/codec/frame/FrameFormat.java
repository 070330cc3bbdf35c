package io.switchboard.codec.frame;

/**
 * Payload formats of the socket protocol (PROTOCOL.md, byte 6 of the v2 header).
 */
public enum FrameFormat
{
    /** UTF-8 JSON. */
    JSON(0x01),
    /** MessagePack, maps keyed by field name. */
    MSGPACK(0x02);

    private final int code;

    FrameFormat(final int code)
    {
        this.code = code;
    }

    /**
     * The byte that stands for this format on the wire.
     *
     * @return the byte that stands for this format on the wire.
     */
    public int code()
    {
        return code;
    }

    /**
     * Look up a format by its wire byte.
     *
     * @param code of the format as read from the wire.
     * @return the format, or {@code null} if the byte names none.
     */
    public static FrameFormat fromCode(final int code)
    {
        switch (code)
        {
            case 0x01:
                return JSON;
            case 0x02:
                return MSGPACK;
            default:
                return null;
        }
    }
}
