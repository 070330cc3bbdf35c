package io.switchboard.codec.frame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds the standard bodies of PROTOCOL.md. Optional fields that are absent are omitted, never
 * written as null: a {@code null} or JSON-null payload, error or code leaves its field out.
 */
public final class FrameBodies
{
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private FrameBodies()
    {
    }

    /**
     * RESPONSE body: {@code {correlation_id, success: true, payload?}}.
     *
     * @param correlationId of the request answered.
     * @param payload       of the answer, or {@code null} for none.
     * @return the body.
     */
    public static ObjectNode response(final String correlationId, final JsonNode payload)
    {
        final ObjectNode body = NODES.objectNode();
        body.put("correlation_id", correlationId);
        body.put("success", true);
        putIfPresent(body, "payload", payload);
        return body;
    }

    /**
     * ERROR body: {@code {correlation_id, success: false, error, error_code}}.
     *
     * @param correlationId of the request answered; "" for a protocol error.
     * @param code          of the failure.
     * @param message       naming what failed, or {@code null}.
     * @return the body.
     */
    public static ObjectNode error(final String correlationId, final ErrorCode code, final String message)
    {
        return error(correlationId, code.name(), message);
    }

    /**
     * ERROR body with a code that may be a service's own: {@code {correlation_id, success: false, error?, error_code?}}.
     *
     * @param correlationId of the request answered.
     * @param code          text of the failure, or {@code null}.
     * @param message       naming what failed, or {@code null}.
     * @return the body.
     */
    public static ObjectNode error(final String correlationId, final String code, final String message)
    {
        final ObjectNode body = NODES.objectNode();
        body.put("correlation_id", correlationId);
        body.put("success", false);
        putIfPresent(body, "error", message);
        putIfPresent(body, "error_code", code);
        return body;
    }

    /**
     * STREAM data frame: {@code {correlation_id, sequence, is_final: false, payload?}}.
     *
     * @param correlationId of the stream request.
     * @param sequence      of this data frame, from 0.
     * @param payload       of this frame, or {@code null}.
     * @return the body.
     */
    public static ObjectNode streamData(final String correlationId, final long sequence, final JsonNode payload)
    {
        final ObjectNode body = streamHead(correlationId, sequence, false);
        putIfPresent(body, "payload", payload);
        return body;
    }

    /**
     * Final STREAM frame of a stream that completed: {@code {correlation_id, sequence, is_final: true}}.
     *
     * @param correlationId of the stream request.
     * @param dataFrames    count of data frames sent, which is the final frame's sequence.
     * @return the body.
     */
    public static ObjectNode streamEnd(final String correlationId, final long dataFrames)
    {
        return streamHead(correlationId, dataFrames, true);
    }

    /**
     * Final STREAM frame of a stream that failed or was refused:
     * {@code {correlation_id, sequence, is_final: true, error?, error_code?}}.
     *
     * @param correlationId of the stream request.
     * @param dataFrames    count of data frames sent before the failure.
     * @param code          text of the failure, or {@code null}.
     * @param message       naming what failed, or {@code null}.
     * @return the body.
     */
    public static ObjectNode streamError(
        final String correlationId, final long dataFrames, final String code, final String message)
    {
        final ObjectNode body = streamHead(correlationId, dataFrames, true);
        putIfPresent(body, "error", message);
        putIfPresent(body, "error_code", code);
        return body;
    }

    /**
     * PUSH body: {@code {notification_id, message_type, payload, timestamp_ms, source_actor?, sequence}}.
     * The payload is always present (JSON null if {@code null}).
     *
     * @param notificationId unique id of the notification.
     * @param messageType    the concrete subject published.
     * @param payload        of the publication.
     * @param timestampMs    wall-clock time of publication in milliseconds.
     * @param sourceActor    publisher's name, or {@code null}.
     * @param sequence       per subscription, from 1.
     * @return the body.
     */
    public static ObjectNode push(
        final String notificationId,
        final String messageType,
        final JsonNode payload,
        final long timestampMs,
        final String sourceActor,
        final long sequence)
    {
        final ObjectNode body = NODES.objectNode();
        body.put("notification_id", notificationId);
        body.put("message_type", messageType);
        body.set("payload", null == payload ? NODES.nullNode() : payload);
        body.put("timestamp_ms", timestampMs);
        putIfPresent(body, "source_actor", sourceActor);
        body.put("sequence", sequence);
        return body;
    }

    /**
     * HEARTBEAT body: {@code {}}, never empty bytes.
     *
     * @return a new empty object.
     */
    public static ObjectNode heartbeat()
    {
        return NODES.objectNode();
    }

    private static ObjectNode streamHead(final String correlationId, final long sequence, final boolean isFinal)
    {
        final ObjectNode body = NODES.objectNode();
        body.put("correlation_id", correlationId);
        body.put("sequence", sequence);
        body.put("is_final", isFinal);
        return body;
    }

    private static void putIfPresent(final ObjectNode body, final String name, final JsonNode value)
    {
        if (null != value && !value.isNull() && !value.isMissingNode())
        {
            body.set(name, value);
        }
    }

    private static void putIfPresent(final ObjectNode body, final String name, final String value)
    {
        if (null != value)
        {
            body.put(name, value);
        }
    }
}
