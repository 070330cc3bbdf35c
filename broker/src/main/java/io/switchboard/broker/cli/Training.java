package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHandler;
import io.switchboard.codec.frame.FrameType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run that the launcher records the class-data sharing archive from ({@code switchboard __train}): the
 * tool's usual commands against a stand-in gateway on a socket of its own, so that the archive holds the classes a
 * real command loads (picocli, Jackson, the frame codec, NIO sockets). Needs no broker; prints nothing.
 */
final class Training
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Training()
    {
    }

    static void run() throws Exception
    {
        final Path dir = Files.createTempDirectory("sb-cli-train"); // 0700
        final Path socket = dir.resolve("broker.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(socket));
            final Thread gateway = new Thread(() -> serve(server), "train-gateway");
            gateway.setDaemon(true);
            gateway.start();
            final PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
            final String[][] runs = {
                {"--socket", socket.toString(), "call", "svc", "Type", "a:=1", "b=x"},
                {"call", "svc", "Type", "--json", "--timeout=5", "--socket", socket.toString(), "{\"a\": 1}"},
                {"--socket", socket.toString(), "services"},
                {"--socket", socket.toString(), "stats"},
                {"--socket", socket.toString(), "publish", "a.b", "-"},
                {"--help"}, {"call", "--help"}, {"call", "--bad"}, {"completion", "bash"}, {"--version"},
                // the operator commands (the launcher trains with their --add-opens)
                {"--socket", socket.toString(), "stat"},
                {"--socket", socket.toString(), "connections"},
                {"--socket", socket.toString(), "top", "--count", "1", "--interval", "0.01"},
                {"--socket", socket.toString(), "errors"},
            };
            for (final String[] args : runs)
            {
                SwitchboardCli.run(sink, sink, new ByteArrayInputStream("{\"n\":1}".getBytes(StandardCharsets.UTF_8)),
                    args);
            }
        }
        finally
        {
            try (java.util.stream.Stream<Path> files = Files.walk(dir)) // what the operator commands left there
            {
                for (final Path file : (Iterable<Path>)files.sorted(java.util.Comparator.reverseOrder())::iterator)
                {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    private static void serve(final ServerSocketChannel server)
    {
        while (true)
        {
            try (SocketChannel channel = server.accept())
            {
                final FrameDecoder decoder = new FrameDecoder();
                final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
                boolean open = true;
                while (open && channel.read(buffer) >= 0)
                {
                    buffer.flip();
                    final java.util.List<byte[]> answers = new java.util.ArrayList<>();
                    decoder.decode(buffer, new FrameHandler()
                    {
                        public void onFrame(final int version, final FrameType type, final FrameFormat format,
                            final byte[] payload, final int offset, final int length)
                        {
                            final JsonNode body;
                            try
                            {
                                body = Json.read(payload, offset, length);
                            }
                            catch (final IOException ex)
                            {
                                return;
                            }
                            final ObjectNode answer = NODES.objectNode()
                                .put("correlation_id", body.path("correlation_id").asText()).put("success", true);
                            answer.putObject("payload").put("value", 1);
                            answer.putArray("services").addObject().put("name", "svc").put("instances", 1)
                                .putArray("message_types").add("Type");
                            final byte[] bytes = Json.writeBytes(answer);
                            answers.add(ByteBuffer.allocate(7 + bytes.length).putInt(bytes.length).put((byte)2)
                                .put((byte)FrameType.RESPONSE.code()).put((byte)1).put(bytes).array());
                        }

                        public void onFatalError(final ErrorCode code, final String reason)
                        {
                        }
                    });
                    buffer.compact();
                    for (final byte[] answer : answers)
                    {
                        final ByteBuffer out = ByteBuffer.wrap(answer);
                        while (out.hasRemaining())
                        {
                            channel.write(out);
                        }
                    }
                }
            }
            catch (final IOException ex)
            {
                return;
            }
        }
    }
}
