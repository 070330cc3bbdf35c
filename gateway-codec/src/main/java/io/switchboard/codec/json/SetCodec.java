package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import uk.co.real_logic.sbe.PrimitiveType;
import uk.co.real_logic.sbe.ir.Encoding;

import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A bitset: decoded as a JSON array of the names of the choices set, in schema order. Encoding accepts
 * that array, or an object of booleans keyed by choice name. Absent means no choice set. Bits on the
 * wire that name no choice are ignored (a newer schema may have added them).
 */
final class SetCodec implements FixedCodec
{
    private final String typeName;
    private final PrimitiveType type;
    private final ByteOrder order;
    private final List<String> choices;
    private final Map<String, Integer> bitByName;

    SetCodec(final String typeName, final Encoding encoding, final List<String> choices,
        final Map<String, Integer> bitByName)
    {
        this.typeName = typeName;
        this.type = encoding.primitiveType();
        this.order = encoding.byteOrder();
        this.choices = choices;
        this.bitByName = bitByName;
    }

    public int encodedLength()
    {
        return type.size();
    }

    public void encode(final JsonNode value, final MutableDirectBuffer buffer, final int index, final Path path)
    {
        long bits = 0;
        if (Json.isAbsent(value))
        {
            bits = 0;
        }
        else if (value.isArray())
        {
            for (int i = 0; i < value.size(); i++)
            {
                bits |= bit(value.get(i), path.index(i));
            }
        }
        else if (value.isObject())
        {
            final Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
            while (fields.hasNext())
            {
                final Map.Entry<String, JsonNode> entry = fields.next();
                final Path choicePath = path.field(entry.getKey());
                if (!entry.getValue().isBoolean())
                {
                    throw Json.expected(choicePath, "true or false", entry.getValue());
                }
                final long choiceBit = bit(Json.NODES.textNode(entry.getKey()), choicePath);
                if (entry.getValue().booleanValue())
                {
                    bits |= choiceBit;
                }
            }
        }
        else
        {
            throw Json.expected(path, "an array of " + typeName + " choice names", value);
        }
        PrimitiveIo.putBits(buffer, index, type, order, bits);
    }

    private long bit(final JsonNode name, final Path path)
    {
        if (!name.isTextual())
        {
            throw Json.expected(path, "a " + typeName + " choice name", name);
        }
        final Integer position = bitByName.get(name.textValue());
        if (null == position)
        {
            throw path.error("unknown " + typeName + " choice " + Json.show(name) + ", expected one of " + choices);
        }
        return 1L << position;
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        final long bits = PrimitiveIo.getBits(buffer, index, type, order);
        final ArrayNode names = Json.NODES.arrayNode();
        for (final String choice : choices)
        {
            if ((bits & (1L << bitByName.get(choice))) != 0)
            {
                names.add(choice);
            }
        }
        return names;
    }

    public void describe(final ObjectNode into)
    {
        into.put("type", "set " + typeName);
        final ArrayNode names = into.putArray("choices");
        choices.forEach(names::add);
    }
}
