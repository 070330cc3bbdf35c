package io.switchboard.codec.json;

import io.switchboard.codec.frame.ErrorCode;

/**
 * A JSON document or an SBE buffer that cannot be transcoded. The message names the field path and
 * what was expected and found, e.g. {@code field 'legs[2].price': expected a number, got "abc"}.
 * No stack trace is captured: this is a data error, thrown on the gateway's path.
 */
public class TranscodeException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final String fieldPath;

    /**
     * Create a failure at a field.
     *
     * @param fieldPath of the field, e.g. {@code legs[2].price}; "" for the message itself.
     * @param problem   what was expected and what was found.
     */
    public TranscodeException(final String fieldPath, final String problem)
    {
        super(fieldPath.isEmpty() ? "message: " + problem : "field '" + fieldPath + "': " + problem, null, false, false);
        this.fieldPath = fieldPath;
    }

    /**
     * The path of the field at fault.
     *
     * @return the path of the field at fault, "" for the message as a whole.
     */
    public String fieldPath()
    {
        return fieldPath;
    }

    /**
     * The protocol error code a gateway answers with.
     *
     * @return {@link ErrorCode#SERIALIZATION_ERROR}; subclasses may say otherwise.
     */
    public ErrorCode errorCode()
    {
        return ErrorCode.SERIALIZATION_ERROR;
    }
}
