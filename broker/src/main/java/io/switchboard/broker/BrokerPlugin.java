package io.switchboard.broker;

/**
 * Something started alongside the broker, found with {@link java.util.ServiceLoader}: the demo services
 * ({@code --demo}) are one.
 */
public interface BrokerPlugin
{
    /**
     * Name the plugin is asked for by, e.g. {@code demo}.
     *
     * @return the name.
     */
    String name();

    /**
     * Start the plugin against a running broker.
     *
     * @param broker that is running.
     * @return what to close, before the broker, on shutdown.
     */
    AutoCloseable start(Broker broker);
}
