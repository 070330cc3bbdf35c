package io.switchboard.codec.frame;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class EnvelopeSalvageTest
{
    @Test
    void shouldRecoverTheCorrelationIdOfAJsonEnvelopeWhosePayloadIsTooDeepWhereverTheIdStands()
    {
        final String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertRecovered("r1", false, FrameFormat.JSON,
            "{\"correlation_id\":\"r1\",\"target\":\"calculator\",\"payload\":" + deep + "}");
        assertRecovered("r2", true, FrameFormat.JSON,
            "{ \"payload\" : " + deep + " , \"expects_stream\" : true, \"correlation_id\" : \"r2\" }");
        assertRecovered("r3", false, FrameFormat.JSON,
            "{\"payload\":{\"s\":\"a \\\" ] } quote\",\"n\":[1,{\"x\":[]}]},\"correlation_id\":\"r3\"}");
    }

    @Test
    void shouldRecoverTheIdBeforeIllFormedUtf8ButNeverAnIllFormedOrEscapedId()
    {
        assertRecovered("u1", false, FrameFormat.JSON, bytes("{\"correlation_id\":\"u1\",\"message_type\":\"a.",
            new byte[] {(byte)0xC0, (byte)0xAF}, "\"}"));
        assertRecovered("", false, FrameFormat.JSON, bytes("{\"correlation_id\":\"x",
            new byte[] {(byte)0xC0, (byte)0xAF}, "\"}"));
        assertRecovered("", false, FrameFormat.JSON, "{\"correlation_id\":\"a\\u0041\"}");
        assertRecovered("", false, FrameFormat.JSON, "[\"correlation_id\",\"a\"]");
        assertRecovered("", false, FrameFormat.JSON, "{\"correlation_id\":\"unterminated");
    }

    @Test
    void shouldRecoverTheIdOfTheTenThousandDeepMessagePackFrame()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x84);
        str(out, "correlation_id");
        str(out, "deep");
        str(out, "expects_stream");
        out.write(0xC3);
        str(out, "target");
        str(out, "calculator");
        str(out, "payload");
        for (int i = 0; i < 10_000; i++)
        {
            out.write(0x91);
        }
        out.write(0xC0);
        assertRecovered("deep", true, FrameFormat.MSGPACK, out.toByteArray());

        final ByteArrayOutputStream later = new ByteArrayOutputStream();
        later.write(0x82);
        str(later, "payload");
        for (int i = 0; i < 10_000; i++)
        {
            later.write(0x91);
        }
        later.write(0xC0);
        str(later, "correlation_id");
        str(later, "late");
        assertRecovered("late", false, FrameFormat.MSGPACK, later.toByteArray());
    }

    @Test
    void shouldGiveUpQuietlyOnHeadersThatPromiseMoreThanTheBytesHold()
    {
        assertRecovered("", false, FrameFormat.MSGPACK, new byte[] {(byte)0xDF, (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF});
        assertRecovered("", false, FrameFormat.MSGPACK, new byte[] {(byte)0x81, (byte)0xA1, 'p', (byte)0xDD,
            (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF});
        assertRecovered("", false, FrameFormat.MSGPACK, new byte[0]);
        assertRecovered("", false, FrameFormat.JSON, new byte[0]);
    }

    @Test
    void shouldNeverThrowOnRandomBytes()
    {
        final Random random = new Random(20261130);
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            if (bytes.length > 0 && random.nextBoolean())
            {
                bytes[0] = (byte)(random.nextBoolean() ? '{' : 0x80 + random.nextInt(16));
            }
            for (final FrameFormat format : new FrameFormat[] {FrameFormat.JSON, FrameFormat.MSGPACK})
            {
                assertNotNull(EnvelopeSalvage.salvage(format, bytes, 0, bytes.length).correlationId);
            }
        }
    }

    private static void assertRecovered(
        final String correlationId, final boolean expectsStream, final FrameFormat format, final String text)
    {
        assertRecovered(correlationId, expectsStream, format, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertRecovered(
        final String correlationId, final boolean expectsStream, final FrameFormat format, final byte[] payload)
    {
        final byte[] framed = new byte[payload.length + 6]; // at an offset, as in a read buffer
        System.arraycopy(payload, 0, framed, 3, payload.length);
        final EnvelopeSalvage.Result result = EnvelopeSalvage.salvage(format, framed, 3, payload.length);
        assertEquals(correlationId, result.correlationId);
        assertEquals(expectsStream, result.expectsStream);
    }

    private static byte[] bytes(final String head, final byte[] middle, final String tail)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(middle);
        out.writeBytes(tail.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static void str(final ByteArrayOutputStream out, final String s)
    {
        final byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(0xA0 | b.length);
        out.writeBytes(b);
    }
}
