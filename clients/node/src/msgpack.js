// Minimal MessagePack encoder/decoder (nil, bool, int, float, str, bin, array, map).
// Written for the Switchboard socket protocol; no dependencies.

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  ensure(n) {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v) { this.ensure(1); this.buf[this.pos++] = v; }
  u16(v) { this.ensure(2); this.view.setUint16(this.pos, v); this.pos += 2; }
  u32(v) { this.ensure(4); this.view.setUint32(this.pos, v); this.pos += 4; }
  i8(v) { this.ensure(1); this.view.setInt8(this.pos, v); this.pos += 1; }
  i16(v) { this.ensure(2); this.view.setInt16(this.pos, v); this.pos += 2; }
  i32(v) { this.ensure(4); this.view.setInt32(this.pos, v); this.pos += 4; }
  u64(v) { this.ensure(8); this.view.setBigUint64(this.pos, v); this.pos += 8; }
  i64(v) { this.ensure(8); this.view.setBigInt64(this.pos, v); this.pos += 8; }
  f64(v) { this.ensure(8); this.view.setFloat64(this.pos, v); this.pos += 8; }
  bytes(b) { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }

  result() { return this.buf.subarray(0, this.pos); }
}

const MAX_DEPTH = 512;

function encodeValue(w, value, depth) {
  if (depth > MAX_DEPTH) throw new TypeError('msgpack: value nested too deeply');
  if (value === null || value === undefined) { w.u8(0xc0); return; }
  switch (typeof value) {
    case 'boolean':
      w.u8(value ? 0xc3 : 0xc2);
      return;
    case 'number':
      encodeNumber(w, value);
      return;
    case 'bigint':
      encodeBigInt(w, value);
      return;
    case 'string':
      encodeString(w, value);
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`msgpack: cannot encode a value of type ${typeof value}`);
  }
  if (value instanceof Uint8Array) { encodeBin(w, value); return; }
  if (value instanceof ArrayBuffer) { encodeBin(w, new Uint8Array(value)); return; }
  if (Array.isArray(value)) {
    header(w, value.length, 0x90, 15, 0xdc, 0xdd);
    for (const item of value) encodeValue(w, item, depth + 1);
    return;
  }
  if (value instanceof Map) {
    header(w, value.size, 0x80, 15, 0xde, 0xdf);
    for (const [k, v] of value) {
      encodeValue(w, k, depth + 1);
      encodeValue(w, v, depth + 1);
    }
    return;
  }
  if (value instanceof Date) { encodeString(w, value.toISOString()); return; }
  if (typeof value.toJSON === 'function') { encodeValue(w, value.toJSON(), depth + 1); return; }
  // Plain object: like JSON, keys whose value is undefined or a function are left out.
  const keys = Object.keys(value).filter((k) => value[k] !== undefined && typeof value[k] !== 'function');
  header(w, keys.length, 0x80, 15, 0xde, 0xdf);
  for (const k of keys) {
    encodeString(w, k);
    encodeValue(w, value[k], depth + 1);
  }
}

function header(w, n, fixBase, fixMax, op16, op32) {
  if (n <= fixMax) w.u8(fixBase | n);
  else if (n <= 0xffff) { w.u8(op16); w.u16(n); }
  else { w.u8(op32); w.u32(n); }
}

function encodeNumber(w, v) {
  if (Number.isInteger(v) && !Object.is(v, -0)) {
    if (v >= 0) {
      if (v < 0x80) w.u8(v);
      else if (v <= 0xff) { w.u8(0xcc); w.u8(v); }
      else if (v <= 0xffff) { w.u8(0xcd); w.u16(v); }
      else if (v <= 0xffffffff) { w.u8(0xce); w.u32(v); }
      else if (Number.isSafeInteger(v)) { w.u8(0xcf); w.u64(BigInt(v)); }
      else { w.u8(0xcb); w.f64(v); }
    } else {
      if (v >= -32) w.u8(v & 0xff);
      else if (v >= -0x80) { w.u8(0xd0); w.i8(v); }
      else if (v >= -0x8000) { w.u8(0xd1); w.i16(v); }
      else if (v >= -0x80000000) { w.u8(0xd2); w.i32(v); }
      else if (Number.isSafeInteger(v)) { w.u8(0xd3); w.i64(BigInt(v)); }
      else { w.u8(0xcb); w.f64(v); }
    }
    return;
  }
  w.u8(0xcb);
  w.f64(v);
}

function encodeBigInt(w, v) {
  if (v >= 0n) {
    if (v <= 0xffffffffn) { encodeNumber(w, Number(v)); return; }
    if (v > 0xffffffffffffffffn) throw new RangeError('msgpack: integer too large');
    w.u8(0xcf); w.u64(v);
  } else {
    if (v >= -0x80000000n) { encodeNumber(w, Number(v)); return; }
    if (v < -0x8000000000000000n) throw new RangeError('msgpack: integer too small');
    w.u8(0xd3); w.i64(v);
  }
}

function encodeString(w, s) {
  const bytes = textEncoder.encode(s);
  const n = bytes.length;
  if (n <= 31) w.u8(0xa0 | n);
  else if (n <= 0xff) { w.u8(0xd9); w.u8(n); }
  else if (n <= 0xffff) { w.u8(0xda); w.u16(n); }
  else { w.u8(0xdb); w.u32(n); }
  w.bytes(bytes);
}

function encodeBin(w, b) {
  const n = b.length;
  if (n <= 0xff) { w.u8(0xc4); w.u8(n); }
  else if (n <= 0xffff) { w.u8(0xc5); w.u16(n); }
  else { w.u8(0xc6); w.u32(n); }
  w.bytes(b);
}

/** Encodes a value as MessagePack; returns a Buffer. */
export function encode(value) {
  const w = new Writer();
  encodeValue(w, value, 0);
  const out = w.result();
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

class Reader {
  constructor(bytes) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.buf.length) throw new RangeError('msgpack: unexpected end of data');
  }

  u8() { this.need(1); return this.buf[this.pos++]; }
  u16() { this.need(2); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  u32() { this.need(4); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  i8() { this.need(1); const v = this.view.getInt8(this.pos); this.pos += 1; return v; }
  i16() { this.need(2); const v = this.view.getInt16(this.pos); this.pos += 2; return v; }
  i32() { this.need(4); const v = this.view.getInt32(this.pos); this.pos += 4; return v; }
  u64() { this.need(8); const v = this.view.getBigUint64(this.pos); this.pos += 8; return toNumberIfSafe(v); }
  i64() { this.need(8); const v = this.view.getBigInt64(this.pos); this.pos += 8; return toNumberIfSafe(v); }
  f32() { this.need(4); const v = this.view.getFloat32(this.pos); this.pos += 4; return v; }
  f64() { this.need(8); const v = this.view.getFloat64(this.pos); this.pos += 8; return v; }
  bytes(n) { this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
}

function toNumberIfSafe(big) {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function decodeValue(r, depth) {
  if (depth > MAX_DEPTH) throw new RangeError('msgpack: value nested too deeply');
  const b = r.u8();
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 0x100;
  if ((b & 0xf0) === 0x80) return readMap(r, b & 0x0f, depth);
  if ((b & 0xf0) === 0x90) return readArray(r, b & 0x0f, depth);
  if ((b & 0xe0) === 0xa0) return readString(r, b & 0x1f);
  switch (b) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return copyBytes(r.bytes(r.u8()));
    case 0xc5: return copyBytes(r.bytes(r.u16()));
    case 0xc6: return copyBytes(r.bytes(r.u32()));
    case 0xc7: return readExt(r, r.u8());
    case 0xc8: return readExt(r, r.u16());
    case 0xc9: return readExt(r, r.u32());
    case 0xca: return r.f32();
    case 0xcb: return r.f64();
    case 0xcc: return r.u8();
    case 0xcd: return r.u16();
    case 0xce: return r.u32();
    case 0xcf: return r.u64();
    case 0xd0: return r.i8();
    case 0xd1: return r.i16();
    case 0xd2: return r.i32();
    case 0xd3: return r.i64();
    case 0xd4: return readExt(r, 1);
    case 0xd5: return readExt(r, 2);
    case 0xd6: return readExt(r, 4);
    case 0xd7: return readExt(r, 8);
    case 0xd8: return readExt(r, 16);
    case 0xd9: return readString(r, r.u8());
    case 0xda: return readString(r, r.u16());
    case 0xdb: return readString(r, r.u32());
    case 0xdc: return readArray(r, r.u16(), depth);
    case 0xdd: return readArray(r, r.u32(), depth);
    case 0xde: return readMap(r, r.u16(), depth);
    case 0xdf: return readMap(r, r.u32(), depth);
    default: throw new RangeError(`msgpack: invalid type byte 0x${b.toString(16)}`);
  }
}

function copyBytes(view) {
  return Buffer.from(view); // copy: never alias the socket's receive buffer
}

function readString(r, n) {
  return textDecoder.decode(r.bytes(n));
}

function readArray(r, n, depth) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = decodeValue(r, depth + 1);
  return out;
}

function readMap(r, n, depth) {
  const out = {};
  for (let i = 0; i < n; i++) {
    const k = decodeValue(r, depth + 1);
    const v = decodeValue(r, depth + 1);
    const key = typeof k === 'string' ? k : String(k);
    // Define rather than assign so a "__proto__" key cannot alter the prototype.
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readExt(r, n) {
  const type = r.i8();
  return { type, data: copyBytes(r.bytes(n)) };
}

/** Decodes one MessagePack value occupying the whole buffer. */
export function decode(bytes) {
  const r = new Reader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const value = decodeValue(r, 0);
  if (r.pos !== r.buf.length) throw new RangeError(`msgpack: ${r.buf.length - r.pos} trailing bytes`);
  return value;
}
