package io.switchboard.codec.json;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import uk.co.real_logic.sbe.PrimitiveType;

import java.nio.ByteOrder;

/**
 * Reads and writes one SBE primitive as raw bits: integers sign- or zero-extended to a long, float and
 * double as their IEEE bits. Callers have checked the bounds.
 */
final class PrimitiveIo
{
    private PrimitiveIo()
    {
    }

    static long getBits(final DirectBuffer buffer, final int index, final PrimitiveType type, final ByteOrder order)
    {
        switch (type)
        {
            case CHAR:
            case UINT8:
                return buffer.getByte(index) & 0xFFL;
            case INT8:
                return buffer.getByte(index);
            case INT16:
                return buffer.getShort(index, order);
            case UINT16:
                return buffer.getShort(index, order) & 0xFFFFL;
            case INT32:
                return buffer.getInt(index, order);
            case UINT32:
                return buffer.getInt(index, order) & 0xFFFF_FFFFL;
            case FLOAT:
                return Float.floatToRawIntBits(buffer.getFloat(index, order)) & 0xFFFF_FFFFL;
            case DOUBLE:
                return Double.doubleToRawLongBits(buffer.getDouble(index, order));
            default:
                return buffer.getLong(index, order);
        }
    }

    static void putBits(
        final MutableDirectBuffer buffer, final int index, final PrimitiveType type, final ByteOrder order, final long bits)
    {
        switch (type)
        {
            case CHAR:
            case UINT8:
            case INT8:
                buffer.putByte(index, (byte)bits);
                break;
            case INT16:
            case UINT16:
                buffer.putShort(index, (short)bits, order);
                break;
            case INT32:
            case UINT32:
                buffer.putInt(index, (int)bits, order);
                break;
            case FLOAT:
                buffer.putFloat(index, Float.intBitsToFloat((int)bits), order);
                break;
            case DOUBLE:
                buffer.putDouble(index, Double.longBitsToDouble(bits), order);
                break;
            default:
                buffer.putLong(index, bits, order);
                break;
        }
    }

    static boolean isFloating(final PrimitiveType type)
    {
        return type == PrimitiveType.FLOAT || type == PrimitiveType.DOUBLE;
    }
}
