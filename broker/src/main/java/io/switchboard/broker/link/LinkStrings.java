package io.switchboard.broker.link;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * The ASCII strings of received link messages (subjects, message types, service names), taken from a small cache so
 * that the hot paths (a publication or a call across) do not allocate two strings per message: a string whose bytes
 * are in its slot is returned as it is; another one replaces the slot. Bounded in bytes: {@link #SLOTS} slots of at
 * most {@link #MAX_CACHED_LENGTH} bytes (about 100 KiB with the strings); longer strings are decoded each time.
 * <p>
 * Not thread-safe: used by the link conductor's thread only.
 */
final class LinkStrings
{
    /** Slots of the cache (a power of two). */
    static final int SLOTS = 256;
    /** Strings longer than this are not cached. */
    static final int MAX_CACHED_LENGTH = 128;

    private final byte[][] bytes = new byte[SLOTS][];
    private final String[] strings = new String[SLOTS];

    /**
     * The ASCII string in the buffer, from the cache if its bytes are there.
     *
     * @param buffer holding the string.
     * @param offset of its first byte.
     * @param length in bytes.
     * @return the string.
     */
    String get(final DirectBuffer buffer, final int offset, final int length)
    {
        if (0 == length)
        {
            return "";
        }
        if (length > MAX_CACHED_LENGTH)
        {
            return buffer.getStringWithoutLengthAscii(offset, length);
        }
        int hash = length;
        for (int i = 0; i < length; i++)
        {
            hash = 31 * hash + buffer.getByte(offset + i);
        }
        final int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
        final byte[] cached = bytes[slot];
        if (null != cached && cached.length == length && sameBytes(cached, buffer, offset))
        {
            return strings[slot];
        }
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        final String s = new String(copy, StandardCharsets.US_ASCII);
        bytes[slot] = copy;
        strings[slot] = s;
        return s;
    }

    private static boolean sameBytes(final byte[] cached, final DirectBuffer buffer, final int offset)
    {
        for (int i = 0; i < cached.length; i++)
        {
            if (cached[i] != buffer.getByte(offset + i))
            {
                return false;
            }
        }
        return true;
    }
}
