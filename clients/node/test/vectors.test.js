// The shared test vectors of clients/vectors (frames, subject patterns, error codes) run against this
// client's frame reader and writer, body codecs, pattern matching and error mapping; the Java codec
// (gateway-codec's SharedVectorsTest) and the Python client (tests/test_vectors.py) run the same files.
// The folder is found relative to this file; a missing file fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  FrameDecoder, FrameType, Format, encodeFrame, decodeBody, encodeBody, subjectMatches, errorFromCode,
  SwitchboardError,
} from '../index.js';
import { ABSOLUTE_MAX_PAYLOAD } from '../src/framing.js';
import { isFinalRefusal, subjectProblem } from '../src/client.js';
import * as errors from '../src/errors.js';

const VECTORS = fileURLToPath(new URL('../../vectors/', import.meta.url));
const FORMATS = { json: Format.JSON, msgpack: Format.MSGPACK };
const BIG = '\u0000bigint:';

// JSON.parse rounds integers past 2^53: integer literals outside strings that are not safe are read
// as BigInt (the vectors hold 64-bit values, up to 2^64-1).
function parseExact(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
      const literal = m[0];
      out += !m[1] && !m[2] && !Number.isSafeInteger(Number(literal)) ? JSON.stringify(BIG + literal) : literal;
      i += literal.length;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out, (_k, v) => (typeof v === 'string' && v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v));
}

function load(name) {
  const file = VECTORS + name;
  if (!fs.existsSync(file)) throw new Error(`test vectors ${file} are missing: the shared vectors live in clients/vectors`);
  return parseExact(fs.readFileSync(file, 'utf8'));
}

// Equal values of the same kind: true is not 1, 1 is not '1'; numbers by value (1 and 1n alike).
function same(a, b) {
  const numeric = (x) => typeof x === 'number' || typeof x === 'bigint';
  if (numeric(a) && numeric(b)) {
    if (typeof a === typeof b) return a === b;
    const [n, big] = typeof a === 'number' ? [a, b] : [b, a];
    return Number.isInteger(n) && BigInt(n) === big;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
  }
  return a === b;
}

function repeat(entry, key) {
  if (key in entry) return entry[key];
  const r = entry[`${key}_repeat`];
  return r.unit.repeat(r.times) + r.then;
}

const frames = load('frames.json');
const subjects = load('subjects.json');
const errorVectors = load('errors.json');

test('there are vectors', () => {
  assert.ok(frames.valid.length >= 10);
  assert.ok(frames.invalid_frames.length >= 5);
  assert.ok(frames.invalid_payloads.length >= 10);
  assert.ok(subjects.patterns.length >= 8);
  assert.ok(errorVectors.codes.length >= 17);
});

test('valid frames decode: version, type, format, payload and body', () => {
  for (const v of frames.valid) {
    const raw = Buffer.from(v.hex, 'hex');
    const decoded = new FrameDecoder(ABSOLUTE_MAX_PAYLOAD).push(raw);
    assert.equal(decoded.length, 1, v.name);
    const [frame] = decoded;
    assert.deepEqual([frame.version, frame.type, frame.format], [v.version, FrameType[v.type], FORMATS[v.format]], v.name);
    const headerSize = v.version === 2 ? 7 : 6;
    assert.equal(raw.readUInt32BE(0), raw.length - headerSize, v.name);
    assert.equal(raw.subarray(headerSize).toString('hex'), v.payload_hex, v.name);
    assert.equal(frame.bodyError, undefined, `${v.name}: ${frame.bodyError}`);
    assert.ok(same(frame.body, v.body), `${v.name}: ${JSON.stringify(frame.body, big)} != ${JSON.stringify(v.body, big)}`);
  }
});

test('exact frames encode byte for byte', () => {
  const exact = frames.valid.filter((v) => v.encode === 'exact');
  assert.ok(exact.length >= 8);
  for (const v of exact) {
    assert.equal(encodeFrame(FrameType[v.type], v.body, FORMATS[v.format], ABSOLUTE_MAX_PAYLOAD).toString('hex'), v.hex, v.name);
  }
});

test('every frame body round-trips', () => {
  for (const v of frames.valid) {
    const format = FORMATS[v.format];
    assert.ok(same(decodeBody(encodeBody(v.body, format), format), v.body), v.name);
  }
});

test('invalid headers are refused with their code', () => {
  for (const v of frames.invalid_frames) {
    if (v.peers !== 'all') continue; // the broker's strict decoder only: a client ignores a frame of an unknown type
    assert.throws(() => new FrameDecoder(ABSOLUTE_MAX_PAYLOAD).push(Buffer.from(v.hex, 'hex')),
      (err) => err.code === v.error, v.name);
  }
});

test('invalid payloads are refused with SERIALIZATION_ERROR', () => {
  for (const v of frames.invalid_payloads) {
    if (v.peers !== 'all') continue;
    assert.throws(() => decodeBody(Buffer.from(v.payload_hex, 'hex'), FORMATS[v.format]),
      (err) => err instanceof SwitchboardError && err.code === v.error, v.name);
  }
});

test('subject patterns match as the broker matches them', () => {
  for (const v of subjects.patterns) {
    assert.equal(subjectProblem(v.pattern, true), null, v.pattern);
    for (const s of v.match) {
      assert.ok(subjectMatches(v.pattern, s), `${v.pattern} should match ${s}`);
      assert.equal(subjectProblem(s, false), null, s);
    }
    for (const s of v.no_match) assert.ok(!subjectMatches(v.pattern, s), `${v.pattern} should not match ${s}`);
  }
});

test('invalid patterns and subjects are refused, the longest valid accepted', () => {
  for (const v of subjects.invalid_patterns) {
    const p = repeat(v, 'pattern');
    assert.notEqual(subjectProblem(p, true), null, `${JSON.stringify(p)} (${v.why})`);
  }
  for (const v of subjects.invalid_subjects) {
    assert.notEqual(subjectProblem(v.subject, false), null, `${JSON.stringify(v.subject)} (${v.why})`);
  }
  for (const v of subjects.valid_lengths) assert.equal(subjectProblem(repeat(v, 'pattern'), true), null);
});

test('error codes map to their classes, and the final refusals end reconnection', () => {
  for (const v of errorVectors.codes) {
    const err = errorFromCode(v.code, 'm');
    const name = v.class.endsWith('Error') ? v.class : `${v.class}Error`;
    assert.equal(err.constructor.name, name, v.code);
    assert.equal(err.constructor, errors[name], v.code);
    assert.equal(err.code, v.code);
    assert.equal(err.message, 'm');
    assert.equal(!isFinalRefusal(v.code), v.reconnect, v.code);
  }
  for (const v of errorVectors.service_defined) {
    const err = errorFromCode(v.error_code, v.error);
    assert.equal(err.constructor.name, v.class, String(v.error_code));
    assert.equal(err.code, v.code, String(v.error_code));
  }
});

function big(_k, v) {
  return typeof v === 'bigint' ? `${v}n` : v;
}
