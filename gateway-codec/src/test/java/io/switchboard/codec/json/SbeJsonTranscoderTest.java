package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.test.EverythingDecoder;
import io.switchboard.codec.test.EverythingEncoder;
import io.switchboard.codec.test.MessageHeaderDecoder;
import io.switchboard.codec.test.MessageHeaderEncoder;
import io.switchboard.codec.test.Side;
import io.switchboard.codec.test.Venue;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SbeJsonTranscoderTest
{
    private final SbeJsonTranscoder transcoder = TestSchema.transcoder();

    @Test
    void shouldRoundTripEveryFeatureThroughSbe()
    {
        final ObjectNode json = TestSchema.everything();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", json, buffer, 16);
        final ObjectNode decoded = transcoder.decode(buffer, 16, length);
        assertEquals(TestSchema.canonical(json), TestSchema.canonical(decoded));
        assertEquals("Everything", transcoder.messageTypeName(buffer, 16, length));
    }

    @Test
    void shouldWriteBytesThatTheGeneratedDecoderReads()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", TestSchema.everything(), buffer, 0);
        final EverythingDecoder d = new EverythingDecoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderDecoder());
        assertEquals(-5, d.i8());
        assertEquals(-300, d.i16());
        assertEquals(-70000, d.i32());
        assertEquals(-5000000000L, d.i64());
        assertEquals(200, d.u8());
        assertEquals(60000, d.u16());
        assertEquals(4000000000L, d.u32());
        assertEquals("18446744073709551614", Long.toUnsignedString(d.u64()));
        assertEquals(1.5f, d.f32());
        assertEquals(-2.25, d.f64());
        assertEquals('Z', d.letter());
        assertEquals(7, d.optI32());
        assertEquals(EverythingDecoder.optU64NullValue(), d.optU64());
        assertTrue(Double.isNaN(d.optF64()));
        assertEquals("ACME", d.symbol());
        assertEquals("é1", d.label());
        assertEquals(-4, d.quad(3));
        assertEquals(42, d.magic());
        assertEquals(Side.SELL, d.side());
        assertEquals(Venue.NYSE, d.venue());
        assertTrue(d.flags().uRGENT());
        assertFalse(d.flags().hIDDEN());
        assertTrue(d.flags().rETAIL());
        assertEquals(12345, d.price().mantissa());
        assertEquals(-2, d.price().exponent());
        assertEquals(9, d.limits().high().mantissa());
        assertEquals(Side.BUY, d.limits().side());
        assertEquals(d.limits().noteNullValue(), d.limits().note());
        assertEquals(99, d.added());
        final EverythingDecoder.LegsDecoder legs = d.legs();
        assertEquals(2, legs.count());
        legs.next();
        assertEquals(10, legs.price().mantissa());
        assertEquals(3, legs.qty());
        final EverythingDecoder.LegsDecoder.FillsDecoder fills = legs.fills();
        assertEquals(2, fills.count());
        fills.next();
        assertEquals("LSE", fills.venueName());
        fills.next();
        assertEquals("Bourse ü", fills.venueName());
        assertEquals("first", legs.legNote());
        legs.next();
        assertEquals(Side.SELL, legs.side());
        assertEquals(0, legs.fills().count());
        assertEquals("", legs.legNote());
        assertEquals("hello, wörld", d.comment());
        final byte[] blob = new byte[4];
        assertEquals(4, d.getBlob(blob, 0, 4));
        assertArrayEquals(new byte[]{ 0, 1, 2, (byte)255 }, blob);
        assertEquals(length, MessageHeaderDecoder.ENCODED_LENGTH + d.encodedLength());
    }

    @Test
    void shouldReadBytesThatTheGeneratedEncoderWrites()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final EverythingEncoder e = new EverythingEncoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder());
        e.i8((byte)1).i16((short)2).i32(3).i64(4).u8((short)5).u16(6).u32(7).u64(-1L - 1).f32(0.5f).f64(0.25)
            .letter((byte)'q').optI32(EverythingEncoder.optI32NullValue()).optU64(12).optF64(Double.NaN)
            .symbol("XY").label("").putQuad((short)1, (short)2, (short)3, (short)4).side(Side.BUY).venue(Venue.NULL_VAL)
            .added(EverythingEncoder.addedNullValue());
        e.flags().clear().hIDDEN(true);
        e.price().mantissa(5).exponent((byte)1);
        e.limits().low().mantissa(1).exponent((byte)2);
        e.limits().high().mantissa(3).exponent((byte)4);
        e.limits().side(Side.SELL).note(8);
        final EverythingEncoder.LegsEncoder legs = e.legsCount(1).next().qty(9).side(Side.SELL);
        legs.price().mantissa(6).exponent((byte)0);
        legs.fillsCount(1).next().qty(1).venueName("V");
        legs.legNote("n");
        e.comment("c").putBlob(new byte[]{ 7 }, 0, 1);
        final int length = MessageHeaderEncoder.ENCODED_LENGTH + e.encodedLength();

        final ObjectNode expected = TestSchema.json("{'i8':1,'i16':2,'i32':3,'i64':4,'u8':5,'u16':6,'u32':7," +
            "'u64':18446744073709551614,'f32':0.5,'f64':0.25,'letter':'q','optU64':12,'symbol':'XY'," +
            "'quad':[1,2,3,4],'magic':42,'side':'BUY','flags':['HIDDEN'],'price':{'mantissa':5,'exponent':1}," +
            "'limits':{'low':{'mantissa':1,'exponent':2},'high':{'mantissa':3,'exponent':4},'side':'SELL','note':8}," +
            "'legs':[{'price':{'mantissa':6,'exponent':0},'qty':9,'side':'SELL','fills':[{'qty':1,'venueName':'V'}]," +
            "'legNote':'n'}],'comment':'c','blob':'Bw=='}");
        assertEquals(TestSchema.canonical(expected), TestSchema.canonical(transcoder.decode(buffer, 0, length)));
    }

    @Test
    void shouldHonourTheSendersOlderVersionAndShorterBlock()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", TestSchema.everything(), buffer, 0);
        final int header = MessageHeaderDecoder.ENCODED_LENGTH;
        final int oldBlock = EverythingDecoder.BLOCK_LENGTH - 4;
        final UnsafeBuffer old = new UnsafeBuffer(new byte[4096]);
        old.putBytes(0, buffer, 0, header + oldBlock);
        old.putBytes(header + oldBlock, buffer, header + EverythingDecoder.BLOCK_LENGTH,
            length - header - EverythingDecoder.BLOCK_LENGTH);
        new MessageHeaderEncoder().wrap(old, 0).blockLength(oldBlock).version(1);

        final ObjectNode expected = TestSchema.everything();
        expected.remove("added");
        assertEquals(TestSchema.canonical(expected), TestSchema.canonical(transcoder.decode(old, 0, length - 4)));
    }

    @Test
    void shouldFillOptionalFieldsWithNullValuesAndOmitThemOnDecode()
    {
        final ObjectNode json = TestSchema.everything();
        for (final String optional : List.of("optI32", "label", "venue", "added", "legs", "comment", "blob"))
        {
            json.remove(optional);
        }
        json.putNull("optU64");
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", json, buffer, 0);
        final ObjectNode decoded = transcoder.decode(buffer, 0, length);
        assertFalse(decoded.has("optI32"));
        assertFalse(decoded.has("optU64"));
        assertFalse(decoded.has("venue"));
        assertFalse(decoded.has("label"));
        assertEquals(0, decoded.get("legs").size());
        assertEquals("", decoded.get("comment").asText());
        final EverythingDecoder d = new EverythingDecoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderDecoder());
        assertEquals(EverythingDecoder.optI32NullValue(), d.optI32());
        assertEquals(Venue.NULL_VAL, d.venue());
    }

    @Test
    void shouldAcceptSetAsObjectOfBooleans()
    {
        final ObjectNode json = TestSchema.everything();
        json.set("flags", TestSchema.json("{'HIDDEN':true,'URGENT':false}"));
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", json, buffer, 0);
        assertEquals("[\"HIDDEN\"]", transcoder.decode(buffer, 0, length).get("flags").toString());
    }

    @Test
    void shouldNameTheFieldPathOfEveryEncodingError()
    {
        assertError("legs[1].price.mantissa", "expected a number, got \"abc\"",
            (json) -> ((ObjectNode)json.get("legs").get(1).get("price")).put("mantissa", "abc"));
        assertError("u8", "out of range", (json) -> json.put("u8", 255));
        assertError("i8", "out of range", (json) -> json.put("i8", -129));
        assertError("u64", "out of range", (json) -> json.put("u64", -1));
        assertError("u32", "expected an integer", (json) -> json.put("u32", 1.5));
        assertError("f32", "out of range", (json) -> json.put("f32", 1e300));
        assertError("side", "unknown Side value \"HOLD\"", (json) -> json.put("side", "HOLD"));
        assertError("side", "missing required", (json) -> json.remove("side"));
        assertError("i32", "missing required", (json) -> json.remove("i32"));
        assertError("symbol", "string too long: 9 bytes, maximum 8", (json) -> json.put("symbol", "ABCDEFGHI"));
        assertError("symbol", "cannot encode", (json) -> json.put("symbol", "é"));
        assertError("label", "string too long", (json) -> json.put("label", "ééé1"));
        assertError("quad", "expected an array of 4 numbers", (json) -> json.putArray("quad").add(1));
        assertError("quad[2]", "expected a number", (json) -> ((com.fasterxml.jackson.databind.node.ArrayNode)
            json.get("quad")).set(2, TestSchema.MAPPER.getNodeFactory().textNode("x")));
        assertError("flags[0]", "unknown Flags choice", (json) -> json.putArray("flags").add("LOUD"));
        assertError("limits.low", "expected an object", (json) -> ((ObjectNode)json.get("limits")).put("low", 3));
        assertError("legs", "expected an array of objects", (json) -> json.put("legs", "x"));
        assertError("legs[0]", "expected an object", (json) -> json.putArray("legs").add(1));
        assertError("legs[0].fills[1].venueName", "expected a string",
            (json) -> ((ObjectNode)json.get("legs").get(0).get("fills").get(1)).put("venueName", 5));
        assertError("blob", "invalid base64", (json) -> json.put("blob", "!!"));
        assertError("prcie", "unknown field", (json) -> json.put("prcie", 1));
        assertError("legs[0].qtty", "unknown field", (json) -> ((ObjectNode)json.get("legs").get(0)).put("qtty", 1));
    }

    @Test
    void shouldReportUnknownMessageTypeDistinctly()
    {
        final UnknownMessageTypeException ex = assertThrows(UnknownMessageTypeException.class,
            () -> transcoder.encode("Nope", TestSchema.json("{}"), new UnsafeBuffer(new byte[64]), 0));
        assertEquals(ErrorCode.UNKNOWN_MESSAGE_TYPE, ex.errorCode());
        assertThrows(UnknownMessageTypeException.class, () -> transcoder.templateId("Nope"));
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        new MessageHeaderEncoder().wrap(buffer, 0).templateId(99).schemaId(77).blockLength(0).version(2);
        assertThrows(UnknownMessageTypeException.class, () -> transcoder.decode(buffer, 0, 64));
    }

    @Test
    void shouldFailWithTranscodeExceptionWhenTheBufferIsTooSmall()
    {
        final TranscodeException ex = assertThrows(TranscodeException.class,
            () -> transcoder.encode("Everything", TestSchema.everything(), new UnsafeBuffer(new byte[100]), 0));
        assertEquals(ErrorCode.SERIALIZATION_ERROR, ex.errorCode());
        assertTrue(ex.getMessage().contains("does not fit"), ex.getMessage());
        final ExpandableArrayBuffer expandable = new ExpandableArrayBuffer(8);
        assertTrue(transcoder.encode("Everything", TestSchema.everything(), expandable, 0) > 100);
    }

    @Test
    void shouldRejectTruncatedAndForeignMessages()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", TestSchema.everything(), buffer, 0);
        for (int cut = 0; cut < length; cut++)
        {
            final int truncated = cut;
            assertThrows(TranscodeException.class, () -> transcoder.decode(buffer, 0, truncated), "cut " + cut);
        }
        new MessageHeaderEncoder().wrap(buffer, 0).schemaId(3);
        final TranscodeException ex = assertThrows(TranscodeException.class, () -> transcoder.decode(buffer, 0, length));
        assertTrue(ex.getMessage().contains("expected schemaId=77, actual=3"), ex.getMessage());
        assertThrows(TranscodeException.class, () -> transcoder.decode(buffer, 4090, 100));
    }

    @Test
    void shouldListAndDescribeMessageTypes()
    {
        assertEquals(Set.of("Everything", "Ping"), transcoder.messageTypeNames());
        assertEquals(1, transcoder.templateId("Everything"));
        assertEquals(2, transcoder.templateId("Ping"));
        final JsonNode description = transcoder.describe("Everything");
        assertEquals("Everything", description.get("name").asText());
        final JsonNode fields = description.get("fields");
        assertEquals("i8", fields.get(0).get("name").asText());
        assertEquals("int8", fields.get(0).get("type").asText());
        assertFalse(fields.get(0).get("optional").asBoolean());
        assertTrue(fields.get(11).get("optional").asBoolean());
        assertTrue(description.toString().contains("\"type\":\"enum Side\",\"values\":[\"BUY\",\"SELL\"]"),
            description.toString());
        assertTrue(description.toString().contains("\"name\":\"legs\",\"type\":\"group\""));
        assertTrue(description.toString().contains("\"name\":\"comment\",\"type\":\"string\""));
    }

    @Test
    void shouldAcceptMessagePackBinaryForRawData()
    {
        final ObjectNode json = TestSchema.everything();
        json.put("blob", new byte[]{ 9, 8 });
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
        final int length = transcoder.encode("Everything", json, buffer, 0);
        assertEquals("CQg=", transcoder.decode(buffer, 0, length).get("blob").asText());
        assertEquals(2, "é".getBytes(StandardCharsets.UTF_8).length);
    }

    private void assertError(final String path, final String mention, final java.util.function.Consumer<ObjectNode> change)
    {
        final ObjectNode json = TestSchema.everything();
        change.accept(json);
        final TranscodeException ex = assertThrows(TranscodeException.class,
            () -> transcoder.encode("Everything", json, new UnsafeBuffer(new byte[4096]), 0));
        assertEquals(path, ex.fieldPath(), ex.getMessage());
        assertTrue(ex.getMessage().startsWith("field '" + path + "': "), ex.getMessage());
        assertTrue(ex.getMessage().contains(mention), ex.getMessage());
    }
}
