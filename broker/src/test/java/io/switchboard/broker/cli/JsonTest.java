package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Json} reads and writes what {@code ObjectMapper} would, without one. */
class JsonTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String DOCUMENT = "{\"s\":\"a\\\"b\\u00e9\\n\",\"i\":7,\"l\":12345678901,\"big\":" +
        "123456789012345678901234567890,\"d\":2.5,\"e\":1.0E-7,\"t\":true,\"f\":false,\"n\":null," +
        "\"a\":[1,[],{},{\"x\":[\"y\"]}],\"o\":{}}";

    @Test
    void shouldReadAndWriteAsObjectMapperDoes() throws Exception
    {
        final JsonNode expected = MAPPER.readTree(DOCUMENT);
        final JsonNode read = Json.read(DOCUMENT);
        assertEquals(expected, read);
        assertEquals(MAPPER.writeValueAsString(expected), Json.write(read));
        assertEquals(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(expected), Json.writePretty(read));
        assertArrayEquals(MAPPER.writeValueAsBytes(expected), Json.writeBytes(read));
        final byte[] framed = ("xx" + DOCUMENT + "yy").getBytes(StandardCharsets.UTF_8);
        assertEquals(expected, Json.read(framed, 2, framed.length - 4));
    }

    @Test
    void shouldKeepTheTypesOfNumbers() throws Exception
    {
        final JsonNode read = Json.read(DOCUMENT);
        assertTrue(read.get("i").isInt());
        assertTrue(read.get("l").isLong());
        assertTrue(read.get("big").isBigInteger());
        assertTrue(read.get("d").isDouble());
    }

    @Test
    void shouldTakeTheLastOfARepeatedName() throws Exception
    {
        assertEquals("{\"a\":2}", Json.write(Json.read("{\"a\":1,\"a\":2}")));
    }

    @Test
    void shouldRefuseAnythingButOneDocumentSayingWhere()
    {
        final JsonProcessingException two = assertThrows(JsonProcessingException.class, () -> Json.read("{} {}"));
        assertEquals(4, two.getLocation().getColumnNr(), two.getMessage());
        assertThrows(JsonProcessingException.class, () -> Json.read(""));
        assertThrows(JsonProcessingException.class, () -> Json.read("{\"a\":"));
        final JsonProcessingException bad = assertThrows(JsonProcessingException.class, () -> Json.read("[1,\n x]"));
        assertEquals(2, bad.getLocation().getLineNr());
    }
}
