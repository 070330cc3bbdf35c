package io.switchboard.examples;

import io.switchboard.codec.wire.ConnectEncoder;
import io.switchboard.codec.wire.ControlErrorDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RegisterEncoder;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.codec.wire.SubscribeEncoder;
import io.switchboard.transport.Switchboard;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Raw Unix-socket peers misbehave on the broker's control socket: they never send Connect, announce messages longer
 * than the maximum, promise the maximum and send a few bytes, send junk by the thousand, and register and subscribe
 * past their own limits. Each gets a typed ControlError, memory follows the bytes that arrived, the log holds one
 * line per abusive connection, and a well-behaved Java peer is served afterwards.
 */
@Timeout(120)
class ControlSocketAbuseSystemTest
{
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();

    @Test
    void shouldAnswerAbuseWithTypedErrorsBoundedMemoryAndOneLogLinePerConnection() throws Exception
    {
        try (BrokerProcess broker = new BrokerProcess(List.of(
            "-Dswitchboard.control.connect.timeout.ms=500",
            "-Dswitchboard.max.services.per.peer=3",
            "-Dswitchboard.max.patterns.per.peer=2")))
        {
            // never sends Connect: TIMEOUT, then end of file
            try (SocketChannel silent = open(broker))
            {
                assertError(silent, "TIMEOUT", "Connect within 500 ms");
                assertNull(readFrame(silent, 5_000), "closed after the connect timeout");
            }

            // announces one byte more than the maximum: PAYLOAD_TOO_LARGE before any buffer grows, then closed
            try (SocketChannel oversize = open(broker))
            {
                writeRaw(oversize, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 4 * 1024 * 1024 + 1));
                assertError(oversize, "PAYLOAD_TOO_LARGE", "expected 1..4194304, actual=4194305");
                assertNull(readFrame(oversize, 5_000), "closed after an oversize announcement");
            }

            // 40 connections each promising the maximum (4 MiB) and sending 160 bytes: no 8 MiB per promise
            final long rssBeforeKb = broker.rssKb();
            final List<SocketChannel> promises = new ArrayList<>();
            try
            {
                for (int i = 0; i < 40; i++)
                {
                    final SocketChannel c = open(broker);
                    promises.add(c);
                    writeRaw(c, ByteBuffer.allocate(164).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 4 * 1024 * 1024));
                }
                // they are answered TIMEOUT for never completing Connect, and closed
                for (final SocketChannel c : promises)
                {
                    assertError(c, "TIMEOUT", "Connect within");
                }
                final long grownKb = broker.rssKb() - rssBeforeKb;
                assertTrue(grownKb < 64 * 1024, "40 promises of 4 MiB grew the broker by " + grownKb + " KiB");
            }
            finally
            {
                for (final SocketChannel c : promises)
                {
                    c.close();
                }
            }

            // junk after a good Connect: every message answered PROTOCOL_ERROR, one log line for the connection
            try (SocketChannel junk = open(broker))
            {
                connect(junk, "junk");
                final int junkCount = 1_000;
                final ByteBuffer bytes = ByteBuffer.allocate(junkCount * 12).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < junkCount; i++)
                {
                    bytes.putInt(8).putLong(0x0badc0de_0badc0deL + i);
                }
                bytes.flip();
                writeRaw(junk, bytes);
                for (int i = 0; i < junkCount; i++)
                {
                    assertError(junk, "PROTOCOL_ERROR", "");
                }
                // one log record (its stack trace, which repeats the message, follows on lines of its own)
                assertEquals(1, count(broker.process.output(), "switchboard.broker: ", "peer", "(junk,",
                    "further errors on this connection"),
                    "one log line for " + junkCount + " junk messages:\n" + broker.process.output());
            }

            // past the per-peer limits: the fourth service and the third pattern are refused, typed
            try (SocketChannel greedy = open(broker))
            {
                connect(greedy, "greedy");
                for (int i = 1; i <= 4; i++)
                {
                    register(greedy, i, "greedy_" + i);
                    final String status = readStatus(greedy, i);
                    assertEquals(i <= 3 ? "OK" : "INVALID_REQUEST", status, "registration " + i);
                }
                for (int i = 1; i <= 3; i++)
                {
                    subscribe(greedy, 100 + i, "greedy.p" + i);
                    assertEquals(i <= 2 ? "OK" : "INVALID_REQUEST", readStatus(greedy, 100 + i), "pattern " + i);
                }
                broker.process.awaitLine("per-peer service limit: expected at most 3", 5_000);
            }

            // and a well-behaved peer is served
            try (Switchboard client = broker.connect("after-abuse"))
            {
                assertTrue(!client.isBrokerLost(), "a well-behaved peer is connected after the abuse");
            }
        }
    }

    private static int count(final String output, final String... all)
    {
        int n = 0;
        for (final String line : output.split("\n"))
        {
            boolean match = true;
            for (final String part : all)
            {
                match &= line.contains(part);
            }
            n += match ? 1 : 0;
        }
        return n;
    }

    private static SocketChannel open(final BrokerProcess broker) throws IOException
    {
        final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(broker.socketDir.resolve("control.sock")));
        return channel;
    }

    private static void writeRaw(final SocketChannel channel, final ByteBuffer bytes) throws IOException
    {
        while (bytes.hasRemaining())
        {
            channel.write(bytes);
        }
    }

    private void send(final SocketChannel channel, final int length) throws IOException
    {
        final ByteBuffer frame = ByteBuffer.allocate(4 + length).order(ByteOrder.LITTLE_ENDIAN);
        frame.putInt(length);
        buffer.getBytes(0, frame, 4, length);
        frame.position(0).limit(4 + length);
        writeRaw(channel, frame);
    }

    private void connect(final SocketChannel channel, final String name) throws IOException
    {
        final ConnectEncoder connect = new ConnectEncoder().wrapAndApplyHeader(buffer, 0, header)
            .protocolVersion(io.switchboard.transport.Configuration.CONTROL_PROTOCOL_VERSION)
            .pid(4_000_000)
            .clientName(name);
        send(channel, MessageHeaderEncoder.ENCODED_LENGTH + connect.encodedLength());
        final ByteBuffer ack = readFrame(channel, 10_000);
        assertNotNull(ack, "ConnectAck");
        assertEquals(2, new MessageHeaderDecoder().wrap(new UnsafeBuffer(ack), 0).templateId(), "ConnectAck");
    }

    private void register(final SocketChannel channel, final long correlationId, final String service) throws IOException
    {
        final RegisterEncoder register = new RegisterEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(correlationId)
            .mode(ServiceMode.EXCLUSIVE);
        register.messageTypesCount(1).next().templateId(-1).name("Opaque");
        register.service(service);
        register.putSchemaIr(new byte[0], 0, 0);
        send(channel, MessageHeaderEncoder.ENCODED_LENGTH + register.encodedLength());
    }

    private void subscribe(final SocketChannel channel, final long correlationId, final String pattern)
        throws IOException
    {
        final SubscribeEncoder subscribe = new SubscribeEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(correlationId)
            .pattern(pattern);
        send(channel, MessageHeaderEncoder.ENCODED_LENGTH + subscribe.encodedLength());
    }

    /** The status answering a correlation id: "OK" for a ControlAck; route updates on the way are skipped. */
    private static String readStatus(final SocketChannel channel, final long correlationId) throws IOException
    {
        while (true)
        {
            final ByteBuffer frame = readFrame(channel, 10_000);
            assertNotNull(frame, "an answer to " + correlationId);
            final UnsafeBuffer b = new UnsafeBuffer(frame);
            final MessageHeaderDecoder h = new MessageHeaderDecoder().wrap(b, 0);
            if (h.templateId() == ControlErrorDecoder.TEMPLATE_ID)
            {
                final ControlErrorDecoder e = new ControlErrorDecoder().wrapAndApplyHeader(b, 0, h);
                if (e.correlationId() == correlationId)
                {
                    return e.status().name();
                }
            }
            else if (h.templateId() == 10 && b.getLong(MessageHeaderDecoder.ENCODED_LENGTH, ByteOrder.LITTLE_ENDIAN) ==
                correlationId)
            {
                return "OK";
            }
        }
    }

    private static void assertError(final SocketChannel channel, final String status, final String containing)
        throws IOException
    {
        final ByteBuffer frame = readFrame(channel, 10_000);
        assertNotNull(frame, "expected a ControlError " + status);
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        final MessageHeaderDecoder h = new MessageHeaderDecoder().wrap(b, 0);
        assertEquals(ControlErrorDecoder.TEMPLATE_ID, h.templateId(), "ControlError");
        final ControlErrorDecoder e = new ControlErrorDecoder().wrapAndApplyHeader(b, 0, h);
        assertEquals(status, e.status().name());
        final String message = e.message();
        assertTrue(message.contains(containing), message);
    }

    /** One length-prefixed frame, or null at end of file or after the timeout. */
    private static ByteBuffer readFrame(final SocketChannel channel, final long timeoutMs) throws IOException
    {
        channel.configureBlocking(false);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        final ByteBuffer length = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        if (!fill(channel, length, deadline))
        {
            return null;
        }
        final ByteBuffer body = ByteBuffer.allocate(length.getInt(0)).order(ByteOrder.LITTLE_ENDIAN);
        return fill(channel, body, deadline) ? body.flip() : null;
    }

    private static boolean fill(final SocketChannel channel, final ByteBuffer into, final long deadline)
        throws IOException
    {
        while (into.hasRemaining())
        {
            final int n;
            try
            {
                n = channel.read(into);
            }
            catch (final IOException reset)
            {
                return false;
            }
            if (n < 0 || System.nanoTime() - deadline > 0)
            {
                return false;
            }
            if (0 == n)
            {
                Thread.yield();
            }
        }
        return true;
    }
}
