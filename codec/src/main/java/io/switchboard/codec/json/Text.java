package io.switchboard.codec.json;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict string encoding: a character the charset cannot hold is an error, not a silent '?'.
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
}
