package io.switchboard.transport;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The ASCII bytes of the last name written through it, encoded again only when a different String comes: a service,
 * message type or subject given as the same constant on every call costs an identity check, not an encoding.
 * <p>
 * Not thread-safe.
 */
final class EncodedName
{
    private String name;
    private UnsafeBuffer bytes = new UnsafeBuffer(new byte[64]);

    /**
     * The bytes of this name, encoded now if it is not the last one.
     *
     * @param name to encode, ASCII.
     * @return a buffer holding the name's bytes from index 0, {@code name.length()} of them.
     */
    UnsafeBuffer of(final String name)
    {
        if (name != this.name)
        {
            if (bytes.capacity() < name.length())
            {
                bytes = new UnsafeBuffer(new byte[Math.max(name.length(), 2 * bytes.capacity())]);
            }
            bytes.putStringWithoutLengthAscii(0, name);
            this.name = name;
        }
        return bytes;
    }

    /**
     * Whether this name is the last one encoded (the same String instance).
     *
     * @param name to check.
     * @return true if {@link #of} would not encode it again.
     */
    boolean isLast(final String name)
    {
        return name == this.name;
    }
}
