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
