package io.switchboard.codec.json;

import io.switchboard.codec.frame.Utf8;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict string encoding and decoding: a character the charset cannot hold is an error, not a silent '?', and bytes
 * that are not well formed in the charset (an overlong or surrogate UTF-8 form, a byte over 0x7F in US-ASCII) are an
 * error, not a silent U+FFFD.
 */
final class Text
{
    private Text()
    {
    }

    static byte[] encode(final String text, final Charset charset, final Path path)
    {
        if (charset == StandardCharsets.UTF_8)
        {
            for (int i = 0; i < text.length(); i++)
            {
                if (Character.isSurrogate(text.charAt(i)))
                {
                    return strict(text, charset, path);
                }
            }
            return text.getBytes(StandardCharsets.UTF_8);
        }
        return strict(text, charset, path);
    }

    private static byte[] strict(final String text, final Charset charset, final Path path)
    {
        try
        {
            final ByteBuffer encoded = charset.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .encode(CharBuffer.wrap(text));
            final byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        }
        catch (final CharacterCodingException ex)
        {
            throw path.error("string has characters that " + charset.name() + " cannot encode");
        }
    }

    static String decode(final byte[] bytes, final Charset charset, final Path path)
    {
        if (charset == StandardCharsets.UTF_8)
        {
            final int bad = Utf8.firstInvalid(bytes, 0, bytes.length);
            if (bad >= 0)
            {
                throw path.error("string is not valid UTF-8 at byte " + bad + ": " +
                    Utf8.showBytes(bytes, bad, bytes.length));
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
        try
        {
            return charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
        }
        catch (final CharacterCodingException ex)
        {
            throw path.error("string has bytes that are not valid " + charset.name() + ": " + ex.getMessage());
        }
    }
}
