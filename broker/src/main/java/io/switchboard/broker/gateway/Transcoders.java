package io.switchboard.broker.gateway;

import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.json.SchemaIr;

import java.util.HashMap;
import java.util.Map;

/**
 * The JSON/SBE transcoders of the schemas the gateway has met, one per schema IR, built on first use.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class Transcoders
{
    private final Map<byte[], SbeJsonTranscoder> byIr = new HashMap<>(); // keyed by array identity

    /**
     * The transcoder of a schema.
     *
     * @param schemaIr the schema's encoded IR (the registry's array: the same array for the same schema).
     * @return its transcoder.
     */
    SbeJsonTranscoder of(final byte[] schemaIr)
    {
        SbeJsonTranscoder transcoder = byIr.get(schemaIr);
        if (null == transcoder)
        {
            transcoder = new SbeJsonTranscoder(SchemaIr.fromBytes(schemaIr));
            byIr.put(schemaIr, transcoder);
        }
        return transcoder;
    }
}
