package io.switchboard.broker.access;

/**
 * The broker refused to start because of something the operator can fix: a runtime folder that is not safely its
 * own, another broker holding the same folders, or too little free space for the media driver. The message names
 * the path, what was found and what to do. {@code switchboard broker} exits with {@link #EXIT_CODE}.
 */
public final class StartRefusedException extends RuntimeException
{
    /** Exit code of {@code switchboard broker} when it refuses to start (2 is a usage error, 1 any other failure). */
    public static final int EXIT_CODE = 3;

    private static final long serialVersionUID = 1L;

    /**
     * A refusal.
     *
     * @param message naming the path, what was found and what to do.
     */
    public StartRefusedException(final String message)
    {
        super(message);
    }

    /**
     * A refusal caused by a failure underneath.
     *
     * @param message naming the path, what was found and what to do.
     * @param cause   the failure.
     */
    public StartRefusedException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
