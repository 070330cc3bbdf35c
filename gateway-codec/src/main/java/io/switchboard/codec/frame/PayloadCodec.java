package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.msgpack.jackson.dataformat.MessagePackFactory;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads and writes frame payloads as one tree type ({@link JsonNode}) for both formats: JSON and
 * MessagePack (maps with field names). Binary MessagePack values arrive as binary nodes; everything
 * else maps one to one.
 * <p>
 * Whatever the bytes, {@link #read} either returns a tree or throws {@link FrameException} with
 * {@link ErrorCode#SERIALIZATION_ERROR}: a document nested deeper than the maximum depth
 * ({@link #DEFAULT_MAX_DEPTH} unless configured), text that is not strict UTF-8 (overlong forms, surrogates, code
 * points past U+10FFFF, truncated sequences, a JSON escape of a lone surrogate), a MessagePack header promising more
 * bytes than the payload has, an extension type, or trailing bytes. No input reaches a recursive walk deeper than the
 * maximum depth, and nothing is allocated for a length a header promises before its bytes are there.
 * <p>
 * Thread-safe once built; build one per process, it holds two configured object mappers.
 */
public final class PayloadCodec
{
    /**
     * Deepest nesting of arrays and objects (maps) accepted in a payload by default, counting the frame's own
     * envelope object as 1: a REQUEST's payload may nest 127 levels.
     */
    public static final int DEFAULT_MAX_DEPTH = 128;

    /** Largest maximum depth that may be configured: deep enough for any document, shallow for any stack. */
    public static final int MAX_DEPTH_LIMIT = 1000;

    private final int maxDepth;
    private final ObjectMapper json;
    private final ObjectMapper msgpack;

    /**
     * Build the two mappers, with the default maximum depth.
     */
    public PayloadCodec()
    {
        this(DEFAULT_MAX_DEPTH);
    }

    /**
     * Build the two mappers.
     *
     * @param maxDepth deepest nesting of arrays and objects accepted, 1 to {@link #MAX_DEPTH_LIMIT}.
     */
    public PayloadCodec(final int maxDepth)
    {
        if (maxDepth < 1 || maxDepth > MAX_DEPTH_LIMIT)
        {
            throw new IllegalArgumentException("maxDepth must be in [1, " + MAX_DEPTH_LIMIT + "], actual=" + maxDepth);
        }
        this.maxDepth = maxDepth;
        final JsonFactory jsonFactory = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth).build())
            .build();
        json = new ObjectMapper(jsonFactory).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // MessagePack input is checked (depth, lengths, UTF-8, one value, no trailing bytes) by MessagePackCheck
        // before this parser sees it.
        msgpack = new ObjectMapper(new MessagePackFactory());
    }

    /**
     * The deepest nesting of arrays and objects this codec accepts.
     *
     * @return the deepest nesting of arrays and objects this codec accepts.
     */
    public int maxDepth()
    {
        return maxDepth;
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
     *                        document of that format within the limits above; never anything else.
     */
    public JsonNode read(final FrameFormat format, final byte[] bytes, final int offset, final int length)
    {
        if (length == 0)
        {
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR, "empty " + format + " payload", null);
        }
        final boolean escapes;
        if (format == FrameFormat.MSGPACK)
        {
            MessagePackCheck.check(bytes, offset, length, maxDepth);
            escapes = false;
        }
        else
        {
            escapes = checkJsonText(bytes, offset, length);
        }

        final JsonNode node;
        try
        {
            node = mapper(format).readTree(bytes, offset, length);
        }
        catch (final IOException | RuntimeException | StackOverflowError ex)
        {
            // msgpack-core reports malformed input with unchecked exceptions: all of them are the peer's fault here.
            // StackOverflowError cannot come with the depth checked above; caught so that no input can kill a thread.
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR,
                "invalid " + format + " payload: " + firstLine(ex.getMessage()), ex);
        }
        if (null == node || node.isMissingNode())
        {
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR, "empty " + format + " payload", null);
        }
        if (escapes)
        {
            checkNoLoneSurrogate(node, 1);
        }
        return node;
    }

    /**
     * Serialise a tree.
     *
     * @param format to write.
     * @param node   tree to write.
     * @return the payload bytes.
     * @throws FrameException with {@link ErrorCode#SERIALIZATION_ERROR} if the tree holds a value the format cannot
     *                        carry (for MessagePack: an integer below -2^63 or above 2^64-1, or a decimal that a
     *                        double does not hold exactly; the message names the value and its path), else with
     *                        {@link ErrorCode#INTERNAL_ERROR} if the tree cannot be written.
     */
    public byte[] write(final FrameFormat format, final JsonNode node)
    {
        try
        {
            return mapper(format).writeValueAsBytes(node);
        }
        catch (final IOException | RuntimeException | StackOverflowError ex)
        {
            // The MessagePack generator fails with IllegalArgumentException on a BigInteger past 64 bits and with
            // NumberFormatException on a BigDecimal beyond double range: find the value to name it (cold path).
            final String unwritable = format == FrameFormat.MSGPACK ? findUnwritableNumber(node, "", 1) : null;
            if (null != unwritable)
            {
                throw new FrameException(ErrorCode.SERIALIZATION_ERROR, unwritable, ex);
            }
            throw new FrameException(ErrorCode.INTERNAL_ERROR, "cannot write " + format + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * The mapper used for a format, for callers that need streaming access. It does not apply the checks of
     * {@link #read}: parse client bytes with {@link #read} only.
     *
     * @param format whose mapper is wanted.
     * @return the mapper used for that format.
     */
    public ObjectMapper mapper(final FrameFormat format)
    {
        return format == FrameFormat.MSGPACK ? msgpack : json;
    }

    /**
     * Strict UTF-8 over the whole JSON text (RFC 8259 says JSON is UTF-8); the parser itself accepts overlong forms
     * and encoded surrogates.
     *
     * @return whether the text holds a backslash-u escape, after which the tree needs a look for lone surrogates.
     */
    private static boolean checkJsonText(final byte[] bytes, final int offset, final int length)
    {
        final int bad = Utf8.firstInvalid(bytes, offset, length);
        if (bad >= 0)
        {
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR, "invalid JSON payload at byte " + (bad - offset) +
                ": not valid UTF-8: " + Utf8.showBytes(bytes, bad, offset + length), null);
        }
        for (int i = offset, end = offset + length - 1; i < end; i++)
        {
            if (bytes[i] == '\\' && bytes[i + 1] == 'u')
            {
                return true;
            }
        }
        return false;
    }

    private static void checkNoLoneSurrogate(final JsonNode node, final int depth)
    {
        // depth is bounded by the parser's maximum nesting depth: this recursion is as shallow as the document
        if (node.isTextual())
        {
            checkText(node.textValue());
        }
        else if (node.isObject())
        {
            for (final Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); )
            {
                final Map.Entry<String, JsonNode> field = fields.next();
                checkText(field.getKey());
                checkNoLoneSurrogate(field.getValue(), depth + 1);
            }
        }
        else if (node.isArray())
        {
            for (final JsonNode element : node)
            {
                checkNoLoneSurrogate(element, depth + 1);
            }
        }
    }

    private static void checkText(final String text)
    {
        final int index = Utf8.firstLoneSurrogate(text);
        if (index >= 0)
        {
            throw new FrameException(ErrorCode.SERIALIZATION_ERROR, String.format(
                "invalid JSON payload: string escapes a lone surrogate \\u%04x, which is not a character",
                (int)text.charAt(index)), null);
        }
    }

    private String findUnwritableNumber(final JsonNode node, final String path, final int depth)
    {
        if (depth > MAX_DEPTH_LIMIT)
        {
            return null; // not found within any depth this codec reads: INTERNAL_ERROR, not a stack overflow
        }
        if (node.isBigInteger() || node.isBigDecimal())
        {
            try
            {
                msgpack.writeValueAsBytes(node); // the generator is the judge: a decimal must be exact as a double
            }
            catch (final IOException | RuntimeException ex)
            {
                return "number " + abbreviate(node.asText()) + at(path) + " cannot be carried by MessagePack: " +
                    "expected an integer from -2^63 to 2^64-1, or a number that a double holds exactly";
            }
        }
        else if (node.isObject())
        {
            for (final Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); )
            {
                final Map.Entry<String, JsonNode> field = fields.next();
                final String found = findUnwritableNumber(
                    field.getValue(), path.isEmpty() ? field.getKey() : path + "." + field.getKey(), depth + 1);
                if (null != found)
                {
                    return found;
                }
            }
        }
        else if (node.isArray())
        {
            for (int i = 0; i < node.size(); i++)
            {
                final String found = findUnwritableNumber(node.get(i), path + "[" + i + "]", depth + 1);
                if (null != found)
                {
                    return found;
                }
            }
        }
        return null;
    }

    private static String at(final String path)
    {
        return path.isEmpty() ? "" : " at '" + path + "'";
    }

    private static String abbreviate(final String text)
    {
        return text.length() <= 40 ? text : text.substring(0, 20) + "..." + text.substring(text.length() - 10) +
            " (" + text.length() + " digits)";
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
