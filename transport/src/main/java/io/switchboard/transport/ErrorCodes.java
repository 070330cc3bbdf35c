package io.switchboard.transport;

import io.switchboard.codec.wire.Status;

/**
 * The error codes of PROTOCOL.md, taken from the wire {@link Status} enum of the SBE schema (one vocabulary: a code is
 * the name of its status), and the mapping of a code back onto its status.
 * <p>
 * The constants are the names of the schema's values, not string literals: a code added to the schema needs a
 * constant here (ErrorCodesTest fails until it has one), and a code cannot be spelt two ways.
 */
public final class ErrorCodes
{
    /** No service of that name. */
    public static final String ACTOR_NOT_FOUND = Status.ACTOR_NOT_FOUND.name();
    /** The service does not take that message type. */
    public static final String UNKNOWN_MESSAGE_TYPE = Status.UNKNOWN_MESSAGE_TYPE.name();
    /** The payload could not be converted. */
    public static final String SERIALIZATION_ERROR = Status.SERIALIZATION_ERROR.name();
    /** The request is malformed. */
    public static final String INVALID_REQUEST = Status.INVALID_REQUEST.name();
    /** The service is not reading fast enough. */
    public static final String TARGET_BUSY = Status.TARGET_BUSY.name();
    /** No answer before the deadline. */
    public static final String TIMEOUT = Status.TIMEOUT.name();
    /** The service went away, or the broker did, or the media driver refused a log. */
    public static final String SERVICE_UNAVAILABLE = Status.SERVICE_UNAVAILABLE.name();
    /** The caller cancelled. */
    public static final String CANCELLED = Status.CANCELLED.name();
    /** Too many requests in flight. */
    public static final String RATE_LIMITED = Status.RATE_LIMITED.name();
    /** A message over the configured maximum. */
    public static final String PAYLOAD_TOO_LARGE = Status.PAYLOAD_TOO_LARGE.name();
    /** A message that breaks the protocol. */
    public static final String PROTOCOL_ERROR = Status.PROTOCOL_ERROR.name();
    /** A protocol version the broker does not speak. */
    public static final String UNSUPPORTED_PROTOCOL_VERSION = Status.UNSUPPORTED_PROTOCOL_VERSION.name();
    /** The name is held by another. */
    public static final String NAME_IN_USE = Status.NAME_IN_USE.name();
    /** Not allowed to this peer. */
    public static final String FORBIDDEN = Status.FORBIDDEN.name();
    /** The broker is shutting down. */
    public static final String SHUTTING_DOWN = Status.SHUTTING_DOWN.name();
    /** The broker holds as many connections as it may. */
    public static final String CONNECTION_LIMIT_REACHED = Status.CONNECTION_LIMIT_REACHED.name();
    /** Something broke inside a handler or the broker. */
    public static final String INTERNAL_ERROR = Status.INTERNAL_ERROR.name();

    private static final Status[] STATUSES = Status.values();

    private ErrorCodes()
    {
    }

    /**
     * The wire status of a code: the status of that name, or {@link Status#APPLICATION_ERROR} for a service's own.
     *
     * @param code to map.
     * @return the wire status.
     */
    public static Status status(final String code)
    {
        for (final Status status : STATUSES)
        {
            if (status != Status.NULL_VAL && status != Status.OK && status.name().equals(code))
            {
                return status;
            }
        }
        return Status.APPLICATION_ERROR;
    }

    /**
     * Whether a code is one of the schema's, rather than a service's own.
     *
     * @param code to look up.
     * @return true if the schema names it.
     */
    public static boolean isProtocolCode(final String code)
    {
        return Status.APPLICATION_ERROR != status(code);
    }
}
