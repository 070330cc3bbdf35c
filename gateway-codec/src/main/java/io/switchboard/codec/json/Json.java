package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;

/**
 * Small helpers on JSON values shared by the codecs.
 */
final class Json
{
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_SHOWN = 40;

    private Json()
    {
    }

    static boolean isAbsent(final JsonNode value)
    {
        return null == value || value.isNull() || value.isMissingNode();
    }

    /**
     * Render a value for an error message, shortened.
     */
    static String show(final JsonNode value)
    {
        if (null == value || value.isMissingNode())
        {
            return "nothing";
        }
        final String text = value.toString();
        return text.length() <= MAX_SHOWN ? text : text.substring(0, MAX_SHOWN) + "...";
    }

    static void checkNoUnknownFields(final JsonNode object, final Set<String> known, final Path path)
    {
        if (object.size() > known.size() || !known.containsAll(toSet(object)))
        {
            for (final Iterator<String> names = object.fieldNames(); names.hasNext(); )
            {
                final String name = names.next();
                if (!known.contains(name))
                {
                    throw path.field(name).error("unknown field, expected one of " + known);
                }
            }
        }
    }

    private static Set<String> toSet(final JsonNode object)
    {
        final Set<String> names = new HashSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static TranscodeException expected(final Path path, final String what, final JsonNode got)
    {
        return path.error("expected " + what + ", got " + show(got));
    }
}
