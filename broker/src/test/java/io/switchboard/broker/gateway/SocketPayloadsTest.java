package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.json.SbeJsonTranscoder;
import io.switchboard.codec.schema.MessageSchema;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The payloads between Java callers and a socket server: SBE both ways for a name Java peers share with a schema,
 * JSON passed through for an opaque name.
 */
class SocketPayloadsTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private final SocketPayloads payloads = new SocketPayloads(new PayloadCodec());
    private SbeJsonTranscoder transcoder;
    private SchemaReplies schema;

    @BeforeEach
    void loadSchema() throws Exception
    {
        try (InputStream xml = SocketPayloadsTest.class.getResourceAsStream("/gateway-test.xml"))
        {
            transcoder = new SbeJsonTranscoder(MessageSchema.fromXml(xml).ir());
        }
        schema = new SchemaReplies(transcoder);
    }

    @Test
    void shouldDecodeSbeRequestToJsonAndEncodeJsonReplyToSbe() throws Exception
    {
        final ExpandableArrayBuffer request = new ExpandableArrayBuffer(64);
        final int length = transcoder.encode("Add", JSON.readTree("{\"a\":2,\"b\":3}"), request, 0);
        assertEquals("{\"a\":2,\"b\":3}", payloads.request(schema, "calc", request, 0, length).toString());

        final int replyLength = payloads.reply(schema, "sb-1", JSON.readTree("{\"payload\":{\"value\":5}}"));
        assertTrue(replyLength > 0);
        assertEquals("Result", transcoder.messageTypeName(payloads.replyBuffer(), 0, replyLength));
        assertEquals(5, transcoder.decode(payloads.replyBuffer(), 0, replyLength).get("value").asLong());
    }

    @Test
    void shouldRefuseRequestOrReplyOutsideTheSchemaWithAProblemNamingIt() throws Exception
    {
        final UnsafeBuffer junk = new UnsafeBuffer("{\"a\":1}".getBytes(StandardCharsets.UTF_8));
        assertNull(payloads.request(schema, "calc", junk, 0, junk.capacity()));
        assertTrue(payloads.problem().contains("schema of 'calc'"), payloads.problem());

        assertEquals(-1, payloads.reply(schema, "sb-9", JSON.readTree("{\"payload\":{\"nope\":1}}")));
        assertTrue(payloads.problem().contains("'sb-9'") && payloads.problem().contains("[nope]"), payloads.problem());
    }

    @Test
    void shouldPassJsonThroughForAnOpaqueName() throws Exception
    {
        final UnsafeBuffer request = new UnsafeBuffer("{\"x\":[1,2]}".getBytes(StandardCharsets.UTF_8));
        assertEquals(JSON.readTree("{\"x\":[1,2]}"), payloads.request(null, "echo", request, 0, request.capacity()));

        final int length = payloads.reply(null, "sb-2", JSON.readTree("{\"payload\":{\"y\":true}}"));
        final byte[] bytes = new byte[length];
        payloads.replyBuffer().getBytes(0, bytes);
        final JsonNode reply = JSON.readTree(bytes);
        assertEquals(JSON.readTree("{\"y\":true}"), reply);
    }
}
