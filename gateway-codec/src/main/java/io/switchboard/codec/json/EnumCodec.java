package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import uk.co.real_logic.sbe.PrimitiveType;
import uk.co.real_logic.sbe.ir.Encoding;

import java.nio.ByteOrder;
import java.util.Map;

/**
 * An enum: a JSON string naming a valid value. An optional enum that is absent is written as the null
 * value, and the null value decodes as absent; any other unknown value on the wire is an error.
 * <p>
 * A boolean enum, one whose only values are {@code FALSE = 0} and {@code TRUE = 1} (the SBE idiom for a flag,
 * e.g. {@code BooleanType}), is a JSON boolean both ways; its names are accepted on input too.
 */
final class EnumCodec implements FixedCodec
{
    private final String typeName;
    private final PrimitiveType type;
    private final ByteOrder order;
    private final boolean optional;
    private final long nullBits;
    private final Map<String, Long> valueByName;
    private final Map<Long, String> nameByValue;
    private final boolean isBoolean;

    EnumCodec(
        final String typeName,
        final Encoding encoding,
        final boolean optional,
        final Map<String, Long> valueByName,
        final Map<Long, String> nameByValue)
    {
        this.typeName = typeName;
        this.type = encoding.primitiveType();
        this.order = encoding.byteOrder();
        this.optional = optional;
        this.nullBits = encoding.applicableNullValue().longValue();
        this.valueByName = valueByName;
        this.nameByValue = nameByValue;
        this.isBoolean = valueByName.size() == 2 &&
            Long.valueOf(0).equals(valueByName.get("FALSE")) && Long.valueOf(1).equals(valueByName.get("TRUE"));
    }

    public int encodedLength()
    {
        return type.size();
    }

    public void encode(final JsonNode value, final MutableDirectBuffer buffer, final int index, final Path path)
    {
        if (Json.isAbsent(value))
        {
            if (!optional)
            {
                throw path.error("missing required " + typeName + ", expected one of " + valueByName.keySet());
            }
            PrimitiveIo.putBits(buffer, index, type, order, nullBits);
            return;
        }
        if (isBoolean && value.isBoolean())
        {
            PrimitiveIo.putBits(buffer, index, type, order, value.booleanValue() ? 1 : 0);
            return;
        }
        if (!value.isTextual())
        {
            throw Json.expected(path, isBoolean ? "true or false" : "a " + typeName + " name", value);
        }
        final Long bits = valueByName.get(value.textValue());
        if (null == bits)
        {
            throw path.error("unknown " + typeName + " value " + Json.show(value) + ", expected one of " +
                valueByName.keySet());
        }
        PrimitiveIo.putBits(buffer, index, type, order, bits);
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        final long bits = PrimitiveIo.getBits(buffer, index, type, order);
        final String name = nameByValue.get(bits);
        if (null != name)
        {
            return isBoolean ? Json.NODES.booleanNode(bits == 1) : Json.NODES.textNode(name);
        }
        if (bits == nullBits)
        {
            return null;
        }
        throw path.error("unknown " + typeName + " value on the wire: " + bits);
    }

    public void describe(final ObjectNode into)
    {
        if (isBoolean)
        {
            into.put("type", "boolean (enum " + typeName + ")");
            return;
        }
        into.put("type", "enum " + typeName);
        final ArrayNode values = into.putArray("values");
        valueByName.keySet().forEach(values::add);
    }
}
