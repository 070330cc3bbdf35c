package io.switchboard.transport;

import io.switchboard.codec.schema.MessageSchema;
import org.agrona.ErrorHandler;

import java.util.concurrent.CompletableFuture;

/**
 * After a reconnection, tells the new broker session what this peer held in the last: its services, the schemas it
 * declared and its subscription patterns. A refusal is reported to the error handler, not retried.
 * <p>
 * Not thread-safe: call with the client lock held, from the duty cycle.
 */
final class SessionRestore
{
    private SessionRestore()
    {
    }

    /**
     * Register the services again, declare the schemas again and announce the patterns again.
     *
     * @param controlProxy of the new session.
     * @param services this peer serves.
     * @param subscriptions this peer holds.
     * @param errorHandler told of each refusal.
     */
    static void announce(
        final ControlProxy controlProxy,
        final LocalServices services,
        final LocalSubscriptions subscriptions,
        final ErrorHandler errorHandler)
    {
        for (final ServiceDefinition definition : services.definitions())
        {
            reportIfRefused(controlProxy.register(definition), "register '" + definition.name() + "'", errorHandler);
        }
        for (final MessageSchema schema : services.declaredSchemas())
        {
            reportIfRefused(controlProxy.declareSchema(schema.irBytes()), "declare schema id " + schema.schemaId(),
                errorHandler);
        }
        for (final String pattern : subscriptions.patterns())
        {
            controlProxy.subscription(pattern, true);
        }
    }

    private static void reportIfRefused(
        final CompletableFuture<Void> future, final String what, final ErrorHandler errorHandler)
    {
        future.whenComplete((v, ex) ->
        {
            if (null != ex)
            {
                errorHandler.onError(new SwitchboardException(ErrorCodes.SERVICE_UNAVAILABLE,
                    "could not " + what + " again after reconnecting: " + ex.getMessage()));
            }
        });
    }
}
