package io.switchboard.codec.json;

import io.switchboard.codec.frame.ErrorCode;

/**
 * The message type named (or the template id read) is not in the schema.
 */
public final class UnknownMessageTypeException extends TranscodeException
{
    private static final long serialVersionUID = 1L;

    /**
     * Create the failure.
     *
     * @param problem naming the type or id that was not found.
     */
    public UnknownMessageTypeException(final String problem)
    {
        super("", problem);
    }

    /**
     * The protocol error code a gateway answers with.
     *
     * @return {@link ErrorCode#UNKNOWN_MESSAGE_TYPE}.
     */
    public ErrorCode errorCode()
    {
        return ErrorCode.UNKNOWN_MESSAGE_TYPE;
    }
}
