package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.frame.PushWriter;
import io.switchboard.codec.json.TranscodeException;
import io.switchboard.transport.Push;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The JSON payload of a publication pushed to sockets: opaque JSON read as such; SBE transcoded with the schema whose
 * id and version its own message header names, as the broker's schema updates handed it to the gateway's client
 * (whoever declared it: a publisher, or a service); else null.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class PushPayloads
{
    private static final int SBE_HEADER_LENGTH = 8;

    private final GatewayClient client;
    private final PayloadCodec codec;
    private final Transcoders transcoders;
    private byte[] scratch = new byte[1024];

    PushPayloads(final GatewayClient client, final PayloadCodec codec, final Transcoders transcoders)
    {
        this.client = client;
        this.codec = codec;
        this.transcoders = transcoders;
    }

    /**
     * Give an opaque publication's JSON payload to the push writer, which checks it and makes it compact once.
     *
     * @return the writer if it took the payload; null if the tree path must push it ({@link #payloadOf}).
     */
    PushWriter prepare(final PushWriter writer, final DirectBuffer buffer, final int offset, final int length)
    {
        if (scratch.length < length)
        {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        else if (scratch.length > 64 * 1024 && length <= 1024)
        {
            scratch = new byte[1024]; // one big publication is not kept for life
        }
        buffer.getBytes(offset, scratch, 0, length);
        return writer.payload(scratch, 0, length) ? writer : null;
    }

    JsonNode payloadOf(final Push p, final DirectBuffer buffer, final int offset, final int length)
    {
        if (p.templateId() < 0)
        {
            if (0 == length)
            {
                return null;
            }
            final byte[] bytes = new byte[length];
            buffer.getBytes(offset, bytes);
            try
            {
                return codec.read(FrameFormat.JSON, bytes, 0, length);
            }
            catch (final FrameException ex)
            {
                return null;
            }
        }
        final byte[] ir = schemaOf(buffer, offset, length);
        if (null == ir)
        {
            return null;
        }
        try
        {
            return transcoders.of(ir).decode(buffer, offset, length);
        }
        catch (final TranscodeException ex)
        {
            return null;
        }
    }

    /** The header is blockLength, templateId, schemaId, version: little-endian uint16 each. */
    private byte[] schemaOf(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < SBE_HEADER_LENGTH)
        {
            return null;
        }
        final int schemaId = buffer.getShort(offset + 4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        final int version = buffer.getShort(offset + 6, ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return client.routes().schemaIr(schemaId, version);
    }
}
