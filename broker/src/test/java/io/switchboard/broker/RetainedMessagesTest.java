package io.switchboard.broker;

import io.switchboard.codec.subject.SubjectPattern;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker's retained values: the last per subject, bounded in subjects and bytes, refused whole over a bound with
 * nothing evicted, replaced and cleared with their bytes given back.
 */
class RetainedMessagesTest
{
    @Test
    void shouldKeepTheLastValuePerSubjectAndCountReplacementsForTheDifference()
    {
        final RetainedMessages store = new RetainedMessages(10, 10_000);
        assertNull(store.put("a.b", new byte[100]));
        assertEquals(RetainedMessages.size("a.b", 100), store.bytes());
        final byte[] newer = new byte[300];
        newer[0] = 7;
        assertNull(store.put("a.b", newer));
        assertEquals(1, store.size());
        assertEquals(RetainedMessages.size("a.b", 300), store.bytes(), "the old value's bytes given back");
        assertArrayEquals(newer, store.get("a.b").message);
    }

    @Test
    void shouldClearASubjectAndGiveBackItsBytes()
    {
        final RetainedMessages store = new RetainedMessages(10, 10_000);
        assertNull(store.put("a.b", new byte[100]));
        assertNull(store.put("a.c", new byte[50]));
        assertTrue(store.clear("a.b"));
        assertFalse(store.clear("a.b"), "cleared already");
        assertFalse(store.clear("never.retained"));
        assertNull(store.get("a.b"));
        assertEquals(1, store.size());
        assertEquals(RetainedMessages.size("a.c", 50), store.bytes());
        assertTrue(store.clear("a.c"));
        assertEquals(0, store.bytes());
        assertTrue(store.isEmpty());
    }

    @Test
    void shouldRefuseOneSubjectTooManyWithoutEvictingButStillReplace()
    {
        final RetainedMessages store = new RetainedMessages(3, 1 << 20);
        for (int i = 0; i < 3; i++)
        {
            assertNull(store.put("s." + i, new byte[10]));
        }
        final String refusal = store.put("s.3", new byte[10]);
        assertNotNull(refusal);
        assertTrue(refusal.contains("at most 3 subjects"), refusal);
        assertNull(store.get("s.3"));
        assertEquals(3, store.size(), "nothing evicted");
        assertNull(store.put("s.1", new byte[20]), "a subject held already is replaced, not one more");
        assertTrue(store.clear("s.0"));
        assertNull(store.put("s.3", new byte[10]), "room again once one is cleared");
    }

    @Test
    void shouldRefuseAValueOverTheByteBoundWholeAndKeepWhatItHolds()
    {
        final long bound = RetainedMessages.size("k.1", 1000) + RetainedMessages.size("k.2", 1000);
        final RetainedMessages store = new RetainedMessages(100, bound);
        assertNull(store.put("k.1", new byte[1000]));
        assertNull(store.put("k.2", new byte[1000]), "exactly at the bound");
        final long held = store.bytes();
        final String refusal = store.put("k.3", new byte[1]);
        assertNotNull(refusal);
        assertTrue(refusal.contains("at most " + bound + " bytes"), refusal);
        assertEquals(held, store.bytes(), "nothing evicted");
        assertNotNull(store.put("k.1", new byte[1001]), "a larger replacement over the bound is refused too");
        assertEquals(1000, store.get("k.1").message.length, "and the old value kept");
        assertNull(store.put("k.1", new byte[10]), "a smaller one fits");
    }

    @Test
    void shouldRetainNothingWithZeroBounds()
    {
        assertNotNull(new RetainedMessages(0, 1 << 20).put("a", new byte[1]));
        assertNotNull(new RetainedMessages(10, 0).put("a", new byte[1]));
    }

    @Test
    void shouldStayWithinItsBoundsUnderAFloodOfSubjectsAndHugeValues()
    {
        final long maxBytes = 8L << 20;
        final RetainedMessages store = new RetainedMessages(5_000, maxBytes);
        int refused = 0;
        for (int i = 0; i < 50_000; i++)
        {
            if (null != store.put("flood." + i, new byte[i % 7 == 0 ? 1 << 20 : 100]))
            {
                refused++;
            }
            assertTrue(store.bytes() <= maxBytes, "bytes " + store.bytes());
            assertTrue(store.size() <= 5_000, "subjects " + store.size());
        }
        assertTrue(refused > 40_000, "refused " + refused);
        long counted = 0;
        for (final String subject : store.matching(SubjectPattern.compile(">")))
        {
            counted += store.get(subject).size;
        }
        assertEquals(store.bytes(), counted, "the bytes counted are the bytes held");
    }

    @Test
    void shouldFindTheSubjectsAPatternMatches()
    {
        final RetainedMessages store = new RetainedMessages(10, 1 << 20);
        store.put("prices.acme", new byte[1]);
        store.put("prices.globex", new byte[1]);
        store.put("prices.acme.bid", new byte[1]);
        store.put("orders.1", new byte[1]);
        assertEquals(Set.of("prices.acme", "prices.globex"),
            new HashSet<>(store.matching(SubjectPattern.compile("prices.*"))));
        assertEquals(Set.of("prices.acme", "prices.globex", "prices.acme.bid"),
            new HashSet<>(store.matching(SubjectPattern.compile("prices.>"))));
        assertEquals(List.of("orders.1"), store.matching(SubjectPattern.compile("orders.1")));
        assertTrue(store.matching(SubjectPattern.compile("none.>")).isEmpty());
    }
}
