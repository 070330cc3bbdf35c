package io.switchboard.codec.frame;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.nio.charset.StandardCharsets;

/**
 * Writes PUSH frames, {@code {notification_id, message_type, payload, timestamp_ms, source_actor?, sequence}} in
 * JSON, for a publication whose payload is JSON text (an opaque message type): the payload is checked and made
 * compact once per publication ({@link #payload}), then each subscriber's frame is written by a reused generator
 * ({@link #frame}), with no tree, in the bytes the tree path ({@link FrameBodies#push} then
 * {@link PayloadCodec#write}) gives.
 * <p>
 * A fast path, never a judge: {@link #payload} returns false for any payload it is not certain to write exactly as
 * the tree path does (text that is not strict UTF-8, an escaped surrogate, a name given twice, a syntax error,
 * trailing tokens), and the caller then takes the tree path.
 * <p>
 * Not thread-safe: one per gateway duty cycle.
 */
public final class PushWriter
{
    private static final int HEADER_ROOM = FrameHeader.LENGTH_V2;

    private final JsonFactory jsonFactory;
    private final FrameOutput payloadOut = new FrameOutput();
    private final FrameOutput out = new FrameOutput();
    private JsonGenerator payloadGenerator;
    private JsonGenerator generator;
    private String payload;

    /**
     * @param codec whose JSON factory (and its depth limit) is used, and whose tree path this writes the same as.
     */
    public PushWriter(final PayloadCodec codec)
    {
        this.jsonFactory = codec.mapper(FrameFormat.JSON).getFactory();
    }

    /**
     * Take the payload of the publication to push: checked and made compact, once for all its subscribers.
     *
     * @param json   array holding the payload's JSON text.
     * @param offset in {@code json} at which the text begins.
     * @param length of the text; 0 for no payload (pushed as JSON null).
     * @return true if taken: {@link #frame} writes the pushes; false if the tree path must write them.
     */
    public boolean payload(final byte[] json, final int offset, final int length)
    {
        payload = null;
        if (0 == length)
        {
            payload = "null";
            return true;
        }
        if (Utf8.firstInvalid(json, offset, length) >= 0 || Utf8.hasSurrogateEscape(json, offset, length))
        {
            return false;
        }
        payloadOut.reset();
        try (JsonParser parser = jsonFactory.createParser(json, offset, length))
        {
            // a name given twice in an object fails here: the tree keeps the last value, so the tree path writes it
            parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            if (null == parser.nextToken())
            {
                return false;
            }
            if (null == payloadGenerator)
            {
                payloadGenerator = jsonFactory.createGenerator(payloadOut);
                payloadGenerator.setRootValueSeparator(null);
            }
            payloadGenerator.copyCurrentStructure(parser);
            payloadGenerator.flush();
            if (null != parser.nextToken())
            {
                return false;
            }
        }
        catch (final Exception ex)
        {
            payloadGenerator = null; // its state is unknown now: start a new one next time
            return false;
        }
        payload = new String(payloadOut.array(), 0, payloadOut.size(), StandardCharsets.UTF_8);
        return true;
    }

    /**
     * Build one subscriber's PUSH frame of the payload taken last.
     *
     * @param version        of the protocol of the connection, 1 or 2 (the body is JSON either way).
     * @param notificationId unique id of the notification.
     * @param messageType    the concrete subject published.
     * @param timestampMs    wall-clock time of publication in milliseconds.
     * @param sourceActor    publisher's name, or {@code null}.
     * @param sequence       per subscription, from 1.
     * @return the whole frame, header and body.
     * @throws IllegalStateException if no payload was taken or the frame could not be written.
     */
    public byte[] frame(
        final int version,
        final String notificationId,
        final String messageType,
        final long timestampMs,
        final String sourceActor,
        final long sequence)
    {
        if (null == payload)
        {
            throw new IllegalStateException("no payload taken");
        }
        out.reset();
        out.skip(HEADER_ROOM);
        try
        {
            if (null == generator)
            {
                generator = jsonFactory.createGenerator(out);
                generator.setRootValueSeparator(null);
            }
            generator.writeStartObject();
            generator.writeStringField("notification_id", notificationId);
            generator.writeStringField("message_type", messageType);
            generator.writeFieldName("payload");
            generator.writeRawValue(payload);
            generator.writeNumberField("timestamp_ms", timestampMs);
            if (null != sourceActor)
            {
                generator.writeStringField("source_actor", sourceActor);
            }
            generator.writeNumberField("sequence", sequence);
            generator.writeEndObject();
            generator.flush();
        }
        catch (final Exception ex)
        {
            generator = null;
            throw new IllegalStateException("cannot write a PUSH frame: " + ex, ex);
        }
        return out.toFrame(version, FrameType.PUSH, FrameFormat.JSON);
    }
}
