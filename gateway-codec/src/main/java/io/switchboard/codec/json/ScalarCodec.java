package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import uk.co.real_logic.sbe.PrimitiveType;
import uk.co.real_logic.sbe.ir.Encoding;

import java.math.BigInteger;
import java.nio.ByteOrder;

/**
 * One integer or floating-point primitive: a JSON number, range-checked against the type's (or the
 * schema's) minimum and maximum. A uint64 over 2^63-1 decodes to a big integer.
 */
final class ScalarCodec implements FixedCodec
{
    private static final BigInteger UNSIGNED_LONG_MASK = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final PrimitiveType type;
    private final ByteOrder order;
    private final boolean optional;
    private final long nullBits;
    private final long min;
    private final long max;
    private final double minDouble;
    private final double maxDouble;

    ScalarCodec(final Encoding encoding, final boolean optional)
    {
        this.type = encoding.primitiveType();
        this.order = encoding.byteOrder();
        this.optional = optional;
        if (PrimitiveIo.isFloating(type))
        {
            minDouble = encoding.applicableMinValue().doubleValue();
            maxDouble = encoding.applicableMaxValue().doubleValue();
            min = 0;
            max = 0;
            nullBits = type == PrimitiveType.FLOAT ?
                Float.floatToRawIntBits(Float.NaN) & 0xFFFF_FFFFL : Double.doubleToRawLongBits(Double.NaN);
        }
        else
        {
            min = encoding.applicableMinValue().longValue();
            max = encoding.applicableMaxValue().longValue();
            nullBits = encoding.applicableNullValue().longValue();
            minDouble = 0;
            maxDouble = 0;
        }
    }

    public int encodedLength()
    {
        return type.size();
    }

    public void encode(final JsonNode value, final MutableDirectBuffer buffer, final int index, final Path path)
    {
        if (Json.isAbsent(value))
        {
            if (!optional)
            {
                throw path.error("missing required value of type " + type.primitiveName());
            }
            PrimitiveIo.putBits(buffer, index, type, order, nullBits);
            return;
        }
        PrimitiveIo.putBits(buffer, index, type, order, toBits(value, path));
    }

    long toBits(final JsonNode value, final Path path)
    {
        if (!value.isNumber())
        {
            throw Json.expected(path, "a number", value);
        }
        if (type == PrimitiveType.DOUBLE || type == PrimitiveType.FLOAT)
        {
            final double d = value.doubleValue();
            if (!(d >= minDouble && d <= maxDouble))
            {
                throw outOfRange(path, value);
            }
            return type == PrimitiveType.FLOAT ?
                Float.floatToRawIntBits((float)d) & 0xFFFF_FFFFL : Double.doubleToRawLongBits(d);
        }
        if (!value.isIntegralNumber() && !value.canConvertToExactIntegral())
        {
            throw Json.expected(path, "an integer", value);
        }
        if (type == PrimitiveType.UINT64)
        {
            final BigInteger big = value.bigIntegerValue();
            if (big.signum() < 0 || big.compareTo(BigInteger.valueOf(min)) < 0 ||
                big.compareTo(BigInteger.valueOf(max).and(UNSIGNED_LONG_MASK)) > 0)
            {
                throw outOfRange(path, value);
            }
            return big.longValue();
        }
        if (!value.canConvertToLong())
        {
            throw outOfRange(path, value);
        }
        final long v = value.longValue();
        if (v < min || v > max)
        {
            throw outOfRange(path, value);
        }
        return v;
    }

    public JsonNode decode(final DirectBuffer buffer, final int index, final Path path)
    {
        return toNode(PrimitiveIo.getBits(buffer, index, type, order));
    }

    JsonNode toNode(final long bits)
    {
        switch (type)
        {
            case FLOAT:
            {
                final float f = Float.intBitsToFloat((int)bits);
                return optional && Float.isNaN(f) ? null : Json.NODES.numberNode(f);
            }
            case DOUBLE:
            {
                final double d = Double.longBitsToDouble(bits);
                return optional && Double.isNaN(d) ? null : Json.NODES.numberNode(d);
            }
            default:
                if (optional && bits == nullBits)
                {
                    return null;
                }
                if (type == PrimitiveType.UINT64 && bits < 0)
                {
                    return Json.NODES.numberNode(BigInteger.valueOf(bits).and(UNSIGNED_LONG_MASK));
                }
                return Json.NODES.numberNode(bits);
        }
    }

    public void describe(final ObjectNode into)
    {
        into.put("type", type.primitiveName());
    }

    private TranscodeException outOfRange(final Path path, final JsonNode value)
    {
        if (PrimitiveIo.isFloating(type))
        {
            return path.error(type.primitiveName() + " out of range: " + Json.show(value));
        }
        final String maxText = type == PrimitiveType.UINT64 ? Long.toUnsignedString(max) : Long.toString(max);
        return path.error(type.primitiveName() + " out of range [" + min + ", " + maxText + "]: " + Json.show(value));
    }
}
