package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A repeating group: a JSON array of objects (absent means empty). Decoding honours the sender's
 * blockLength from the group header.
 */
final class GroupCodec
{
    private static final int MAX_EMPTY_ENTRIES = 65_535;

    private final String name;
    private final int sinceVersion;
    private final int headerLength;
    private final UnsignedSlot blockLength;
    private final UnsignedSlot numInGroup;
    private final BodyCodec body;

    GroupCodec(final String name, final int sinceVersion, final int headerLength, final UnsignedSlot blockLength,
        final UnsignedSlot numInGroup, final BodyCodec body)
    {
        this.name = name;
        this.sinceVersion = sinceVersion;
        this.headerLength = headerLength;
        this.blockLength = blockLength;
        this.numInGroup = numInGroup;
        this.body = body;
    }

    String name()
    {
        return name;
    }

    int sinceVersion()
    {
        return sinceVersion;
    }

    void encode(final JsonNode value, final Cursor cursor, final Path path)
    {
        final boolean absent = Json.isAbsent(value);
        if (!absent && !value.isArray())
        {
            throw Json.expected(path, "an array of objects", value);
        }
        final int count = absent ? 0 : value.size();
        if (count > numInGroup.max())
        {
            throw path.error("too many entries: " + count + ", maximum " + numInGroup.max());
        }
        final int header = cursor.claim(headerLength, path);
        cursor.mutableBuffer().setMemory(header, headerLength, (byte)0);
        blockLength.put(cursor.mutableBuffer(), header, body.blockLength());
        numInGroup.put(cursor.mutableBuffer(), header, count);
        for (int i = 0; i < count; i++)
        {
            body.encode(value.get(i), cursor, path.index(i));
        }
    }

    ArrayNode decode(final Cursor cursor, final int actingVersion, final Path path)
    {
        final int header = cursor.claim(headerLength, path);
        final long entryLength = blockLength.get(cursor.buffer(), header);
        final long count = numInGroup.get(cursor.buffer(), header);
        if ((count > 0 && entryLength > cursor.remaining()) || (count > MAX_EMPTY_ENTRIES && count * Math.max(1, entryLength) >
            cursor.remaining()))
        {
            throw path.error("truncated group: " + count + " entries of " + entryLength + " bytes, " +
                cursor.remaining() + " bytes left");
        }
        final ArrayNode entries = Json.NODES.arrayNode();
        for (int i = 0; i < count; i++)
        {
            entries.add(body.decode(cursor, (int)entryLength, actingVersion, path.index(i)));
        }
        return entries;
    }

    ObjectNode describe()
    {
        final ObjectNode description = Json.NODES.objectNode();
        description.put("name", name);
        description.put("type", "group");
        description.put("optional", true);
        if (sinceVersion > 0)
        {
            description.put("since_version", sinceVersion);
        }
        description.set("fields", body.describe());
        return description;
    }
}
