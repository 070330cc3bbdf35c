package io.switchboard.transport;

import io.switchboard.codec.wire.Status;

/**
 * The error codes of PROTOCOL.md as strings, and their mapping onto the wire {@link Status}.
 */
public final class ErrorCodes
{
    /** No service of that name. */
    public static final String ACTOR_NOT_FOUND = "ACTOR_NOT_FOUND";
    /** The service does not take that message type. */
    public static final String UNKNOWN_MESSAGE_TYPE = "UNKNOWN_MESSAGE_TYPE";
    /** The payload could not be converted. */
    public static final String SERIALIZATION_ERROR = "SERIALIZATION_ERROR";
    /** The request is malformed. */
    public static final String INVALID_REQUEST = "INVALID_REQUEST";
    /** The service is not reading fast enough. */
    public static final String TARGET_BUSY = "TARGET_BUSY";
    /** No answer before the deadline. */
    public static final String TIMEOUT = "TIMEOUT";
    /** The service went away. */
    public static final String SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE";
    /** The caller cancelled. */
    public static final String CANCELLED = "CANCELLED";
    /** The name is held by another. */
    public static final String NAME_IN_USE = "NAME_IN_USE";
    /** Something broke inside a handler or the broker. */
    public static final String INTERNAL_ERROR = "INTERNAL_ERROR";
    /** The broker is shutting down. */
    public static final String SHUTTING_DOWN = "SHUTTING_DOWN";

    private ErrorCodes()
    {
    }

    /**
     * The wire status of a code: the PROTOCOL.md code itself, or {@link Status#APPLICATION_ERROR} for a service's own.
     *
     * @param code to map.
     * @return the wire status.
     */
    public static Status status(final String code)
    {
        for (final Status status : STATUSES)
        {
            if (status != Status.NULL_VAL && status.name().equals(code))
            {
                return status;
            }
        }
        return Status.APPLICATION_ERROR;
    }

    private static final Status[] STATUSES = Status.values();
}
