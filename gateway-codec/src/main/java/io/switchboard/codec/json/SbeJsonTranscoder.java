package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import uk.co.real_logic.sbe.ir.HeaderStructure;
import uk.co.real_logic.sbe.ir.Ir;
import uk.co.real_logic.sbe.ir.Token;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Transcodes between JSON (or MessagePack) trees and SBE messages of one schema, driven by the schema's
 * IR. See the package documentation for the mapping of each SBE type.
 * <p>
 * Encoding writes the schema's message header (blockLength, templateId, schemaId, version; other header
 * members zero) then the message. Decoding honours the sender's blockLength and version from the header.
 * Every failure, whatever the input, is a {@link TranscodeException} naming the field path; an unknown
 * message type or template id is an {@link UnknownMessageTypeException}.
 * <p>
 * Immutable after construction and thread-safe. It allocates (the JSON tree and paths): it serves the
 * socket gateway, not the shared-memory hot path.
 */
public final class SbeJsonTranscoder
{
    private static final long EXPANDABLE_LIMIT = Integer.MAX_VALUE - 8;

    private final int schemaId;
    private final int schemaVersion;
    private final int headerLength;
    private final UnsignedSlot blockLengthSlot;
    private final UnsignedSlot templateIdSlot;
    private final UnsignedSlot schemaIdSlot;
    private final UnsignedSlot versionSlot;
    private final Map<String, MessageCodec> byName = new LinkedHashMap<>();
    private final Int2ObjectHashMap<MessageCodec> byTemplateId = new Int2ObjectHashMap<>();

    /**
     * Compile a transcoder for every message of a schema.
     *
     * @param ir of the schema, as built by {@link SchemaIr} or decoded from a service's bytes.
     * @throws IllegalArgumentException if the IR's tokens do not hold together, or nest groups and composites deeper
     *                                  than 64 levels.
     */
    public SbeJsonTranscoder(final Ir ir)
    {
        try
        {
            schemaId = ir.id();
            schemaVersion = ir.version();
            final List<Token> header = ir.headerStructure().tokens();
            headerLength = header.get(0).encodedLength();
            blockLengthSlot = new UnsignedSlot(IrModelBuilder.member(header, 0, HeaderStructure.BLOCK_LENGTH));
            templateIdSlot = new UnsignedSlot(IrModelBuilder.member(header, 0, HeaderStructure.TEMPLATE_ID));
            schemaIdSlot = new UnsignedSlot(IrModelBuilder.member(header, 0, HeaderStructure.SCHEMA_ID));
            versionSlot = new UnsignedSlot(IrModelBuilder.member(header, 0, HeaderStructure.SCHEMA_VERSION));
            for (final List<Token> tokens : ir.messages())
            {
                final MessageCodec message = IrModelBuilder.message(tokens);
                byName.put(message.name(), message);
                byTemplateId.put(message.templateId(), message);
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            // the IR came from a peer's bytes: tokens that do not hold together are its fault, not a broker fault
            throw new IllegalArgumentException("invalid SBE IR: " + ex, ex);
        }
    }

    /**
     * Encode a JSON object as an SBE message with its header.
     *
     * @param messageType name of the message in the schema.
     * @param json        object holding the message's fields.
     * @param buffer      to write into; an expandable buffer grows as needed.
     * @param offset      in {@code buffer} at which the header begins.
     * @return the total length written: header plus message.
     * @throws UnknownMessageTypeException if the schema has no such message.
     * @throws TranscodeException          if the JSON does not fit the message or the buffer.
     */
    public int encode(final String messageType, final JsonNode json, final MutableDirectBuffer buffer, final int offset)
    {
        final MessageCodec message = message(messageType);
        if (null == json || !json.isObject())
        {
            throw Json.expected(Path.ROOT, "an object for message " + messageType, json);
        }
        final long limit = buffer.isExpandable() ? EXPANDABLE_LIMIT : buffer.capacity();
        if (offset < 0 || offset > limit)
        {
            throw Path.ROOT.error("offset " + offset + " outside the buffer of capacity " + buffer.capacity());
        }
        try
        {
            final Cursor cursor = Cursor.forEncode(buffer, offset, limit);
            final int header = cursor.claim(headerLength, Path.ROOT);
            buffer.setMemory(header, headerLength, (byte)0);
            blockLengthSlot.put(buffer, header, message.body().blockLength());
            templateIdSlot.put(buffer, header, message.templateId());
            schemaIdSlot.put(buffer, header, schemaId);
            versionSlot.put(buffer, header, schemaVersion);
            message.body().encode(json, cursor, Path.ROOT);
            return cursor.position() - offset;
        }
        catch (final TranscodeException ex)
        {
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            throw internal(ex);
        }
    }

    /**
     * Decode an SBE message with its header into a JSON object.
     *
     * @param buffer holding the message.
     * @param offset in {@code buffer} at which the header begins.
     * @param length of the bytes available from {@code offset}.
     * @return the message's fields as an object.
     * @throws UnknownMessageTypeException if the template id is not in the schema.
     * @throws TranscodeException          if the bytes are truncated or malformed.
     */
    public ObjectNode decode(final DirectBuffer buffer, final int offset, final int length)
    {
        final Cursor cursor = checkedCursor(buffer, offset, length);
        try
        {
            final int header = cursor.claim(headerLength, Path.ROOT);
            final MessageCodec message = messageAt(buffer, header);
            final long actualSchemaId = schemaIdSlot.get(buffer, header);
            if (actualSchemaId != schemaId)
            {
                throw Path.ROOT.error("expected schemaId=" + schemaId + ", actual=" + actualSchemaId);
            }
            final long blockLength = blockLengthSlot.get(buffer, header);
            final long version = versionSlot.get(buffer, header);
            if (blockLength > cursor.remaining())
            {
                throw Path.ROOT.error("truncated message: blockLength " + blockLength + ", " + cursor.remaining() +
                    " bytes left");
            }
            return message.body().decode(cursor, (int)blockLength, (int)Math.min(version, Integer.MAX_VALUE),
                Path.ROOT);
        }
        catch (final TranscodeException ex)
        {
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            throw internal(ex);
        }
    }

    /**
     * The name of the message type whose header begins at {@code offset}.
     *
     * @param buffer holding the message.
     * @param offset in {@code buffer} at which the header begins.
     * @param length of the bytes available from {@code offset}.
     * @return the message type's name.
     * @throws UnknownMessageTypeException if the template id is not in the schema.
     * @throws TranscodeException          if the header is truncated.
     */
    public String messageTypeName(final DirectBuffer buffer, final int offset, final int length)
    {
        final Cursor cursor = checkedCursor(buffer, offset, length);
        return messageAt(buffer, cursor.claim(headerLength, Path.ROOT)).name();
    }

    /**
     * Names of every message type of the schema, in schema order.
     *
     * @return names of every message type of the schema.
     */
    public Set<String> messageTypeNames()
    {
        return Collections.unmodifiableSet(byName.keySet());
    }

    /**
     * The template id of a message type.
     *
     * @param messageType name of the message.
     * @return its template id.
     * @throws UnknownMessageTypeException if the schema has no such message.
     */
    public int templateId(final String messageType)
    {
        return message(messageType).templateId();
    }

    /**
     * A JSON description of a message type for a {@code describe} command:
     * {@code {name, template_id, block_length, fields: [{name, type, optional, ...}]}}, where enums list
     * their {@code values}, sets their {@code choices}, and composites and groups their {@code fields}.
     *
     * @param messageType name of the message.
     * @return the description.
     * @throws UnknownMessageTypeException if the schema has no such message.
     */
    public ObjectNode describe(final String messageType)
    {
        final ObjectNode description = message(messageType).describe();
        description.put("schema_id", schemaId);
        description.put("schema_version", schemaVersion);
        return description;
    }

    /**
     * The schema id written in and expected from every header.
     *
     * @return the schema id.
     */
    public int schemaId()
    {
        return schemaId;
    }

    private MessageCodec message(final String messageType)
    {
        final MessageCodec message = null == messageType ? null : byName.get(messageType);
        if (null == message)
        {
            throw new UnknownMessageTypeException("unknown message type '" + messageType + "', expected one of " +
                byName.keySet());
        }
        return message;
    }

    private MessageCodec messageAt(final DirectBuffer buffer, final int header)
    {
        final long templateId = templateIdSlot.get(buffer, header);
        final MessageCodec message = templateId > Integer.MAX_VALUE ? null : byTemplateId.get((int)templateId);
        if (null == message)
        {
            throw new UnknownMessageTypeException("unknown templateId=" + templateId);
        }
        return message;
    }

    private static Cursor checkedCursor(final DirectBuffer buffer, final int offset, final int length)
    {
        if (offset < 0 || length < 0 || (long)offset + length > buffer.capacity())
        {
            throw Path.ROOT.error("offset " + offset + " and length " + length + " outside the buffer of capacity " +
                buffer.capacity());
        }
        return Cursor.forDecode(buffer, offset, (long)offset + length);
    }

    private static TranscodeException internal(final RuntimeException ex)
    {
        // A safety net: every failure should already be a TranscodeException; the fuzz tests look for this text.
        return Path.ROOT.error("internal transcoder error: " + ex);
    }
}
