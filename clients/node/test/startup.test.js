// Start-up order and refusal against real brokers: connect({ waitForBrokerMs }) waits, bounded, for a
// broker that is not up yet; a client the broker refuses (another user, not allowed) gets the broker's
// FORBIDDEN, not EPIPE/ECONNRESET. The refusal needs root, setpriv and the users nobody and daemon; it
// FAILS where they are missing unless switched off with SWITCHBOARD_TEST_PRIVILEGED=0 (as scripts/abuse).
// This file starts brokers of its own; it cannot run against an external broker and fails when asked to.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startBroker } from '../support/broker.js';
import { connect, ConnectionClosedError, ForbiddenError } from '../index.js';

const run = promisify(execFile);
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SETPRIV = '/usr/bin/setpriv';

before(() => {
  if (process.env.SWITCHBOARD_TEST_SOCKET) {
    throw new Error('startup.test.js starts brokers of its own: unset SWITCHBOARD_TEST_SOCKET');
  }
});

test('connect waits for a broker that starts later, when asked to', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-node-wait-'));
  const socketPath = path.join(dir, 'broker.sock');
  let broker;
  let client;
  try {
    const connecting = connect({ socketPath, waitForBrokerMs: 120000 });
    let settled = false;
    connecting.then(() => { settled = true; }, () => { settled = true; });
    broker = await startBroker({ socketPath });
    client = await connecting;
    assert.ok(settled);
    assert.deepEqual(await client.request('calculator', 'Add', { a: 20, b: 22 }), { value: 42 });
  } finally {
    if (client) await client.close();
    if (broker) await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the wait is bounded: no broker within waitForBrokerMs is a ConnectionClosedError naming the wait', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-node-nobroker-'));
  try {
    const socketPath = path.join(dir, 'broker.sock');
    const started = Date.now();
    await assert.rejects(connect({ socketPath, waitForBrokerMs: 500 }), (err) => {
      assert.ok(err instanceof ConnectionClosedError, String(err));
      assert.match(err.message, /no broker at .*broker\.sock after waiting \d+ ms \(waitForBrokerMs=500, \d+ attempts\): ENOENT/);
      return true;
    });
    assert.ok(Date.now() - started >= 250, 'gave up long before waitForBrokerMs');
    // without the option it fails at once, as before
    await assert.rejects(connect({ socketPath }), (err) => err instanceof ConnectionClosedError && /ENOENT/.test(err.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function privileged() {
  if (process.env.SWITCHBOARD_TEST_PRIVILEGED === '0') return false;
  if (process.getuid() !== 0 || !fs.existsSync(SETPRIV)) {
    throw new Error('this test runs clients as other users: it needs root and setpriv (SWITCHBOARD_TEST_PRIVILEGED=0 switches it off)');
  }
  return true;
}

// Runs a client as `user` and prints how connect() + one request ended, as JSON.
async function clientAs(user, group, socketPath) {
  const script = `
    import { connect } from ${JSON.stringify(path.join(packageDir, 'index.js'))};
    try {
      const c = await connect({ socketPath: process.argv[1], reconnect: false });
      const r = await c.request('calculator', 'Add', { a: 1, b: 2 });
      await c.close();
      console.log(JSON.stringify({ ok: r }));
    } catch (err) {
      console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message }));
    }`;
  const { stdout } = await run(SETPRIV, [`--reuid=${user}`, `--regid=${group}`, '--clear-groups',
    process.execPath, '--input-type=module', '-e', script, socketPath]);
  return JSON.parse(stdout);
}

test('a client of a user the broker does not allow gets FORBIDDEN from connect, every time', { skip: !privileged() && 'SWITCHBOARD_TEST_PRIVILEGED=0' }, async () => {
  const broker = await startBroker({ args: ['--allow-user', 'daemon'] });
  try {
    // the allowed user is served: the socket is reachable for other users, so a refusal is the broker's
    assert.deepEqual(await clientAs('daemon', 'daemon', broker.socketPath), { ok: { value: 3 } });
    for (let i = 0; i < 10; i++) {
      const got = await clientAs('nobody', 'nogroup', broker.socketPath);
      assert.equal(got.code, 'FORBIDDEN', `attempt ${i}: ${JSON.stringify(got)}`);
      assert.equal(got.name, ForbiddenError.name);
    }
  } finally {
    await broker.stop();
  }
});
