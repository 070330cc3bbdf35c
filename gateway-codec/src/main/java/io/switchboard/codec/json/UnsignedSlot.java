package io.switchboard.codec.json;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import uk.co.real_logic.sbe.PrimitiveType;
import uk.co.real_logic.sbe.ir.Token;

import java.nio.ByteOrder;

/**
 * An unsigned integer at a fixed offset of a header composite: a message header field, a group's
 * blockLength or numInGroup, a var data length.
 */
final class UnsignedSlot
{
    private final int offset;
    private final PrimitiveType type;
    private final ByteOrder order;
    private final long max;

    UnsignedSlot(final Token token)
    {
        this.offset = token.offset();
        this.type = token.encoding().primitiveType();
        this.order = token.encoding().byteOrder();
        final long applicableMax = token.encoding().applicableMaxValue().longValue();
        this.max = type == PrimitiveType.UINT64 || applicableMax < 0 ? Long.MAX_VALUE : applicableMax;
    }

    int size()
    {
        return type.size();
    }

    long max()
    {
        return max;
    }

    long get(final DirectBuffer buffer, final int base)
    {
        final long bits = PrimitiveIo.getBits(buffer, base + offset, type, order);
        return bits < 0 ? Long.MAX_VALUE : bits;
    }

    void put(final MutableDirectBuffer buffer, final int base, final long value)
    {
        PrimitiveIo.putBits(buffer, base + offset, type, order, value);
    }
}
