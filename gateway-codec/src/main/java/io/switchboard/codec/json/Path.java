package io.switchboard.codec.json;

/**
 * A field path such as {@code legs[2].price}, built as a linked list on the way down and rendered only
 * when an error names it.
 */
final class Path
{
    static final Path ROOT = new Path(null, null, -1);

    private final Path parent;
    private final String name;
    private final int index;

    private Path(final Path parent, final String name, final int index)
    {
        this.parent = parent;
        this.name = name;
        this.index = index;
    }

    Path field(final String fieldName)
    {
        return new Path(this, fieldName, -1);
    }

    Path index(final int i)
    {
        return new Path(this, null, i);
    }

    TranscodeException error(final String problem)
    {
        return new TranscodeException(toString(), problem);
    }

    public String toString()
    {
        if (null == parent)
        {
            return "";
        }
        final String head = parent.toString();
        if (null == name)
        {
            return head + "[" + index + "]";
        }
        return head.isEmpty() ? name : head + "." + name;
    }
}
