package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.Charset;
import java.util.Base64;

/**
 * Variable-length data: a JSON string when the schema gives a character encoding, else raw bytes as a
 * base64 string (a MessagePack binary value is accepted on encode). Absent means empty.
 */
final class VarDataCodec
{
    private final String name;
    private final int sinceVersion;
    private final UnsignedSlot length;
    private final Charset charset;

    VarDataCodec(final String name, final int sinceVersion, final UnsignedSlot length, final String characterEncoding)
    {
        this.name = name;
        this.sinceVersion = sinceVersion;
        this.length = length;
        this.charset = null == characterEncoding ? null : Charset.forName(characterEncoding);
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
        final byte[] bytes = toBytes(value, path);
        if (bytes.length > length.max())
        {
            throw path.error("data too long: " + bytes.length + " bytes, maximum " + length.max());
        }
        final int index = cursor.claim((long)length.size() + bytes.length, path);
        length.put(cursor.mutableBuffer(), index, bytes.length);
        cursor.mutableBuffer().putBytes(index + length.size(), bytes);
    }

    private byte[] toBytes(final JsonNode value, final Path path)
    {
        if (Json.isAbsent(value))
        {
            return new byte[0];
        }
        if (null != charset)
        {
            if (!value.isTextual())
            {
                throw Json.expected(path, "a string", value);
            }
            return Text.encode(value.textValue(), charset, path);
        }
        if (value.isBinary())
        {
            try
            {
                return value.binaryValue();
            }
            catch (final IOException ex)
            {
                throw path.error("unreadable binary value");
            }
        }
        if (!value.isTextual())
        {
            throw Json.expected(path, "a base64 string", value);
        }
        try
        {
            return Base64.getDecoder().decode(value.textValue());
        }
        catch (final IllegalArgumentException ex)
        {
            throw path.error("invalid base64: " + ex.getMessage());
        }
    }

    JsonNode decode(final Cursor cursor, final Path path)
    {
        final int lengthIndex = cursor.claim(length.size(), path);
        final long dataLength = length.get(cursor.buffer(), lengthIndex);
        final int index = cursor.claim(dataLength, path);
        final byte[] bytes = new byte[(int)dataLength];
        cursor.buffer().getBytes(index, bytes);
        return Json.NODES.textNode(null == charset ? Base64.getEncoder().encodeToString(bytes) :
            Text.decode(bytes, charset, path));
    }

    ObjectNode describe()
    {
        final ObjectNode description = Json.NODES.objectNode();
        description.put("name", name);
        description.put("type", null == charset ? "data (base64)" : "string");
        if (null != charset)
        {
            description.put("encoding", charset.name());
        }
        description.put("optional", true);
        if (sinceVersion > 0)
        {
            description.put("since_version", sinceVersion);
        }
        return description;
    }
}
