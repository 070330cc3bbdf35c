package io.switchboard.codec.subject;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AsciiBytesTest
{
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    @Test
    void shouldAgreeWithStringEqualsForEveryLengthAndEveryDifferingByte()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        for (int length = 0; length <= 20; length++)
        {
            final String text = ALPHABET.substring(0, length);
            final AsciiBytes bytes = new AsciiBytes(text);
            for (final int offset : new int[]{ 0, 3 }) // aligned and not
            {
                buffer.putBytes(offset, text.getBytes(StandardCharsets.US_ASCII));
                assertEquals(true, bytes.equalsIn(buffer, offset, length), "'" + text + "' at " + offset);
                if (length > 0)
                {
                    assertEquals(false, bytes.equalsIn(buffer, offset, length - 1), "shorter than '" + text + "'");
                }
                for (int i = 0; i < length; i++)
                {
                    final String other = text.substring(0, i) + 'X' + text.substring(i + 1);
                    buffer.putBytes(offset, other.getBytes(StandardCharsets.US_ASCII));
                    assertEquals(text.equals(other), bytes.equalsIn(buffer, offset, length),
                        "'" + text + "' against '" + other + "'");
                }
            }
        }
    }
}
