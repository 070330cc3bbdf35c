package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.json.TranscodeException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * The payloads between Java callers and socket servers: a request into the JSON a socket server reads, its JSON
 * answer into what the caller reads. For a name Java peers share with an SBE schema ({@link SchemaReplies}) that is
 * SBE both ways; for an opaque name, JSON bytes passed through.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle; a result is valid until the next call.
 */
final class SocketPayloads
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final PayloadCodec codec;
    private final UnsafeBuffer jsonBuffer = new UnsafeBuffer(new byte[0]);
    private DirectBuffer replyBuffer;
    private String problem;

    /**
     * @param codec of JSON payloads.
     */
    SocketPayloads(final PayloadCodec codec)
    {
        this.codec = codec;
    }

    /**
     * A request as JSON for the socket server.
     *
     * @param schema of the name when Java peers share it with SBE, else null.
     * @param service name, for the problem text.
     * @param buffer holding the request.
     * @param offset at which it begins.
     * @param length of the request.
     * @return the JSON, or null with {@link #problem()} set when it is not a message of the schema.
     */
    JsonNode request(
        final SchemaReplies schema, final String service, final DirectBuffer buffer, final int offset, final int length)
    {
        if (null == schema || 0 == length)
        {
            return json(buffer, offset, length);
        }
        try
        {
            return schema.transcoder().decode(buffer, offset, length);
        }
        catch (final TranscodeException ex)
        {
            problem = "the request is not a message of the schema of '" + service + "': " + ex.getMessage();
            return null;
        }
    }

    /**
     * A socket server's RESPONSE or STREAM payload in the caller's encoding, in {@link #replyBuffer()} from 0.
     *
     * @param schema of the name when Java peers share it with SBE, else null.
     * @param id of the forwarded request, for the problem text.
     * @param body of the RESPONSE or STREAM frame: its {@code payload} and optional {@code message_type}.
     * @return the length, or -1 with {@link #problem()} set when the payload is no single message of the schema.
     */
    int reply(final SchemaReplies schema, final String id, final JsonNode body)
    {
        final JsonNode payload = body.get("payload");
        if (null == schema || null == payload || payload.isNull())
        {
            final byte[] json = codec.write(FrameFormat.JSON, null == payload ? NODES.nullNode() : payload);
            jsonBuffer.wrap(json);
            replyBuffer = jsonBuffer;
            return json.length;
        }
        try
        {
            final JsonNode named = body.get("message_type");
            final int length = schema.encode(payload, null != named && named.isTextual() ? named.asText() : null);
            replyBuffer = schema.buffer();
            return length;
        }
        catch (final TranscodeException ex)
        {
            problem = "reply to '" + id + "' is not a message of the service's SBE schema: " + ex.getMessage();
            return -1;
        }
    }

    /**
     * The buffer the last successful {@link #reply} wrote into.
     *
     * @return the buffer.
     */
    DirectBuffer replyBuffer()
    {
        return replyBuffer;
    }

    /**
     * What was wrong with the last payload refused.
     *
     * @return the problem.
     */
    String problem()
    {
        return problem;
    }

    private JsonNode json(final DirectBuffer buffer, final int offset, final int length)
    {
        if (0 == length)
        {
            return NODES.nullNode();
        }
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        try
        {
            return codec.read(FrameFormat.JSON, bytes, 0, length);
        }
        catch (final FrameException ex)
        {
            return NODES.textNode(new String(bytes, StandardCharsets.UTF_8)); // a Java caller sent non-JSON bytes
        }
    }
}
