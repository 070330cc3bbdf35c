package io.switchboard.codec.frame;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Tests on eight bytes at once (a long read from a byte array), for the scans of long payloads: whether any byte is
 * a given value, or below one, or not ASCII. Each test is exact as a yes or no (it does not say which byte).
 */
final class Swar
{
    /** Eight bytes of a byte array as a long, at any index. */
    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final long HIGH_BITS = 0x8080_8080_8080_8080L;
    static final long ONES = 0x0101_0101_0101_0101L;
    static final long QUOTES = 0x2222_2222_2222_2222L;
    static final long BACKSLASHES = 0x5C5C_5C5C_5C5C_5C5CL;

    private Swar()
    {
    }

    /**
     * @param word eight bytes.
     * @param repeated the byte looked for, in each of the eight.
     * @return true if a byte of the word is that byte.
     */
    static boolean hasByte(final long word, final long repeated)
    {
        final long x = word ^ repeated;
        return 0 != ((x - ONES) & ~x & HIGH_BITS);
    }

    /**
     * @param word eight bytes, none with its high bit set.
     * @param n at most 128.
     * @return true if a byte of the word is below {@code n}.
     */
    static boolean hasByteBelow(final long word, final int n)
    {
        return 0 != ((word - ONES * n) & ~word & HIGH_BITS);
    }
}
