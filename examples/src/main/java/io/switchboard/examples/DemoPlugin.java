package io.switchboard.examples;

import io.switchboard.broker.Broker;
import io.switchboard.broker.BrokerPlugin;
import io.switchboard.transport.Switchboard;

/**
 * Starts the {@link DemoServices} inside the broker process for {@code switchboard broker --demo}. They connect as
 * an ordinary Java peer, through the control socket, like any other.
 */
public final class DemoPlugin implements BrokerPlugin
{
    /**
     * {@inheritDoc}
     */
    public String name()
    {
        return "demo";
    }

    /**
     * {@inheritDoc}
     */
    public AutoCloseable start(final Broker broker)
    {
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(broker.context().controlSocket())
            .clientName("demo-services"));
        return new DemoServices(client, true);
    }
}
