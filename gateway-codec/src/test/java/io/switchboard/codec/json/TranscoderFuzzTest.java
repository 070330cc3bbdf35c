package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHandler;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded fuzz: 100,000 malformed JSON documents, SBE messages and frame streams in all; only typed
 * errors may come out.
 */
class TranscoderFuzzTest
{
    /**
     * 1 gives the default run's 100,000 cases; {@code -Dswitchboard.fuzz.scale=10} gives a million (about two minutes).
     */
    private static final int SCALE = Integer.getInteger("switchboard.fuzz.scale", 1);

    private static final long SEED = 0x5B0A2D;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final SbeJsonTranscoder transcoder = TestSchema.transcoder();
    private final PayloadCodec payloadCodec = new PayloadCodec();
    private final Random random = new Random(SEED);

    @Test
    void shouldOnlyThrowTranscodeExceptionForMutatedJson()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        int failures = 0;
        for (int i = 0; i < 40_000 * SCALE; i++)
        {
            final ObjectNode json = TestSchema.everything();
            final int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++)
            {
                mutate(json);
            }
            try
            {
                final int length = transcoder.encode(random.nextInt(20) == 0 ? "Ping" : "Everything", json, buffer, 0);
                transcoder.decode(buffer, 0, length);
            }
            catch (final TranscodeException ex)
            {
                assertTyped(ex);
                failures++;
            }
        }
        assertTrue(failures > 10_000, "most mutations should fail: " + failures);
    }

    @Test
    void shouldOnlyThrowTranscodeExceptionForCorruptSbe()
    {
        final UnsafeBuffer valid = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", TestSchema.everything(), valid, 0);
        final byte[] bytes = new byte[length + 64];
        for (int i = 0; i < 30_000 * SCALE; i++)
        {
            valid.getBytes(0, bytes, 0, length);
            final int flips = 1 + random.nextInt(6);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.nextInt(length)] = (byte)random.nextInt(256);
            }
            final int available = random.nextInt(4) == 0 ? random.nextInt(length + 1) : length;
            try
            {
                transcoder.decode(new UnsafeBuffer(bytes), 0, available);
            }
            catch (final TranscodeException ex)
            {
                assertTyped(ex);
            }
        }
    }

    @Test
    void shouldOnlyReportTypedErrorsForRandomFrameStreams()
    {
        final int[] counts = new int[3];
        for (int i = 0; i < 30_000 * SCALE; i++)
        {
            final byte[] stream = randomFrameStream();
            final FrameDecoder decoder = new FrameDecoder(4096);
            final FrameHandler handler = new FrameHandler()
            {
                public void onFrame(final int version, final FrameType type, final FrameFormat format,
                    final byte[] payload, final int offset, final int length)
                {
                    counts[0]++;
                    try
                    {
                        final JsonNode node = payloadCodec.read(format, payload, offset, length);
                        transcoder.encode("Everything", node, new UnsafeBuffer(new byte[1024]), 0);
                    }
                    catch (final FrameException ex)
                    {
                        assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
                    }
                    catch (final TranscodeException ex)
                    {
                        assertTyped(ex);
                    }
                }

                public void onFatalError(final ErrorCode code, final String reason)
                {
                    counts[1]++;
                    assertTrue(code == ErrorCode.PROTOCOL_ERROR || code == ErrorCode.PAYLOAD_TOO_LARGE, reason);
                }
            };
            int position = 0;
            while (position < stream.length && !decoder.isFailed())
            {
                final int chunk = Math.min(stream.length - position, 1 + random.nextInt(64));
                decoder.decode(ByteBuffer.wrap(stream, position, chunk), handler);
                position += chunk;
            }
            assertTrue(decoder.bufferCapacity() <= 4096);
            counts[2]++;
        }
        assertTrue(counts[0] > 1000 && counts[1] > 1000, "frames " + counts[0] + ", fatal " + counts[1]);
    }

    private byte[] randomFrameStream()
    {
        final ByteBuffer out = ByteBuffer.allocate(1 << 14);
        final int frames = 1 + random.nextInt(4);
        for (int f = 0; f < frames; f++)
        {
            final byte[] payload = randomPayload();
            final boolean corruptHeader = random.nextInt(8) == 0;
            final int version = corruptHeader && random.nextBoolean() ? random.nextInt(256) : 1 + random.nextInt(2);
            long length = payload.length;
            if (corruptHeader && random.nextBoolean())
            {
                length = random.nextInt(3) == 0 ? 0xFFFFFFFFL : random.nextInt(10_000);
            }
            out.putInt((int)length).put((byte)version)
                .put((byte)(corruptHeader ? random.nextInt(256) : 1 + random.nextInt(14)));
            if (version != 1)
            {
                out.put((byte)(corruptHeader ? random.nextInt(4) : 1 + random.nextInt(2)));
            }
            out.put(payload, 0, Math.min(payload.length, out.remaining() - 16));
        }
        final byte[] stream = new byte[out.position()];
        out.flip().get(stream);
        return stream;
    }

    private byte[] randomPayload()
    {
        switch (random.nextInt(4))
        {
            case 0:
            {
                final byte[] junk = new byte[random.nextInt(200)];
                random.nextBytes(junk);
                return junk;
            }
            case 1:
            {
                final ObjectNode json = TestSchema.everything();
                mutate(json);
                try
                {
                    return payloadCodec.write(FrameFormat.MSGPACK, json);
                }
                catch (final FrameException ex)
                {
                    // a mutation put in a number past 64 bits: MessagePack cannot carry it, a typed refusal
                    assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode(), ex.getMessage());
                    assertTrue(ex.getMessage().contains("cannot be carried by MessagePack"), ex.getMessage());
                    return new byte[0];
                }
            }
            default:
            {
                final ObjectNode json = TestSchema.everything();
                mutate(json);
                final byte[] text = payloadCodec.write(FrameFormat.JSON, json);
                if (random.nextBoolean())
                {
                    text[random.nextInt(text.length)] = (byte)random.nextInt(256);
                }
                return text;
            }
        }
    }

    private void mutate(final ObjectNode root)
    {
        final List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        final JsonNode target = containers.get(random.nextInt(containers.size()));
        if (target instanceof ObjectNode)
        {
            final ObjectNode object = (ObjectNode)target;
            final List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            final String name = names.isEmpty() || random.nextInt(10) == 0 ?
                "x" + random.nextInt(3) : names.get(random.nextInt(names.size()));
            if (random.nextInt(5) == 0)
            {
                object.remove(name);
            }
            else
            {
                object.set(name, randomValue(2));
            }
        }
        else
        {
            final ArrayNode array = (ArrayNode)target;
            if (array.isEmpty() || random.nextInt(4) == 0)
            {
                array.add(randomValue(2));
            }
            else
            {
                array.set(random.nextInt(array.size()), randomValue(2));
            }
        }
    }

    private static void collect(final JsonNode node, final List<JsonNode> into)
    {
        if (node.isContainerNode())
        {
            into.add(node);
            for (final Iterator<JsonNode> it = node.elements(); it.hasNext(); )
            {
                collect(it.next(), into);
            }
        }
    }

    private JsonNode randomValue(final int depth)
    {
        switch (random.nextInt(depth > 0 ? 14 : 12))
        {
            case 0:
                return NODES.nullNode();
            case 1:
                return NODES.booleanNode(random.nextBoolean());
            case 2:
                return NODES.numberNode(random.nextLong());
            case 3:
                return NODES.numberNode(random.nextInt(600) - 300);
            case 4:
                return NODES.numberNode(random.nextDouble() * Math.pow(10, random.nextInt(80) - 40));
            case 5:
                return NODES.numberNode(BigInteger.ONE.shiftLeft(random.nextInt(100)).subtract(BigInteger.ONE));
            case 6:
                return NODES.textNode("abc");
            case 7:
                return NODES.textNode(new String(new char[random.nextInt(40)]).replace('\0', 'é'));
            case 8:
                return NODES.textNode(random.nextBoolean() ? "SELL" : "URGENT");
            case 9:
                return NODES.textNode("AAEC/w==");
            case 10:
                return NODES.numberNode(new java.math.BigDecimal("1e" + random.nextInt(400)));
            case 11:
                return NODES.binaryNode(new byte[random.nextInt(5)]);
            case 12:
            {
                final ArrayNode array = NODES.arrayNode();
                final int n = random.nextInt(5);
                for (int i = 0; i < n; i++)
                {
                    array.add(randomValue(depth - 1));
                }
                return array;
            }
            default:
            {
                final ObjectNode object = NODES.objectNode();
                final String[] names = { "qty", "price", "mantissa", "exponent", "side", "fills", "venueName", "x" };
                final int n = random.nextInt(4);
                for (int i = 0; i < n; i++)
                {
                    object.set(names[random.nextInt(names.length)], randomValue(depth - 1));
                }
                return object;
            }
        }
    }

    private static void assertTyped(final TranscodeException ex)
    {
        assertFalse(ex.getMessage().contains("internal transcoder error"), ex.getMessage());
    }
}
