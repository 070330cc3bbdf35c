package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;

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

    private static final byte[] CORRELATION_ID = ascii("correlation_id");
    private static final byte[] TARGET = ascii("target");
    private static final byte[] MESSAGE_TYPE = ascii("message_type");
    private static final byte[] EXPECTS_REPLY = ascii("expects_reply");
    private static final byte[] EXPECTS_STREAM = ascii("expects_stream");
    private static final byte[] RESPONSE_TIMEOUT_MS = ascii("response_timeout_ms");
    private static final byte[] PAYLOAD = ascii("payload");

    private final FrameOutput payloadOut = new FrameOutput();
    private final CompactScan scan = new CompactScan();
    private final CachedText targets = new CachedText();
    private final CachedText messageTypes = new CachedText();
    private byte[] payloadArray;
    private int payloadOffset;
    private int payloadLength;
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
        clear();
        if (0 == length)
        {
            return false;
        }
        if (FrameFormat.JSON == format && readCompact(bytes, offset, offset + length))
        {
            return true; // one pass over the body, the payload not copied
        }
        clear();
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
        payloadArray = payloadOut.array();
        payloadOffset = 0;
        payloadLength = payloadOut.size();
        return null != correlationId && null != target && null != messageType;
    }

    private void clear()
    {
        correlationId = null;
        target = null;
        messageType = null;
        expectsReply = false;
        expectsStream = false;
        timeoutMs = NO_TIMEOUT;
        hasPayload = false;
        seen = 0;
    }

    /**
     * Read a body that is compact JSON made only of the envelope's known fields, in one pass ({@link CompactScan} for
     * the payload; the envelope's strings without escapes): the payload is left where it is. False for anything else
     * (whitespace, an unknown field, an escape in an envelope string, a payload the scan declines, a field given
     * twice, a missing required field): the Jackson path then reads it as before.
     */
    private boolean readCompact(final byte[] bytes, final int offset, final int end)
    {
        if ('{' != bytes[offset])
        {
            return false;
        }
        final int maxPayloadDepth = codec.maxDepth() - 2; // the envelope is one level; one more kept in hand
        int i = offset + 1;
        while (true)
        {
            if (i >= end || '"' != bytes[i])
            {
                return false;
            }
            final int nameFrom = i + 1;
            final byte[] name = knownName(bytes, nameFrom, end);
            if (null == name)
            {
                return false;
            }
            i = nameFrom + name.length + 2; // past the closing quote and the colon
            if (i >= end)
            {
                return false;
            }
            final int bit;
            if (PAYLOAD == name)
            {
                bit = 64;
                final int valueEnd = scan.end(bytes, i, end, maxPayloadDepth);
                if (valueEnd < 0)
                {
                    return false;
                }
                payloadArray = bytes;
                payloadOffset = i;
                payloadLength = valueEnd - i;
                hasPayload = true;
                i = valueEnd;
            }
            else if (CORRELATION_ID == name || TARGET == name ||
                MESSAGE_TYPE == name)
            {
                final int valueEnd = '"' == bytes[i] ? scan.stringEnd(bytes, i + 1, end) : -1;
                if (valueEnd < 0 || scan.sawEscape())
                {
                    return false;
                }
                final int from = i + 1;
                final int textLength = valueEnd - 1 - from;
                if (CORRELATION_ID == name)
                {
                    bit = 1;
                    correlationId = CachedText.decode(bytes, from, textLength);
                }
                else if (TARGET == name)
                {
                    bit = 2;
                    target = targets.text(bytes, from, textLength);
                }
                else
                {
                    bit = 4;
                    messageType = messageTypes.text(bytes, from, textLength);
                }
                i = valueEnd;
            }
            else if (EXPECTS_REPLY == name || EXPECTS_STREAM == name)
            {
                final boolean value;
                if (i + 4 <= end && 't' == bytes[i] && 'r' == bytes[i + 1] && 'u' == bytes[i + 2] &&
                    'e' == bytes[i + 3])
                {
                    value = true;
                    i += 4;
                }
                else if (i + 5 <= end && 'f' == bytes[i] && 'a' == bytes[i + 1] && 'l' == bytes[i + 2] &&
                    's' == bytes[i + 3] && 'e' == bytes[i + 4])
                {
                    value = false;
                    i += 5;
                }
                else
                {
                    return false;
                }
                if (EXPECTS_REPLY == name)
                {
                    bit = 8;
                    expectsReply = value;
                }
                else
                {
                    bit = 16;
                    expectsStream = value;
                }
            }
            else if (RESPONSE_TIMEOUT_MS == name)
            {
                bit = 32;
                final int valueEnd = '-' == bytes[i] || (bytes[i] >= '0' && bytes[i] <= '9') ?
                    CompactScan.integerEnd(bytes, i, end) : -1;
                if (valueEnd < 0)
                {
                    return false;
                }
                long value = 0;
                for (int k = '-' == bytes[i] ? i + 1 : i; k < valueEnd; k++)
                {
                    value = 10 * value + (bytes[k] - '0'); // at most 18 digits: no overflow
                }
                timeoutMs = '-' == bytes[i] ? -value : value;
                i = valueEnd;
            }
            else
            {
                return false; // a field the envelope does not know: the Jackson path skips it
            }
            if (0 != (seen & bit))
            {
                return false;
            }
            seen |= bit;
            if (i >= end)
            {
                return false;
            }
            if ('}' == bytes[i])
            {
                if (i + 1 != end || 7 != (seen & 7))
                {
                    return false; // trailing bytes, or a required field missing: the Jackson path says which
                }
                if (!hasPayload)
                {
                    payloadOut.reset();
                    payloadOut.write('n');
                    payloadOut.write('u');
                    payloadOut.write('l');
                    payloadOut.write('l');
                    payloadArray = payloadOut.array();
                    payloadOffset = 0;
                    payloadLength = 4;
                }
                return true;
            }
            if (',' != bytes[i])
            {
                return false;
            }
            i++;
        }
    }

    /**
     * The envelope's field whose name begins at {@code from} (just past its opening quote), told by its first byte and
     * then compared whole with its closing quote and colon: no scan of the name as a string, since a name of the
     * envelope has no byte a JSON string would escape.
     *
     * @return the name, or null for a name the envelope does not know (the Jackson path reads such a body).
     */
    private static byte[] knownName(final byte[] bytes, final int from, final int end)
    {
        if (from >= end)
        {
            return null;
        }
        final byte[] name;
        switch (bytes[from])
        {
            case 'c': name = CORRELATION_ID; break;
            case 't': name = TARGET; break;
            case 'm': name = MESSAGE_TYPE; break;
            case 'p': name = PAYLOAD; break;
            case 'r': name = RESPONSE_TIMEOUT_MS; break;
            case 'e': name = from + 8 < end && 'r' == bytes[from + 8] ? EXPECTS_REPLY : EXPECTS_STREAM; break;
            default: return null;
        }
        final int length = name.length;
        return from + length + 2 <= end && '"' == bytes[from + length] && ':' == bytes[from + length + 1] &&
            Arrays.equals(bytes, from, from + length, name, 0, length) ? name : null;
    }

    private static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
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
                    if (NO_TIMEOUT == timeoutMs)
                    {
                        return false; // -2^63 is this object's "none": the tree path refuses it as not positive
                    }
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
     * The payload as compact JSON ({@code null} if the body has none): the body's own array when the payload could be
     * left where it is, else an array of this object's.
     *
     * @return the array holding it, from {@link #payloadJsonOffset()}, valid until the next read.
     */
    public byte[] payloadJson()
    {
        return payloadArray;
    }

    /**
     * Index of {@link #payloadJson()} at which the payload begins.
     *
     * @return the index.
     */
    public int payloadJsonOffset()
    {
        return payloadOffset;
    }

    /**
     * Length of {@link #payloadJson()}.
     *
     * @return the number of bytes.
     */
    public int payloadJsonLength()
    {
        return payloadLength;
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
