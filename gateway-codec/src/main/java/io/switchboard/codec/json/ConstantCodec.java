package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A constant field: takes no room on the wire, ignored on encode, decoded as the schema's value.
 */
final class ConstantCodec implements FixedCodec
{
    private final JsonNode value;
    private final String typeName;

    ConstantCodec(final JsonNode value, final String typeName)
    {
        this.value = value;
        this.typeName = typeName;
    }

    public int encodedLength()
    {
        return 0;
    }

    public void encode(final JsonNode ignored, final MutableDirectBuffer buffer, final int index, final Path path)
    {
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        return value;
    }

    public void describe(final ObjectNode into)
    {
        into.put("type", typeName);
        into.put("constant", true);
        into.set("value", value);
    }
}
