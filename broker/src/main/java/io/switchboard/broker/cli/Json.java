package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON text to and from Jackson's tree ({@link JsonNode}) with jackson-core's streaming parser and generator only.
 * <p>
 * Not an {@code ObjectMapper}: building one (its type factory, serializer and deserializer caches, date formats)
 * and its first {@code readTree}/{@code writeValueAsString} load about 370 classes and took half of the command-line
 * tool's start-up CPU time (0.15 s of 0.3 s), for trees that need none of it. The output is the mapper's: compact, or
 * indented by jackson-core's {@link DefaultPrettyPrinter} (which is what {@code writerWithDefaultPrettyPrinter} uses);
 * numbers keep their type (int, long, big integer, double). Never call {@link JsonNode#toString()} in the tool: it
 * builds a mapper.
 * <p>
 * Thread-safe (the factory is; each call has its own parser or generator).
 */
final class Json
{
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json()
    {
    }

    /**
     * Parse exactly one JSON document.
     *
     * @param text to parse.
     * @return the document as a tree.
     * @throws JsonProcessingException when the text is not one valid JSON document (the exception's location says
     *     where it went wrong).
     */
    static JsonNode read(final String text) throws JsonProcessingException
    {
        try (JsonParser parser = FACTORY.createParser(text))
        {
            return readDocument(parser);
        }
        catch (final JsonProcessingException ex)
        {
            throw ex;
        }
        catch (final IOException ex) // a String has no I/O to fail
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Parse exactly one JSON document from UTF-8 bytes.
     *
     * @param bytes holding the document.
     * @param offset at which the document begins.
     * @param length of the document in bytes.
     * @return the document as a tree.
     * @throws IOException when the bytes are not one valid JSON document.
     */
    static JsonNode read(final byte[] bytes, final int offset, final int length) throws IOException
    {
        try (JsonParser parser = FACTORY.createParser(bytes, offset, length))
        {
            return readDocument(parser);
        }
    }

    private static JsonNode readDocument(final JsonParser parser) throws IOException
    {
        if (null == parser.nextToken())
        {
            throw new JsonParseException(parser, "no JSON document (the input is empty)");
        }
        final JsonNode node = readValue(parser);
        if (null != parser.nextToken())
        {
            throw new JsonParseException(parser, "more than one JSON document (unexpected " +
                parser.currentToken().asString() + " after the first)", parser.currentTokenLocation());
        }
        return node;
    }

    /** The value at the parser's current token; nesting is bounded by jackson-core's maximum depth (1000). */
    private static JsonNode readValue(final JsonParser parser) throws IOException
    {
        switch (parser.currentToken())
        {
            case START_OBJECT:
            {
                final ObjectNode object = NODES.objectNode();
                while (JsonToken.FIELD_NAME == parser.nextToken())
                {
                    final String name = parser.currentName();
                    parser.nextToken();
                    object.set(name, readValue(parser)); // a repeated name: the last one wins, as ObjectMapper does
                }
                return object;
            }
            case START_ARRAY:
            {
                final ArrayNode array = NODES.arrayNode();
                while (JsonToken.END_ARRAY != parser.nextToken())
                {
                    array.add(readValue(parser));
                }
                return array;
            }
            case VALUE_STRING:
                return NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT:
                switch (parser.getNumberType())
                {
                    case INT:
                        return NODES.numberNode(parser.getIntValue());
                    case LONG:
                        return NODES.numberNode(parser.getLongValue());
                    default:
                        return NODES.numberNode(parser.getBigIntegerValue());
                }
            case VALUE_NUMBER_FLOAT:
                return NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new JsonParseException(parser, "unexpected " + parser.currentToken());
        }
    }

    /**
     * @param node to write.
     * @return the node as one line of JSON.
     */
    static String write(final JsonNode node)
    {
        return write(node, false);
    }

    /**
     * @param node to write.
     * @return the node as indented JSON, as {@code ObjectMapper.writerWithDefaultPrettyPrinter()} writes it.
     */
    static String writePretty(final JsonNode node)
    {
        return write(node, true);
    }

    /**
     * @param node to write.
     * @return the node as one line of JSON in UTF-8.
     */
    static byte[] writeBytes(final JsonNode node)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (JsonGenerator generator = FACTORY.createGenerator(bytes))
        {
            writeValue(generator, node);
        }
        catch (final IOException ex) // memory has no I/O to fail
        {
            throw new UncheckedIOException(ex);
        }
        return bytes.toByteArray();
    }

    private static String write(final JsonNode node, final boolean pretty)
    {
        final StringWriter text = new StringWriter(256);
        try (JsonGenerator generator = FACTORY.createGenerator(text))
        {
            if (pretty)
            {
                generator.setPrettyPrinter(new DefaultPrettyPrinter());
            }
            writeValue(generator, node);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return text.toString();
    }

    private static void writeValue(final JsonGenerator generator, final JsonNode node) throws IOException
    {
        switch (node.getNodeType())
        {
            case OBJECT:
                generator.writeStartObject();
                for (final Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); )
                {
                    final Map.Entry<String, JsonNode> field = it.next();
                    generator.writeFieldName(field.getKey());
                    writeValue(generator, field.getValue());
                }
                generator.writeEndObject();
                break;
            case ARRAY:
                generator.writeStartArray();
                for (final JsonNode element : node)
                {
                    writeValue(generator, element);
                }
                generator.writeEndArray();
                break;
            case STRING:
                generator.writeString(node.textValue());
                break;
            case NUMBER:
                writeNumber(generator, node);
                break;
            case BOOLEAN:
                generator.writeBoolean(node.booleanValue());
                break;
            case BINARY:
                generator.writeBinary(node.binaryValue());
                break;
            default: // NULL, MISSING; POJO trees are never built by the tool
                generator.writeNull();
                break;
        }
    }

    private static void writeNumber(final JsonGenerator generator, final JsonNode node) throws IOException
    {
        switch (node.numberType())
        {
            case INT:
                generator.writeNumber(node.intValue());
                break;
            case LONG:
                generator.writeNumber(node.longValue());
                break;
            case BIG_INTEGER:
                generator.writeNumber(node.bigIntegerValue());
                break;
            case FLOAT:
                generator.writeNumber(node.floatValue());
                break;
            case BIG_DECIMAL:
                generator.writeNumber(node.decimalValue());
                break;
            default:
                generator.writeNumber(node.doubleValue());
                break;
        }
    }
}
