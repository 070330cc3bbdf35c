package io.switchboard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service served over the socket by raw PROTOCOL.md frames, on a thread of its own: REGISTER first, then
 * {@link #start()} answers every REQUEST the broker forwards. It knows three message types, whatever the service's
 * name: {@code Add} ({@code {a, b}} answered {@code {value: a + b, by: tag}}), {@code Who} (answered
 * {@code {by: tag}}) and {@code Countdown} ({@code {from}} answered with STREAM frames {@code {remaining}} from
 * {@code from - 1} down to 0, then the final frame). Anything else is answered {@code UNKNOWN_MESSAGE_TYPE}.
 */
final class SocketServicePeer implements AutoCloseable
{
    static final int REGISTER = 0x0A;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RawSocketClient socket;
    private final String tag;
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running = true;
    private Thread thread;
    private int nextId;

    /**
     * @param socket path of the broker's socket.
     * @param tag this instance's name, in every {@code by} it answers.
     */
    SocketServicePeer(final Path socket, final String tag) throws IOException
    {
        this.socket = new RawSocketClient(socket);
        this.tag = tag;
    }

    /**
     * REGISTER a service and read the broker's answer; call before {@link #start()}.
     *
     * @return the RESPONSE or the ERROR frame that answered it.
     */
    RawSocketClient.Frame register(final String service, final String mode, final String... messageTypes)
        throws IOException
    {
        if (null != thread)
        {
            throw new IllegalStateException("register before start");
        }
        final String correlationId = tag + "-register-" + nextId++;
        final ObjectNode body = JSON.createObjectNode().put("correlation_id", correlationId).put("service", service)
            .put("mode", mode);
        final com.fasterxml.jackson.databind.node.ArrayNode types = body.putArray("message_types");
        for (final String type : messageTypes)
        {
            types.add(type);
        }
        socket.send(REGISTER, body.toString());
        return answer(socket, correlationId, 10_000);
    }

    /**
     * Serve the registered services on a thread of this peer's own.
     */
    SocketServicePeer start()
    {
        thread = new Thread(this::run, "socket-service-" + tag);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /**
     * @return how many requests this peer has answered.
     */
    int served()
    {
        return served.get();
    }

    private void run()
    {
        try
        {
            while (running)
            {
                final RawSocketClient.Frame frame = socket.read(20);
                if (null != frame && RawSocketClient.REQUEST == frame.type)
                {
                    serve(frame.body);
                }
            }
        }
        catch (final Throwable t)
        {
            failure.set(t);
        }
    }

    private void serve(final JsonNode request) throws IOException
    {
        final String correlationId = request.path("correlation_id").asText();
        final String type = request.path("message_type").asText();
        final JsonNode payload = request.path("payload");
        switch (type)
        {
            case "Add":
                respond(correlationId, JSON.createObjectNode()
                    .put("value", payload.path("a").asLong() + payload.path("b").asLong()).put("by", tag));
                break;

            case "Who":
                respond(correlationId, JSON.createObjectNode().put("by", tag));
                break;

            case "Countdown":
                final int from = payload.path("from").asInt();
                for (int remaining = from - 1, sequence = 0; remaining >= 0; remaining--, sequence++)
                {
                    final ObjectNode frame = JSON.createObjectNode().put("correlation_id", correlationId)
                        .put("sequence", sequence).put("is_final", false);
                    frame.putObject("payload").put("remaining", remaining);
                    socket.send(RawSocketClient.STREAM, frame.toString());
                }
                socket.send(RawSocketClient.STREAM, JSON.createObjectNode().put("correlation_id", correlationId)
                    .put("sequence", Math.max(0, from)).put("is_final", true).toString());
                break;

            default:
                socket.send(RawSocketClient.ERROR, JSON.createObjectNode().put("correlation_id", correlationId)
                    .put("success", false).put("error_code", "UNKNOWN_MESSAGE_TYPE")
                    .put("error", "socket peer " + tag + " serves Add, Who and Countdown, not '" + type + "'")
                    .toString());
                break;
        }
        served.incrementAndGet();
    }

    private void respond(final String correlationId, final JsonNode payload) throws IOException
    {
        final ObjectNode response = JSON.createObjectNode().put("correlation_id", correlationId).put("success", true);
        response.set("payload", payload);
        socket.send(RawSocketClient.RESPONSE, response.toString());
    }

    /**
     * Read until the RESPONSE or ERROR for the correlation id; fail after the deadline, naming what came instead.
     */
    static RawSocketClient.Frame answer(final RawSocketClient client, final String correlationId, final long timeoutMs)
        throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        final StringBuilder others = new StringBuilder();
        while (System.nanoTime() - deadline < 0)
        {
            final RawSocketClient.Frame frame =
                client.read(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (null == frame)
            {
                break;
            }
            if ((RawSocketClient.RESPONSE == frame.type || RawSocketClient.ERROR == frame.type) &&
                correlationId.equals(frame.body.path("correlation_id").asText()))
            {
                return frame;
            }
            others.append(' ').append(frame);
        }
        throw new AssertionError("no RESPONSE or ERROR for '" + correlationId + "' within " + timeoutMs + " ms" +
            (others.length() > 0 ? "; other frames:" + others : ""));
    }

    /**
     * Stop serving and close the connection (the broker withdraws what it served); fail if serving failed.
     */
    public void close() throws Exception
    {
        running = false;
        if (null != thread)
        {
            thread.join(10_000);
        }
        socket.close();
        final Throwable t = failure.get();
        if (null != t)
        {
            throw new AssertionError("socket peer " + tag + " failed while serving", t);
        }
    }
}
