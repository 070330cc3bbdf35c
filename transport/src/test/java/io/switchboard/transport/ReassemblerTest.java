package io.switchboard.transport;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * How the {@link Reassembler} lets go of messages left unfinished (issue 11): when the writer's image goes away, when
 * it begins another, when no piece comes within the expiry, when the session ends; and what it counts for each.
 */
class ReassemblerTest
{
    private static final int MESSAGE = 1000;
    private static final int PIECE = 400;
    private static final long EXPIRY_NS = 2_000_000_000L;

    private final ClientCounters counters = new ClientCounters("reassembler-test");
    private final List<Throwable> errors = new ArrayList<>();
    private final Reassembler reassembler = new Reassembler(10_000, 4_000, EXPIRY_NS, counters, errors::add);
    private final List<Integer> whole = new ArrayList<>();
    private final FragmentHandler target = (buffer, offset, length, header) -> whole.add(length);
    private final FragmentHeader fragmentHeader = new FragmentHeader();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[Reassembler.HEADER_LENGTH + PIECE]);

    @AfterEach
    void close()
    {
        counters.close();
    }

    @Test
    void shouldJoinAMessageAndCountNothing()
    {
        piece(7, 0, 0);
        piece(7, 400, 0);
        piece(7, 800, 0);
        assertEquals(List.of(MESSAGE), whole);
        assertEquals(0, reassembler.heldBytes());
        assertEquals(0, counters.partialsDropped() + counters.partialsExpired());
    }

    @Test
    void shouldLetGoOfTheMessageOfAnImageThatWentAway()
    {
        piece(7, 0, 0);
        piece(8, 0, 0);
        assertEquals(2 * MESSAGE, reassembler.heldBytes());

        assertEquals(1, reassembler.onImageGone(Reassembler.key(Reassembler.INBOX, 7)));
        assertEquals(MESSAGE, reassembler.heldBytes(), "the other writer's message is kept");
        assertEquals(1, counters.partialsDropped());
        assertEquals(0, reassembler.onImageGone(Reassembler.key(Reassembler.INBOX, 7)), "nothing left of it");
        assertEquals(0, reassembler.onImageGone(Reassembler.key(Reassembler.PUB_SUB, 8)), "another log's image");

        piece(7, 400, 0); // a late piece of the dropped message is skipped
        piece(8, 400, 0);
        piece(8, 800, 0);
        assertEquals(List.of(MESSAGE), whole);
        assertEquals(0, reassembler.heldBytes());
        assertEquals(1, counters.partialsDropped());
    }

    @Test
    void shouldCountAMessageItsWriterGaveUpForAnother()
    {
        piece(7, 0, 0);
        piece(7, 0, 0);
        assertEquals(MESSAGE, reassembler.heldBytes());
        assertEquals(1, counters.partialsDropped());
    }

    @Test
    void shouldCountExpiredMessagesApartFromDroppedOnes()
    {
        piece(7, 0, 0);
        piece(8, 0, EXPIRY_NS);
        assertEquals(0, reassembler.expire(EXPIRY_NS));
        assertEquals(1, reassembler.expire(EXPIRY_NS + 1));
        assertEquals(1, counters.partialsExpired());
        assertEquals(0, counters.partialsDropped());
        assertEquals(MESSAGE, reassembler.heldBytes());

        reassembler.clear(); // the session ended
        assertEquals(1, counters.partialsDropped());
        assertEquals(0, reassembler.heldBytes());
    }

    @Test
    void shouldCountAMessageOverTheBoundAsDropped()
    {
        for (int session = 1; session <= 10; session++)
        {
            piece(session, 0, 0);
        }
        assertEquals(10 * MESSAGE, reassembler.heldBytes());
        piece(11, 0, 0);
        assertEquals(10 * MESSAGE, reassembler.heldBytes());
        assertEquals(1, counters.partialsDropped());
        assertEquals(1, errors.size());
        assertInstanceOf(SwitchboardException.class, errors.get(0));
    }

    private void piece(final int sessionId, final int position, final long nowNs)
    {
        fragmentHeader.encode(MESSAGE, position);
        frame.putBytes(0, fragmentHeader.buffer, 0, Reassembler.HEADER_LENGTH);
        final int length = Math.min(PIECE, MESSAGE - position);
        frame.setMemory(Reassembler.HEADER_LENGTH, length, (byte)'x');
        reassembler.onFragment(
            Reassembler.INBOX, frame, 0, Reassembler.HEADER_LENGTH + length, header(sessionId), target, nowNs);
    }

    private static Header header(final int sessionId)
    {
        final UnsafeBuffer data = new UnsafeBuffer(new byte[DataHeaderFlyweight.HEADER_LENGTH]);
        data.putInt(DataHeaderFlyweight.SESSION_ID_FIELD_OFFSET, sessionId, ByteOrder.LITTLE_ENDIAN);
        return new Header(0, 0).buffer(data).offset(0);
    }
}
