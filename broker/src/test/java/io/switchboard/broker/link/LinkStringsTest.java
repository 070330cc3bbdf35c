package io.switchboard.broker.link;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class LinkStringsTest
{
    private static UnsafeBuffer ascii(final String s, final int at)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[at + s.length() + 3]);
        b.putStringWithoutLengthAscii(at, s);
        return b;
    }

    @Test
    void theSameBytesGiveTheSameStringAndOtherBytesTheirOwn()
    {
        final LinkStrings strings = new LinkStrings();
        final String first = strings.get(ascii("prices.ACME", 5), 5, 11);
        assertEquals("prices.ACME", first);
        assertSame(first, strings.get(ascii("prices.ACME", 0), 0, 11), "taken from the cache");
        assertEquals("prices.ACMF", strings.get(ascii("prices.ACMF", 2), 2, 11));
        assertEquals("prices.ACM", strings.get(ascii("prices.ACME", 0), 0, 10), "a prefix is another string");
        assertEquals("", strings.get(ascii("", 0), 0, 0));
        // every slot overwritten many times: each answer is still the string of its own bytes
        for (int i = 0; i < 5 * LinkStrings.SLOTS; i++)
        {
            final String s = "subject." + i;
            assertEquals(s, strings.get(ascii(s, 1), 1, s.length()));
        }
        final String longer = "x".repeat(LinkStrings.MAX_CACHED_LENGTH + 1);
        assertEquals(longer, strings.get(ascii(longer, 0), 0, longer.length()));
        assertNotSame(strings.get(ascii(longer, 0), 0, longer.length()),
            strings.get(ascii(longer, 0), 0, longer.length()), "longer strings are not kept");
    }

    @Test
    void aRepeatedStringAllocatesNothing()
    {
        final LinkStrings strings = new LinkStrings();
        final UnsafeBuffer subject = new UnsafeBuffer("prices.ACME".getBytes(StandardCharsets.US_ASCII));
        final UnsafeBuffer type = new UnsafeBuffer("Json".getBytes(StandardCharsets.US_ASCII));
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        int total = 0;
        for (int i = 0; i < 20_000; i++) // warm up: compiled, as on the link thread
        {
            total += strings.get(subject, 0, 11).length() + strings.get(type, 0, 4).length();
        }
        final long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++)
        {
            total += strings.get(subject, 0, 11).length() + strings.get(type, 0, 4).length();
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(120_000 * 15, total);
        // before the cache the decoders made two strings per message: at least 100,000 x 2 x 40 bytes here
        assertTrue(allocated < 1_024, "expected no allocation for 100,000 repeated strings, found " + allocated +
            " bytes");
    }
}
