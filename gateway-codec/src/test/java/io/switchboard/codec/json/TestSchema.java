package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import uk.co.real_logic.sbe.ir.Ir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

final class TestSchema
{
    static final ObjectMapper MAPPER = new ObjectMapper();

    private TestSchema()
    {
    }

    static SbeJsonTranscoder transcoder()
    {
        try (InputStream xml = TestSchema.class.getResourceAsStream("/switchboard/transcoder-test.xml"))
        {
            final Ir ir = SchemaIr.fromXml(xml);
            // Through bytes, as a service hands its IR to the broker.
            return new SbeJsonTranscoder(SchemaIr.fromBytes(SchemaIr.toBytes(ir)));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    static ObjectNode json(final String text)
    {
        try
        {
            return (ObjectNode)MAPPER.readTree(text.replace('\'', '"'));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** A document using every feature, with the canonical form that decode gives back. */
    static ObjectNode everything()
    {
        return EVERYTHING.deepCopy();
    }

    private static final ObjectNode EVERYTHING = everythingParsed();

    private static ObjectNode everythingParsed()
    {
        return json("{'i8':-5,'i16':-300,'i32':-70000,'i64':-5000000000,'u8':200,'u16':60000,'u32':4000000000," +
            "'u64':18446744073709551614,'f32':1.5,'f64':-2.25,'letter':'Z','optI32':7," +
            "'symbol':'ACME','label':'é1','quad':[1,-2,3,-4],'magic':42,'side':'SELL','venue':'NYSE'," +
            "'flags':['URGENT','RETAIL'],'price':{'mantissa':12345,'exponent':-2}," +
            "'limits':{'low':{'mantissa':1,'exponent':0},'high':{'mantissa':9,'exponent':1},'side':'BUY'}," +
            "'added':99," +
            "'legs':[{'price':{'mantissa':10,'exponent':-1},'qty':3,'side':'BUY'," +
            "'fills':[{'qty':1,'venueName':'LSE'},{'qty':2,'venueName':'Bourse ü'}],'legNote':'first'}," +
            "{'price':{'mantissa':20,'exponent':-1},'qty':4,'side':'SELL','fills':[],'legNote':''}]," +
            "'comment':'hello, wörld','blob':'AAEC/w=='}");
    }

    static JsonNode canonical(final JsonNode node)
    {
        try
        {
            return MAPPER.readTree(MAPPER.writeValueAsString(node));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
