package io.switchboard.codec.frame;

/**
 * Every error code of PROTOCOL.md, spelt as on the wire ({@link #name()} is the wire text).
 */
public enum ErrorCode
{
    /** The target names no registered service. */
    ACTOR_NOT_FOUND,
    /** The service does not handle this message type. */
    UNKNOWN_MESSAGE_TYPE,
    /** The payload could not be parsed or converted; the message names the field. */
    SERIALIZATION_ERROR,
    /** A well-formed payload lacks a required field or has a wrong one. */
    INVALID_REQUEST,
    /** The target cannot take the request now. */
    TARGET_BUSY,
    /** The service did not answer in time. */
    TIMEOUT,
    /** The service went away before answering. */
    SERVICE_UNAVAILABLE,
    /** The request or stream was cancelled. */
    CANCELLED,
    /** Too many requests; the connection stays open. */
    RATE_LIMITED,
    /** A frame's length is over the maximum. */
    PAYLOAD_TOO_LARGE,
    /** The stream of frames is broken (bad header). */
    PROTOCOL_ERROR,
    /** The peer speaks a protocol version the broker does not. */
    UNSUPPORTED_PROTOCOL_VERSION,
    /** An exclusive service name is already registered. */
    NAME_IN_USE,
    /** The peer may not do this. */
    FORBIDDEN,
    /** The broker is shutting down. */
    SHUTTING_DOWN,
    /** Too many connections; sent once, then the connection is closed. */
    CONNECTION_LIMIT_REACHED,
    /** A fault inside the broker. */
    INTERNAL_ERROR;

    /**
     * Look up a code by its wire text.
     *
     * @param text as it appears in an {@code error_code} field.
     * @return the code, or {@code null} if the text names none (a service's own code).
     */
    public static ErrorCode fromText(final String text)
    {
        if (null == text)
        {
            return null;
        }
        for (final ErrorCode code : values())
        {
            if (code.name().equals(text))
            {
                return code;
            }
        }
        return null;
    }
}
