package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.json.TranscodeException;
import org.agrona.ExpandableArrayBuffer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the JSON a socket server answers with into the SBE message its Java callers expect, for a socket connection
 * that serves a share of a name Java peers serve with an SBE schema.
 * <p>
 * A socket RESPONSE or STREAM frame says nothing of the SBE type of its payload, so the type is the one the frame
 * names in an optional {@code message_type} field, else the one message of the schema whose field names are exactly
 * the payload's keys, else the one whose field names include them all. Anything else is refused with the candidates
 * named, so the socket server learns what to send.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class SchemaReplies
{
    private final SbeJsonTranscoder transcoder;
    private final Map<String, Set<String>> fieldsByType = new LinkedHashMap<>();
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);

    /**
     * @param transcoder of the service's schema.
     */
    SchemaReplies(final SbeJsonTranscoder transcoder)
    {
        this.transcoder = transcoder;
        for (final String type : transcoder.messageTypeNames())
        {
            final Set<String> fields = new LinkedHashSet<>();
            for (final JsonNode field : transcoder.describe(type).path("fields"))
            {
                fields.add(field.path("name").asText());
            }
            fieldsByType.put(type, fields);
        }
    }

    /**
     * The transcoder of the service's schema.
     *
     * @return the transcoder.
     */
    SbeJsonTranscoder transcoder()
    {
        return transcoder;
    }

    /**
     * The SBE message type a reply payload is, by the rules in the class comment.
     *
     * @param payload the socket server answered with.
     * @param named the {@code message_type} the frame names, or null.
     * @return the message type's name.
     * @throws TranscodeException naming the candidates when no single type fits.
     */
    String typeOf(final JsonNode payload, final String named)
    {
        if (null != named)
        {
            if (!fieldsByType.containsKey(named))
            {
                throw new TranscodeException("", "message_type '" + named + "' is not in the service's schema; it has " +
                    fieldsByType.keySet());
            }
            return named;
        }
        if (null == payload || !payload.isObject())
        {
            throw new TranscodeException("", "expected a JSON object for one of " + fieldsByType.keySet() +
                ", found " + (null == payload ? "nothing" : payload.getNodeType().name().toLowerCase()));
        }
        final Set<String> keys = new LinkedHashSet<>();
        final Iterator<String> names = payload.fieldNames();
        while (names.hasNext())
        {
            keys.add(names.next());
        }
        final List<String> exact = new ArrayList<>();
        final List<String> covering = new ArrayList<>();
        for (final Map.Entry<String, Set<String>> type : fieldsByType.entrySet())
        {
            if (type.getValue().equals(keys))
            {
                exact.add(type.getKey());
            }
            else if (type.getValue().containsAll(keys))
            {
                covering.add(type.getKey());
            }
        }
        if (1 == exact.size())
        {
            return exact.get(0);
        }
        if (exact.isEmpty() && 1 == covering.size())
        {
            return covering.get(0);
        }
        throw new TranscodeException("", "cannot tell which SBE message a reply with fields " + keys + " is: " +
            (exact.isEmpty() && covering.isEmpty() ? "no message of " + fieldsByType.keySet() + " has them all" :
            "it fits " + (exact.isEmpty() ? covering : exact)) + "; name it in the frame's message_type");
    }

    /**
     * Encode a reply payload as SBE into this object's buffer.
     *
     * @param payload the socket server answered with.
     * @param named the {@code message_type} the frame names, or null.
     * @return the length encoded, from offset 0 of {@link #buffer()}.
     * @throws TranscodeException when the payload fits no single message or not the one it names.
     */
    int encode(final JsonNode payload, final String named)
    {
        return transcoder.encode(typeOf(payload, named), payload, buffer, 0);
    }

    /**
     * The buffer {@link #encode(JsonNode, String)} writes into.
     *
     * @return the buffer.
     */
    ExpandableArrayBuffer buffer()
    {
        return buffer;
    }
}
