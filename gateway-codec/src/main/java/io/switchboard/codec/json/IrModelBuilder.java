package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import uk.co.real_logic.sbe.PrimitiveType;
import uk.co.real_logic.sbe.PrimitiveValue;
import uk.co.real_logic.sbe.ir.Encoding;
import uk.co.real_logic.sbe.ir.Signal;
import uk.co.real_logic.sbe.ir.Token;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a message's IR token list into a tree of codecs. Cold path: runs once per schema.
 */
final class IrModelBuilder
{
    /**
     * Deepest nesting of groups and composites compiled: the codecs recurse once per level, and the IR comes from a
     * peer's bytes, so a hostile IR must not reach the end of the stack.
     */
    static final int MAX_NESTING = 64;

    private IrModelBuilder()
    {
    }

    static MessageCodec message(final List<Token> tokens)
    {
        final Token begin = tokens.get(0);
        final BodyCodec body = body(tokens, 1, tokens.size() - 1, begin.encodedLength(), 0);
        return new MessageCodec(begin.name(), (int)begin.id(), begin.version(), body);
    }

    private static BodyCodec body(
        final List<Token> tokens, final int from, final int to, final int blockLength, final int depth)
    {
        checkDepth(tokens.get(Math.max(0, from - 1)), depth);
        final List<FixedField> fields = new ArrayList<>();
        final List<GroupCodec> groups = new ArrayList<>();
        final List<VarDataCodec> varData = new ArrayList<>();
        int i = from;
        while (i < to)
        {
            final Token token = tokens.get(i);
            switch (token.signal())
            {
                case BEGIN_FIELD:
                    fields.add(field(tokens, i, depth));
                    break;
                case BEGIN_GROUP:
                    groups.add(group(tokens, i, depth));
                    break;
                case BEGIN_VAR_DATA:
                    varData.add(varData(tokens, i));
                    break;
                default:
                    break;
            }
            i += Math.max(1, token.componentTokenCount());
        }
        return new BodyCodec(blockLength, fields, groups, varData);
    }

    private static void checkDepth(final Token token, final int depth)
    {
        if (depth > MAX_NESTING)
        {
            throw new IllegalArgumentException("groups and composites nested deeper than " + MAX_NESTING +
                " levels at '" + token.name() + "'");
        }
    }

    private static FixedField field(final List<Token> tokens, final int index, final int depth)
    {
        final Token field = tokens.get(index);
        final Token type = tokens.get(index + 1);
        final boolean optional = field.isOptionalEncoding() || type.isOptionalEncoding();
        final boolean constant = field.isConstantEncoding() || type.isConstantEncoding();
        final FixedCodec codec = constant ?
            constant(field, type) : fixed(tokens, index + 1, optional, depth);
        return new FixedField(field.name(), field.offset(), field.version(), optional, codec);
    }

    private static FixedCodec fixed(final List<Token> tokens, final int index, final boolean optional, final int depth)
    {
        final Token type = tokens.get(index);
        switch (type.signal())
        {
            case BEGIN_ENUM:
                return enumCodec(tokens, index, optional);
            case BEGIN_SET:
                return setCodec(tokens, index);
            case BEGIN_COMPOSITE:
                return composite(tokens, index, depth + 1);
            default:
                return primitive(type, optional);
        }
    }

    private static FixedCodec primitive(final Token type, final boolean optional)
    {
        final Encoding encoding = type.encoding();
        if (type.isConstantEncoding())
        {
            return constant(type, type);
        }
        if (encoding.primitiveType() == PrimitiveType.CHAR)
        {
            return new CharArrayCodec(type.arrayLength(), encoding.characterEncoding(), optional);
        }
        final ScalarCodec scalar = new ScalarCodec(encoding, optional);
        return type.arrayLength() > 1 ? new PrimitiveArrayCodec(scalar, type.arrayLength(), optional) : scalar;
    }

    private static FixedCodec constant(final Token field, final Token type)
    {
        final PrimitiveValue value = null != field.encoding().constValue() ?
            field.encoding().constValue() : type.encoding().constValue();
        final String typeName = type.applicableTypeName();
        if (null == value)
        {
            return new ConstantCodec(Json.NODES.nullNode(), typeName);
        }
        final JsonNode node;
        if (type.signal() == Signal.BEGIN_ENUM)
        {
            final String text = value.toString();
            node = Json.NODES.textNode(text.substring(text.lastIndexOf('.') + 1));
        }
        else if (type.encoding().primitiveType() == PrimitiveType.CHAR)
        {
            node = Json.NODES.textNode(value.toString());
        }
        else if (PrimitiveIo.isFloating(type.encoding().primitiveType()))
        {
            node = Json.NODES.numberNode(value.doubleValue());
        }
        else
        {
            node = Json.NODES.numberNode(value.longValue());
        }
        return new ConstantCodec(node, typeName);
    }

    private static FixedCodec enumCodec(final List<Token> tokens, final int index, final boolean optional)
    {
        final Token begin = tokens.get(index);
        final Map<String, Long> valueByName = new LinkedHashMap<>();
        final Map<Long, String> nameByValue = new HashMap<>();
        for (int i = index + 1; tokens.get(i).signal() == Signal.VALID_VALUE; i++)
        {
            final Token value = tokens.get(i);
            final long bits = value.encoding().constValue().longValue();
            valueByName.put(value.name(), bits);
            nameByValue.put(bits, value.name());
        }
        return new EnumCodec(begin.applicableTypeName(), begin.encoding(),
            optional || begin.isOptionalEncoding(), valueByName, nameByValue);
    }

    private static FixedCodec setCodec(final List<Token> tokens, final int index)
    {
        final Token begin = tokens.get(index);
        final List<String> choices = new ArrayList<>();
        final Map<String, Integer> bitByName = new HashMap<>();
        for (int i = index + 1; tokens.get(i).signal() == Signal.CHOICE; i++)
        {
            final Token choice = tokens.get(i);
            choices.add(choice.name());
            bitByName.put(choice.name(), (int)choice.encoding().constValue().longValue());
        }
        return new SetCodec(begin.applicableTypeName(), begin.encoding(), choices, bitByName);
    }

    private static FixedCodec composite(final List<Token> tokens, final int index, final int depth)
    {
        final Token begin = tokens.get(index);
        checkDepth(begin, depth);
        final int end = index + begin.componentTokenCount() - 1;
        final List<FixedField> members = new ArrayList<>();
        int i = index + 1;
        while (i < end)
        {
            final Token member = tokens.get(i);
            final boolean optional = member.isOptionalEncoding();
            final FixedCodec codec = member.isConstantEncoding() ? constant(member, member) : fixed(tokens, i, optional, depth);
            members.add(new FixedField(member.name(), member.offset(), member.version(), optional, codec));
            i += Math.max(1, member.componentTokenCount());
        }
        return new CompositeCodec(begin.applicableTypeName(), begin.encodedLength(), members);
    }

    private static GroupCodec group(final List<Token> tokens, final int index, final int depth)
    {
        final Token begin = tokens.get(index);
        final Token dimension = tokens.get(index + 1);
        final int dimensionEnd = index + 1 + dimension.componentTokenCount();
        final UnsignedSlot blockLength = new UnsignedSlot(member(tokens, index + 1, "blockLength"));
        final UnsignedSlot numInGroup = new UnsignedSlot(member(tokens, index + 1, "numInGroup"));
        final int end = index + begin.componentTokenCount() - 1;
        final BodyCodec body = body(tokens, dimensionEnd, end, begin.encodedLength(), depth + 1);
        return new GroupCodec(begin.name(), begin.version(), dimension.encodedLength(), blockLength, numInGroup, body);
    }

    private static VarDataCodec varData(final List<Token> tokens, final int index)
    {
        final Token begin = tokens.get(index);
        final Token length = member(tokens, index + 1, "length");
        final Token data = member(tokens, index + 1, "varData");
        return new VarDataCodec(begin.name(), begin.version(), new UnsignedSlot(length),
            data.encoding().characterEncoding());
    }

    static Token member(final List<Token> tokens, final int compositeIndex, final String name)
    {
        final int end = compositeIndex + tokens.get(compositeIndex).componentTokenCount();
        for (int i = compositeIndex + 1; i < end; i++)
        {
            if (tokens.get(i).signal() == Signal.ENCODING && tokens.get(i).name().equals(name))
            {
                return tokens.get(i);
            }
        }
        throw new IllegalArgumentException("composite " + tokens.get(compositeIndex).name() + " has no member " + name);
    }
}
