package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

import java.util.ArrayList;

/**
 * Reads a well-formed REQUEST body with a streaming parser, building no tree: the envelope's fields
 * ({@code correlation_id, target, message_type, expects_reply, expects_stream, response_timeout_ms}) and the payload,
 * re-written as compact JSON (the bytes {@code PayloadCodec.write(JSON, tree)} would give for the payload's tree).
 * <p>
 * It is a fast path, never a judge: {@link #read} returns false for anything it is not certain to read exactly as
 * the tree path ({@link PayloadCodec#read}) does — text that is not strict UTF-8, a backslash-u escape of a surrogate
 * (which needs the lone-surrogate check), a syntax error, trailing tokens, a body that is not an object, a known field of an
 * unexpected type or given twice, a missing {@code correlation_id}, {@code target} or {@code message_type}, a
 * MessagePack payload that {@link MessagePackCheck} refuses — and the caller then takes the tree path, which gives the
 * same typed errors it always gave. So hostile input is answered exactly as before.
 * <p>
 * Not thread-safe: one per gateway duty cycle; the strings and the payload bytes are valid until the next read.
 */
public final class RequestEnvelope
{
    /** Value of {@link #timeoutMs()} when the body has no {@code response_timeout_ms}. */
    public static final long NO_TIMEOUT = Long.MIN_VALUE;

    private final PayloadCodec codec;
    private final JsonFactory jsonFactory;
    private final JsonFactory msgpackFactory;
    private static final int MAX_CHECKED_NAMES = 32;

    private final FrameOutput payloadOut = new FrameOutput();
    private final ArrayList<ArrayList<String>> names = new ArrayList<>(); // per depth of a MessagePack payload
    private JsonGenerator payloadGenerator;
    private FrameFormat format;
    private byte[] bytes;
    private int offset;
    private int length;
    private String correlationId;
    private String target;
    private String messageType;
    private boolean expectsReply;
    private boolean expectsStream;
    private long timeoutMs;
    private boolean hasPayload;
    private int seen;

    /**
     * @param codec whose parsers (and their depth limit) are used, and whose tree path this reads the same as.
     */
    public RequestEnvelope(final PayloadCodec codec)
    {
        this.codec = codec;
        this.jsonFactory = codec.mapper(FrameFormat.JSON).getFactory();
        this.msgpackFactory = codec.mapper(FrameFormat.MSGPACK).getFactory();
    }

    /**
     * Read a REQUEST body.
     *
     * @param format of the body.
     * @param bytes  array holding the body; kept (not copied) until the next read, for {@link #payloadTree()}.
     * @param offset in {@code bytes} at which the body begins.
     * @param length of the body.
     * @return true if read: the accessors hold its fields; false if the tree path must read it.
     */
    public boolean read(final FrameFormat format, final byte[] bytes, final int offset, final int length)
    {
        this.format = format;
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
        correlationId = null;
        target = null;
        messageType = null;
        expectsReply = false;
        expectsStream = false;
        timeoutMs = NO_TIMEOUT;
        hasPayload = false;
        seen = 0;
        if (0 == length)
        {
            return false;
        }
        if (FrameFormat.MSGPACK == format)
        {
            try
            {
                MessagePackCheck.check(bytes, offset, length, codec.maxDepth());
            }
            catch (final FrameException ex)
            {
                return false;
            }
        }
        else if (Utf8.firstInvalid(bytes, offset, length) >= 0 || hasUnicodeEscape(bytes, offset, length))
        {
            return false;
        }

        payloadOut.reset();
        try (JsonParser parser = (FrameFormat.MSGPACK == format ? msgpackFactory : jsonFactory)
            .createParser(bytes, offset, length))
        {
            // trailing bytes: the JSON parser finds them; MessagePackCheck has refused them (and the MessagePack parser
            // throws at the end of its input rather than return null)
            if (JsonToken.START_OBJECT != parser.nextToken() || !readFields(parser) ||
                (FrameFormat.JSON == format && null != parser.nextToken()))
            {
                return false;
            }
        }
        catch (final Exception ex)
        {
            // a syntax error or a value the tree path treats differently: let it judge (and close the generator,
            // whose state is unknown now)
            payloadGenerator = null;
            return false;
        }
        if (!hasPayload)
        {
            payloadOut.write('n');
            payloadOut.write('u');
            payloadOut.write('l');
            payloadOut.write('l');
        }
        return null != correlationId && null != target && null != messageType;
    }

    private boolean readFields(final JsonParser parser) throws Exception
    {
        JsonToken token;
        while (JsonToken.FIELD_NAME == (token = parser.nextToken()))
        {
            final String name = parser.currentName();
            if (FrameFormat.JSON == format && "payload".equals(name))
            {
                // from here on a name given twice in an object fails: the tree keeps the last value, so the tree path
                // reads it (the payload's objects inherit the check; the envelope's own names are checked below)
                parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            }
            final JsonToken value = parser.nextToken();
            final int bit;
            switch (name)
            {
                case "correlation_id":
                    bit = 1;
                    correlationId = text(parser, value);
                    break;
                case "target":
                    bit = 2;
                    target = text(parser, value);
                    break;
                case "message_type":
                    bit = 4;
                    messageType = text(parser, value);
                    break;
                case "expects_reply":
                    bit = 8;
                    if (!value.isBoolean())
                    {
                        return false;
                    }
                    expectsReply = JsonToken.VALUE_TRUE == value;
                    break;
                case "expects_stream":
                    bit = 16;
                    if (!value.isBoolean())
                    {
                        return false;
                    }
                    expectsStream = JsonToken.VALUE_TRUE == value;
                    break;
                case "response_timeout_ms":
                    bit = 32;
                    if (JsonToken.VALUE_NUMBER_INT != value ||
                        (JsonParser.NumberType.INT != parser.getNumberType() &&
                        JsonParser.NumberType.LONG != parser.getNumberType()))
                    {
                        return false;
                    }
                    timeoutMs = parser.getLongValue();
                    break;
                case "payload":
                    bit = 64;
                    hasPayload = true;
                    copyPayload(parser);
                    break;
                default:
                    bit = 0;
                    parser.skipChildren();
                    break;
            }
            if (0 != (seen & bit))
            {
                return false; // given twice: the tree keeps the last, and says so nowhere; let it read this body
            }
            seen |= bit;
        }
        return JsonToken.END_OBJECT == token;
    }

    private static String text(final JsonParser parser, final JsonToken value) throws Exception
    {
        return JsonToken.VALUE_STRING == value ? parser.getText() : null;
    }

    private void copyPayload(final JsonParser parser) throws Exception
    {
        if (null == payloadGenerator)
        {
            payloadGenerator = jsonFactory.createGenerator(payloadOut);
            payloadGenerator.setRootValueSeparator(null);
        }
        payloadOut.reset();
        if (FrameFormat.JSON == format)
        {
            // already compact (most payloads): its bytes are the payload; the parser only skips it, which checks its
            // syntax, names given twice and depth without decoding its strings
            final long at = parser.currentTokenLocation().getByteOffset();
            final int start = at < 0 || at >= length ? -1 : offset + (int)at;
            final int end = start < 0 ? -1 : CompactJson.end(bytes, start, offset + length);
            if (end > 0)
            {
                payloadOut.write(bytes, start, end - start);
                parser.skipChildren(); // a string or a number: the next token skips it
                return;
            }
            payloadGenerator.copyCurrentStructure(parser); // the JSON parser refuses a name given twice
        }
        else
        {
            copyCheckingNames(parser, payloadGenerator);
        }
        payloadGenerator.flush();
    }

    /**
     * Copy a MessagePack value whose maps are checked for a name given twice, which the MessagePack parser does not
     * look for (and the tree keeps the last value of). A map of more than {@value #MAX_CHECKED_NAMES} names is left
     * to the tree path.
     */
    private void copyCheckingNames(final JsonParser parser, final JsonGenerator generator) throws Exception
    {
        int depth = 0;
        JsonToken token = parser.currentToken();
        while (true)
        {
            switch (token)
            {
                case START_OBJECT:
                    if (names.size() == depth)
                    {
                        names.add(new ArrayList<>());
                    }
                    names.get(depth++).clear();
                    break;
                case START_ARRAY:
                    if (names.size() == depth)
                    {
                        names.add(new ArrayList<>());
                    }
                    depth++;
                    break;
                case END_OBJECT:
                case END_ARRAY:
                    depth--;
                    break;
                case FIELD_NAME:
                {
                    final ArrayList<String> seenNames = names.get(depth - 1);
                    final String name = parser.currentName();
                    if (seenNames.size() == MAX_CHECKED_NAMES || seenNames.contains(name))
                    {
                        throw new IllegalStateException("a name given twice, or too many to check");
                    }
                    seenNames.add(name);
                    break;
                }
                default:
                    break;
            }
            generator.copyCurrentEvent(parser);
            if (0 == depth)
            {
                return;
            }
            token = parser.nextToken();
        }
    }

    private static boolean hasUnicodeEscape(final byte[] bytes, final int offset, final int length)
    {
        return Utf8.hasSurrogateEscape(bytes, offset, length);
    }

    /**
     * The request's correlation id.
     *
     * @return the request's correlation id.
     */
    public String correlationId()
    {
        return correlationId;
    }

    /**
     * The service named.
     *
     * @return the service named.
     */
    public String target()
    {
        return target;
    }

    /**
     * The message type named.
     *
     * @return the message type named.
     */
    public String messageType()
    {
        return messageType;
    }

    /**
     * Whether the body says {@code expects_reply: true}.
     *
     * @return whether a reply is expected.
     */
    public boolean expectsReply()
    {
        return expectsReply;
    }

    /**
     * Whether the body says {@code expects_stream: true}.
     *
     * @return whether a stream is expected.
     */
    public boolean expectsStream()
    {
        return expectsStream;
    }

    /**
     * The body's {@code response_timeout_ms}.
     *
     * @return the timeout in milliseconds, or {@link #NO_TIMEOUT} if the body has none.
     */
    public long timeoutMs()
    {
        return timeoutMs;
    }

    /**
     * The payload as compact JSON ({@code null} if the body has none).
     *
     * @return the array holding it, from index 0, valid until the next read.
     */
    public byte[] payloadJson()
    {
        return payloadOut.array();
    }

    /**
     * Length of {@link #payloadJson()}.
     *
     * @return the number of bytes.
     */
    public int payloadJsonLength()
    {
        return payloadOut.size();
    }

    /**
     * The payload as a tree, for a message type that is transcoded from a tree: the body is read again by the tree
     * path, so the tree is exactly the one it always gave (binary MessagePack values stay binary).
     *
     * @return the payload's tree, a JSON null if the body has none.
     * @throws FrameException as {@link PayloadCodec#read} (not for a body this object has read).
     */
    public JsonNode payloadTree()
    {
        final JsonNode payload = codec.read(format, bytes, offset, length).get("payload");
        return null == payload ? NullNode.getInstance() : payload;
    }
}
