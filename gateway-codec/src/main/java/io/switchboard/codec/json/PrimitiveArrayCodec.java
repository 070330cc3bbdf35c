package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A fixed-length array of a numeric primitive: a JSON array of exactly that many numbers. An optional
 * array that is absent is written as null values; elements are always decoded as numbers.
 */
final class PrimitiveArrayCodec implements FixedCodec
{
    private final ScalarCodec element;
    private final int elementLength;
    private final int count;
    private final boolean optional;

    PrimitiveArrayCodec(final ScalarCodec element, final int count, final boolean optional)
    {
        this.element = element;
        this.elementLength = element.encodedLength();
        this.count = count;
        this.optional = optional;
    }

    public int encodedLength()
    {
        return elementLength * count;
    }

    public void encode(final JsonNode value, final MutableDirectBuffer buffer, final int index, final Path path)
    {
        if (Json.isAbsent(value))
        {
            if (!optional)
            {
                throw path.error("missing required array of " + count + " numbers");
            }
            for (int i = 0; i < count; i++)
            {
                element.encode(null, buffer, index + i * elementLength, path);
            }
            return;
        }
        if (!value.isArray() || value.size() != count)
        {
            throw Json.expected(path, "an array of " + count + " numbers", value);
        }
        for (int i = 0; i < count; i++)
        {
            final JsonNode item = value.get(i);
            final Path itemPath = path.index(i);
            if (Json.isAbsent(item))
            {
                throw itemPath.error("expected a number, got null");
            }
            element.encode(item, buffer, index + i * elementLength, itemPath);
        }
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        final ArrayNode array = Json.NODES.arrayNode(count);
        for (int i = 0; i < count; i++)
        {
            final JsonNode item = element.decode(buffer, index + i * elementLength, path);
            array.add(null == item ? Json.NODES.nullNode() : item);
        }
        return array;
    }

    public void describe(final ObjectNode into)
    {
        element.describe(into);
        into.put("type", into.get("type").asText() + "[" + count + "]");
    }
}
