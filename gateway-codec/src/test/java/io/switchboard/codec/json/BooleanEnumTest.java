package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.codec.schema.MessageSchema;
import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class BooleanEnumTest
{
    private static final String SCHEMA = String.join("\n",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" package=\"t\" id=\"9\" version=\"1\">",
        "  <types>",
        "    <composite name=\"messageHeader\"><type name=\"blockLength\" primitiveType=\"uint16\"/>",
        "      <type name=\"templateId\" primitiveType=\"uint16\"/><type name=\"schemaId\" primitiveType=\"uint16\"/>",
        "      <type name=\"version\" primitiveType=\"uint16\"/></composite>",
        "    <enum name=\"BooleanType\" encodingType=\"uint8\"><validValue name=\"FALSE\">0</validValue>",
        "      <validValue name=\"TRUE\">1</validValue></enum>",
        "    <enum name=\"Side\" encodingType=\"uint8\"><validValue name=\"BUY\">0</validValue>",
        "      <validValue name=\"SELL\">1</validValue></enum>",
        "  </types>",
        "  <sbe:message name=\"Flags\" id=\"1\"><field name=\"on\" id=\"1\" type=\"BooleanType\"/>",
        "    <field name=\"side\" id=\"2\" type=\"Side\"/></sbe:message>",
        "</sbe:messageSchema>");

    private final ObjectMapper json = new ObjectMapper();
    private final SbeJsonTranscoder transcoder = new SbeJsonTranscoder(
        MessageSchema.fromXml(new ByteArrayInputStream(SCHEMA.getBytes(StandardCharsets.UTF_8))).ir());
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);

    @Test
    void shouldMapFalseTrueEnumToJsonBooleanBothWays() throws Exception
    {
        final int length = transcoder.encode("Flags", json.readTree("{\"on\": true, \"side\": \"SELL\"}"), buffer, 0);
        assertEquals("{\"on\":true,\"side\":\"SELL\"}", transcoder.decode(buffer, 0, length).toString());
        final int byName = transcoder.encode("Flags", json.readTree("{\"on\": \"FALSE\", \"side\": \"BUY\"}"), buffer, 0);
        assertEquals("{\"on\":false,\"side\":\"BUY\"}", transcoder.decode(buffer, 0, byName).toString());
    }

    @Test
    void shouldNotTreatOtherTwoValuedEnumsAsBooleans() throws Exception
    {
        final TranscodeException ex = assertThrows(TranscodeException.class,
            () -> transcoder.encode("Flags", json.readTree("{\"on\": true, \"side\": true}"), buffer, 0));
        assertTrue(ex.getMessage().contains("side"), ex.getMessage());
        final TranscodeException notBool = assertThrows(TranscodeException.class,
            () -> transcoder.encode("Flags", json.readTree("{\"on\": 1, \"side\": \"BUY\"}"), buffer, 0));
        assertTrue(notBool.getMessage().contains("true or false"), notBool.getMessage());
    }
}
