package io.switchboard.broker.gateway;

/**
 * What the gateway logs when a connection reaches one of its bounds, or a cold-path failure it summarises: once per
 * connection and kind, never per frame. Carries no stack trace: the message says all there is.
 */
final class GatewayLimitException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * A logged limit.
     *
     * @param message saying which connection, which bound and what was found.
     */
    GatewayLimitException(final String message)
    {
        super(message, null, false, false);
    }
}
