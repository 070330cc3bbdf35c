package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Codec of a fixed-size value (a field of a block or a member of a composite). Callers check that
 * {@link #encodedLength()} bytes fit before calling.
 */
interface FixedCodec
{
    int encodedLength();

    /**
     * @param value JSON value, possibly null or missing for absent.
     */
    void encode(JsonNode value, MutableDirectBuffer buffer, int index, Path path);

    /**
     * @return the JSON value, or {@code null} for an optional value at its null value.
     */
    JsonNode decode(DirectBuffer buffer, int index, Path path);

    /**
     * Add {@code type} and any further description (values, choices, members) to a field's description.
     */
    void describe(ObjectNode into);
}
