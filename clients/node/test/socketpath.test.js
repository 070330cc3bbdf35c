// The client refuses a socket path through which another user could impersonate the broker. No broker
// is needed: the impostor is a listening socket in a directory handed to another user (uid 65534).
// Needs root for chown: without it the ownership cases fail loudly instead of passing vacuously.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, checkSocketPath, resolveSocketPath, UnsafeSocketPathError, ConnectionClosedError } from '../index.js';

const OTHER_UID = 65534;
let tmp;
let dir;
let sockPath;
let savedEnv;
let servers;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbnpath-'));
  const xdg = path.join(tmp, 'xdg');
  fs.mkdirSync(xdg, { mode: 0o700 });
  dir = path.join(xdg, 'switchboard'); // the default directory under $XDG_RUNTIME_DIR
  sockPath = path.join(dir, 'broker.sock');
  savedEnv = { ...process.env };
  delete process.env.SWITCHBOARD_SOCKET;
  process.env.XDG_RUNTIME_DIR = xdg;
  servers = [];
});

afterEach(async () => {
  process.env = savedEnv;
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A listening socket at the path; resolves with a function telling how many connections it accepted. */
async function impostor(at = sockPath) {
  fs.mkdirSync(path.dirname(at), { recursive: true, mode: 0o700 });
  let accepted = 0;
  const server = net.createServer((s) => { accepted += 1; s.destroy(); });
  servers.push(server);
  await new Promise((resolve) => server.listen(at, resolve));
  return () => accepted;
}

async function refused(options, ...texts) {
  const err = await connect({ reconnect: false, ...options }).then(() => null, (e) => e);
  assert.ok(err instanceof UnsafeSocketPathError, `got ${err}`);
  assert.ok(err instanceof ConnectionClosedError);
  for (const t of texts) assert.ok(err.message.includes(t), `'${t}' not in: ${err.message}`);
  return err;
}

test('the default path resolves under the test directory', () => {
  assert.equal(resolveSocketPath(), sockPath);
});

test('refuses a default directory owned by another user, without connecting', async () => {
  const accepted = await impostor();
  fs.chownSync(dir, OTHER_UID, OTHER_UID);
  await refused({}, dir, `owned by uid ${OTHER_UID}`, 'SWITCHBOARD_SOCKET');
  assert.equal(accepted(), 0, 'the client connected to the impostor');
  // a path the user named skips the ownership check
  assert.doesNotThrow(() => checkSocketPath(sockPath, false));
});

test('refuses a default directory writable by group or others', async () => {
  const accepted = await impostor();
  fs.chmodSync(dir, 0o777);
  await refused({}, 'mode 0777', `chmod 700 ${dir}`);
  assert.equal(accepted(), 0);
});

test('refuses a symlinked directory, default or named', async () => {
  const real = path.join(tmp, 'elsewhere');
  fs.mkdirSync(real, { mode: 0o700 });
  fs.symlinkSync(real, dir);
  const accepted = await impostor(path.join(real, 'broker.sock'));
  await refused({}, 'symbolic link', real);
  await refused({ socketPath: sockPath }, 'symbolic link', real);
  assert.equal(accepted(), 0);
});

test('refuses a symlinked socket', async () => {
  fs.mkdirSync(dir, { mode: 0o700 });
  const real = path.join(tmp, 'real.sock');
  const accepted = await impostor(real);
  fs.symlinkSync(real, sockPath);
  await refused({ socketPath: sockPath }, 'the socket is a symbolic link');
  assert.equal(accepted(), 0);
});

test("accepts the user's own or root's default directory", async () => {
  await impostor();
  assert.doesNotThrow(() => checkSocketPath(sockPath, true));
  fs.chownSync(dir, 0, 0);
  assert.doesNotThrow(() => checkSocketPath(sockPath, true));
  assert.doesNotThrow(() => checkSocketPath(path.join(tmp, 'missing', 'broker.sock'), true));
});
