package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The body of a message or of a group entry: a fixed block of fields, then the repeating groups, then
 * the var data, as SBE lays them out. JSON field names not in the body are refused.
 */
final class BodyCodec
{
    private final int blockLength;
    private final List<FixedField> fields;
    private final List<GroupCodec> groups;
    private final List<VarDataCodec> varData;
    private final Set<String> names;

    BodyCodec(final int blockLength, final List<FixedField> fields, final List<GroupCodec> groups,
        final List<VarDataCodec> varData)
    {
        this.blockLength = blockLength;
        this.fields = fields;
        this.groups = groups;
        this.varData = varData;
        final Set<String> all = new LinkedHashSet<>(FixedField.names(fields));
        groups.forEach((group) -> all.add(group.name()));
        varData.forEach((data) -> all.add(data.name()));
        this.names = all;
    }

    int blockLength()
    {
        return blockLength;
    }

    void encode(final JsonNode object, final Cursor cursor, final Path path)
    {
        if (!object.isObject())
        {
            throw Json.expected(path, "an object", object);
        }
        Json.checkNoUnknownFields(object, names, path);
        final int block = cursor.claim(blockLength, path);
        cursor.mutableBuffer().setMemory(block, blockLength, (byte)0);
        for (final FixedField field : fields)
        {
            field.encode(object, cursor.mutableBuffer(), block, path);
        }
        for (final GroupCodec group : groups)
        {
            group.encode(object.get(group.name()), cursor, path.field(group.name()));
        }
        for (final VarDataCodec data : varData)
        {
            data.encode(object.get(data.name()), cursor, path.field(data.name()));
        }
    }

    ObjectNode decode(final Cursor cursor, final int actingBlockLength, final int actingVersion, final Path path)
    {
        final int block = cursor.claim(actingBlockLength, path);
        final ObjectNode object = Json.NODES.objectNode();
        for (final FixedField field : fields)
        {
            field.decode(cursor.buffer(), block, actingBlockLength, actingVersion, object, path);
        }
        for (final GroupCodec group : groups)
        {
            if (group.sinceVersion() <= actingVersion)
            {
                object.set(group.name(), group.decode(cursor, actingVersion, path.field(group.name())));
            }
        }
        for (final VarDataCodec data : varData)
        {
            if (data.sinceVersion() <= actingVersion)
            {
                object.set(data.name(), data.decode(cursor, path.field(data.name())));
            }
        }
        return object;
    }

    ArrayNode describe()
    {
        final ArrayNode description = Json.NODES.arrayNode();
        fields.forEach((field) -> description.add(field.describe()));
        groups.forEach((group) -> description.add(group.describe()));
        varData.forEach((data) -> description.add(data.describe()));
        return description;
    }
}
