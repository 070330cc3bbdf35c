package io.switchboard.transport;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.ConnectAckEncoder;
import io.switchboard.codec.wire.ControlAckEncoder;
import io.switchboard.codec.wire.DeclareSchemaDecoder;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.PeerGoneEncoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.RouteUpdateEncoder;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.CloseHelper;
import org.agrona.ExpandableDirectByteBuffer;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The broker's end of the control socket, played by the test: a real Unix socket in a directory of the test's own,
 * encoded control messages written and read with a {@link ControlConnection}; no broker process.
 */
final class FakeBroker implements AutoCloseable
{
    static final int HEARTBEAT_INTERVAL_MS = 100;

    private final ServerSocketChannel server;
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
    /** Template ids of the messages received from the client, in order. */
    final List<Integer> received = new ArrayList<>();
    /** Correlation ids of the control requests received, in order (register, subscribe, ...). */
    final List<Long> correlationIds = new ArrayList<>();
    private ControlConnection connection;
    private int nextClientId = 1;

    FakeBroker(final Path socket) throws IOException
    {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
    }

    /**
     * Accept a client and answer its Connect; run while the client's constructor or reconnection waits.
     *
     * @param inboxStreamId to assign.
     * @return the client id assigned.
     */
    int acceptAndAck(final int inboxStreamId) throws IOException
    {
        final SocketChannel channel = server.accept();
        connection = new ControlConnection(channel, Configuration.MAX_CONTROL_MESSAGE_LENGTH);
        awaitMessage();
        final int clientId = nextClientId++;
        final ConnectAckEncoder ack = new ConnectAckEncoder();
        ack.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .clientId(clientId)
            .inboxStreamId(inboxStreamId)
            .pubSubStreamId(5000)
            .heartbeatIntervalMs(HEARTBEAT_INTERVAL_MS)
            .termLength(64 * 1024)
            .aeronDirectory("/fake/aeron");
        send(MessageHeaderEncoder.ENCODED_LENGTH + ack.encodedLength());
        return clientId;
    }

    void routeUpdate(
        final RouteAction action, final String service, final int peerId, final int peerInbox, final String type,
        final int templateId) throws IOException
    {
        final RouteUpdateEncoder update = new RouteUpdateEncoder();
        update.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .action(action)
            .clientId(peerId)
            .inboxStreamId(peerInbox)
            .mode(ServiceMode.EXCLUSIVE)
            .pid(1000 + peerId)
            .inProcess(BooleanType.FALSE)
            .schemaId(-1)
            .schemaVersion(-1);
        update.messageTypesCount(1).next().templateId(templateId).name(type);
        update.service(service);
        update.peerName("peer-" + peerId);
        send(MessageHeaderEncoder.ENCODED_LENGTH + update.encodedLength());
    }

    void peerGone(final int peerId) throws IOException
    {
        final PeerGoneEncoder gone = new PeerGoneEncoder();
        gone.wrapAndApplyHeader(buffer, 0, headerEncoder).clientId(peerId);
        send(MessageHeaderEncoder.ENCODED_LENGTH + gone.encodedLength());
    }

    void ack(final long correlationId) throws IOException
    {
        final ControlAckEncoder ack = new ControlAckEncoder();
        ack.wrapAndApplyHeader(buffer, 0, headerEncoder).correlationId(correlationId);
        send(MessageHeaderEncoder.ENCODED_LENGTH + ack.encodedLength());
    }

    void retained(
        final long correlationId, final int publisherId, final int logSessionId, final long sequence,
        final String subject, final String payload) throws IOException
    {
        final io.switchboard.codec.wire.RetainedPublicationEncoder retained =
            new io.switchboard.codec.wire.RetainedPublicationEncoder();
        final byte[] bytes = payload.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        retained.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .publisherId(publisherId)
            .sequence(sequence)
            .timestampMs(77)
            .templateId(-1)
            .correlationId(correlationId)
            .logSessionId(logSessionId)
            .subject(subject)
            .messageType(subject)
            .putPayload(bytes, 0, bytes.length);
        send(MessageHeaderEncoder.ENCODED_LENGTH + retained.encodedLength());
    }

    private void send(final int length) throws IOException
    {
        if (!connection.send(buffer, 0, length))
        {
            throw new IOException("client not draining the control connection");
        }
        connection.flush();
    }

    /**
     * Read what the client sent so far.
     *
     * @return messages read.
     */
    int poll() throws IOException
    {
        return connection.poll((b, offset, length) ->
        {
            headerDecoder.wrap(b, offset);
            received.add(headerDecoder.templateId());
            final int templateId = headerDecoder.templateId();
            if (headerDecoder.blockLength() >= Long.BYTES &&
                ((templateId >= 4 && templateId <= 7) || DeclareSchemaDecoder.TEMPLATE_ID == templateId))
            {
                correlationIds.add(b.getLong(offset + MessageHeaderDecoder.ENCODED_LENGTH,
                    java.nio.ByteOrder.LITTLE_ENDIAN));
            }
        });
    }

    /**
     * Wait, with a deadline, until the client sent one more message.
     */
    void awaitMessage() throws IOException
    {
        final int before = received.size();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.size() == before)
        {
            if (poll() < 0)
            {
                throw new IOException("client closed the control connection");
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("no message from the client within 10 s");
            }
            Thread.yield();
        }
    }

    /**
     * Close the client's connection, as a dying broker would.
     */
    void dropConnection()
    {
        CloseHelper.quietClose(connection);
    }

    public void close()
    {
        CloseHelper.quietCloseAll(connection, server);
    }
}
