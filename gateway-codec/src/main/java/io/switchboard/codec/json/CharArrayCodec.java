package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * A fixed-length char array (or a single char): a JSON string, encoded in the schema's character
 * encoding (US-ASCII by default), padded with NUL; decoding stops at the first NUL. An optional
 * field that is all NUL decodes as absent.
 */
final class CharArrayCodec implements FixedCodec
{
    private final int length;
    private final Charset charset;
    private final boolean optional;

    CharArrayCodec(final int length, final String characterEncoding, final boolean optional)
    {
        this.length = length;
        this.charset = null == characterEncoding ? StandardCharsets.US_ASCII : Charset.forName(characterEncoding);
        this.optional = optional;
    }

    public int encodedLength()
    {
        return length;
    }

    public void encode(final JsonNode value, final MutableDirectBuffer buffer, final int index, final Path path)
    {
        if (Json.isAbsent(value))
        {
            if (!optional)
            {
                throw path.error("missing required string of up to " + length + " characters");
            }
            buffer.setMemory(index, length, (byte)0);
            return;
        }
        if (!value.isTextual())
        {
            throw Json.expected(path, "a string", value);
        }
        final byte[] bytes = Text.encode(value.textValue(), charset, path);
        if (bytes.length > length)
        {
            throw path.error("string too long: " + bytes.length + " bytes, maximum " + length);
        }
        buffer.putBytes(index, bytes);
        buffer.setMemory(index + bytes.length, length - bytes.length, (byte)0);
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        int end = 0;
        while (end < length && buffer.getByte(index + end) != 0)
        {
            end++;
        }
        if (end == 0 && optional)
        {
            return null;
        }
        final byte[] bytes = new byte[end];
        buffer.getBytes(index, bytes);
        return Json.NODES.textNode(Text.decode(bytes, charset, path));
    }

    public void describe(final ObjectNode into)
    {
        into.put("type", "char[" + length + "]");
        into.put("encoding", charset.name());
    }
}
