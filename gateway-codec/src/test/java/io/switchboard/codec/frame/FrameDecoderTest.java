package io.switchboard.codec.frame;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class FrameDecoderTest
{
    private final FrameEncoder encoder = new FrameEncoder(new PayloadCodec());

    private static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] header(final long length, final int version, final int type, final int format)
    {
        final byte[] h = new byte[version == 1 ? 6 : 7];
        h[0] = (byte)(length >>> 24);
        h[1] = (byte)(length >>> 16);
        h[2] = (byte)(length >>> 8);
        h[3] = (byte)length;
        h[4] = (byte)version;
        h[5] = (byte)type;
        if (version != 1)
        {
            h[6] = (byte)format;
        }
        return h;
    }

    @Test
    void shouldDecodeFrameFedByteByByte()
    {
        final byte[] frame = encoder.encode(FrameType.REQUEST, FrameFormat.MSGPACK, utf8("hello"));
        final FrameDecoder decoder = new FrameDecoder();
        final RecordingHandler handler = new RecordingHandler();
        for (final byte b : frame)
        {
            decoder.decode(ByteBuffer.wrap(new byte[]{ b }), handler);
        }
        assertEquals(1, handler.frames.size());
        final RecordingHandler.Frame f = handler.frames.get(0);
        assertEquals(2, f.version());
        assertEquals(FrameType.REQUEST, f.type());
        assertEquals(FrameFormat.MSGPACK, f.format());
        assertArrayEquals(utf8("hello"), f.payload());
        assertFalse(decoder.hasPartialFrame());
    }

    @Test
    void shouldDecodeManyFramesInOneBufferIncludingEmptyPayloads()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 50; i++)
        {
            out.writeBytes(encoder.encode(FrameType.fromCode(1 + i % 14), FrameFormat.JSON, utf8("x".repeat(i))));
        }
        final FrameDecoder decoder = new FrameDecoder();
        final RecordingHandler handler = new RecordingHandler();
        assertEquals(50, decoder.decode(ByteBuffer.wrap(out.toByteArray()), handler));
        for (int i = 0; i < 50; i++)
        {
            assertEquals(i, handler.frames.get(i).payload().length);
            assertEquals(FrameType.fromCode(1 + i % 14), handler.frames.get(i).type());
        }
    }

    @Test
    void shouldDecodeFramesFromDirectBufferSplitAtEveryPoint()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(encoder.encode(FrameType.PUBLISH, FrameFormat.JSON, utf8("{\"a\":1}")));
        out.writeBytes(encoder.encode(FrameType.STATS, FrameFormat.JSON, utf8("{}")));
        final byte[] all = out.toByteArray();
        for (int split = 0; split <= all.length; split++)
        {
            final FrameDecoder decoder = new FrameDecoder();
            final RecordingHandler handler = new RecordingHandler();
            final ByteBuffer direct = ByteBuffer.allocateDirect(all.length);
            direct.put(all, 0, split).flip();
            decoder.decode(direct, handler);
            direct.clear();
            direct.put(all, split, all.length - split).flip();
            decoder.decode(direct, handler);
            assertEquals(2, handler.frames.size(), "split " + split);
            assertArrayEquals(utf8("{}"), handler.frames.get(1).payload());
        }
    }

    @Test
    void shouldDecodeVersionOneFramesAsJson()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(2, 1, 0x04, 0));
        out.writeBytes(utf8("{}"));
        out.writeBytes(header(3, 1, 0x01, 0));
        out.writeBytes(utf8("[1]"));
        final RecordingHandler handler = new RecordingHandler();
        new FrameDecoder().decode(ByteBuffer.wrap(out.toByteArray()), handler);
        assertEquals(2, handler.frames.size());
        assertEquals(1, handler.frames.get(0).version());
        assertEquals(FrameType.HEARTBEAT, handler.frames.get(0).type());
        assertEquals(FrameFormat.JSON, handler.frames.get(0).format());
        assertArrayEquals(utf8("[1]"), handler.frames.get(1).payload());
    }

    @Test
    void shouldRejectUnknownVersionAsProtocolErrorAndStop()
    {
        assertFatal(header(0, 3, 0x01, 0x01), ErrorCode.PROTOCOL_ERROR, "version");
        assertFatal(header(0, 0, 0x01, 0x01), ErrorCode.PROTOCOL_ERROR, "version");
    }

    @Test
    void shouldRejectUnknownTypeAsProtocolError()
    {
        assertFatal(header(0, 2, 0x00, 0x01), ErrorCode.PROTOCOL_ERROR, "type");
        assertFatal(header(0, 2, 0x0F, 0x01), ErrorCode.PROTOCOL_ERROR, "type");
        assertFatal(header(0, 1, 0xFF, 0), ErrorCode.PROTOCOL_ERROR, "type");
    }

    @Test
    void shouldRejectUnknownFormatAsProtocolError()
    {
        assertFatal(header(0, 2, 0x01, 0x00), ErrorCode.PROTOCOL_ERROR, "format");
        assertFatal(header(0, 2, 0x01, 0x03), ErrorCode.PROTOCOL_ERROR, "format");
    }

    @Test
    void shouldRejectOversizeLengthBeforeAnyPayloadArrives()
    {
        assertFatal(header(FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH + 1, 2, 0x01, 0x01), ErrorCode.PAYLOAD_TOO_LARGE,
            String.valueOf(FrameHeader.DEFAULT_MAX_PAYLOAD_LENGTH + 1));
        assertFatal(header(0xFFFFFFFFL, 2, 0x01, 0x01), ErrorCode.PAYLOAD_TOO_LARGE, "4294967295");
        assertFatal(header(0x80000000L, 1, 0x01, 0), ErrorCode.PAYLOAD_TOO_LARGE, "2147483648");
    }

    @Test
    void shouldAcceptPayloadOfExactlyTheMaximumAndGrowOnlyAsNeeded()
    {
        final FrameDecoder decoder = new FrameDecoder(10_000);
        final RecordingHandler handler = new RecordingHandler();
        final byte[] frame = encoder.encode(FrameType.REQUEST, FrameFormat.JSON, new byte[10_000]);
        final ByteBuffer direct = ByteBuffer.allocateDirect(frame.length).put(frame).flip();
        decoder.decode(direct, handler);
        assertEquals(1, handler.frames.size());
        assertEquals(10_000, decoder.bufferCapacity());
        assertFatal(new FrameDecoder(10_000), header(10_001, 2, 1, 1), ErrorCode.PAYLOAD_TOO_LARGE, "10001");
    }

    @Test
    void shouldNotAllocateWhatAFramePromisesBeforeTheBytesArrive()
    {
        final FrameDecoder decoder = new FrameDecoder();
        final RecordingHandler handler = new RecordingHandler();
        final int initial = decoder.bufferCapacity();
        decoder.decode(ByteBuffer.wrap(header(1024 * 1024, 2, 0x01, 0x01)), handler);
        decoder.decode(ByteBuffer.wrap(new byte[100]), handler);
        assertTrue(decoder.hasPartialFrame());
        assertEquals(initial, decoder.bufferCapacity(), "a promise of 1 MiB with 100 bytes sent costs no more memory");

        final byte[] rest = new byte[1024 * 1024 - 100];
        rest[rest.length - 1] = 7;
        decoder.decode(ByteBuffer.wrap(rest), handler);
        assertEquals(1, handler.frames.size());
        assertEquals(initial, decoder.bufferCapacity(), "a big frame's buffer is not kept after it is delivered");
    }

    @Test
    void shouldReportFatalErrorAsSoonAsTheBadByteArrives()
    {
        final FrameDecoder decoder = new FrameDecoder();
        final RecordingHandler handler = new RecordingHandler();
        decoder.decode(ByteBuffer.wrap(new byte[]{ 0, 0, 0, 0 }), handler);
        assertFalse(decoder.isFailed());
        decoder.decode(ByteBuffer.wrap(new byte[]{ 9 }), handler);
        assertTrue(decoder.isFailed());
        assertEquals(ErrorCode.PROTOCOL_ERROR, decoder.failure());
    }

    @Test
    void shouldWriteBigEndianLengthWhateverTheBufferOrder()
    {
        final ByteBuffer dst = ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        final int written = encoder.encode(FrameType.CANCEL, FrameFormat.JSON, utf8("xx{}"), 2, 2, dst);
        assertEquals(9, written);
        final RecordingHandler handler = new RecordingHandler();
        new FrameDecoder().decode(dst.flip(), handler);
        assertEquals(FrameType.CANCEL, handler.frames.get(0).type());
        assertArrayEquals(utf8("{}"), handler.frames.get(0).payload());
    }

    @Test
    void shouldRefuseConfiguredMaximumsOutsideTheAllowedRange()
    {
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(0));
        assertThrows(IllegalArgumentException.class,
            () -> new FrameDecoder(FrameHeader.MAX_PAYLOAD_LENGTH_LIMIT + 1));
        assertEquals(FrameHeader.MAX_PAYLOAD_LENGTH_LIMIT,
            new FrameDecoder(FrameHeader.MAX_PAYLOAD_LENGTH_LIMIT).maxPayloadLength());
    }

    private static void assertFatal(final byte[] bytes, final ErrorCode code, final String mention)
    {
        assertFatal(new FrameDecoder(), bytes, code, mention);
    }

    private static void assertFatal(
        final FrameDecoder decoder, final byte[] bytes, final ErrorCode code, final String mention)
    {
        final RecordingHandler handler = new RecordingHandler();
        final byte[] withTrailer = new byte[bytes.length + 20];
        System.arraycopy(bytes, 0, withTrailer, 0, bytes.length);
        final ByteBuffer src = ByteBuffer.wrap(withTrailer);
        assertEquals(0, decoder.decode(src, handler));
        assertEquals(code, handler.fatal);
        assertEquals(1, handler.fatalCount);
        assertTrue(handler.reason.contains(mention), handler.reason);
        assertTrue(decoder.isFailed());
        assertEquals(0, decoder.decode(src, handler));
        assertEquals(1, handler.fatalCount);
        assertTrue(handler.frames.isEmpty());
    }
}
