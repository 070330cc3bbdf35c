package io.switchboard.broker.gateway;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A connection's queue flushed by gathering writes: every byte once, in order, whatever the socket takes per write,
 * with the per-connection and gateway-wide byte counts and the push counts following what was written.
 */
class GatewaySessionFlushTest
{
    @Test
    void shouldWriteEveryFrameOnceInOrderWhateverEachGatheringWriteTakes() throws Exception
    {
        final GatewaySession.QueueBudget budget = new GatewaySession.QueueBudget(1 << 20);
        final int count = 3 * GatewaySession.GATHER + 5; // more frames than one gathering write holds
        final int pushes = (count + 2) / 3;
        final GatewaySession session = new GatewaySession(1, null, null, 1 << 20, pushes, 1 << 20, 1 << 20, budget, null);
        final ByteArrayOutputStream expected = new ByteArrayOutputStream();
        int frames = 0;
        for (int i = 0; i < count; i++)
        {
            final byte[] frame = new byte[1 + i % 7];
            for (int j = 0; j < frame.length; j++)
            {
                frame[j] = (byte)(i * 31 + j);
            }
            assertEquals(GatewaySession.QUEUED, session.enqueue(frame, 0 == i % 3));
            expected.write(frame);
            frames++;
        }
        assertTrue(session.pushWouldDrop(0), "as many pushes queued as the bound allows");
        assertEquals(expected.size(), session.queuedBytes());
        assertEquals(expected.size(), budget.queuedBytes);

        final TricklingChannel out = new TricklingChannel(5); // takes at most 5 bytes per write: frames split
        int writes = 0;
        while (session.hasQueued())
        {
            final int before = out.bytes.size();
            final int written = session.flushTo(out);
            assertEquals(out.bytes.size() - before, written);
            assertEquals(expected.size() - out.bytes.size(), session.queuedBytes());
            assertEquals(session.queuedBytes(), budget.queuedBytes);
            assertTrue(++writes <= expected.size(), "no progress");
        }
        assertArrayEquals(expected.toByteArray(), out.bytes.toByteArray());
        assertTrue(out.gathered > 0, "gathering writes were used");
        assertFalse(session.pushWouldDrop(0), "the pushes among the frames are counted out as written");
        assertTrue(frames > GatewaySession.GATHER);
    }

    /** A socket that takes at most so many bytes per write, and counts the gathering writes. */
    private static final class TricklingChannel implements GatheringByteChannel
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final int perWrite;
        int gathered;

        TricklingChannel(final int perWrite)
        {
            this.perWrite = perWrite;
        }

        public long write(final ByteBuffer[] srcs, final int offset, final int length)
        {
            gathered++;
            int budget = perWrite;
            long written = 0;
            for (int i = offset; i < offset + length && budget > 0; i++)
            {
                while (srcs[i].hasRemaining() && budget > 0)
                {
                    bytes.write(srcs[i].get());
                    budget--;
                    written++;
                }
            }
            return written;
        }

        public long write(final ByteBuffer[] srcs)
        {
            return write(srcs, 0, srcs.length);
        }

        public int write(final ByteBuffer src)
        {
            return (int)write(new ByteBuffer[]{ src }, 0, 1);
        }

        public boolean isOpen()
        {
            return true;
        }

        public void close()
        {
        }
    }
}
