package io.switchboard.transport;

/**
 * A failure with a PROTOCOL.md error code, or a service's own code.
 */
public class SwitchboardException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final String errorCode;

    /**
     * Create an exception.
     *
     * @param errorCode such as {@code SERVICE_UNAVAILABLE}.
     * @param message saying what went wrong.
     */
    public SwitchboardException(final String errorCode, final String message)
    {
        super(errorCode + ": " + message);
        this.errorCode = errorCode;
    }

    /**
     * The error code.
     *
     * @return the error code.
     */
    public String errorCode()
    {
        return errorCode;
    }
}
