package io.switchboard.codec.json;

import uk.co.real_logic.sbe.ir.Ir;
import uk.co.real_logic.sbe.ir.IrDecoder;
import uk.co.real_logic.sbe.ir.IrEncoder;
import uk.co.real_logic.sbe.xml.IrGenerator;
import uk.co.real_logic.sbe.xml.ParserOptions;
import uk.co.real_logic.sbe.xml.XmlSchemaParser;

import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Produces an SBE IR at run time and moves it as bytes: a service parses its schema, serialises the IR
 * and hands the bytes to the broker, which rebuilds the IR for its transcoder. Cold path only.
 */
public final class SchemaIr
{
    private static final int MAX_IR_LENGTH = 16 << 20;

    private SchemaIr()
    {
    }

    /**
     * Parse an SBE XML schema, stopping on errors, into its IR.
     *
     * @param xml stream of the schema document.
     * @return the schema's IR.
     * @throws IllegalArgumentException if the schema is invalid.
     */
    public static Ir fromXml(final InputStream xml)
    {
        try
        {
            final ParserOptions options = ParserOptions.builder().stopOnError(true).suppressOutput(true).build();
            return new IrGenerator().generate(XmlSchemaParser.parse(xml, options));
        }
        catch (final Exception ex)
        {
            throw new IllegalArgumentException("invalid SBE schema: " + ex.getMessage(), ex);
        }
    }

    /**
     * Serialise an IR.
     *
     * @param ir to serialise.
     * @return the IR's bytes.
     */
    public static byte[] toBytes(final Ir ir)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(MAX_IR_LENGTH);
        try (IrEncoder encoder = new IrEncoder(buffer, ir))
        {
            final int length = encoder.encode();
            final byte[] bytes = new byte[length];
            buffer.get(0, bytes);
            return bytes;
        }
    }

    /**
     * Rebuild an IR from its bytes.
     *
     * @param bytes produced by {@link #toBytes(Ir)}.
     * @return the IR.
     * @throws IllegalArgumentException if the bytes are not a valid IR.
     */
    public static Ir fromBytes(final byte[] bytes)
    {
        try (IrDecoder decoder = new IrDecoder(ByteBuffer.wrap(bytes)))
        {
            return decoder.decode();
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("invalid SBE IR: " + ex.getMessage(), ex);
        }
    }
}
