package io.switchboard.broker;

/**
 * Test access to the package-private {@link RegistrySnapshot#of}: the gateway's unit tests build the snapshot of a
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
        return RegistrySnapshot.of(registry, 1);
    }
}
