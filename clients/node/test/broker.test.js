// Integration tests against the real broker, started with `scripts/switchboard broker --demo`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, eventually } from '../support/broker.js';
import {
  connect, SwitchboardError, ActorNotFoundError, UnknownMessageTypeError, ServiceError,
  ConnectionClosedError, RequestTimeoutError, PayloadTooLargeError, NameInUseError,
  ServiceUnavailableError, CancelledError, DEFAULT_MAX_PAYLOAD,
} from '../index.js';

let broker;
let client;
const unique = `n${process.pid}x${Date.now().toString(36)}`;

before(async () => {
  broker = await startBroker();
  client = await connect({ socketPath: broker.socketPath, timeoutMs: 10000 });
});

after(async () => {
  if (client) await client.close();
  if (broker) await broker.stop();
});

const open = (extra = {}) => connect({ socketPath: broker.socketPath, timeoutMs: 10000, ...extra });

describe('request-response', () => {
  test('calculator Add and Multiply', async () => {
    assert.deepEqual(await client.request('calculator', 'Add', { a: 2, b: 3 }), { value: 5 });
    assert.deepEqual(await client.request('calculator', 'Multiply', { a: 6, b: 7 }), { value: 42 });
  });

  test('MessagePack format', async () => {
    const mp = await open({ format: 'msgpack' });
    try {
      assert.deepEqual(await mp.request('calculator', 'Add', { a: 40, b: 2 }), { value: 42 });
      assert.deepEqual(await client.request('calculator', 'Add', { a: -5, b: 2 }, { format: 'msgpack' }), { value: -3 });
    } finally {
      await mp.close();
    }
  });

  test('kv_store Set then Get', async () => {
    const key = `${unique}-k1`;
    assert.deepEqual(await client.request('kv_store', 'Set', { key, value: 'hello' }), { stored: true });
    assert.deepEqual(await client.request('kv_store', 'Get', { key }), { found: true, value: 'hello' });
    const missing = await client.request('kv_store', 'Get', { key: `${unique}-missing` });
    assert.equal(missing.found, false);
  });

  test('send is fire-and-forget and resolves once delivered', async () => {
    const key = `${unique}-k2`;
    assert.equal(await client.send('kv_store', 'Set', { key, value: 'fired' }), undefined);
    await eventually(async () => (await client.request('kv_store', 'Get', { key })).value === 'fired', { what: 'the fired Set' });
    assert.deepEqual(await client.request('kv_store', 'Get', { key }), { found: true, value: 'fired' });
  });

  test('unknown target rejects with ActorNotFoundError', async () => {
    await assert.rejects(client.request(`no_such_${unique}`, 'Add', { a: 1, b: 1 }), (err) => {
      assert.ok(err instanceof ActorNotFoundError);
      assert.ok(err instanceof SwitchboardError);
      assert.equal(err.code, 'ACTOR_NOT_FOUND');
      return true;
    });
  });

  test('unknown message type rejects with UnknownMessageTypeError', async () => {
    await assert.rejects(client.request('calculator', 'Divide', { a: 1, b: 1 }), (err) => {
      assert.ok(err instanceof UnknownMessageTypeError);
      assert.equal(err.code, 'UNKNOWN_MESSAGE_TYPE');
      return true;
    });
  });

  test('a payload over the maximum is refused locally with PayloadTooLargeError', async () => {
    await assert.rejects(client.request('calculator', 'Add', { a: 1, b: 2, pad: 'x'.repeat(DEFAULT_MAX_PAYLOAD) }), PayloadTooLargeError);
    assert.deepEqual(await client.request('calculator', 'Add', { a: 1, b: 2 }), { value: 3 });
  });

  test('1000 pipelined requests on one connection, each answered correctly', async () => {
    const calls = [];
    for (let i = 0; i < 1000; i++) calls.push(client.request('calculator', 'Add', { a: i, b: 1000000 }));
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(r.value, i + 1000000));
  });
});

describe('request-stream', () => {
  test('countdown streams n-1 down to 0 in order, then ends', async () => {
    const items = await client.stream('countdown', 'Countdown', { from: 5, interval_ms: 10 }).toArray();
    assert.deepEqual(items, [4, 3, 2, 1, 0].map((n) => ({ remaining: n })));
  });

  test('two streams at once stay separate', async () => {
    const [a, b] = await Promise.all([
      client.stream('countdown', 'Countdown', { from: 3, interval_ms: 5 }).toArray(),
      client.stream('countdown', 'Countdown', { from: 4, interval_ms: 5 }).toArray(),
    ]);
    assert.deepEqual(a.map((x) => x.remaining), [2, 1, 0]);
    assert.deepEqual(b.map((x) => x.remaining), [3, 2, 1, 0]);
  });

  test('cancel ends a stream early and the connection keeps working', async () => {
    const s = client.stream('countdown', 'Countdown', { from: 1000, interval_ms: 20 });
    const seen = [];
    for await (const item of s) {
      seen.push(item.remaining);
      if (seen.length === 3) s.cancel();
    }
    assert.deepEqual(seen, [999, 998, 997]);
    // break in for-await cancels too
    const t = client.stream('countdown', 'Countdown', { from: 1000, interval_ms: 20 });
    for await (const item of t) { if (item.remaining <= 998) break; }
    assert.deepEqual(await client.request('calculator', 'Add', { a: 1, b: 1 }), { value: 2 });
  });

  test('a stream to an unknown target fails with ActorNotFoundError', async () => {
    await assert.rejects(client.stream(`nobody_${unique}`, 'Countdown', { from: 2, interval_ms: 1 }).toArray(), ActorNotFoundError);
  });
});

describe('publish-subscribe', () => {
  test('price_feed publishes prices.<SYMBOL>, received by a wildcard subscription', async () => {
    const sub = await client.subscribe('prices.*');
    try {
      const { value } = await sub.next();
      assert.match(value.subject, /^prices\.[^.]+$/);
      assert.equal(value.messageType, value.subject);
      assert.equal(typeof value.sequence, 'number');
    } finally {
      await sub.unsubscribe();
    }
  });

  test('* matches one token, > one or more; publish reaches only matching subscriptions', async () => {
    const publisher = await open();
    const star = await client.subscribe(`${unique}.*`);
    const tail = await client.subscribe([`${unique}.>`]);
    // the broker sends one PUSH per publication per connection, whatever patterns overlap; the
    // client hands it to every subscription with a matching pattern, once
    const both = await client.subscribe([`${unique}.*`, `${unique}.>`]);
    try {
      await publisher.publish(`${unique}.a`, { n: 1 });
      await publisher.publish(`${unique}.a.b`, { n: 2 });
      await publisher.publish(`${unique}.c`, { n: 3 });
      const s1 = await star.next();
      const s2 = await star.next();
      assert.deepEqual([s1.value.subject, s1.value.payload], [`${unique}.a`, { n: 1 }]);
      assert.deepEqual([s2.value.subject, s2.value.payload], [`${unique}.c`, { n: 3 }]);
      const got = [];
      for (let i = 0; i < 3; i++) got.push((await tail.next()).value.payload.n);
      assert.deepEqual(got, [1, 2, 3]);
      const gotBoth = [];
      for (let i = 0; i < 3; i++) gotBoth.push((await both.next()).value.payload.n);
      assert.deepEqual(gotBoth, [1, 2, 3]);
      // nothing extra queued: a probe published last arrives next on every subscription
      await publisher.publish(`${unique}.z`, { n: 4 });
      for (const sub of [star, tail, both]) assert.equal((await sub.next()).value.payload.n, 4);
    } finally {
      await both.unsubscribe();
      await star.unsubscribe();
      await tail.unsubscribe();
      await publisher.close();
    }
  });

  test('a burst on one subject is neither merged nor duplicated; sequence counts per connection', async () => {
    // Many publications on one subject within the same millisecond are distinct publications (the
    // old client-side de-duplication by subject and timestamp_ms merged them).
    const n = 2000;
    const subject = `burst.${unique}`;
    const sc = await open();
    const publisher = await open();
    try {
      const exact = await sc.subscribe(subject);
      const star = await sc.subscribe('burst.*');
      const sends = [];
      for (let i = 0; i < n; i++) sends.push(publisher.publish(subject, i));
      await Promise.all(sends);
      await publisher.publish(subject, 'end');
      const read = async (sub) => {
        const out = [];
        for (;;) {
          const { value } = await sub.next();
          if (value.payload === 'end') return out;
          out.push(value);
        }
      };
      const a = await read(exact);
      const b = await read(star);
      const payloads = a.map((x) => x.payload);
      assert.deepEqual(b.map((x) => x.payload), payloads, 'both subscriptions see the same PUSH frames');
      assert.deepEqual(payloads, [...new Set(payloads)].sort((x, y) => x - y), 'no duplicate, in publication order');
      const seqs = a.map((x) => x.sequence);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'sequence strictly increasing');
      assert.equal(seqs[0], 1, 'the first PUSH of a connection has sequence 1');
      // what the broker dropped (if anything) shows as sequence gaps; nothing is merged
      assert.equal(payloads.length + exact.lost, n);
      assert.equal(exact.lost, sc.pushesLost);
      assert.equal(sc.pushSequence, n + 1);
    } finally {
      await sc.close();
      await publisher.close();
    }
  });

  test('callback subscription, retained message, unsubscribe stops delivery', async () => {
    const subject = `${unique}.retained`;
    await client.publish(subject, { v: 'kept' }, { retain: true });
    const got = [];
    const sub = await client.subscribe([subject], (n) => got.push(n));
    await eventually(() => got.length >= 1, { what: 'the retained message' });
    assert.deepEqual(got[0].payload, { v: 'kept' });
    await client.publish(subject, { v: 'live' });
    await eventually(() => got.length >= 2, { what: 'the live message' });
    assert.deepEqual(got[1].payload, { v: 'live' });
    await sub.unsubscribe();
    // a probe subscription proves the next publication was fanned out before we look
    const probe = await client.subscribe(`${unique}.probe`);
    await client.publish(subject, { v: 'after' });
    await client.publish(`${unique}.probe`, {});
    await probe.next();
    await probe.unsubscribe();
    assert.equal(got.length, 2);
  });
});

describe('serving from a socket', () => {
  test('serve answers requests, errors and streams (opaque JSON)', async (t) => {
    const service = `node_svc_${unique}`;
    const server = await open();
    t.after(() => server.close());
    let cancelled = false;
    let hangingStarted = false;
    await server.serve(service, (payload, ctx) => {
      switch (ctx.messageType) {
        case 'Echo': return { echoed: payload, messageType: ctx.messageType };
        case 'Later': return new Promise((r) => setTimeout(() => r({ late: true }), 20));
        case 'Fail': throw new ServiceError('OUT_OF_STOCK', 'nothing left');
        case 'Count': return (async function* count() {
          for (let i = 0; i < payload.n; i++) yield { i };
        }());
        case 'Forever': return (async function* forever() {
          ctx.signal.addEventListener('abort', () => { cancelled = true; });
          for (let i = 0; ; i++) {
            yield { i };
            await new Promise((r) => setTimeout(r, 10));
          }
        }());
        case 'Hang':
          hangingStarted = true;
          return new Promise(() => {});
        default: throw new Error('unexpected');
      }
    }, { messageTypes: ['Echo', 'Later', 'Fail', 'Count', 'Forever', 'Hang'] });

    const nested = { s: 'x', n: 1.5, arr: [1, 'two', null, { deep: true }] };
    assert.deepEqual(await client.request(service, 'Echo', nested), { echoed: nested, messageType: 'Echo' });
    assert.deepEqual(await client.request(service, 'Later', {}), { late: true });
    await assert.rejects(client.request(service, 'Fail', {}), (err) => {
      assert.ok(err instanceof ServiceError);
      assert.equal(err.code, 'OUT_OF_STOCK');
      assert.equal(err.message, 'nothing left');
      return true;
    });
    assert.deepEqual(await client.stream(service, 'Count', { n: 4 }).toArray(), [0, 1, 2, 3].map((i) => ({ i })));

    const forever = client.stream(service, 'Forever', {});
    let count = 0;
    for await (const _ of forever) if (++count === 3) break;
    await eventually(() => cancelled, { what: 'CANCEL to reach the serving handler' });

    // many calls to the socket service at once, answered in any order
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => client.request(service, 'Echo', i)));
    many.forEach((r, i) => assert.equal(r.echoed, i));

    // the broker times a call out when the service does not answer
    await assert.rejects(client.request(service, 'Hang', {}, { timeoutMs: 300 }), RequestTimeoutError);
    assert.ok(hangingStarted);

    // an exclusive name cannot be registered twice
    const other = await open();
    try {
      await assert.rejects(other.serve(service, () => ({})), NameInUseError);
    } finally {
      await other.close();
    }

    const found = await client.discover();
    assert.ok(found.services.some((s) => s.name === service), 'discover lists the socket service');
  });

  test('a serving connection that closes answers its in-flight calls SERVICE_UNAVAILABLE', async () => {
    const service = `node_gone_${unique}`;
    const server = await open();
    let started = false;
    await server.serve(service, () => { started = true; return new Promise(() => {}); }, { messageTypes: ['Hang'] });
    const call = client.request(service, 'Hang', {});
    call.catch(() => {}); // rejects while we close the server; checked below
    await eventually(() => started, { what: 'the request to reach the service' });
    await server.close();
    await assert.rejects(call, ServiceUnavailableError);
  });
});

describe('discovery and statistics', () => {
  test('discover lists the demo services and the protocol version', async () => {
    const d = await client.discover({ includeActors: true, includeMessageTypes: true });
    assert.equal(d.protocol_version.current, 2);
    const names = d.actors.map((a) => a.name);
    for (const n of ['calculator', 'countdown', 'kv_store']) assert.ok(names.includes(n), `actors include ${n}`);
    const calc = d.services.find((s) => s.name === 'calculator');
    assert.ok(calc && calc.message_types.includes('Add'));
  });

  test('stats returns the counters', async () => {
    const s = await client.stats();
    assert.equal(typeof s, 'object');
    assert.ok(s !== null && Object.keys(s).length > 0);
  });

  test('heartbeat round trip', async () => {
    const ms = await client.ping();
    assert.ok(ms >= 0);
  });
});

describe('connection loss', () => {
  test('every pending call rejects with ConnectionClosedError when the connection closes', async () => {
    const service = `node_hang_${unique}`;
    const server = await open();
    await server.serve(service, () => new Promise(() => {}), { messageTypes: ['Hang'] });
    const caller = await open();
    const calls = [
      caller.request(service, 'Hang', {}),
      caller.stream('countdown', 'Countdown', { from: 1000, interval_ms: 50 }).toArray(),
      caller.subscribe(`${unique}.never`).then((sub) => sub.next()),
    ];
    for (const c of calls) c.catch(() => {}); // they reject during close(); checked below
    await new Promise((r) => setImmediate(r));
    await caller.close();
    for (const c of calls) await assert.rejects(c, ConnectionClosedError);
    await assert.rejects(caller.request('calculator', 'Add', { a: 1, b: 1 }), ConnectionClosedError);
    await server.close();
  });

  test('connecting to a path where nothing listens fails with ConnectionClosedError', async () => {
    await assert.rejects(connect({ socketPath: `/tmp/nothing-${unique}.sock` }), ConnectionClosedError);
  });
});

test('CancelledError is exported for stream/request cancellation by signal', async () => {
  const ac = new AbortController();
  const service = `node_abort_${unique}`;
  const server = await open();
  await server.serve(service, () => new Promise(() => {}), { messageTypes: ['Hang'] });
  const p = client.request(service, 'Hang', {}, { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, CancelledError);
  await server.close();
});
