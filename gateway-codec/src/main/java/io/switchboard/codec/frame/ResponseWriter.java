package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.agrona.DirectBuffer;


/**
 * Writes a whole RESPONSE frame, {@code {correlation_id, success: true, payload}}, for a reply whose payload is JSON
 * text (an opaque message type), with a streaming parser copied into a reused generator: no tree, and the bytes the
 * tree path ({@link FrameBodies#response} then {@link PayloadCodec#write}) gives for the same reply.
 * <p>
 * A fast path, never a judge: {@link #response} returns null for any reply it is not certain to write exactly as the
 * tree path does — text that is not strict UTF-8, a backslash-u escape of a surrogate, a JSON null (whose field the tree path
 * leaves out), a syntax error or trailing tokens (the tree path sends such a reply as a string), a value the caller's
 * format cannot carry (the tree path replaces the frame with an error) — and the caller then takes the tree path.
 * <p>
 * Not thread-safe: one per gateway duty cycle.
 */
public final class ResponseWriter
{
    private static final int HEADER_ROOM = FrameHeader.LENGTH_V2;
    private static final byte[] RESPONSE_PREFIX =
        "{\"correlation_id\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] RESPONSE_MIDDLE =
        "\",\"success\":true,\"payload\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final JsonFactory jsonFactory;
    private final JsonFactory msgpackFactory;
    private final FrameOutput out = new FrameOutput();
    private final CompactScan scan = new CompactScan();
    private final int maxDepth;
    private byte[] scratch = new byte[1024];
    private JsonGenerator jsonGenerator;

    /**
     * @param codec whose factories (and their depth limit) are used, and whose tree path this writes the same as.
     */
    public ResponseWriter(final PayloadCodec codec)
    {
        this.jsonFactory = codec.mapper(FrameFormat.JSON).getFactory();
        this.msgpackFactory = codec.mapper(FrameFormat.MSGPACK).getFactory();
        this.maxDepth = codec.maxDepth() - 1; // one level kept in hand: deeper goes to the slow path, which judges
    }

    /**
     * Build a RESPONSE frame for a reply still in the buffer it arrived in (an Aeron log, a reassembly buffer): the
     * reply is copied once, straight to its place in the frame, and checked there in one pass ({@link CompactScan});
     * a reply the pass declines is judged from there by {@link #response(int, FrameFormat, String, byte[], int, int)}.
     *
     * @param version       of the protocol of the connection, 1 or 2 (a v1 header carries no format: JSON).
     * @param format        of the body (JSON for a v1 connection).
     * @param correlationId of the request answered.
     * @param buffer        holding the reply's JSON text.
     * @param offset        in {@code buffer} at which the text begins.
     * @param length        of the text, at least 1.
     * @return the whole frame, header and body; or null if the tree path must write it.
     */
    public byte[] response(
        final int version,
        final FrameFormat format,
        final String correlationId,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        if (length <= 0 || FrameFormat.MSGPACK == format || !isPlain(correlationId))
        {
            final byte[] json = scratch(Math.max(length, 0));
            buffer.getBytes(offset, json, 0, length);
            return response(version, format, correlationId, json, 0, length);
        }
        final int headerLength = 1 == version ? FrameHeader.LENGTH_V1 : FrameHeader.LENGTH_V2;
        final int payloadAt = headerLength + RESPONSE_PREFIX.length + correlationId.length() + RESPONSE_MIDDLE.length;
        final byte[] frame = new byte[payloadAt + length + 1];
        buffer.getBytes(offset, frame, payloadAt, length);
        if (!isCompact(frame, payloadAt, length))
        {
            return response(version, format, correlationId, frame, payloadAt, length);
        }
        writeHeader(frame, version, format, frame.length - headerLength);
        System.arraycopy(RESPONSE_PREFIX, 0, frame, headerLength, RESPONSE_PREFIX.length);
        int i = headerLength + RESPONSE_PREFIX.length;
        for (int k = 0, n = correlationId.length(); k < n; k++)
        {
            frame[i++] = (byte)correlationId.charAt(k);
        }
        System.arraycopy(RESPONSE_MIDDLE, 0, frame, i, RESPONSE_MIDDLE.length);
        frame[frame.length - 1] = '}';
        return frame;
    }

    /** Whether the whole text is one compact JSON value other than null (which the tree path leaves out). */
    private boolean isCompact(final byte[] json, final int offset, final int length)
    {
        return 'n' != json[offset] && offset + length == scan.end(json, offset, offset + length, maxDepth);
    }

    private static void writeHeader(final byte[] frame, final int version, final FrameFormat format, final int body)
    {
        if (1 == version)
        {
            frame[0] = (byte)(body >>> 24);
            frame[1] = (byte)(body >>> 16);
            frame[2] = (byte)(body >>> 8);
            frame[3] = (byte)body;
            frame[FrameHeader.VERSION_OFFSET] = (byte)FrameHeader.VERSION_1;
            frame[FrameHeader.TYPE_OFFSET] = (byte)FrameType.RESPONSE.code();
        }
        else
        {
            FrameEncoder.writeHeader(frame, 0, FrameType.RESPONSE, format, body);
        }
    }

    /**
     * An array of at least the given length to copy a reply into before {@link #response}; reused.
     *
     * @param length needed.
     * @return the array.
     */
    public byte[] scratch(final int length)
    {
        if (scratch.length < length)
        {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        else if (scratch.length > 64 * 1024 && length <= 1024)
        {
            scratch = new byte[1024]; // one big reply is not kept for life
        }
        return scratch;
    }

    /**
     * Build a RESPONSE frame.
     *
     * @param version       of the protocol of the connection, 1 or 2 (a v1 header carries no format: JSON).
     * @param format        of the body (JSON for a v1 connection).
     * @param correlationId of the request answered.
     * @param json          array holding the reply's JSON text.
     * @param offset        in {@code json} at which the text begins.
     * @param length        of the text, at least 1.
     * @return the whole frame, header and body; or null if the tree path must write it.
     */
    public byte[] response(
        final int version,
        final FrameFormat format,
        final String correlationId,
        final byte[] json,
        final int offset,
        final int length)
    {
        if (length <= 0)
        {
            return null;
        }
        final boolean msgpack = FrameFormat.MSGPACK == format;
        out.reset();
        out.skip(HEADER_ROOM);
        if (!msgpack && isPlain(correlationId) && isCompact(json, offset, length))
        {
            writeCompact(correlationId, json, offset, length); // checked whole in one pass
            return frame(version, format);
        }
        if (Utf8.firstInvalid(json, offset, length) >= 0 || hasUnicodeEscape(json, offset, length))
        {
            return null;
        }
        if (!msgpack && offset + length == CompactJson.end(json, offset, offset + length) &&
            isPlain(correlationId) && compactResponse(correlationId, json, offset, length))
        {
            return frame(version, format);
        }
        out.reset();
        out.skip(HEADER_ROOM);
        try (JsonParser parser = jsonFactory.createParser(json, offset, length))
        {
            // a name given twice in an object fails here: the tree keeps the last value, so the tree path writes it
            parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            final JsonToken first = parser.nextToken();
            if (null == first || JsonToken.VALUE_NULL == first)
            {
                return null;
            }
            final JsonGenerator generator = msgpack ? msgpackGenerator() : jsonGenerator();
            generator.writeStartObject();
            generator.writeStringField("correlation_id", correlationId);
            generator.writeBooleanField("success", true);
            generator.writeFieldName("payload");
            generator.copyCurrentStructure(parser);
            if (null != parser.nextToken())
            {
                throw new IllegalStateException("trailing tokens"); // the tree path sends it as a string
            }
            generator.writeEndObject();
            generator.flush();
        }
        catch (final Exception ex)
        {
            if (!msgpack) // its state is unknown now: start a new one next time
            {
                jsonGenerator = null;
            }
            return null;
        }
        return frame(version, format);
    }

    /**
     * The body of a JSON reply whose text is compact already: its bytes copied as they are, after a parser skipped
     * them (syntax, a name given twice, depth, trailing tokens checked, strings not decoded).
     *
     * @return true if written to {@link #out}; false if the copying path must write it.
     */
    private boolean compactResponse(final String correlationId, final byte[] json, final int offset, final int length)
    {
        try (JsonParser parser = jsonFactory.createParser(json, offset, length))
        {
            parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            final JsonToken first = parser.nextToken();
            if (null == first || JsonToken.VALUE_NULL == first)
            {
                return false;
            }
            parser.skipChildren();
            if (null != parser.nextToken()) // also skips (checks) a string or number that is the whole reply
            {
                return false;
            }
        }
        catch (final Exception ex)
        {
            return false;
        }
        writeCompact(correlationId, json, offset, length);
        return true;
    }

    private void writeCompact(final String correlationId, final byte[] json, final int offset, final int length)
    {
        out.write(RESPONSE_PREFIX, 0, RESPONSE_PREFIX.length);
        for (int i = 0, n = correlationId.length(); i < n; i++)
        {
            out.write(correlationId.charAt(i));
        }
        out.write(RESPONSE_MIDDLE, 0, RESPONSE_MIDDLE.length);
        out.write(json, offset, length);
        out.write('}');
    }

    /** Printable ASCII with nothing Jackson escapes: written as it is. */
    private static boolean isPlain(final String text)
    {
        for (int i = 0, n = text.length(); i < n; i++)
        {
            final char c = text.charAt(i);
            if (c < 0x20 || c > 0x7E || '"' == c || '\\' == c)
            {
                return false;
            }
        }
        return true;
    }

    private byte[] frame(final int version, final FrameFormat format)
    {
        return out.toFrame(version, FrameType.RESPONSE, format);
    }

    private JsonGenerator jsonGenerator() throws Exception
    {
        if (null == jsonGenerator)
        {
            jsonGenerator = jsonFactory.createGenerator(out);
            jsonGenerator.setRootValueSeparator(null);
        }
        return jsonGenerator;
    }

    private JsonGenerator msgpackGenerator() throws Exception
    {
        // a new one per frame: the MessagePack generator (0.9.10) fails a second root value
        return msgpackFactory.createGenerator(out);
    }

    private static boolean hasUnicodeEscape(final byte[] bytes, final int offset, final int length)
    {
        return Utf8.hasSurrogateEscape(bytes, offset, length);
    }
}
