package io.switchboard.broker;

import io.switchboard.broker.view.RegistrySnapshot;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.Status;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The SBE schemas peers declared they publish, kept per peer by the schema id and version their IR names, so that a
 * typed publication can be read by the id and version in its own SBE header, whoever sent it. Their bytes count
 * against the same limits as the IR a service hands over ({@link ServiceRegistry#chargeSchemaBytes}); a peer's
 * schemas go when it goes.
 * <p>
 * Not thread-safe: owned by the {@link BrokerConductor}.
 */
final class PublishedSchemas
{
    private final ServiceRegistry registry;
    private final Int2ObjectHashMap<Int2ObjectHashMap<byte[]>> byClient = new Int2ObjectHashMap<>();
    /** Schema key of each service IR met, by identity: an IR is decoded once, not at every snapshot. */
    private IdentityHashMap<byte[], Integer> serviceKeys = new IdentityHashMap<>();

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
     * Every schema known now, by {@link RegistrySnapshot#schemaKey(int, int)}: those declared by publishers, and
     * those registered with services (a declared one wins over a service's of the same id and version).
     *
     * @return a new map for a snapshot.
     */
    Map<Integer, byte[]> irBySchema()
    {
        final Map<Integer, byte[]> result = new HashMap<>();
        final IdentityHashMap<byte[], Integer> keys = new IdentityHashMap<>();
        for (final ServiceRegistry.Service service : registry.services())
        {
            final byte[] ir = service.schemaIr();
            if (ir.length == 0)
            {
                continue;
            }
            Integer key = serviceKeys.get(ir);
            if (null == key)
            {
                try
                {
                    key = keyOf(ir);
                }
                catch (final IllegalArgumentException ex)
                {
                    continue; // not an IR we can read: such a service's messages are not transcoded either
                }
            }
            keys.put(ir, key);
            result.put(key, ir);
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
        return RegistrySnapshot.schemaKey(schema.schemaId(), schema.ir().version());
    }
}
