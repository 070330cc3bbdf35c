package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.jackson.dataformat.MessagePackFactory;

import java.io.IOException;

/**
 * Reads and writes frame payloads as one tree type ({@link JsonNode}) for both formats: JSON and
 * MessagePack (maps with field names). Binary MessagePack values arrive as binary nodes; everything
 * else maps one to one.
 * <p>
 * Thread-safe once built; build one per process, it holds two configured object mappers.
 */
public final class PayloadCodec
{
    private final ObjectMapper json;
    private final ObjectMapper msgpack;

    /**
     * Build the two mappers.
     */
    public PayloadCodec()
    {
        json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // The MessagePack parser fails at end of input when asked for a trailing token: trailing bytes are
        // checked with an unpacker instead (see checkOneMessagePackValue).
        msgpack = new ObjectMapper(new MessagePackFactory());
    }

    /**
     * Parse a payload.
     *
     * @param format of the payload.
     * @param bytes  array holding the payload.
     * @param offset in {@code bytes} at which the payload begins.
     * @param length of the payload.
     * @return the tree, never {@code null} nor missing.
     * @throws FrameException with {@link ErrorCode#SERIALIZATION_ERROR} if the bytes are not one valid
     *                        document of that format.
     */
    public JsonNode read(final FrameFormat format, final byte[] bytes, final int offset, final int length)
    {
        final JsonNode node;
        try
        {
            if (format == FrameFormat.MSGPACK)
            {
                checkOneMessagePackValue(bytes, offset, length);
            }
            node = mapper(format).readTree(bytes, offset, length);
        }
        catch (final IOException | RuntimeException ex)
        {
            // msgpack-core reports malformed input with unchecked exceptions: all of them are the peer's fault here.
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR,
                "invalid " + format + " payload: " + firstLine(ex.getMessage()), ex);
        }
        if (null == node || node.isMissingNode())
        {
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR, "empty " + format + " payload", null);
        }
        if (format == FrameFormat.MSGPACK)
        {
            checkPlainValues(node);
        }
        return node;
    }

    /**
     * MessagePack extension types come out of the parser as opaque Java objects that nothing downstream can render
     * or transcode (the million-case fuzz found one escaping as an IllegalStateException): refuse them here.
     */
    private static void checkPlainValues(final JsonNode node)
    {
        if (node.isPojo())
        {
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR,
                "MessagePack extension types are not supported (maps, arrays, strings, numbers, booleans, nil, bin)",
                null);
        }
        if (node.isContainerNode())
        {
            for (final JsonNode child : node)
            {
                checkPlainValues(child);
            }
        }
    }

    /**
     * Serialise a tree.
     *
     * @param format to write.
     * @param node   tree to write.
     * @return the payload bytes.
     * @throws FrameException with {@link ErrorCode#INTERNAL_ERROR} if the tree cannot be written.
     */
    public byte[] write(final FrameFormat format, final JsonNode node)
    {
        try
        {
            return mapper(format).writeValueAsBytes(node);
        }
        catch (final JsonProcessingException | RuntimeException ex)
        {
            // The MessagePack generator fails with NumberFormatException on a BigDecimal beyond double range.
            throw new FrameException(ErrorCode.INTERNAL_ERROR, "cannot write " + format + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * The mapper used for a format, for callers that need streaming access.
     *
     * @param format whose mapper is wanted.
     * @return the mapper used for that format.
     */
    public ObjectMapper mapper(final FrameFormat format)
    {
        return format == FrameFormat.MSGPACK ? msgpack : json;
    }

    private static void checkOneMessagePackValue(final byte[] bytes, final int offset, final int length)
        throws IOException
    {
        if (length == 0)
        {
            return;
        }
        try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(bytes, offset, length))
        {
            unpacker.skipValue();
            if (unpacker.getTotalReadBytes() != length)
            {
                throw new IOException("trailing bytes after the value: " + (length - unpacker.getTotalReadBytes()));
            }
        }
    }

    private static String firstLine(final String message)
    {
        if (null == message)
        {
            return "malformed";
        }
        final int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
