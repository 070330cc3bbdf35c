// Pure unit tests of the codec pieces (no broker needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  msgpack, FrameDecoder, FrameType, Format, encodeFrame, FramingError, resolveSocketPath, subjectMatches,
  errorFromCode, ActorNotFoundError, ServiceError, RequestTimeoutError, SwitchboardError, ERROR_CLASSES,
  DEFAULT_MAX_PAYLOAD,
} from '../index.js';

test('msgpack round-trips maps, arrays, strings, ints, floats, bools, nil and bin', () => {
  const values = [
    null, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER,
    -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, Number.MIN_SAFE_INTEGER,
    1.5, -0.25, 1e300, '', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(300), 'z'.repeat(70000), 'héllo ✓ 🎉',
    [], [1, [2, [3]]], new Array(20).fill(7), new Array(70000).fill(1),
    {}, { a: 1, b: 'two', c: [true, null], d: { e: 2.5 } },
    Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  ];
  for (const v of values) assert.deepEqual(msgpack.decode(msgpack.encode(v)), v);
  const bin = Buffer.from([0, 1, 2, 255]);
  assert.deepEqual(Buffer.from(msgpack.decode(msgpack.encode(bin))), bin);
  assert.deepEqual(Buffer.from(msgpack.decode(msgpack.encode(Buffer.alloc(300, 9)))), Buffer.alloc(300, 9));
  assert.equal(msgpack.decode(msgpack.encode(2n ** 63n - 1n)), 2n ** 63n - 1n);
  assert.equal(msgpack.decode(msgpack.encode(-(2n ** 63n))), -(2n ** 63n));
});

test('msgpack uses the compact encodings', () => {
  assert.deepEqual([...msgpack.encode(5)], [0x05]);
  assert.deepEqual([...msgpack.encode(-1)], [0xff]);
  assert.deepEqual([...msgpack.encode(200)], [0xcc, 200]);
  assert.deepEqual([...msgpack.encode('ab')], [0xa2, 0x61, 0x62]);
  assert.deepEqual([...msgpack.encode({ a: null })], [0x81, 0xa1, 0x61, 0xc0]);
  assert.deepEqual([...msgpack.encode([true, false])], [0x92, 0xc3, 0xc2]);
  assert.deepEqual([...msgpack.encode(0.5)], [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
  // float32 and ext on input
  assert.equal(msgpack.decode(Buffer.from([0xca, 0x3f, 0xc0, 0, 0])), 1.5);
  assert.deepEqual(msgpack.decode(Buffer.from([0xd4, 0x01, 0x07])), { type: 1, data: Buffer.from([7]) });
  assert.throws(() => msgpack.decode(Buffer.from([0xc1])), RangeError);
  assert.throws(() => msgpack.decode(Buffer.from([0xa5, 0x61])), RangeError);
});

test('frames have the v2 header and decode incrementally, byte by byte', () => {
  const a = encodeFrame(FrameType.REQUEST, { correlation_id: '1', payload: { x: 1 } });
  assert.equal(a.readUInt32BE(0), a.length - 7);
  assert.deepEqual([a[4], a[5], a[6]], [0x02, 0x01, 0x01]);
  const b = encodeFrame(FrameType.HEARTBEAT, {}, Format.MSGPACK);
  const all = Buffer.concat([a, b, a]);
  const dec = new FrameDecoder();
  const frames = [];
  for (const byte of all) frames.push(...dec.push(Buffer.from([byte])));
  assert.equal(frames.length, 3);
  assert.deepEqual(frames[0].body, { correlation_id: '1', payload: { x: 1 } });
  assert.equal(frames[1].type, FrameType.HEARTBEAT);
  assert.equal(frames[1].format, Format.MSGPACK);
  assert.deepEqual(frames[1].body, {});
  assert.equal(dec.pending, 0);
  // and all at once
  assert.equal(new FrameDecoder().push(all).length, 3);
});

test('a v1 frame (6-byte header, JSON) is accepted on input', () => {
  const payload = Buffer.from('{"correlation_id":"7","success":true}');
  const header = Buffer.alloc(6);
  header.writeUInt32BE(payload.length, 0);
  header[4] = 0x01;
  header[5] = FrameType.RESPONSE;
  const [frame] = new FrameDecoder().push(Buffer.concat([header, payload]));
  assert.deepEqual(frame.body, { correlation_id: '7', success: true });
});

test('invalid headers and oversized payloads are refused', () => {
  const bad = Buffer.from([0, 0, 0, 2, 0x03, 0x01, 0x01, 0x7b, 0x7d]);
  assert.throws(() => new FrameDecoder().push(bad), FramingError);
  const badType = Buffer.from([0, 0, 0, 2, 0x02, 0x7f, 0x01, 0x7b, 0x7d]);
  assert.throws(() => new FrameDecoder().push(badType), FramingError);
  const big = Buffer.alloc(7); big.writeUInt32BE(DEFAULT_MAX_PAYLOAD + 1, 0); big.set([0x02, 0x02, 0x01], 4);
  assert.throws(() => new FrameDecoder().push(big), (e) => e.code === 'PAYLOAD_TOO_LARGE');
  assert.throws(() => encodeFrame(FrameType.REQUEST, { p: 'x'.repeat(DEFAULT_MAX_PAYLOAD) }), (e) => e.code === 'PAYLOAD_TOO_LARGE');
  // an unparsable but well-framed payload is reported, not fatal
  const [f] = new FrameDecoder().push(Buffer.from([0, 0, 0, 1, 0x02, 0x02, 0x01, 0x7b]));
  assert.ok(f.bodyError);
});

test('socket path resolution order', () => {
  assert.equal(resolveSocketPath('/x.sock', { SWITCHBOARD_SOCKET: '/y' }), '/x.sock');
  assert.equal(resolveSocketPath(undefined, { SWITCHBOARD_SOCKET: '/y', XDG_RUNTIME_DIR: '/run/u' }), '/y');
  assert.equal(resolveSocketPath(undefined, { XDG_RUNTIME_DIR: '/run/u' }), '/run/u/switchboard/broker.sock');
  assert.equal(resolveSocketPath(undefined, {}, 1234), '/tmp/switchboard-1234/broker.sock');
});

test('subject patterns', () => {
  assert.ok(subjectMatches('prices.*', 'prices.ACME'));
  assert.ok(!subjectMatches('prices.*', 'prices.ACME.x'));
  assert.ok(!subjectMatches('prices.*', 'prices'));
  assert.ok(subjectMatches('orders.>', 'orders.a'));
  assert.ok(subjectMatches('orders.>', 'orders.a.b.c'));
  assert.ok(!subjectMatches('orders.>', 'orders'));
  assert.ok(subjectMatches('PriceUpdate', 'PriceUpdate'));
  assert.ok(!subjectMatches('PriceUpdate', 'PriceUpdate.x'));
  assert.ok(subjectMatches('*.b', 'a.b'));
});

test('error codes map to their classes; unknown codes become ServiceError', () => {
  const e = errorFromCode('ACTOR_NOT_FOUND', 'no such actor');
  assert.ok(e instanceof ActorNotFoundError && e instanceof SwitchboardError);
  assert.equal(e.code, 'ACTOR_NOT_FOUND');
  assert.equal(e.message, 'no such actor');
  assert.ok(errorFromCode('TIMEOUT', 't') instanceof RequestTimeoutError);
  const s = errorFromCode('OUT_OF_STOCK', 'none left');
  assert.ok(s instanceof ServiceError);
  assert.equal(s.code, 'OUT_OF_STOCK');
  assert.equal(Object.keys(ERROR_CLASSES).length, 17);
  for (const [code, cls] of Object.entries(ERROR_CLASSES)) {
    const err = errorFromCode(code, 'm');
    assert.ok(err instanceof cls, code);
    assert.equal(err.name, cls.name);
  }
});

test('a large frame arriving in many small chunks, mixed with small frames', () => {
  const big = encodeFrame(FrameType.RESPONSE, { correlation_id: 'big', payload: 'p'.repeat(200000) });
  const small = encodeFrame(FrameType.PUSH, { message_type: 's', payload: 1 }, Format.MSGPACK);
  const all = Buffer.concat([small, big, small, big, small]);
  for (const size of [1, 7, 1000, 65536, all.length]) {
    const dec = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < all.length; i += size) frames.push(...dec.push(all.subarray(i, i + size)));
    assert.deepEqual(frames.map((f) => f.type), [0x05, 0x02, 0x05, 0x02, 0x05], `chunk size ${size}`);
    assert.equal(frames[1].body.payload.length, 200000);
    assert.equal(frames[4].body.payload, 1);
    assert.equal(dec.pending, 0);
  }
});

test('a loss notice counts the pushes dropped at the tail once, before any later PUSH', async () => {
  const { Client } = await import('../src/client.js');
  const sub = { _active: true, _lost: 0, _matches: () => false, _deliver: () => {} };
  const fake = { _pushLast: 0, _pushesLost: 0, _subscriptions: new Set([sub]) };
  Client.prototype._onPush.call(fake, { message_type: 'a.b', sequence: 1 });
  Client.prototype._onPush.call(fake, { message_type: 'a.b', sequence: 3 });
  assert.equal(fake._pushesLost, 1);
  Client.prototype._onLossNotice.call(fake, { correlation_id: '', notice: 'pushes_lost', lost: 4, sequence: 7 });
  assert.equal(fake._pushesLost, 5);
  assert.equal(sub._lost, 5);
  Client.prototype._onPush.call(fake, { message_type: 'a.b', sequence: 8 });
  Client.prototype._onLossNotice.call(fake, { correlation_id: '', notice: 'pushes_lost', sequence: 8 });
  assert.equal(fake._pushesLost, 5);
});
