"""A small MessagePack encoder/decoder in pure Python.

Supports nil, bool, int (64-bit signed and unsigned), float, str, bin, array
and map. Ext values are decoded to :class:`ExtType` and can be encoded from it.
Floats are always encoded as float64; float32 is accepted on input.
"""

from __future__ import annotations

import struct
from typing import Any, Dict, List, NamedTuple, Tuple

__all__ = ["packb", "unpackb", "ExtType", "MsgPackError"]


class MsgPackError(ValueError):
    """Raised for values that cannot be encoded or bytes that cannot be decoded."""


class ExtType(NamedTuple):
    code: int
    data: bytes


_MAX_DEPTH = 512

_pack_b = struct.Struct(">b").pack
_pack_B = struct.Struct(">B").pack
_pack_h = struct.Struct(">h").pack
_pack_H = struct.Struct(">H").pack
_pack_i = struct.Struct(">i").pack
_pack_I = struct.Struct(">I").pack
_pack_q = struct.Struct(">q").pack
_pack_Q = struct.Struct(">Q").pack
_pack_d = struct.Struct(">d").pack


def packb(obj: Any) -> bytes:
    """Encode ``obj`` to MessagePack bytes."""
    out = bytearray()
    _pack(obj, out, 0)
    return bytes(out)


def _pack(obj: Any, out: bytearray, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise MsgPackError("nesting too deep")
    if obj is None:
        out.append(0xC0)
    elif obj is True:
        out.append(0xC3)
    elif obj is False:
        out.append(0xC2)
    elif isinstance(obj, int):
        _pack_int(obj, out)
    elif isinstance(obj, float):
        out.append(0xCB)
        out += _pack_d(obj)
    elif isinstance(obj, str):
        data = obj.encode("utf-8")
        n = len(data)
        if n < 32:
            out.append(0xA0 | n)
        elif n < 0x100:
            out.append(0xD9)
            out.append(n)
        elif n < 0x10000:
            out.append(0xDA)
            out += _pack_H(n)
        elif n < 0x100000000:
            out.append(0xDB)
            out += _pack_I(n)
        else:
            raise MsgPackError("string too long")
        out += data
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        n = len(data)
        if n < 0x100:
            out.append(0xC4)
            out.append(n)
        elif n < 0x10000:
            out.append(0xC5)
            out += _pack_H(n)
        elif n < 0x100000000:
            out.append(0xC6)
            out += _pack_I(n)
        else:
            raise MsgPackError("bin too long")
        out += data
    elif isinstance(obj, ExtType):
        _pack_ext(obj, out)
    elif isinstance(obj, (list, tuple)):
        n = len(obj)
        if n < 16:
            out.append(0x90 | n)
        elif n < 0x10000:
            out.append(0xDC)
            out += _pack_H(n)
        else:
            out.append(0xDD)
            out += _pack_I(n)
        for item in obj:
            _pack(item, out, depth + 1)
    elif isinstance(obj, dict):
        n = len(obj)
        if n < 16:
            out.append(0x80 | n)
        elif n < 0x10000:
            out.append(0xDE)
            out += _pack_H(n)
        else:
            out.append(0xDF)
            out += _pack_I(n)
        for key, value in obj.items():
            _pack(key, out, depth + 1)
            _pack(value, out, depth + 1)
    else:
        raise MsgPackError(f"cannot encode {type(obj).__name__} to MessagePack")


def _pack_int(v: int, out: bytearray) -> None:
    if 0 <= v < 0x80:
        out.append(v)
    elif -32 <= v < 0:
        out.append(v & 0xFF)
    elif v >= 0:
        if v < 0x100:
            out.append(0xCC)
            out.append(v)
        elif v < 0x10000:
            out.append(0xCD)
            out += _pack_H(v)
        elif v < 0x100000000:
            out.append(0xCE)
            out += _pack_I(v)
        elif v < 0x10000000000000000:
            out.append(0xCF)
            out += _pack_Q(v)
        else:
            raise MsgPackError("integer too large for MessagePack")
    else:
        if v >= -0x80:
            out.append(0xD0)
            out += _pack_b(v)
        elif v >= -0x8000:
            out.append(0xD1)
            out += _pack_h(v)
        elif v >= -0x80000000:
            out.append(0xD2)
            out += _pack_i(v)
        elif v >= -0x8000000000000000:
            out.append(0xD3)
            out += _pack_q(v)
        else:
            raise MsgPackError("integer too small for MessagePack")


def _pack_ext(ext: ExtType, out: bytearray) -> None:
    code, data = ext.code, bytes(ext.data)
    if not -128 <= code <= 127:
        raise MsgPackError("ext code out of range")
    n = len(data)
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if n in fixed:
        out.append(fixed[n])
    elif n < 0x100:
        out.append(0xC7)
        out.append(n)
    elif n < 0x10000:
        out.append(0xC8)
        out += _pack_H(n)
    else:
        out.append(0xC9)
        out += _pack_I(n)
    out += _pack_b(code)
    out += data


def unpackb(data: bytes) -> Any:
    """Decode one MessagePack value; trailing bytes are an error."""
    buf = memoryview(bytes(data))
    value, pos = _unpack(buf, 0, 0)
    if pos != len(buf):
        raise MsgPackError(f"{len(buf) - pos} trailing bytes after MessagePack value")
    return value


def _take(buf: memoryview, pos: int, n: int) -> Tuple[memoryview, int]:
    end = pos + n
    if end > len(buf):
        raise MsgPackError("truncated MessagePack data")
    return buf[pos:end], end


def _unpack(buf: memoryview, pos: int, depth: int) -> Tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise MsgPackError("nesting too deep")
    if pos >= len(buf):
        raise MsgPackError("truncated MessagePack data")
    b = buf[pos]
    pos += 1
    if b <= 0x7F:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0xA0 <= b <= 0xBF:
        raw, pos = _take(buf, pos, b & 0x1F)
        return _str(raw), pos
    if 0x90 <= b <= 0x9F:
        return _array(buf, pos, b & 0x0F, depth)
    if 0x80 <= b <= 0x8F:
        return _map(buf, pos, b & 0x0F, depth)
    if b == 0xC0:
        return None, pos
    if b == 0xC2:
        return False, pos
    if b == 0xC3:
        return True, pos
    if b in _FIXED:
        fmt = _FIXED[b]
        raw, pos = _take(buf, pos, fmt.size)
        return fmt.unpack(raw)[0], pos
    if b in (0xD9, 0xDA, 0xDB):  # str 8/16/32
        n, pos = _length(buf, pos, b - 0xD9)
        raw, pos = _take(buf, pos, n)
        return _str(raw), pos
    if b in (0xC4, 0xC5, 0xC6):  # bin 8/16/32
        n, pos = _length(buf, pos, b - 0xC4)
        raw, pos = _take(buf, pos, n)
        return bytes(raw), pos
    if b in (0xDC, 0xDD):
        n, pos = _length(buf, pos, b - 0xDC + 1)
        return _array(buf, pos, n, depth)
    if b in (0xDE, 0xDF):
        n, pos = _length(buf, pos, b - 0xDE + 1)
        return _map(buf, pos, n, depth)
    if b in (0xD4, 0xD5, 0xD6, 0xD7, 0xD8):  # fixext
        n = 1 << (b - 0xD4)
        raw, pos = _take(buf, pos, 1 + n)
        return ExtType(struct.unpack(">b", raw[:1])[0], bytes(raw[1:])), pos
    if b in (0xC7, 0xC8, 0xC9):  # ext 8/16/32
        n, pos = _length(buf, pos, b - 0xC7)
        raw, pos = _take(buf, pos, 1 + n)
        return ExtType(struct.unpack(">b", raw[:1])[0], bytes(raw[1:])), pos
    raise MsgPackError(f"invalid MessagePack type byte 0x{b:02x}")


_FIXED = {
    0xCA: struct.Struct(">f"),
    0xCB: struct.Struct(">d"),
    0xCC: struct.Struct(">B"),
    0xCD: struct.Struct(">H"),
    0xCE: struct.Struct(">I"),
    0xCF: struct.Struct(">Q"),
    0xD0: struct.Struct(">b"),
    0xD1: struct.Struct(">h"),
    0xD2: struct.Struct(">i"),
    0xD3: struct.Struct(">q"),
}
_LENGTHS = (struct.Struct(">B"), struct.Struct(">H"), struct.Struct(">I"))


def _length(buf: memoryview, pos: int, which: int) -> Tuple[int, int]:
    fmt = _LENGTHS[which]
    raw, pos = _take(buf, pos, fmt.size)
    return fmt.unpack(raw)[0], pos


def _str(raw: memoryview) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MsgPackError(f"invalid UTF-8 in MessagePack str: {exc}") from None


def _array(buf: memoryview, pos: int, n: int, depth: int) -> Tuple[List[Any], int]:
    if n > len(buf) - pos:  # each element needs at least one byte
        raise MsgPackError("truncated MessagePack data")
    items = []
    for _ in range(n):
        item, pos = _unpack(buf, pos, depth + 1)
        items.append(item)
    return items, pos


def _map(buf: memoryview, pos: int, n: int, depth: int) -> Tuple[Dict[Any, Any], int]:
    if 2 * n > len(buf) - pos:
        raise MsgPackError("truncated MessagePack data")
    result = {}
    for _ in range(n):
        key, pos = _unpack(buf, pos, depth + 1)
        value, pos = _unpack(buf, pos, depth + 1)
        if isinstance(key, list):
            key = _freeze(key)
        try:
            result[key] = value
        except TypeError:
            raise MsgPackError(f"unhashable MessagePack map key of type {type(key).__name__}") from None
    return result, pos


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
