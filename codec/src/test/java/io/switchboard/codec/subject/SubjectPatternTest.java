package io.switchboard.codec.subject;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class SubjectPatternTest
{
    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource({
        "prices.ACME, prices.ACME, true",
        "prices.ACME, prices.ACMEX, false",
        "prices.ACME, prices, false",
        "prices.ACME, prices.ACME.x, false",
        "PriceUpdate, PriceUpdate, true",
        "prices.*, prices.ACME, true",
        "prices.*, prices, false",
        "prices.*, prices.ACME.bid, false",
        "*.ACME, prices.ACME, true",
        "*.ACME, prices.OTHER, false",
        "*, prices, true",
        "*, prices.ACME, false",
        "orders.>, orders.new, true",
        "orders.>, orders.new.eu.1, true",
        "orders.>, orders, false",
        "orders.>, ordersx.new, false",
        ">, anything, true",
        ">, any.thing.at.all, true",
        "a.*.c.>, a.b.c.d, true",
        "a.*.c.>, a.b.c, false",
        "a.*.c.>, a.b.x.d, false",
    })
    void shouldMatchAsTheProtocolSays(final String pattern, final String subject, final boolean expected)
    {
        final SubjectPattern compiled = SubjectPattern.compile(pattern);
        assertEquals(expected, compiled.matches(subject));

        // the same subject in the middle of a larger buffer, as it lies in a term buffer
        final byte[] bytes = ("xx" + subject + "yy").getBytes(StandardCharsets.US_ASCII);
        assertEquals(expected, compiled.matches(new UnsafeBuffer(bytes), 2, subject.length()));
    }

    @Test
    void shouldMatchLiteralsByEveryByteAtEveryLengthAndOffset()
    {
        // literals are compared eight bytes a step and then byte by byte: a difference anywhere must be seen
        final StringBuilder text = new StringBuilder();
        for (int length = 1; length <= 40; length++)
        {
            text.append((char)('a' + length % 26));
            final String literal = text.toString();
            final SubjectPattern pattern = SubjectPattern.compile(literal);
            assertTrue(pattern.isLiteral());
            for (int offset = 0; offset < 8; offset++)
            {
                final byte[] bytes = new byte[offset + length + 9];
                final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
                buffer.putStringWithoutLengthAscii(offset, literal);
                assertTrue(pattern.matches(buffer, offset, length), literal + " at " + offset);
                assertFalse(pattern.matches(buffer, offset, length + 1), literal + " longer");
                for (int i = 0; i < length; i++)
                {
                    bytes[offset + i] = (byte)'Z';
                    assertFalse(pattern.matches(buffer, offset, length), literal + " differing at " + i);
                    bytes[offset + i] = (byte)literal.charAt(i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "a..b", ".a", "a.", "a.b*", "a.>.b", ">x", "a b", "caf\u00e9" })
    void shouldRejectMalformedPatterns(final String pattern)
    {
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> SubjectPattern.compile(pattern));
        assertTrue(ex.getMessage().contains("invalid pattern"), ex.getMessage());
    }

    @Test
    void shouldRejectWildcardsInSubjects()
    {
        assertNotNull(SubjectPattern.validateSubject("prices.*"));
        assertNotNull(SubjectPattern.validateSubject("prices.>"));
        assertNull(SubjectPattern.validateSubject("prices.ACME"));
    }

    @Test
    void shouldRejectOverlongPatterns()
    {
        assertNotNull(SubjectPattern.validatePattern("a".repeat(SubjectPattern.MAX_LENGTH + 1)));
        assertNull(SubjectPattern.validatePattern("a".repeat(SubjectPattern.MAX_LENGTH)));
    }

    @Test
    void shouldKnowLiteralPatterns()
    {
        assertTrue(SubjectPattern.compile("a.b").isLiteral());
        assertFalse(SubjectPattern.compile("a.*").isLiteral());
        assertFalse(SubjectPattern.compile("a.>").isLiteral());
    }

    @ParameterizedTest
    @CsvSource({ "prices.ACME, true", "a, true", "a..b, false", ".a, false", "a., false", "a.*, false", "a.>, false",
        "'a b', false", "'', false" })
    void shouldCheckSubjectsWithoutAllocatingTheSameWayAsValidate(final String subject, final boolean valid)
    {
        assertEquals(valid, SubjectPattern.isValidSubject(subject));
        assertEquals(valid, null == SubjectPattern.validateSubject(subject));
    }
}
