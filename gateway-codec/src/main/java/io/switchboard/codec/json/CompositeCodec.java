package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.List;
import java.util.Set;

/**
 * A composite: a JSON object with one entry per member. An absent composite is encoded as if each
 * member were absent, so it succeeds only when every member is optional or constant.
 */
final class CompositeCodec implements FixedCodec
{
    private final String typeName;
    private final int encodedLength;
    private final List<FixedField> members;
    private final Set<String> names;

    CompositeCodec(final String typeName, final int encodedLength, final List<FixedField> members)
    {
        this.typeName = typeName;
        this.encodedLength = encodedLength;
        this.members = members;
        this.names = FixedField.names(members);
    }

    public int encodedLength()
    {
        return encodedLength;
    }

    public void encode(final JsonNode value, final MutableDirectBuffer buffer, final int index, final Path path)
    {
        final boolean absent = Json.isAbsent(value);
        if (!absent && !value.isObject())
        {
            throw Json.expected(path, "an object (" + typeName + ")", value);
        }
        if (!absent)
        {
            Json.checkNoUnknownFields(value, names, path);
        }
        for (final FixedField member : members)
        {
            member.encode(absent ? null : value, buffer, index, path);
        }
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        final ObjectNode object = Json.NODES.objectNode();
        for (final FixedField member : members)
        {
            member.decode(buffer, index, Integer.MAX_VALUE, Integer.MAX_VALUE, object, path);
        }
        return object;
    }

    public void describe(final ObjectNode into)
    {
        into.put("type", "composite " + typeName);
        final ArrayNode fields = into.putArray("fields");
        for (final FixedField member : members)
        {
            fields.add(member.describe());
        }
    }
}
