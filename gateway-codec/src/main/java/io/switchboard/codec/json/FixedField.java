package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A named fixed-size field at an offset in a block (or a member at an offset in a composite).
 */
final class FixedField
{
    private final String name;
    private final int offset;
    private final int sinceVersion;
    private final boolean optional;
    private final FixedCodec codec;

    FixedField(final String name, final int offset, final int sinceVersion, final boolean optional,
        final FixedCodec codec)
    {
        this.name = name;
        this.offset = offset;
        this.sinceVersion = sinceVersion;
        this.optional = optional;
        this.codec = codec;
    }

    String name()
    {
        return name;
    }

    void encode(final JsonNode parent, final MutableDirectBuffer buffer, final int blockIndex, final Path path)
    {
        final JsonNode value = null == parent ? null : parent.get(name);
        codec.encode(value, buffer, blockIndex + offset, path.field(name));
    }

    /**
     * Decode into {@code out}, unless the sender's block or version does not hold this field.
     */
    void decode(
        final DirectBuffer buffer,
        final int blockIndex,
        final int actingBlockLength,
        final int actingVersion,
        final ObjectNode out,
        final Path path)
    {
        final int length = codec.encodedLength();
        if (length > 0 && (sinceVersion > actingVersion || (long)offset + length > actingBlockLength))
        {
            return;
        }
        final JsonNode value = codec.decode(buffer, blockIndex + offset, path.field(name));
        if (null != value)
        {
            out.set(name, value);
        }
    }

    ObjectNode describe()
    {
        final ObjectNode description = Json.NODES.objectNode();
        description.put("name", name);
        codec.describe(description);
        description.put("optional", optional);
        if (sinceVersion > 0)
        {
            description.put("since_version", sinceVersion);
        }
        return description;
    }

    static Set<String> names(final List<FixedField> fields)
    {
        final Set<String> names = new LinkedHashSet<>();
        for (final FixedField field : fields)
        {
            names.add(field.name);
        }
        return names;
    }
}
