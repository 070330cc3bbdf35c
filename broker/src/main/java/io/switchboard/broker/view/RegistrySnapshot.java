package io.switchboard.broker.view;

import org.agrona.collections.Int2ObjectHashMap;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable copy of the broker's service registry that its conductor publishes after each change, for readers on
 * other threads (the gateway), in a package of its own so that those readers depend on it and not on the conductor. Safe to share: nothing in it changes after construction.
 */
public final class RegistrySnapshot
{
    /** The snapshot of an empty registry. */
    public static final RegistrySnapshot EMPTY = new RegistrySnapshot(new TreeMap<>(), new HashMap<>(), 0);

    /** One live instance of a service: the Java peer that serves it. */
    public static final class InstanceView
    {
        private final int clientId;
        private final String peerName;
        private final long pid;

        /**
         * An instance as it is now.
         *
         * @param clientId of the serving peer.
         * @param peerName the serving peer gave itself when it connected, empty when unknown.
         * @param pid the serving peer claimed when it connected, 0 when unknown.
         */
        public InstanceView(final int clientId, final String peerName, final long pid)
        {
            this.clientId = clientId;
            this.peerName = null == peerName ? "" : peerName;
            this.pid = pid;
        }

        /**
         * Client id of the serving peer.
         *
         * @return the client id.
         */
        public int clientId()
        {
            return clientId;
        }

        /**
         * Name the serving peer gave itself, empty when unknown.
         *
         * @return the name.
         */
        public String peerName()
        {
            return peerName;
        }

        /**
         * Process id the serving peer claimed (its own word), 0 when unknown.
         *
         * @return the pid.
         */
        public long pid()
        {
            return pid;
        }
    }

    /** One service as it was when the snapshot was taken. */
    public static final class ServiceView
    {
        private final String name;
        private final String mode;
        private final Map<String, Integer> messageTypes;
        private final byte[] schemaIr;
        private final List<InstanceView> instanceViews;

        /**
         * A service as it is now.
         *
         * @param name         of the service.
         * @param mode         lower case, {@code exclusive} or {@code shared}.
         * @param messageTypes names with their SBE template ids (-1 for opaque JSON), unmodifiable.
         * @param ir           encoded IR of the service's schema, empty when every type is opaque.
         * @param instances    the live instances, in round-robin order.
         */
        public ServiceView(
            final String name,
            final String mode,
            final Map<String, Integer> messageTypes,
            final byte[] ir,
            final List<InstanceView> instances)
        {
            this.name = name;
            this.mode = mode;
            this.messageTypes = messageTypes;
            this.schemaIr = ir;
            this.instanceViews = List.copyOf(instances);
        }

        /**
         * Name of the service.
         *
         * @return the name.
         */
        public String name()
        {
            return name;
        }

        /**
         * How the name is held, lower case ({@code exclusive} or {@code shared}).
         *
         * @return the mode.
         */
        public String mode()
        {
            return mode;
        }

        /**
         * Message type names with their SBE template ids (-1 for opaque JSON).
         *
         * @return the message types, unmodifiable.
         */
        public Map<String, Integer> messageTypes()
        {
            return messageTypes;
        }

        /**
         * Encoded IR of the service's schema; empty when every type is opaque. Shared, do not modify.
         *
         * @return the IR bytes.
         */
        public byte[] schemaIr()
        {
            return schemaIr;
        }

        /**
         * Number of live broker instances (the gateway counts as one, whatever number of sockets it serves for).
         *
         * @return the count.
         */
        public int instances()
        {
            return instanceViews.size();
        }

        /**
         * The live broker instances, in round-robin order.
         *
         * @return the instances, unmodifiable.
         */
        public List<InstanceView> instanceViews()
        {
            return instanceViews;
        }
    }

    private final Map<String, ServiceView> services;
    private final Map<Integer, byte[]> schemaIrByClientId;
    private final long version;
    private final Int2ObjectHashMap<byte[]> schemaIrById = new Int2ObjectHashMap<>(); // read without boxing

    /**
     * A snapshot of these services.
     *
     * @param services           by name, each a view that does not change.
     * @param schemaIrByClientId the schema IR each peer registered with, by its client id.
     * @param version            of the registry the snapshot was taken of.
     */
    public RegistrySnapshot(
        final Map<String, ServiceView> services, final Map<Integer, byte[]> schemaIrByClientId, final long version)
    {
        this(services, schemaIrByClientId, new HashMap<>(), version);
    }

    /**
     * A snapshot of the registry as it is now, with the schemas known by SBE schema id and version.
     *
     * @param services by name.
     * @param schemaIrByClientId the schema IR each peer registered with, by its client id.
     * @param schemaIrById every schema IR the broker holds (declared by publishers, or registered with a service),
     * by {@link #schemaKey(int, int)} of its schema id and version.
     * @param version of the registry.
     */
    public RegistrySnapshot(
        final Map<String, ServiceView> services,
        final Map<Integer, byte[]> schemaIrByClientId,
        final Map<Integer, byte[]> schemaIrById,
        final long version)
    {
        this.services = Collections.unmodifiableMap(services);
        this.schemaIrByClientId = Collections.unmodifiableMap(schemaIrByClientId);
        this.schemaIrById.putAll(schemaIrById);
        this.version = version;
    }

    /**
     * The key under which a schema is kept: its SBE schema id and version, each an unsigned 16-bit value as in the
     * SBE message header.
     *
     * @param schemaId of the schema, 0 to 65535.
     * @param version of the schema, 0 to 65535.
     * @return the key.
     */
    public static int schemaKey(final int schemaId, final int version)
    {
        return ((schemaId & 0xFFFF) << 16) | (version & 0xFFFF);
    }

    /**
     * The schema IR with an SBE schema id and version, whoever handed it over: the schema of a typed publication,
     * read from its own SBE header.
     *
     * @param schemaId from the message header.
     * @param version from the message header.
     * @return the IR bytes, or null if no peer declared or registered that schema id and version.
     */
    public byte[] schemaIr(final int schemaId, final int version)
    {
        return schemaIrById.get(schemaKey(schemaId, version));
    }

    /**
     * Every schema IR the broker holds, by {@link #schemaKey(int, int)}.
     *
     * @return the IR bytes by key, unmodifiable.
     */
    public Map<Integer, byte[]> schemas()
    {
        return Collections.unmodifiableMap(schemaIrById);
    }

    /**
     * Look a service up.
     *
     * @param name of the service.
     * @return the service, or null.
     */
    public ServiceView service(final String name)
    {
        return services.get(name);
    }

    /**
     * Every service, sorted by name.
     *
     * @return the services by name, unmodifiable.
     */
    public Map<String, ServiceView> services()
    {
        return services;
    }

    /**
     * The schema IR a peer handed over with one of its services, to read what it publishes.
     *
     * @param clientId of the peer.
     * @return the IR bytes, or null if the peer serves nothing with a schema.
     */
    public byte[] schemaIrOf(final int clientId)
    {
        return schemaIrByClientId.get(clientId);
    }

    /**
     * Increases with each change of the registry.
     *
     * @return the version.
     */
    public long version()
    {
        return version;
    }
}
