// Frame encoding and incremental decoding for the Switchboard socket protocol (v2).
//
//   offset 0  4 bytes  payload length, unsigned 32-bit big-endian (header not included)
//   offset 4  1 byte   protocol version 0x02 (0x01 accepted on input: 6-byte header, JSON)
//   offset 5  1 byte   frame type
//   offset 6  1 byte   format 0x01 JSON, 0x02 MessagePack
//   offset 7  n bytes  payload

import { isUtf8 } from 'node:buffer';
import * as msgpack from './msgpack.js';
import { SerializationError } from './errors.js';

export const PROTOCOL_VERSION = 0x02;
export const HEADER_SIZE = 7;
export const HEADER_SIZE_V1 = 6;
// a frame carries one message of the broker's default maximum (16 MiB, switchboard.max.message.length) and its
// envelope (64 KiB of room), as the broker's own default frame limit does
export const ENVELOPE_ALLOWANCE = 64 * 1024;
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024 + ENVELOPE_ALLOWANCE;
export const ABSOLUTE_MAX_PAYLOAD = 256 * 1024 * 1024 + ENVELOPE_ALLOWANCE;

export const FrameType = Object.freeze({
  REQUEST: 0x01,
  RESPONSE: 0x02,
  ERROR: 0x03,
  HEARTBEAT: 0x04,
  PUSH: 0x05,
  SUBSCRIBE: 0x06,
  UNSUBSCRIBE: 0x07,
  DISCOVER: 0x08,
  STREAM: 0x09,
  REGISTER: 0x0a,
  UNREGISTER: 0x0b,
  PUBLISH: 0x0c,
  CANCEL: 0x0d,
  STATS: 0x0e,
});

const KNOWN_TYPES = new Set(Object.values(FrameType));

export const Format = Object.freeze({ JSON: 0x01, MSGPACK: 0x02 });

export function formatCode(format) {
  if (format === undefined || format === 'json' || format === Format.JSON) return Format.JSON;
  if (format === 'msgpack' || format === Format.MSGPACK) return Format.MSGPACK;
  throw new TypeError(`unknown format ${String(format)} (use 'json' or 'msgpack')`);
}

/** Raised by the decoder when the byte stream cannot be framed any further. */
export class FramingError extends Error {
  constructor(message, code = 'PROTOCOL_ERROR') {
    super(message);
    this.name = 'FramingError';
    this.code = code;
  }
}

/** Serialises a body in the given format (a format code). */
export function encodeBody(body, format) {
  if (format === Format.MSGPACK) return msgpack.encode(body);
  let text = JSON.stringify(body, jsonReplacer);
  if (text === undefined) text = 'null';
  // A BigInt outside the safe range is written as its exact digits (JSON has no size limit).
  if (text.includes(BIGINT_ESCAPED)) text = text.replace(BIGINT_PATTERN, '$1');
  return Buffer.from(text, 'utf8');
}

function jsonReplacer(_key, value) {
  if (typeof value === 'bigint') {
    // Exact digits in the JSON text; see the raw-number trick below.
    return Number.isSafeInteger(Number(value)) ? Number(value) : BIGINT_MARK + value.toString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value && value.type === 'Buffer' && Array.isArray(value.data)) {
    return Buffer.from(value.data).toString('base64');
  }
  return value;
}
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_ESCAPED = '"\\u0000bigint:';
const BIGINT_PATTERN = /"\\u0000bigint:(-?\d+)"/g;

/**
 * Parses a body in the given format (a format code). Throws SerializationError (SERIALIZATION_ERROR)
 * for bytes that are not one valid document of that format, invalid UTF-8 included (which
 * `toString('utf8')` would silently replace), as the broker refuses them.
 */
export function decodeBody(bytes, format) {
  try {
    if (format === Format.MSGPACK) return msgpack.decode(bytes);
    if (!isUtf8(bytes)) throw new TypeError('invalid UTF-8');
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new SerializationError(`undecodable ${format === Format.MSGPACK ? 'MessagePack' : 'JSON'} payload: ${err.message}`, { cause: err });
  }
}

/**
 * Builds one complete frame (header + payload). Throws FramingError PAYLOAD_TOO_LARGE.
 * @param {number} type frame type (FrameType).
 * @param {unknown} body the frame's body.
 * @param {number} [format] payload format (Format), JSON by default.
 * @param {number} [maxPayload] largest payload allowed, in bytes.
 * @returns {Buffer}
 */
export function encodeFrame(type, body, format = Format.JSON, maxPayload = DEFAULT_MAX_PAYLOAD) {
  const payload = encodeBody(body, format);
  if (payload.length > maxPayload) {
    throw new FramingError(
      `payload of ${payload.length} bytes exceeds the maximum of ${maxPayload}`,
      'PAYLOAD_TOO_LARGE',
    );
  }
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame[4] = PROTOCOL_VERSION;
  frame[5] = type;
  frame[6] = format;
  payload.copy(frame, HEADER_SIZE);
  return frame;
}

/**
 * Incremental decoder: push() bytes as they arrive from the socket; it returns the frames
 * that are complete, as { type, format, version, body } (body already parsed), or
 * { type, format, version, bodyError } when the payload was well framed but not parsable.
 * Throws FramingError when the header is invalid; the stream cannot be resynchronised then.
 */
export class FrameDecoder {
  constructor(maxPayload = DEFAULT_MAX_PAYLOAD) {
    this.maxPayload = maxPayload;
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.held = []; // chunks received while a known-length frame is incomplete
    this.heldBytes = 0;
    this.waitingFor = 0; // bytes missing from the current frame (0: unknown or none)
  }

  push(chunk) {
    const buffered = this.buffer.length - this.offset;
    if (this.waitingFor > 0 && this.heldBytes + chunk.length < this.waitingFor) {
      // Still short of the frame whose length is known: keep the chunk, copy nothing yet.
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return [];
    }
    if (this.held.length > 0) {
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), ...this.held, chunk]);
      this.held = [];
      this.heldBytes = 0;
    } else if (buffered === 0) {
      this.buffer = chunk;
    } else {
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    }
    this.offset = 0;
    this.waitingFor = 0;
    const frames = [];
    for (;;) {
      const available = this.buffer.length - this.offset;
      if (available < HEADER_SIZE_V1) break;
      const start = this.offset;
      const length = this.buffer.readUInt32BE(start);
      const version = this.buffer[start + 4];
      const type = this.buffer[start + 5];
      let headerSize;
      let format;
      if (version === 0x02) {
        if (available < HEADER_SIZE) break;
        headerSize = HEADER_SIZE;
        format = this.buffer[start + 6];
      } else if (version === 0x01) {
        headerSize = HEADER_SIZE_V1;
        format = Format.JSON;
      } else {
        throw new FramingError(`unsupported protocol version 0x${version.toString(16)}`);
      }
      if (!KNOWN_TYPES.has(type)) throw new FramingError(`unknown frame type 0x${type.toString(16)}`);
      if (format !== Format.JSON && format !== Format.MSGPACK) {
        throw new FramingError(`unknown payload format 0x${format.toString(16)}`);
      }
      if (length > this.maxPayload) {
        throw new FramingError(
          `incoming payload of ${length} bytes exceeds the maximum of ${this.maxPayload}`,
          'PAYLOAD_TOO_LARGE',
        );
      }
      if (available < headerSize + length) {
        this.waitingFor = headerSize + length - available; // bytes still missing
        break;
      }
      const bytes = this.buffer.subarray(start + headerSize, start + headerSize + length);
      this.offset = start + headerSize + length;
      const frame = { type, format, version };
      try {
        frame.body = length === 0 ? {} : decodeBody(bytes, format);
      } catch (err) {
        frame.bodyError = err;
      }
      frames.push(frame);
    }
    return frames;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending() {
    return this.buffer.length - this.offset + this.heldBytes;
  }
}
