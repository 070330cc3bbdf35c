package io.switchboard.codec.subject;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A compiled subscription pattern over dot-separated subjects.
 * <p>
 * {@code *} matches exactly one token, {@code >} as the last token matches one or more trailing tokens, any
 * other token matches itself. A pattern without wildcards matches exactly one subject.
 * <p>
 * Matching reads the subject's ASCII bytes where they lie (a {@link DirectBuffer}, e.g. an Aeron term
 * buffer) and allocates nothing. Immutable and thread-safe.
 */
public final class SubjectPattern
{
    /** Longest subject or pattern accepted, in bytes. */
    public static final int MAX_LENGTH = 255;

    private static final byte DOT = '.';
    private static final byte STAR = '*';
    private static final byte GT = '>';

    private final String pattern;
    private final byte[][] tokens;
    private final boolean tailWildcard;
    private final boolean literal;
    private final AsciiBytes literalBytes;

    private SubjectPattern(final String pattern, final byte[][] tokens, final boolean tailWildcard, final boolean literal)
    {
        this.pattern = pattern;
        this.tokens = tokens;
        this.tailWildcard = tailWildcard;
        this.literal = literal;
        this.literalBytes = literal ? new AsciiBytes(pattern) : null;
    }

    /**
     * Compile a pattern.
     *
     * @param pattern to compile, such as {@code prices.*} or {@code orders.>}.
     * @return the compiled pattern.
     * @throws IllegalArgumentException naming what is wrong with the pattern.
     */
    public static SubjectPattern compile(final String pattern)
    {
        final String problem = validate(pattern, true);
        if (null != problem)
        {
            throw new IllegalArgumentException("invalid pattern '" + pattern + "': " + problem);
        }

        final List<byte[]> tokens = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= pattern.length(); i++)
        {
            if (i == pattern.length() || pattern.charAt(i) == '.')
            {
                tokens.add(pattern.substring(start, i).getBytes(StandardCharsets.US_ASCII));
                start = i + 1;
            }
        }

        final boolean tail = tokens.get(tokens.size() - 1).length == 1 && tokens.get(tokens.size() - 1)[0] == GT;
        if (tail)
        {
            tokens.remove(tokens.size() - 1);
        }

        final boolean literal = !tail && pattern.indexOf('*') < 0;
        return new SubjectPattern(pattern, tokens.toArray(new byte[0][]), tail, literal);
    }

    /**
     * Check a concrete subject: what {@code publish} accepts.
     *
     * @param subject to check.
     * @return null when valid, else what is wrong with it.
     */
    public static String validateSubject(final String subject)
    {
        return validate(subject, false);
    }

    /**
     * Check a concrete subject without allocating: the hot-path twin of {@link #validateSubject(String)}.
     *
     * @param subject to check.
     * @return true if the subject is valid for publishing.
     */
    public static boolean isValidSubject(final CharSequence subject)
    {
        final int length = null == subject ? 0 : subject.length();
        if (0 == length || length > MAX_LENGTH)
        {
            return false;
        }
        char previous = '.';
        for (int i = 0; i < length; i++)
        {
            final char c = subject.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == '*' || c == '>' || (c == '.' && previous == '.'))
            {
                return false;
            }
            previous = c;
        }
        return previous != '.';
    }

    /**
     * Check a pattern without compiling it.
     *
     * @param pattern to check.
     * @return null when valid, else what is wrong with it.
     */
    public static String validatePattern(final String pattern)
    {
        return validate(pattern, true);
    }

    private static String validate(final String text, final boolean wildcardsAllowed)
    {
        if (null == text || text.isEmpty())
        {
            return "empty";
        }
        if (text.length() > MAX_LENGTH)
        {
            return "longer than " + MAX_LENGTH + " characters";
        }

        int tokenStart = 0;
        for (int i = 0; i <= text.length(); i++)
        {
            final char c = i < text.length() ? text.charAt(i) : '.';
            if (c == '.')
            {
                final int tokenLength = i - tokenStart;
                if (tokenLength == 0)
                {
                    return "empty token at offset " + tokenStart;
                }
                final String token = text.substring(tokenStart, i);
                if (token.indexOf('*') >= 0 || token.indexOf('>') >= 0)
                {
                    if (!wildcardsAllowed)
                    {
                        return "wildcard '" + token + "' in a subject";
                    }
                    if (tokenLength != 1)
                    {
                        return "wildcard inside token '" + token + "'";
                    }
                    if (i < text.length() && token.charAt(0) == '>')
                    {
                        return "'>' must be the last token";
                    }
                }
                tokenStart = i + 1;
            }
            else if (c <= ' ' || c >= 0x7F)
            {
                return "character 0x" + Integer.toHexString(c) + " at offset " + i + " (printable ASCII only)";
            }
        }

        return null;
    }

    /**
     * The pattern as given.
     *
     * @return the pattern as given.
     */
    public String pattern()
    {
        return pattern;
    }

    /**
     * Whether the pattern has no wildcard, so it matches only the subject equal to it.
     *
     * @return true when the pattern matches one subject only.
     */
    public boolean isLiteral()
    {
        return literal;
    }

    /**
     * Match a subject held as ASCII bytes in a buffer.
     *
     * @param buffer holding the subject.
     * @param offset at which the subject begins.
     * @param length of the subject in bytes.
     * @return true if the subject matches this pattern.
     */
    public boolean matches(final DirectBuffer buffer, final int offset, final int length)
    {
        if (literal)
        {
            return literalBytes.equalsIn(buffer, offset, length);
        }
        final int end = offset + length;
        int position = offset;
        final byte[][] tokens = this.tokens;

        for (final byte[] token : tokens)
        {
            if (position > end)
            {
                return false; // the subject has fewer tokens than the pattern
            }

            final int tokenEnd = tokenEnd(buffer, position, end);
            if (tokenEnd == position)
            {
                return false;
            }
            if (!(token.length == 1 && token[0] == STAR))
            {
                if (tokenEnd - position != token.length)
                {
                    return false;
                }
                for (int i = 0; i < token.length; i++)
                {
                    if (buffer.getByte(position + i) != token[i])
                    {
                        return false;
                    }
                }
            }
            position = tokenEnd + 1; // skip the dot, or step one past the end
        }

        if (tailWildcard)
        {
            return position < end; // at least one more token remains
        }

        return position == end + 1;
    }

    /**
     * Match a subject given as text; allocates only if the subject is not ASCII.
     *
     * @param subject to match.
     * @return true if the subject matches this pattern.
     */
    public boolean matches(final String subject)
    {
        final byte[] bytes = subject.getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        return matches(buffer, 0, bytes.length);
    }

    private static int tokenEnd(final DirectBuffer buffer, final int from, final int end)
    {
        int i = from;
        while (i < end && buffer.getByte(i) != DOT)
        {
            i++;
        }
        return i;
    }

    /**
     * {@inheritDoc}
     */
    public String toString()
    {
        return pattern;
    }

    /**
     * {@inheritDoc}
     */
    public boolean equals(final Object o)
    {
        return o instanceof SubjectPattern && ((SubjectPattern)o).pattern.equals(pattern);
    }

    /**
     * {@inheritDoc}
     */
    public int hashCode()
    {
        return pattern.hashCode();
    }
}
