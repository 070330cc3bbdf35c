package io.switchboard.broker;

import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.codec.wire.Status;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The broker's registry of named services, their message types and their live instances.
 * <p>
 * {@link ServiceMode#EXCLUSIVE} names refuse a second owner with {@code NAME_IN_USE}; {@link ServiceMode#SHARED}
 * names take many instances (which must agree on mode and message types) and spread requests round-robin.
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
public final class ServiceRegistry
{
    /** A live instance of a service: the peer that serves it. */
    public static final class Instance
    {
        final int clientId;
        final int inboxStreamId;

        Instance(final int clientId, final int inboxStreamId)
        {
            this.clientId = clientId;
            this.inboxStreamId = inboxStreamId;
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
         * Inbox stream id of the serving peer.
         *
         * @return the inbox stream id.
         */
        public int inboxStreamId()
        {
            return inboxStreamId;
        }
    }

    /** A registered service name. */
    public static final class Service
    {
        final String name;
        final ServiceMode mode;
        final Map<String, Integer> messageTypes;
        final byte[] schemaIr;
        final List<Instance> instances = new ArrayList<>();
        int nextIndex;

        Service(final String name, final ServiceMode mode, final Map<String, Integer> messageTypes, final byte[] ir)
        {
            this.name = name;
            this.mode = mode;
            this.messageTypes = Collections.unmodifiableMap(new LinkedHashMap<>(messageTypes));
            this.schemaIr = ir;
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
         * How the name is held.
         *
         * @return the mode.
         */
        public ServiceMode mode()
        {
            return mode;
        }

        /**
         * Message type names with their SBE template ids (-1 for opaque).
         *
         * @return the message types.
         */
        public Map<String, Integer> messageTypes()
        {
            return messageTypes;
        }

        /**
         * The schema IR the first instance handed over; empty when every type is opaque.
         *
         * @return the encoded IR.
         */
        public byte[] schemaIr()
        {
            return schemaIr;
        }

        /**
         * Live instances.
         *
         * @return the instances.
         */
        public List<Instance> instances()
        {
            return Collections.unmodifiableList(instances);
        }

        /**
         * The next instance in round-robin order.
         *
         * @return the next instance, or null when none.
         */
        public Instance next()
        {
            if (instances.isEmpty())
            {
                return null;
            }
            if (nextIndex >= instances.size())
            {
                nextIndex = 0;
            }
            return instances.get(nextIndex++);
        }
    }

    /** Outcome of a registration: null status means success. */
    public static final class Outcome
    {
        final Status status;
        final String message;
        final boolean peerLimit;

        Outcome(final Status status, final String message)
        {
            this(status, message, false);
        }

        Outcome(final Status status, final String message, final boolean peerLimit)
        {
            this.status = status;
            this.message = message;
            this.peerLimit = peerLimit;
        }

        /**
         * Whether the registration was refused because the peer reached its own limit.
         *
         * @return true for a per-peer limit.
         */
        public boolean isPeerLimit()
        {
            return peerLimit;
        }

        /**
         * Whether the registration succeeded.
         *
         * @return true on success.
         */
        public boolean isOk()
        {
            return null == status;
        }

        /**
         * Failure status, or null on success.
         *
         * @return the status.
         */
        public Status status()
        {
            return status;
        }

        /**
         * Failure message, or null on success.
         *
         * @return the message.
         */
        public String message()
        {
            return message;
        }
    }

    static final Outcome OK = new Outcome(null, null);

    /** What one peer holds, so that one peer cannot exhaust the limits every peer shares. */
    private static final class PeerUsage
    {
        int services;
        long schemaBytes;
    }

    private final TreeMap<String, Service> services = new TreeMap<>();
    private final Int2ObjectHashMap<PeerUsage> usageByClient = new Int2ObjectHashMap<>();
    private final int maxServices;
    private final long maxSchemaBytes;
    private final int maxServicesPerPeer;
    private final long maxSchemaBytesPerPeer;
    private long schemaBytes;

    /**
     * Create an empty registry bounded only in service names.
     *
     * @param maxServices bound on distinct service names.
     */
    public ServiceRegistry(final int maxServices)
    {
        this(maxServices, Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * Create an empty registry.
     *
     * @param maxServices bound on distinct service names, all peers together.
     * @param maxSchemaBytes bound on the schema IR bytes the registry keeps, all peers together.
     * @param maxServicesPerPeer bound on the service instances one limited peer may hold.
     * @param maxSchemaBytesPerPeer bound on the schema IR bytes one limited peer may have handed over, counted for
     * every instance it holds.
     */
    public ServiceRegistry(
        final int maxServices, final long maxSchemaBytes, final int maxServicesPerPeer, final long maxSchemaBytesPerPeer)
    {
        this.maxServices = maxServices;
        this.maxSchemaBytes = maxSchemaBytes;
        this.maxServicesPerPeer = maxServicesPerPeer;
        this.maxSchemaBytesPerPeer = maxSchemaBytesPerPeer;
    }

    /**
     * Register an instance of a service for a peer bound by the per-peer limits.
     *
     * @param name of the service.
     * @param mode in which the name is held.
     * @param messageTypes the instance handles, by name, with template ids.
     * @param schemaIr of the instance's SBE schema, may be empty.
     * @param clientId of the serving peer.
     * @param inboxStreamId of the serving peer.
     * @return the outcome.
     */
    public Outcome register(
        final String name,
        final ServiceMode mode,
        final Map<String, Integer> messageTypes,
        final byte[] schemaIr,
        final int clientId,
        final int inboxStreamId)
    {
        return register(name, mode, messageTypes, schemaIr, clientId, inboxStreamId, true);
    }

    /**
     * Register an instance of a service.
     *
     * @param name of the service.
     * @param mode in which the name is held.
     * @param messageTypes the instance handles, by name, with template ids.
     * @param schemaIr of the instance's SBE schema, may be empty.
     * @param clientId of the serving peer.
     * @param inboxStreamId of the serving peer.
     * @param perPeerLimited whether the per-peer limits apply (not to the broker's own in-process gateway, which
     * registers for many socket connections, each bounded by the gateway).
     * @return the outcome.
     */
    public Outcome register(
        final String name,
        final ServiceMode mode,
        final Map<String, Integer> messageTypes,
        final byte[] schemaIr,
        final int clientId,
        final int inboxStreamId,
        final boolean perPeerLimited)
    {
        final Service existing = services.get(name);
        // every instance is charged the IR its service keeps: the first one's (shared instances agree on types)
        final int chargedBytes = null == existing ? schemaIr.length : existing.schemaIr.length;
        if (perPeerLimited)
        {
            final int held = servicesOf(clientId);
            final long heldBytes = schemaBytesOf(clientId);
            if (held >= maxServicesPerPeer)
            {
                return new Outcome(Status.INVALID_REQUEST, "per-peer service limit: expected at most " +
                    maxServicesPerPeer + " services per peer, this peer holds " + held, true);
            }
            if (heldBytes + chargedBytes > maxSchemaBytesPerPeer)
            {
                return new Outcome(Status.PAYLOAD_TOO_LARGE, "per-peer schema limit: expected at most " +
                    maxSchemaBytesPerPeer + " schema bytes per peer, this peer holds " + heldBytes +
                    " and offered " + chargedBytes + " more", true);
            }
        }
        if (null == existing)
        {
            if (services.size() >= maxServices)
            {
                return new Outcome(Status.INVALID_REQUEST, "service limit of " + maxServices + " reached");
            }
            if (schemaBytes + schemaIr.length > maxSchemaBytes)
            {
                return new Outcome(Status.PAYLOAD_TOO_LARGE, "schema limit of " + maxSchemaBytes +
                    " bytes for all services reached: " + schemaBytes + " held, " + schemaIr.length + " offered");
            }
            final Service service = new Service(name, mode, messageTypes, schemaIr);
            service.instances.add(new Instance(clientId, inboxStreamId));
            services.put(name, service);
            schemaBytes += schemaIr.length;
            charge(clientId, 1, schemaIr.length);
            return OK;
        }

        for (final Instance instance : existing.instances)
        {
            if (instance.clientId == clientId)
            {
                return new Outcome(Status.NAME_IN_USE, "'" + name + "' is already registered by this peer");
            }
        }
        if (ServiceMode.EXCLUSIVE == existing.mode || ServiceMode.EXCLUSIVE == mode)
        {
            return new Outcome(Status.NAME_IN_USE, "'" + name + "' is held " +
                existing.mode.name().toLowerCase() + " by peer " + existing.instances.get(0).clientId);
        }
        if (!existing.messageTypes.equals(messageTypes))
        {
            return new Outcome(Status.INVALID_REQUEST, "shared service '" + name + "' has message types " +
                describe(existing.messageTypes) + ", this instance offered " + describe(messageTypes) +
                (existing.messageTypes.keySet().equals(messageTypes.keySet()) ? sameNamesOtherEncoding(existing) : ""));
        }
        if (existing.schemaIr.length > 0 && !Arrays.equals(existing.schemaIr, schemaIr))
        {
            return new Outcome(Status.INVALID_REQUEST, "shared service '" + name + "' has an SBE schema of " +
                existing.schemaIr.length + " IR bytes, this instance offered another one of " + schemaIr.length +
                " bytes: shared instances must agree on the schema");
        }
        existing.instances.add(new Instance(clientId, inboxStreamId));
        charge(clientId, 1, chargedBytes);
        return OK;
    }

    /**
     * Why instances whose types agree by name are refused: a shared name takes instances whose types agree by name
     * and schema. A socket client joining an SBE name adopts its schema (the gateway transcodes JSON), but an instance
     * that offers SBE cannot adopt opaque JSON types, nor the reverse, nor another schema.
     */
    private static String sameNamesOtherEncoding(final Service existing)
    {
        return existing.schemaIr.length == 0 ?
            ": the same names, held as opaque JSON (by socket clients, or Java peers serving them opaque); a shared " +
            "name takes instances whose types agree by name and schema: serve these types opaque (onOpaque) to join" :
            ": the same names with other template ids (another schema, or opaque JSON for SBE); a shared name takes " +
            "instances whose types agree by name and schema";
    }

    /** Message types as {@code [Add=SBE template 1, Note=opaque JSON]}, for errors that name both sides. */
    static String describe(final Map<String, Integer> messageTypes)
    {
        final StringBuilder text = new StringBuilder("[");
        for (final Map.Entry<String, Integer> type : messageTypes.entrySet())
        {
            if (text.length() > 1)
            {
                text.append(", ");
            }
            text.append(type.getKey()).append(type.getValue() < 0 ? "=opaque JSON" : "=SBE template " + type.getValue());
        }
        return text.append(']').toString();
    }

    private void charge(final int clientId, final int services, final long bytes)
    {
        PeerUsage usage = usageByClient.get(clientId);
        if (null == usage)
        {
            usage = new PeerUsage();
            usageByClient.put(clientId, usage);
        }
        usage.services += services;
        usage.schemaBytes += bytes;
        if (usage.services <= 0 && usage.schemaBytes <= 0)
        {
            usageByClient.remove(clientId);
        }
    }

    private void remove(final Service service, final int clientId)
    {
        charge(clientId, -1, -service.schemaIr.length);
        if (service.instances.isEmpty())
        {
            schemaBytes -= service.schemaIr.length;
        }
    }

    /**
     * Charge schema bytes a peer hands over outside a registration (a schema it declares it publishes) against the
     * limits a service's IR counts against.
     *
     * @param clientId of the peer.
     * @param bytes to charge; a negative number releases.
     * @param perPeerLimited whether the per-peer schema byte limit applies.
     * @return the outcome: {@code PAYLOAD_TOO_LARGE} naming the limit, held and offered bytes, nothing charged.
     */
    Outcome chargeSchemaBytes(final int clientId, final long bytes, final boolean perPeerLimited)
    {
        final long heldBytes = schemaBytesOf(clientId);
        if (bytes > 0 && perPeerLimited && heldBytes + bytes > maxSchemaBytesPerPeer)
        {
            return new Outcome(Status.PAYLOAD_TOO_LARGE, "per-peer schema limit: expected at most " +
                maxSchemaBytesPerPeer + " schema bytes per peer, this peer holds " + heldBytes + " and offered " +
                bytes + " more", true);
        }
        if (bytes > 0 && schemaBytes + bytes > maxSchemaBytes)
        {
            return new Outcome(Status.PAYLOAD_TOO_LARGE, "schema limit of " + maxSchemaBytes +
                " bytes for all peers reached: " + schemaBytes + " held, " + bytes + " offered");
        }
        schemaBytes += bytes;
        charge(clientId, 0, bytes);
        return OK;
    }

    /**
     * Release schema bytes {@link #chargeSchemaBytes} charged.
     *
     * @param clientId of the peer.
     * @param bytes to release.
     */
    void releaseSchemaBytes(final int clientId, final long bytes)
    {
        chargeSchemaBytes(clientId, -bytes, false);
    }

    /**
     * Service instances a peer holds.
     *
     * @param clientId of the peer.
     * @return the number of instances.
     */
    public int servicesOf(final int clientId)
    {
        final PeerUsage usage = usageByClient.get(clientId);
        return null == usage ? 0 : usage.services;
    }

    /**
     * Schema IR bytes charged to a peer.
     *
     * @param clientId of the peer.
     * @return the bytes.
     */
    public long schemaBytesOf(final int clientId)
    {
        final PeerUsage usage = usageByClient.get(clientId);
        return null == usage ? 0 : usage.schemaBytes;
    }

    /**
     * Schema IR bytes the registry keeps, all services together.
     *
     * @return the bytes.
     */
    public long schemaBytes()
    {
        return schemaBytes;
    }

    /**
     * Remove one peer's instance of a service.
     *
     * @param name of the service.
     * @param clientId of the peer.
     * @return true if the peer held an instance.
     */
    public boolean unregister(final String name, final int clientId)
    {
        final Service service = services.get(name);
        if (null == service)
        {
            return false;
        }
        final boolean removed = service.instances.removeIf((i) -> i.clientId == clientId);
        if (removed)
        {
            remove(service, clientId);
        }
        if (service.instances.isEmpty())
        {
            services.remove(name);
        }
        return removed;
    }

    /**
     * Remove every instance a peer held.
     *
     * @param clientId of the peer.
     * @return names of the services it held.
     */
    public List<String> removeClient(final int clientId)
    {
        final List<String> removed = new ArrayList<>();
        final Iterator<Service> it = services.values().iterator();
        while (it.hasNext())
        {
            final Service service = it.next();
            if (service.instances.removeIf((i) -> i.clientId == clientId))
            {
                removed.add(service.name);
                remove(service, clientId);
            }
            if (service.instances.isEmpty())
            {
                it.remove();
            }
        }
        return removed;
    }

    /**
     * Look a service up.
     *
     * @param name of the service.
     * @return the service, or null.
     */
    public Service get(final String name)
    {
        return services.get(name);
    }

    /**
     * Every service, sorted by name.
     *
     * @return the services.
     */
    public Collection<Service> services()
    {
        return Collections.unmodifiableCollection(services.values());
    }
}
