package io.switchboard.codec.schema;

import uk.co.real_logic.sbe.ir.Ir;
import uk.co.real_logic.sbe.ir.IrDecoder;
import uk.co.real_logic.sbe.ir.IrEncoder;
import uk.co.real_logic.sbe.ir.Token;
import uk.co.real_logic.sbe.xml.IrGenerator;
import uk.co.real_logic.sbe.xml.ParserOptions;
import uk.co.real_logic.sbe.xml.XmlSchemaParser;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A user's SBE schema as the broker sees it: its intermediate representation (IR), as bytes to hand over at
 * registration and as the decoded {@link Ir} with the template id of each message by name.
 * <p>
 * Immutable; built on cold paths only.
 */
public final class MessageSchema
{
    private static final int MAX_IR_LENGTH = 4 * 1024 * 1024;

    private final byte[] irBytes;
    private final Ir ir;
    private final Map<String, Integer> templateIdByName;

    private MessageSchema(final byte[] irBytes, final Ir ir)
    {
        this.irBytes = irBytes;
        this.ir = ir;
        final Map<String, Integer> byName = new LinkedHashMap<>();
        for (final List<Token> message : ir.messages())
        {
            final Token first = message.get(0);
            byName.put(first.name(), first.id());
        }
        this.templateIdByName = Collections.unmodifiableMap(byName);
    }

    /**
     * Read a schema from encoded IR bytes, as written by {@code SbeTool} with {@code sbe.generate.ir=true}.
     *
     * @param irBytes the encoded IR.
     * @return the schema.
     * @throws IllegalArgumentException if the bytes are not a decodable IR.
     */
    public static MessageSchema fromIr(final byte[] irBytes)
    {
        if (irBytes.length == 0 || irBytes.length > MAX_IR_LENGTH)
        {
            throw new IllegalArgumentException(
                "expected encoded SBE IR of 1.." + MAX_IR_LENGTH + " bytes, actual=" + irBytes.length);
        }
        try (IrDecoder decoder = new IrDecoder(ByteBuffer.wrap(irBytes)))
        {
            return new MessageSchema(irBytes.clone(), decoder.decode());
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("not a decodable SBE IR: " + ex, ex);
        }
    }

    /**
     * Read a schema from an IR file on the class path.
     *
     * @param resourceName of the {@code .sbeir} file, e.g. {@code /examples.sbeir}.
     * @return the schema.
     */
    public static MessageSchema fromIrResource(final String resourceName)
    {
        try (InputStream in = MessageSchema.class.getResourceAsStream(resourceName))
        {
            if (null == in)
            {
                throw new IllegalArgumentException("IR resource not found on the class path: " + resourceName);
            }
            return fromIr(in.readAllBytes());
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read IR resource " + resourceName + ": " + ex, ex);
        }
    }

    /**
     * Parse an SBE XML schema and build its IR.
     *
     * @param xml stream of the schema document.
     * @return the schema.
     */
    public static MessageSchema fromXml(final InputStream xml)
    {
        try
        {
            final Ir ir = new IrGenerator().generate(
                XmlSchemaParser.parse(xml, ParserOptions.builder().stopOnError(true).build()));
            final ByteBuffer buffer = ByteBuffer.allocate(MAX_IR_LENGTH);
            try (IrEncoder encoder = new IrEncoder(buffer, ir))
            {
                final int length = encoder.encode();
                return new MessageSchema(Arrays.copyOf(buffer.array(), length), ir);
            }
        }
        catch (final Exception ex)
        {
            throw new IllegalArgumentException("cannot parse SBE schema: " + ex, ex);
        }
    }

    /**
     * The encoded IR to hand to the broker.
     *
     * @return a copy of the encoded IR.
     */
    public byte[] irBytes()
    {
        return irBytes.clone();
    }

    /**
     * The decoded IR.
     *
     * @return the decoded IR.
     */
    public Ir ir()
    {
        return ir;
    }

    /**
     * Template id of a message by name.
     *
     * @param messageName as written in the schema.
     * @return the template id.
     * @throws IllegalArgumentException naming the messages the schema does have.
     */
    public int templateId(final String messageName)
    {
        final Integer id = templateIdByName.get(messageName);
        if (null == id)
        {
            throw new IllegalArgumentException("schema " + ir.packageName() + " has no message '" + messageName +
                "', it has " + templateIdByName.keySet());
        }
        return id;
    }

    /**
     * Message names of the schema with their template ids, in schema order.
     *
     * @return message names mapped to template ids.
     */
    public Map<String, Integer> messages()
    {
        return templateIdByName;
    }

    /**
     * The schema id from the IR header.
     *
     * @return the schema id.
     */
    public int schemaId()
    {
        return ir.id();
    }
}
