package io.switchboard.codec.frame;

/**
 * Frame types of the socket protocol (PROTOCOL.md, byte 5 of the v2 header). 0x0A and up are this
 * project's extensions.
 */
public enum FrameType
{
    /** Envelope: a call to a service. */
    REQUEST(0x01),
    /** A successful reply. */
    RESPONSE(0x02),
    /** A failed reply. */
    ERROR(0x03),
    /** Liveness probe, payload {@code {}}. */
    HEARTBEAT(0x04),
    /** A notification to a subscriber. */
    PUSH(0x05),
    /** Add subscription patterns. */
    SUBSCRIBE(0x06),
    /** Remove subscription patterns. */
    UNSUBSCRIBE(0x07),
    /** Ask what the broker knows. */
    DISCOVER(0x08),
    /** One frame of a stream reply. */
    STREAM(0x09),
    /** Serve a service from this connection. */
    REGISTER(0x0A),
    /** Stop serving a service. */
    UNREGISTER(0x0B),
    /** Publish on a subject. */
    PUBLISH(0x0C),
    /** Cancel a request or stream in flight. */
    CANCEL(0x0D),
    /** Read the broker's counters. */
    STATS(0x0E);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static
    {
        for (final FrameType type : values())
        {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;

    FrameType(final int code)
    {
        this.code = code;
    }

    /**
     * The byte that stands for this type on the wire.
     *
     * @return the byte that stands for this type on the wire, 0x01 to 0x0E.
     */
    public int code()
    {
        return code;
    }

    /**
     * Look up a type by its wire byte.
     *
     * @param code of the type as read from the wire; only the low 8 bits are used.
     * @return the type, or {@code null} if the byte names none.
     */
    public static FrameType fromCode(final int code)
    {
        return BY_CODE[code & 0xFF];
    }
}
