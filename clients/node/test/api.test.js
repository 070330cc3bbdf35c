// The client's API contract against the real broker: AbortSignal on every call that waits (and no
// listener left behind), drain(), NODE_DEBUG=switchboard, and one package for import and require.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startBroker, eventually } from '../support/broker.js';
import * as api from '../index.js';

const { connect, CancelledError, ActorNotFoundError } = api;
const run = promisify(execFile);
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const unique = `ap${process.pid}x${Date.now().toString(36)}`;
let broker;
let client;

before(async () => {
  broker = await startBroker();
  client = await connect({ socketPath: broker.socketPath, timeoutMs: 10000 });
});

after(async () => {
  if (client) await client.close();
  if (broker) await broker.stop();
});

const abortListeners = (signal) => getEventListeners(signal, 'abort').length;

describe('AbortSignal', () => {
  test('100 rounds of every waiting call with one signal leave no abort listener and no warning', async () => {
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    process.on('warning', onWarning);
    const signal = new AbortController().signal;
    try {
      for (let i = 0; i < 100; i++) {
        assert.deepEqual(await client.request('calculator', 'Add', { a: i, b: 1 }, { signal }), { value: i + 1 });
        await assert.rejects(client.request(`no_such_${unique}`, 'Add', {}, { signal }), ActorNotFoundError);
        await client.send('kv_store', 'Set', { key: `${unique}-s${i}`, value: 'v' }, { signal });
        await client.publish(`sig.${unique}`, { i }, { signal });
        assert.equal((await client.stream('countdown', 'Countdown', { from: 2, interval_ms: 0 }, { signal }).toArray()).length, 2);
        for await (const _ of client.stream('countdown', 'Countdown', { from: 50, interval_ms: 5 }, { signal })) break;
        const sub = await client.subscribe(`sig.${unique}.${i}`, { signal });
        await sub.unsubscribe({ signal });
        const reg = await client.serve(`node_sig_${unique}_${i}`, () => 1, { signal });
        await reg.unregister({ signal });
        await client.discover({ signal });
        await client.stats({ signal });
        await client.ping({ signal });
        await client.drain({ signal });
      }
      assert.equal(abortListeners(signal), 0, 'abort listeners left on the signal');
      const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
      assert.deepEqual(leaks.map(String), []);
    } finally {
      process.removeListener('warning', onWarning);
    }
  });

  test('aborting a request in flight rejects with CancelledError at once, with the reason as cause', async () => {
    const server = await connect({ socketPath: broker.socketPath, timeoutMs: 10000 });
    try {
      let started = false;
      await server.serve(`node_hang_${unique}`, (payload, ctx) => new Promise((resolve) => {
        started = true;
        ctx.signal.addEventListener('abort', () => resolve(null));
      }));
      const controller = new AbortController();
      const call = client.request(`node_hang_${unique}`, 'Wait', {}, { signal: controller.signal });
      await eventually(() => started, { what: 'the handler to get the request' });
      controller.abort(new Error('enough'));
      await assert.rejects(call, (err) => err instanceof CancelledError && err.cause.message === 'enough');
      assert.equal(abortListeners(controller.signal), 0);
      assert.equal(client._pending.size, 0);
    } finally {
      await server.close();
    }
  });

  test('aborting a stream ends its iteration without an error and removes the listener', async () => {
    const controller = new AbortController();
    const got = [];
    for await (const item of client.stream('countdown', 'Countdown', { from: 1000, interval_ms: 5 }, { signal: controller.signal })) {
      got.push(item.remaining);
      if (got.length === 3) controller.abort();
    }
    assert.deepEqual(got, [999, 998, 997]);
    assert.equal(abortListeners(controller.signal), 0);
    assert.deepEqual(await client.request('calculator', 'Add', { a: 1, b: 1 }), { value: 2 }); // still usable
  });

  test('an already aborted signal fails every call at once, sending nothing', async () => {
    const signal = AbortSignal.abort(new Error('no'));
    const cancelled = (err) => err instanceof CancelledError && err.code === 'CANCELLED';
    await assert.rejects(client.request('calculator', 'Add', { a: 1, b: 1 }, { signal }), cancelled);
    await assert.rejects(client.send('kv_store', 'Set', { key: `${unique}-x`, value: 'v' }, { signal }), cancelled);
    await assert.rejects(client.publish(`sig.${unique}`, 1, { signal }), cancelled);
    await assert.rejects(client.subscribe(`sig.${unique}.x`, { signal }), cancelled);
    await assert.rejects(client.serve(`node_pre_${unique}`, () => 1, { signal }), cancelled);
    await assert.rejects(client.discover({ signal }), cancelled);
    await assert.rejects(client.stats({ signal }), cancelled);
    await assert.rejects(client.ping({ signal }), cancelled);
    await assert.rejects(client.drain({ signal }), cancelled);
    await assert.rejects(connect({ socketPath: broker.socketPath, signal }), cancelled);
    assert.deepEqual(await client.stream('countdown', 'Countdown', { from: 5, interval_ms: 0 }, { signal }).toArray(), []);
    // the name was never registered: another client can take it
    const other = await connect({ socketPath: broker.socketPath });
    try {
      await other.serve(`node_pre_${unique}`, () => 1);
    } finally {
      await other.close();
    }
    assert.equal(client._subscriptions.size, 0);
  });
});

describe('drain()', () => {
  test('resolves when idle, and after a burst once nothing waits in the send queue', async () => {
    await client.drain();
    const server = await connect({ socketPath: broker.socketPath });
    try {
      await server.serve(`node_sink_${unique}`, (payload) => payload.length);
      const value = 'x'.repeat(8 * 1024);
      const calls = [];
      for (let i = 0; i < 16; i++) calls.push(client.request(`node_sink_${unique}`, 'Take', value));
      assert.ok(client.queuedBytes > 0, '128 KB written in one tick (corked) should pass the socket buffer mark of 64 KiB');
      await client.drain();
      assert.equal(client.queuedBytes, 0);
      for (const r of await Promise.all(calls)) assert.equal(r, value.length);
    } finally {
      await server.close();
    }
  });
});

describe('NODE_DEBUG=switchboard', () => {
  const script = `
    import { connect } from ${JSON.stringify(path.join(packageDir, 'index.js'))};
    const c = await connect({ socketPath: process.argv[1] });
    await c.request('calculator', 'Add', { a: 1, b: 2 });
    await c.close();`;

  test('logs the connection life cycle on stderr', async () => {
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script, broker.socketPath], {
      env: { ...process.env, NODE_DEBUG: 'switchboard' },
    });
    assert.match(stderr, /^SWITCHBOARD \d+: connected to .*broker\.sock$/m);
    assert.match(stderr, /^SWITCHBOARD \d+: connection to .* closed: closed by the client$/m);
  });

  test('logs nothing without it', async () => {
    const env = { ...process.env };
    delete env.NODE_DEBUG;
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script, broker.socketPath], { env });
    assert.equal(stderr, '');
  });
});

describe('one package for import and require', () => {
  test('require() and import give the same module, by package name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-node-pkg-'));
    try {
      fs.mkdirSync(path.join(dir, 'node_modules'));
      fs.symlinkSync(packageDir, path.join(dir, 'node_modules', 'switchboard-client'), 'dir');
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type": "commonjs"}\n');
      fs.writeFileSync(path.join(dir, 'req.cjs'), `
        const sb = require('switchboard-client');
        const { connect, ForbiddenError } = sb;
        if (typeof connect !== 'function' || ForbiddenError.CODE !== 'FORBIDDEN') throw new Error('bad exports');
        console.log(JSON.stringify(Object.keys(sb).sort()));`);
      fs.writeFileSync(path.join(dir, 'both.mjs'), `
        import { createRequire } from 'node:module';
        import * as esm from 'switchboard-client';
        const cjs = createRequire(import.meta.url)('switchboard-client');
        if (cjs.Client !== esm.Client || cjs.SwitchboardError !== esm.SwitchboardError) throw new Error('two copies of the module');
        console.log(JSON.stringify(Object.keys(esm).sort()));`);
      const required = JSON.parse((await run(process.execPath, ['req.cjs'], { cwd: dir })).stdout);
      const imported = JSON.parse((await run(process.execPath, ['both.mjs'], { cwd: dir })).stdout);
      assert.deepEqual(required.filter((k) => k !== '__esModule' && k !== 'default'), Object.keys(api).sort());
      assert.deepEqual(imported, Object.keys(api).sort());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
