package io.switchboard.codec.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.codec.frame.ErrorCode;
import io.switchboard.codec.frame.FrameDecoder;
import io.switchboard.codec.frame.FrameEncoder;
import io.switchboard.codec.frame.FrameException;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.FrameHandler;
import io.switchboard.codec.frame.FrameHeader;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.codec.frame.PayloadCodec;
import io.switchboard.codec.subject.SubjectPattern;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The shared test vectors of {@code clients/vectors} (frames, subject patterns, error codes) against the Java frame
 * decoder and encoder, {@link PayloadCodec}, {@link SubjectPattern} and {@link ErrorCode}. The Python client runs the
 * same files (clients/python/tests/test_vectors.py), so the implementations cannot drift apart unnoticed.
 * <p>
 * The folder is found by walking up from the working directory to the project root; if it is not there the tests
 * fail, naming where they looked.
 */
class SharedVectorsTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();
    private static final Path VECTORS = findVectors();

    private final PayloadCodec codec = new PayloadCodec();

    private static Path findVectors()
    {
        final Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent())
        {
            if (Files.isRegularFile(dir.resolve("mvnw")) && Files.isDirectory(dir.resolve("clients")))
            {
                return dir.resolve("clients").resolve("vectors");
            }
        }
        return start.resolve("clients").resolve("vectors"); // reported as missing by load()
    }

    private static JsonNode load(final String name)
    {
        final Path file = VECTORS.resolve(name);
        if (!Files.isRegularFile(file))
        {
            fail("test vectors " + file + " are missing: the shared vectors live in clients/vectors of the project");
        }
        try
        {
            return JSON.readTree(file.toFile());
        }
        catch (final IOException ex)
        {
            throw new AssertionError("cannot read " + file + ": " + ex, ex);
        }
    }

    private record Decoded(List<Object[]> frames, ErrorCode fatal)
    {
    }

    private static Decoded decode(final byte[] raw)
    {
        final List<Object[]> frames = new ArrayList<>();
        final ErrorCode[] fatal = new ErrorCode[1];
        final FrameDecoder decoder = new FrameDecoder(FrameHeader.MAX_PAYLOAD_LENGTH_LIMIT);
        decoder.decode(ByteBuffer.wrap(raw), new FrameHandler()
        {
            public void onFrame(
                final int version, final FrameType type, final FrameFormat format, final byte[] payload,
                final int offset, final int length)
            {
                frames.add(new Object[]{ version, type, format, Arrays.copyOfRange(payload, offset, offset + length) });
            }

            public void onFatalError(final ErrorCode code, final String reason)
            {
                fatal[0] = code;
            }
        });
        return new Decoded(frames, fatal[0]);
    }

    private static FrameFormat format(final String name)
    {
        return switch (name)
        {
            case "json" -> FrameFormat.JSON;
            case "msgpack" -> FrameFormat.MSGPACK;
            default -> throw new AssertionError("unknown format in the vectors: " + name);
        };
    }

    /** Equal trees, numbers by value (an int and a long, or a float and a double, holding the same number). */
    private static boolean same(final JsonNode a, final JsonNode b)
    {
        if (a.isNumber() && b.isNumber())
        {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.getNodeType() != b.getNodeType() || a.size() != b.size())
        {
            return false;
        }
        if (a.isObject())
        {
            final Iterator<Map.Entry<String, JsonNode>> fields = a.fields();
            while (fields.hasNext())
            {
                final Map.Entry<String, JsonNode> field = fields.next();
                if (!b.has(field.getKey()) || !same(field.getValue(), b.get(field.getKey())))
                {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray())
        {
            for (int i = 0; i < a.size(); i++)
            {
                if (!same(a.get(i), b.get(i)))
                {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    private static String repeat(final JsonNode entry, final String key)
    {
        if (entry.has(key))
        {
            return entry.get(key).asText();
        }
        final JsonNode r = entry.get(key + "_repeat");
        return r.get("unit").asText().repeat(r.get("times").asInt()) + r.get("then").asText();
    }

    @Test
    void validFramesDecodeToTheirBodies()
    {
        final JsonNode valid = load("frames.json").get("valid");
        assertTrue(valid.size() >= 10, "too few valid frame vectors: " + valid.size());
        for (final JsonNode v : valid)
        {
            final String name = v.get("name").asText();
            final Decoded decoded = decode(HEX.parseHex(v.get("hex").asText()));
            assertNull(decoded.fatal(), name);
            assertEquals(1, decoded.frames().size(), name);
            final Object[] frame = decoded.frames().get(0);
            assertEquals(v.get("version").asInt(), frame[0], name);
            assertEquals(FrameType.valueOf(v.get("type").asText()), frame[1], name);
            assertEquals(format(v.get("format").asText()), frame[2], name);
            final byte[] payload = (byte[])frame[3];
            assertEquals(v.get("payload_hex").asText(), HEX.formatHex(payload), name);
            final JsonNode body = codec.read((FrameFormat)frame[2], payload, 0, payload.length);
            assertTrue(same(body, v.get("body")), name + ": read " + body + ", expected " + v.get("body"));
        }
    }

    @Test
    void exactFramesEncodeByteForByte()
    {
        final FrameEncoder encoder = new FrameEncoder(codec, FrameHeader.MAX_PAYLOAD_LENGTH_LIMIT);
        int exact = 0;
        for (final JsonNode v : load("frames.json").get("valid"))
        {
            if (!"exact".equals(v.get("encode").asText()))
            {
                continue;
            }
            exact++;
            final byte[] frame = encoder.encode(
                FrameType.valueOf(v.get("type").asText()), format(v.get("format").asText()), v.get("body"));
            assertEquals(v.get("hex").asText(), HEX.formatHex(frame), v.get("name").asText());
        }
        assertTrue(exact >= 8, "too few exact frame vectors: " + exact);
    }

    @Test
    void invalidHeadersAreRefusedWithTheirCode()
    {
        final JsonNode invalid = load("frames.json").get("invalid_frames");
        assertTrue(invalid.size() >= 5, "too few invalid frame vectors: " + invalid.size());
        for (final JsonNode v : invalid) // every one: the broker's decoder is the strict peer
        {
            final Decoded decoded = decode(HEX.parseHex(v.get("hex").asText()));
            assertEquals(ErrorCode.valueOf(v.get("error").asText()), decoded.fatal(), v.get("name").asText());
            assertEquals(List.of(), decoded.frames(), v.get("name").asText());
        }
    }

    @Test
    void invalidPayloadsAreRefusedAsSerializationErrors()
    {
        final JsonNode invalid = load("frames.json").get("invalid_payloads");
        assertTrue(invalid.size() >= 10, "too few invalid payload vectors: " + invalid.size());
        for (final JsonNode v : invalid)
        {
            final byte[] payload = HEX.parseHex(v.get("payload_hex").asText());
            final FrameException ex = assertThrows(FrameException.class,
                () -> codec.read(format(v.get("format").asText()), payload, 0, payload.length), v.get("name").asText());
            assertEquals(ErrorCode.valueOf(v.get("error").asText()), ex.errorCode(), v.get("name").asText());
        }
    }

    @Test
    void subjectPatternsMatchAsTheVectorsSay()
    {
        final JsonNode subjects = load("subjects.json");
        assertTrue(subjects.get("patterns").size() >= 8);
        for (final JsonNode v : subjects.get("patterns"))
        {
            final SubjectPattern pattern = SubjectPattern.compile(v.get("pattern").asText());
            for (final JsonNode s : v.get("match"))
            {
                assertTrue(pattern.matches(s.asText()), pattern.pattern() + " should match " + s.asText());
                assertNull(SubjectPattern.validateSubject(s.asText()), s.asText());
            }
            for (final JsonNode s : v.get("no_match"))
            {
                assertFalse(pattern.matches(s.asText()), pattern.pattern() + " should not match " + s.asText());
            }
        }
        for (final JsonNode v : subjects.get("invalid_patterns"))
        {
            final String p = repeat(v, "pattern");
            assertNotNull(SubjectPattern.validatePattern(p), "'" + p + "' (" + v.get("why").asText() + ")");
        }
        for (final JsonNode v : subjects.get("invalid_subjects"))
        {
            final String s = v.get("subject").asText();
            assertNotNull(SubjectPattern.validateSubject(s), "'" + s + "' (" + v.get("why").asText() + ")");
            assertFalse(SubjectPattern.isValidSubject(s), s);
        }
        for (final JsonNode v : subjects.get("valid_lengths"))
        {
            assertNull(SubjectPattern.validatePattern(repeat(v, "pattern")));
        }
    }

    @Test
    void everyErrorCodeIsInTheVectorsAndNoMore()
    {
        final JsonNode errors = load("errors.json");
        final List<String> listed = new ArrayList<>();
        errors.get("codes").forEach(v -> listed.add(v.get("code").asText()));
        assertEquals(Arrays.stream(ErrorCode.values()).map(ErrorCode::name).toList(), listed);
        for (final JsonNode v : errors.get("service_defined"))
        {
            assertNull(ErrorCode.fromText(v.get("error_code").isNull() ? null : v.get("error_code").asText()),
                v.toString());
        }
    }
}
