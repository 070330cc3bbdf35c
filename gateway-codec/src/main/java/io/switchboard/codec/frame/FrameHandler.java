package io.switchboard.codec.frame;

/**
 * Receives what a {@link FrameDecoder} finds in the bytes it is fed.
 */
public interface FrameHandler
{
    /**
     * A complete frame. The payload bytes belong to the decoder or to the buffer that was fed and are
     * valid only during this call: copy or parse them before returning.
     *
     * @param version of the protocol the frame was written with, 1 or 2.
     * @param type    of the frame.
     * @param format  of the payload; {@link FrameFormat#JSON} for version 1.
     * @param payload array that holds the payload.
     * @param offset  in {@code payload} at which the payload begins.
     * @param length  of the payload in bytes, possibly 0.
     */
    void onFrame(int version, FrameType type, FrameFormat format, byte[] payload, int offset, int length);

    /**
     * The stream is broken: the header just read is invalid. No further frame follows; the caller
     * should send one ERROR frame with this code and correlation id "" and close the connection.
     *
     * @param code   {@link ErrorCode#PROTOCOL_ERROR} or {@link ErrorCode#PAYLOAD_TOO_LARGE}.
     * @param reason naming what was expected and what was found.
     */
    void onFatalError(ErrorCode code, String reason);
}
