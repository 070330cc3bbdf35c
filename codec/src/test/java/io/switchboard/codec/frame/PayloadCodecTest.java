package io.switchboard.codec.frame;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PayloadCodecTest
{
    private final PayloadCodec codec = new PayloadCodec();

    @Test
    void shouldRefuseMessagePackExtensionTypesAsASerializationError()
    {
        // {"a": ext(type 1, one byte)}: found by the million-case fuzz, it used to escape as IllegalStateException
        final byte[] payload = { (byte)0x81, (byte)0xA1, 'a', (byte)0xD4, 0x01, 0x00 };
        final FrameException ex = assertThrows(FrameException.class,
            () -> codec.read(FrameFormat.MSGPACK, payload, 0, payload.length));
        assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
        assertTrue(ex.getMessage().contains("extension"), ex.getMessage());
    }

    @Test
    void shouldReadPlainMessagePackValues()
    {
        // {"a": [1, true, nil]}
        final byte[] payload = { (byte)0x81, (byte)0xA1, 'a', (byte)0x93, 0x01, (byte)0xC3, (byte)0xC0 };
        assertEquals("{\"a\":[1,true,null]}", codec.read(FrameFormat.MSGPACK, payload, 0, payload.length).toString());
    }
}
