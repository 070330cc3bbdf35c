package io.switchboard.codec.frame;

/**
 * A typed failure of the frame layer: a payload that does not parse, or a frame that would be too
 * large to send. {@link #errorCode()} says which protocol error code to answer with.
 */
public final class FrameException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final ErrorCode errorCode;

    /**
     * Create a failure with the code to answer and a message naming what was expected and found.
     *
     * @param errorCode to answer the peer with.
     * @param message   naming what was expected and what was found.
     * @param cause     the underlying failure, or {@code null}.
     */
    public FrameException(final ErrorCode errorCode, final String message, final Throwable cause)
    {
        super(message, cause, false, false);
        this.errorCode = errorCode;
    }

    /**
     * The protocol error code to answer with.
     *
     * @return the protocol error code to answer with.
     */
    public ErrorCode errorCode()
    {
        return errorCode;
    }
}
