package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.ByteBuffer;

/**
 * Writes version-2 frames: the 7-byte header followed by the payload.
 * <p>
 * Stateless apart from its limit and its {@link PayloadCodec}; thread-safe.
 */
public final class FrameEncoder
{
    private final PayloadCodec payloadCodec;
    private final int maxPayloadLength;

    /**
     * An encoder with the default maximum payload length of 1 MiB.
     *
     * @param payloadCodec to serialise payload trees with.
     */
    public FrameEncoder(final PayloadCodec payloadCodec)
    {
        this(payloadCodec, FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH);
    }

    /**
     * An encoder that refuses payloads longer than a maximum.
     *
     * @param payloadCodec     to serialise payload trees with.
     * @param maxPayloadLength above which {@link FrameException} with
     *                         {@link ErrorCode#PAYLOAD_TOO_LARGE} is thrown; 1 to 16 MiB.
     */
    public FrameEncoder(final PayloadCodec payloadCodec, final int maxPayloadLength)
    {
        this.payloadCodec = payloadCodec;
        this.maxPayloadLength = FrameHeader.checkMaxPayloadLength(maxPayloadLength);
    }

    /**
     * Write a v2 header into an array.
     *
     * @param dst           array to write into.
     * @param offset        in {@code dst} at which the header begins.
     * @param type          of the frame.
     * @param format        of the payload.
     * @param payloadLength of the payload that will follow the header.
     */
    public static void writeHeader(
        final byte[] dst, final int offset, final FrameType type, final FrameFormat format, final int payloadLength)
    {
        dst[offset] = (byte)(payloadLength >>> 24);
        dst[offset + 1] = (byte)(payloadLength >>> 16);
        dst[offset + 2] = (byte)(payloadLength >>> 8);
        dst[offset + 3] = (byte)payloadLength;
        dst[offset + FrameHeader.VERSION_OFFSET] = (byte)FrameHeader.VERSION_2;
        dst[offset + FrameHeader.TYPE_OFFSET] = (byte)type.code();
        dst[offset + FrameHeader.FORMAT_OFFSET] = (byte)format.code();
    }

    /**
     * Write a whole frame at the position of a buffer, advancing it.
     *
     * @param type    of the frame.
     * @param format  of the payload.
     * @param payload array holding the payload.
     * @param offset  in {@code payload} at which the payload begins.
     * @param length  of the payload.
     * @param dst     buffer to write into, in write mode.
     * @return the number of bytes written: header plus payload.
     * @throws FrameException if the payload is over the maximum.
     * @throws java.nio.BufferOverflowException if {@code dst} has not the room.
     */
    public int encode(
        final FrameType type,
        final FrameFormat format,
        final byte[] payload,
        final int offset,
        final int length,
        final ByteBuffer dst)
    {
        checkLength(length);
        if (dst.remaining() < FrameHeader.LENGTH_V2 + length)
        {
            throw new java.nio.BufferOverflowException();
        }
        // Byte by byte so the buffer's own byte order does not matter: the length is always big-endian.
        dst.put((byte)(length >>> 24)).put((byte)(length >>> 16)).put((byte)(length >>> 8)).put((byte)length)
            .put((byte)FrameHeader.VERSION_2).put((byte)type.code()).put((byte)format.code())
            .put(payload, offset, length);
        return FrameHeader.LENGTH_V2 + length;
    }

    /**
     * Build a whole frame as a new array.
     *
     * @param type    of the frame.
     * @param format  of the payload.
     * @param payload bytes of the payload.
     * @return header and payload.
     * @throws FrameException if the payload is over the maximum.
     */
    public byte[] encode(final FrameType type, final FrameFormat format, final byte[] payload)
    {
        checkLength(payload.length);
        final byte[] frame = new byte[FrameHeader.LENGTH_V2 + payload.length];
        writeHeader(frame, 0, type, format, payload.length);
        System.arraycopy(payload, 0, frame, FrameHeader.LENGTH_V2, payload.length);
        return frame;
    }

    /**
     * Serialise a tree in the given format and build a whole frame of it.
     *
     * @param type   of the frame.
     * @param format to serialise the tree in: JSON or MessagePack.
     * @param body   tree to serialise.
     * @return header and payload.
     * @throws FrameException if the serialised payload is over the maximum.
     */
    public byte[] encode(final FrameType type, final FrameFormat format, final JsonNode body)
    {
        return encode(type, format, payloadCodec.write(format, body));
    }

    private void checkLength(final int length)
    {
        if (length > maxPayloadLength)
        {
            throw new FrameException(ErrorCode.PAYLOAD_TOO_LARGE,
                "payload length " + length + " over the maximum " + maxPayloadLength, null);
        }
    }
}
