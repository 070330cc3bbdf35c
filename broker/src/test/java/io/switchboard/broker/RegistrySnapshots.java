package io.switchboard.broker;

import io.switchboard.broker.view.RegistrySnapshot;

/**
 * Test access to the package-private {@link ServiceRegistry#snapshot}: the gateway's unit tests build the snapshot of a
 * registry they filled themselves.
 */
public final class RegistrySnapshots
{
    private RegistrySnapshots()
    {
    }

    /**
     * The snapshot of a registry.
     *
     * @param registry to copy.
     * @return its snapshot.
     */
    public static RegistrySnapshot of(final ServiceRegistry registry)
    {
        return registry.snapshot(1);
    }
}
