package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.json.TranscodeException;
import io.switchboard.codec.schema.MessageSchema;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which SBE message a socket server's JSON answer is, for a socket instance of a name Java peers share
 * (gateway-test.xml: Add {a, b}, Result {value}, Count {n}, Tick {i}, Forever {n}).
 */
class SchemaRepliesTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private SchemaReplies replies;
    private SbeJsonTranscoder transcoder;

    @BeforeEach
    void loadSchema() throws Exception
    {
        try (InputStream xml = SchemaRepliesTest.class.getResourceAsStream("/gateway-test.xml"))
        {
            transcoder = new SbeJsonTranscoder(MessageSchema.fromXml(xml).ir());
        }
        replies = new SchemaReplies(transcoder);
    }

    @Test
    void shouldPickTheOneMessageWhoseFieldsAreThePayloadKeys() throws Exception
    {
        assertEquals("Result", replies.typeOf(JSON.readTree("{\"value\":3}"), null));
        assertEquals("Tick", replies.typeOf(JSON.readTree("{\"i\":1}"), null));
        assertEquals("Add", replies.typeOf(JSON.readTree("{\"a\":1}"), null), "the one message that has them all");
    }

    @Test
    void shouldEncodeTheReplyAsSbeTheCallerCanDecode() throws Exception
    {
        final int length = replies.encode(JSON.readTree("{\"value\":42}"), null);
        assertEquals("Result", transcoder.messageTypeName(replies.buffer(), 0, length));
        assertEquals(42, transcoder.decode(replies.buffer(), 0, length).get("value").asLong());
    }

    @Test
    void shouldRefuseAmbiguousReplyNamingTheCandidatesAndTakeTheNamedOne() throws Exception
    {
        final TranscodeException ex =
            assertThrows(TranscodeException.class, () -> replies.typeOf(JSON.readTree("{\"n\":1}"), null));
        assertTrue(ex.getMessage().contains("[Count, Forever]") && ex.getMessage().contains("message_type"),
            ex.getMessage());
        assertEquals("Forever", replies.typeOf(JSON.readTree("{\"n\":1}"), "Forever"));
    }

    @Test
    void shouldRefuseReplyThatFitsNoMessage() throws Exception
    {
        final TranscodeException unknownField =
            assertThrows(TranscodeException.class, () -> replies.typeOf(JSON.readTree("{\"zzz\":1}"), null));
        assertTrue(unknownField.getMessage().contains("[zzz]"), unknownField.getMessage());
        final TranscodeException notObject =
            assertThrows(TranscodeException.class, () -> replies.typeOf(JSON.readTree("7"), null));
        assertTrue(notObject.getMessage().contains("found number"), notObject.getMessage());
        final TranscodeException unknownType =
            assertThrows(TranscodeException.class, () -> replies.typeOf(JSON.readTree("{\"value\":1}"), "Nope"));
        assertTrue(unknownType.getMessage().contains("'Nope'"), unknownType.getMessage());
    }
}
