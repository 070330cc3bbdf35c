package io.switchboard.codec.frame;

import java.nio.ByteBuffer;

/**
 * Incremental decoder of socket frames for a non-blocking connection: feed it whatever a read
 * returned, in any split, and it calls the handler once per complete frame.
 * <p>
 * The header is checked byte by byte as it arrives (version, then type, then format, then length),
 * so a broken stream is reported as soon as it can be known. After a fatal error the decoder stays
 * failed and consumes nothing more.
 * <p>
 * Memory is bounded: the payload buffer starts small and grows only to the length a frame needs,
 * never past the configured maximum. When a fed heap buffer holds a whole payload, the handler is
 * given that buffer's array directly and nothing is copied.
 * <p>
 * Not thread-safe: one decoder per connection, called from the gateway's thread.
 */
public final class FrameDecoder
{
    private static final int INITIAL_CAPACITY = 4096;
    private static final int SHRINK_ABOVE = 64 * 1024;

    private final int maxPayloadLength;
    private final byte[] header = new byte[FrameHeader.LENGTH_V2];
    private byte[] payload;
    private int headerFill;
    private int headerLength = FrameHeader.LENGTH_V2;
    private int version;
    private FrameType type;
    private FrameFormat format;
    private boolean inPayload;
    private int payloadLength;
    private int payloadFill;
    private ErrorCode failure;

    /**
     * A decoder with the default maximum payload length of 1 MiB.
     */
    public FrameDecoder()
    {
        this(FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH);
    }

    /**
     * A decoder with the given maximum payload length.
     *
     * @param maxPayloadLength above which a frame is refused with {@link ErrorCode#PAYLOAD_TOO_LARGE};
     *                         1 to 16 MiB.
     */
    public FrameDecoder(final int maxPayloadLength)
    {
        this.maxPayloadLength = FrameHeader.checkMaxPayloadLength(maxPayloadLength);
        this.payload = new byte[Math.min(INITIAL_CAPACITY, maxPayloadLength)];
    }

    /**
     * Consume the bytes between {@code src}'s position and limit, calling the handler for each frame
     * completed and at most once for a fatal error. On return the position is advanced past what was
     * consumed: all of it, unless the decoder failed.
     *
     * @param src     bytes read from the socket, in read mode.
     * @param handler to call per frame or on a fatal error.
     * @return the number of frames delivered by this call.
     */
    public int decode(final ByteBuffer src, final FrameHandler handler)
    {
        int frames = 0;
        while (null == failure && src.hasRemaining())
        {
            if (!inPayload)
            {
                header[headerFill++] = src.get();
                if (onHeaderByte(handler) && inPayload && payloadLength == 0)
                {
                    deliver(handler, payload, 0);
                    frames++;
                }
            }
            else if (payloadFill == 0 && src.hasArray() && src.remaining() >= payloadLength)
            {
                final int position = src.position();
                src.position(position + payloadLength);
                deliver(handler, src.array(), src.arrayOffset() + position);
                frames++;
            }
            else
            {
                final int count = Math.min(src.remaining(), payloadLength - payloadFill);
                ensureCapacity(payloadFill + count); // grow with the bytes that arrive, not with what is promised
                src.get(payload, payloadFill, count);
                payloadFill += count;
                if (payloadFill == payloadLength)
                {
                    deliver(handler, payload, 0);
                    frames++;
                }
            }
        }
        return frames;
    }

    /**
     * Whether a fatal error was found; no frame will be delivered any more.
     *
     * @return whether a fatal error was found.
     */
    public boolean isFailed()
    {
        return null != failure;
    }

    /**
     * The code of the fatal error found.
     *
     * @return the code of the fatal error found, or {@code null} while the decoder has not failed.
     */
    public ErrorCode failure()
    {
        return failure;
    }

    /**
     * Whether a frame has been begun but not completed: at end of stream this means a truncated frame.
     *
     * @return whether a frame has been begun but not completed.
     */
    public boolean hasPartialFrame()
    {
        return headerFill > 0 || inPayload;
    }

    /**
     * The maximum payload length this decoder accepts.
     *
     * @return the maximum payload length this decoder accepts.
     */
    public int maxPayloadLength()
    {
        return maxPayloadLength;
    }

    /**
     * Current capacity of the internal payload buffer, for tests of the memory bound.
     *
     * @return current capacity of the internal payload buffer.
     */
    public int bufferCapacity()
    {
        return payload.length;
    }

    private boolean onHeaderByte(final FrameHandler handler)
    {
        final int b = header[headerFill - 1] & 0xFF;
        switch (headerFill)
        {
            case FrameHeader.VERSION_OFFSET + 1:
                if (b == FrameHeader.VERSION_2)
                {
                    headerLength = FrameHeader.LENGTH_V2;
                }
                else if (b == FrameHeader.VERSION_1)
                {
                    headerLength = FrameHeader.LENGTH_V1;
                }
                else
                {
                    return fail(handler, ErrorCode.PROTOCOL_ERROR,
                        "unsupported protocol version: expected 0x01 or 0x02, actual=" + hex(b));
                }
                version = b;
                break;

            case FrameHeader.TYPE_OFFSET + 1:
                type = FrameType.fromCode(b);
                if (null == type)
                {
                    return fail(handler, ErrorCode.PROTOCOL_ERROR,
                        "unknown frame type: expected 0x01 to 0x0E, actual=" + hex(b));
                }
                format = FrameFormat.JSON;
                break;

            case FrameHeader.FORMAT_OFFSET + 1:
                format = FrameFormat.fromCode(b);
                if (null == format)
                {
                    return fail(handler, ErrorCode.PROTOCOL_ERROR,
                        "unknown payload format: expected 0x01 or 0x02, actual=" + hex(b));
                }
                break;

            default:
                break;
        }

        if (headerFill == headerLength)
        {
            final long length = ((header[0] & 0xFFL) << 24) | ((header[1] & 0xFFL) << 16) |
                ((header[2] & 0xFFL) << 8) | (header[3] & 0xFFL);
            if (length > maxPayloadLength)
            {
                return fail(handler, ErrorCode.PAYLOAD_TOO_LARGE,
                    "payload length " + length + " over the maximum " + maxPayloadLength);
            }
            payloadLength = (int)length;
            payloadFill = 0;
            inPayload = true;
        }
        return true;
    }

    private void ensureCapacity(final int length)
    {
        if (payload.length < length)
        {
            final long doubled = 2L * payload.length;
            final byte[] grown = new byte[(int)Math.min(payloadLength, Math.max(length, doubled))];
            System.arraycopy(payload, 0, grown, 0, payloadFill);
            payload = grown;
        }
    }

    private void deliver(final FrameHandler handler, final byte[] array, final int offset)
    {
        final int frameVersion = version;
        final FrameType frameType = type;
        final FrameFormat frameFormat = format;
        final int length = payloadLength;
        headerFill = 0;
        inPayload = false;
        payloadFill = 0;
        payloadLength = 0;
        handler.onFrame(frameVersion, frameType, frameFormat, array, offset, length);
        if (payload.length > SHRINK_ABOVE)
        {
            payload = new byte[Math.min(INITIAL_CAPACITY, maxPayloadLength)]; // one big frame is not kept for life
        }
    }

    private boolean fail(final FrameHandler handler, final ErrorCode code, final String reason)
    {
        failure = code;
        handler.onFatalError(code, reason);
        return false;
    }

    private static String hex(final int b)
    {
        return String.format("0x%02X", b);
    }
}
