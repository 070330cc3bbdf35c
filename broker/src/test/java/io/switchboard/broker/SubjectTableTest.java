package io.switchboard.broker;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SubjectTableTest
{
    private final SubjectTable table = new SubjectTable(4);

    private List<Integer> subscribersOf(final String subject)
    {
        final List<Integer> ids = new ArrayList<>();
        table.forEachSubscriber(subject, ids::add);
        return ids;
    }

    @Test
    void shouldMatchEachSubscriberOnceWhateverItsOverlappingPatterns()
    {
        assertNull(table.subscribe(1, "prices.*"));
        assertNull(table.subscribe(1, "prices.ACME"));
        assertNull(table.subscribe(2, "prices.>"));
        assertNull(table.subscribe(3, "orders.>"));
        assertEquals(List.of(1, 2), subscribersOf("prices.ACME"));
        assertEquals(List.of(2), subscribersOf("prices.ACME.bid"));
        assertEquals(List.of(3), subscribersOf("orders.new"));
        assertEquals(List.of(), subscribersOf("other"));
    }

    @Test
    void shouldRefuseInvalidPatternsWithAReason()
    {
        final String problem = table.subscribe(1, "prices..x");
        assertNotNull(problem);
        assertTrue(problem.contains("prices..x"), problem);
        assertEquals(0, table.patternCount());
    }

    @Test
    void shouldUnsubscribeOneOrAll()
    {
        table.subscribe(1, "a.*");
        table.subscribe(1, "b.*");
        table.unsubscribe(1, "a.*");
        assertEquals(Set.of("b.*"), table.patterns(1));
        table.unsubscribe(1, "");
        assertEquals(Set.of(), table.patterns(1));
        assertEquals(0, table.patternCount());
    }

    @Test
    void shouldForgetADeadPeer()
    {
        table.subscribe(1, "a.*");
        table.subscribe(2, "a.*");
        table.removeClient(1);
        assertEquals(List.of(2), subscribersOf("a.x"));
    }

    @Test
    void shouldBoundPatternsPerPeer()
    {
        for (int i = 0; i < 4; i++)
        {
            assertNull(table.subscribe(1, "p" + i));
        }
        assertNotNull(table.subscribe(1, "p4"));
        assertNull(table.subscribe(1, "p0"), "re-subscribing a held pattern is not a new one");
    }
}
