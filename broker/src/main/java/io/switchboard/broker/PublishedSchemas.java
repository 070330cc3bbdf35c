package io.switchboard.broker;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.Status;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The SBE schemas peers declared they publish, kept per peer by the schema id and version their IR names, so that a
 * typed publication can be read by the id and version in its own SBE header, whoever sent it. Their bytes count
 * against the same limits as the IR a service hands over ({@link ServiceRegistry#chargeSchemaBytes}); a peer's
 * schemas go when it goes. It also tells the peers that asked for schemas at Connect (the gateway) every schema the
 * broker holds, declared or registered with a service, as {@code SchemaUpdate}s: so that they learn schemas from the
 * control stream like any peer, never by reading the broker's state.
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
final class PublishedSchemas
{
    private final ServiceRegistry registry;
    private final Int2ObjectHashMap<Int2ObjectHashMap<byte[]>> byClient = new Int2ObjectHashMap<>();
    /** Schema key of each service IR met, by identity: an IR is decoded once, not at every snapshot. */
    private IdentityHashMap<byte[], Integer> serviceKeys = new IdentityHashMap<>();
    /** The schemas the peers that asked were told of, by key: what the next {@link #sync} compares with. */
    private Int2ObjectHashMap<byte[]> told = new Int2ObjectHashMap<>();
    private static final byte[] NO_IR = new byte[0];
    /** The key of no schema. */
    static final int NO_SCHEMA = -1;

    /**
     * @param registry whose schema byte limits the declared schemas count against.
     */
    PublishedSchemas(final ServiceRegistry registry)
    {
        this.registry = registry;
    }

    /**
     * A peer declares a schema it publishes. Declaring the same schema id and version again replaces the IR.
     *
     * @param clientId of the peer.
     * @param ir the encoded SBE IR.
     * @param perPeerLimited whether the per-peer schema byte limit applies.
     * @return the outcome: {@code INVALID_REQUEST} for bytes that are no IR, {@code PAYLOAD_TOO_LARGE} over a limit.
     */
    ServiceRegistry.Outcome declare(final int clientId, final byte[] ir, final boolean perPeerLimited)
    {
        final int key;
        try
        {
            key = keyOf(ir);
        }
        catch (final IllegalArgumentException ex)
        {
            return new ServiceRegistry.Outcome(Status.INVALID_REQUEST, "declared schema: " + ex.getMessage());
        }
        Int2ObjectHashMap<byte[]> schemas = byClient.get(clientId);
        final byte[] previous = null == schemas ? null : schemas.get(key);
        if (null != previous && Arrays.equals(previous, ir))
        {
            return ServiceRegistry.OK;
        }
        // a new IR for the same id and version replaces the old: only the difference is charged, and on refusal the
        // old one stays
        final long delta = ir.length - (null == previous ? 0 : previous.length);
        final ServiceRegistry.Outcome outcome = registry.chargeSchemaBytes(clientId, delta, perPeerLimited);
        if (!outcome.isOk())
        {
            return outcome;
        }
        if (null == schemas)
        {
            schemas = new Int2ObjectHashMap<>();
            byClient.put(clientId, schemas);
        }
        schemas.put(key, ir);
        return outcome;
    }

    /**
     * A peer went: drop its schemas and release their bytes.
     *
     * @param clientId of the peer.
     * @return the number of schemas dropped.
     */
    int removeClient(final int clientId)
    {
        final Int2ObjectHashMap<byte[]> schemas = byClient.remove(clientId);
        if (null == schemas)
        {
            return 0;
        }
        for (final byte[] ir : schemas.values())
        {
            registry.releaseSchemaBytes(clientId, ir.length);
        }
        return schemas.size();
    }

    /**
     * Schemas a peer declared.
     *
     * @param clientId of the peer.
     * @return the number of schemas.
     */
    int schemasOf(final int clientId)
    {
        final Int2ObjectHashMap<byte[]> schemas = byClient.get(clientId);
        return null == schemas ? 0 : schemas.size();
    }

    /**
     * The key under which a schema is known: its SBE schema id and version, each an unsigned 16-bit value as in the
     * SBE message header.
     *
     * @param schemaId of the schema, 0 to 65535.
     * @param version of the schema, 0 to 65535.
     * @return the key ({@link #NO_SCHEMA} stands for none: schema id and version 65535 are not used).
     */
    static int schemaKey(final int schemaId, final int version)
    {
        return ((schemaId & 0xFFFF) << 16) | (version & 0xFFFF);
    }

    /**
     * The key of a service's IR, as route updates name it.
     *
     * @param ir handed over with the service, possibly empty.
     * @return the key, or {@link #NO_SCHEMA} for no IR or one that cannot be read.
     */
    int serviceKey(final byte[] ir)
    {
        if (0 == ir.length)
        {
            return NO_SCHEMA;
        }
        final Integer known = serviceKeys.get(ir);
        if (null != known)
        {
            return known;
        }
        try
        {
            final int key = keyOf(ir);
            serviceKeys.put(ir, key);
            return key;
        }
        catch (final IllegalArgumentException ex)
        {
            return NO_SCHEMA;
        }
    }

    /**
     * Tell the peers that asked for schemas (the gateway) what came and went since the last call; called after each
     * change of the registry or of the declared schemas, before the route update that may name a new schema.
     *
     * @param sessions of the connected peers.
     * @param proxy through which the schema updates go.
     */
    void sync(final Collection<ClientSession> sessions, final BrokerControlProxy proxy)
    {
        final Int2ObjectHashMap<byte[]> now = irBySchema();
        for (final Map.Entry<Integer, byte[]> e : now.entrySet())
        {
            final byte[] previous = told.get(e.getKey());
            if (previous != e.getValue() && (null == previous || !Arrays.equals(previous, e.getValue())))
            {
                for (final ClientSession session : sessions)
                {
                    proxy.schemaUpdate(session, RouteAction.ADD, e.getKey(), e.getValue());
                }
            }
        }
        for (final Map.Entry<Integer, byte[]> e : told.entrySet())
        {
            if (!now.containsKey(e.getKey()))
            {
                for (final ClientSession session : sessions)
                {
                    proxy.schemaUpdate(session, RouteAction.REMOVE, e.getKey(), NO_IR);
                }
            }
        }
        told = now;
    }

    /**
     * Tell a peer that just connected every schema held, before its first route update.
     *
     * @param session of the peer; told only if it asked for schemas.
     * @param proxy through which the schema updates go.
     */
    void tellAll(final ClientSession session, final BrokerControlProxy proxy)
    {
        for (final Map.Entry<Integer, byte[]> e : told.entrySet())
        {
            proxy.schemaUpdate(session, RouteAction.ADD, e.getKey(), e.getValue());
        }
    }

    /**
     * Every schema known now, by {@link #schemaKey(int, int)}: those declared by publishers, and those registered with
     * services (a declared one wins over a service's of the same id and version).
     *
     * @return a new map.
     */
    Int2ObjectHashMap<byte[]> irBySchema()
    {
        final Int2ObjectHashMap<byte[]> result = new Int2ObjectHashMap<>();
        final IdentityHashMap<byte[], Integer> keys = new IdentityHashMap<>();
        for (final ServiceRegistry.Service service : registry.services())
        {
            final byte[] ir = service.schemaIr();
            final int key = serviceKey(ir);
            if (NO_SCHEMA != key)
            {
                keys.put(ir, key);
                result.put(key, ir);
            }
        }
        serviceKeys = keys; // forget the IR of services that went
        for (final Int2ObjectHashMap<byte[]> schemas : byClient.values())
        {
            for (final Map.Entry<Integer, byte[]> e : schemas.entrySet())
            {
                result.put(e.getKey(), e.getValue());
            }
        }
        return result;
    }

    private static int keyOf(final byte[] ir)
    {
        final MessageSchema schema = MessageSchema.fromIr(ir);
        return schemaKey(schema.schemaId(), schema.ir().version());
    }
}
