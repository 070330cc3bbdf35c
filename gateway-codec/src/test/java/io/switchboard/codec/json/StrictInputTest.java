package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import uk.co.real_logic.sbe.ir.Ir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the transcoder does with strings that are not well formed in their schema's encoding, and with an IR that
 * nests deeper than its compiler allows.
 */
class StrictInputTest
{
    private final SbeJsonTranscoder transcoder = TestSchema.transcoder();

    @Test
    void shouldRefuseIllFormedUtf8InVarDataAndCharArraysOnDecode()
    {
        assertRefused("comment", "QQ", new byte[]{ (byte)0xC0, (byte)0xAF });                      // overlong '/'
        assertRefused("legs[0].fills[0].venueName", "QQQ", new byte[]{ (byte)0xED, (byte)0xA0, (byte)0x80 });
        assertRefused("label", "QQ", new byte[]{ (byte)0xE2, (byte)0x82 });                         // truncated
        assertRefused("symbol", "QQQQ", new byte[]{ 'A', (byte)0xC3, (byte)0xA9, 'B' });          // not US-ASCII
    }

    @Test
    void shouldStillDecodeWellFormedText()
    {
        final ObjectNode json = TestSchema.everything();
        json.put("comment", "😀 €");
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", json, buffer, 0);
        assertEquals("😀 €", transcoder.decode(buffer, 0, length).get("comment").textValue());
    }

    @Test
    void shouldRefuseAnIrThatNestsGroupsDeeperThanTheCompilerAllows()
    {
        final Ir shallow = SchemaIr.fromBytes(SchemaIr.toBytes(SchemaIr.fromXml(nestedGroups(IrModelBuilder.MAX_NESTING))));
        assertNotNull(new SbeJsonTranscoder(shallow).describe("Deep"));

        final Ir deep = SchemaIr.fromBytes(SchemaIr.toBytes(SchemaIr.fromXml(nestedGroups(IrModelBuilder.MAX_NESTING + 1))));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new SbeJsonTranscoder(deep));
        assertTrue(ex.getMessage().contains("nested deeper than " + IrModelBuilder.MAX_NESTING), ex.getMessage());
    }

    private void assertRefused(final String fieldPath, final String marker, final byte[] replacement)
    {
        final ObjectNode json = TestSchema.everything();
        switch (fieldPath)
        {
            case "comment":
                json.put("comment", marker);
                break;
            case "label":
                json.put("label", marker);
                break;
            case "symbol":
                json.put("symbol", marker);
                break;
            default:
                ((ObjectNode)json.get("legs").get(0).get("fills").get(0)).put("venueName", marker);
                break;
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", json, buffer, 0);
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        final int at = indexOf(bytes, marker.getBytes(StandardCharsets.US_ASCII));
        assertTrue(at >= 0, marker);
        assertEquals(marker.length(), replacement.length);
        buffer.putBytes(at, replacement);

        final TranscodeException ex = assertThrows(TranscodeException.class, () -> transcoder.decode(buffer, 0, length));
        assertEquals(fieldPath, ex.fieldPath(), ex.getMessage());
        assertTrue(ex.getMessage().contains("not valid"), ex.getMessage());
    }

    private static int indexOf(final byte[] bytes, final byte[] marker)
    {
        outer:
        for (int i = 0; i + marker.length <= bytes.length; i++)
        {
            for (int k = 0; k < marker.length; k++)
            {
                if (bytes[i + k] != marker[k])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static ByteArrayInputStream nestedGroups(final int depth)
    {
        final StringBuilder xml = new StringBuilder()
            .append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .append("<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" package=\"deep\" id=\"9\" ")
            .append("version=\"0\" byteOrder=\"littleEndian\"><types>")
            .append("<composite name=\"messageHeader\"><type name=\"blockLength\" primitiveType=\"uint16\"/>")
            .append("<type name=\"templateId\" primitiveType=\"uint16\"/><type name=\"schemaId\" primitiveType=\"uint16\"/>")
            .append("<type name=\"version\" primitiveType=\"uint16\"/></composite>")
            .append("<composite name=\"groupSizeEncoding\"><type name=\"blockLength\" primitiveType=\"uint16\"/>")
            .append("<type name=\"numInGroup\" primitiveType=\"uint16\"/></composite></types>")
            .append("<sbe:message name=\"Deep\" id=\"1\"><field name=\"f\" id=\"1\" type=\"uint8\"/>");
        for (int i = 0; i < depth; i++)
        {
            xml.append("<group name=\"g").append(i).append("\" id=\"").append(10 + i)
                .append("\" dimensionType=\"groupSizeEncoding\"><field name=\"x\" id=\"").append(1000 + i)
                .append("\" type=\"uint8\"/>");
        }
        xml.append("</group>".repeat(depth)).append("</sbe:message></sbe:messageSchema>");
        return new ByteArrayInputStream(xml.toString().getBytes(StandardCharsets.UTF_8));
    }
}
