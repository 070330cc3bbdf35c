// Test support: starts the real broker (scripts/switchboard broker --demo) on a temporary socket.
// Not a test file (kept outside test/ so `node --test test/` does not run it).
//
// The gateway binds `broker.sock` in the DIRECTORY of `--socket` (the file name given is ignored;
// see BrokerMain / Broker.Context.gatewaySocket), so we pass `<temp dir>/broker.sock` and connect to
// exactly that path. Each broker gets its own media driver directory (`--aeron-dir`, under /dev/shm
// when it exists), removed afterwards, so two suites or a developer's own broker never share a driver.
//
// SWITCHBOARD_TEST_LAUNCHER=<path> runs another launcher instead of scripts/switchboard (same
// arguments: broker --demo --socket ... --aeron-dir ...).
// SWITCHBOARD_TEST_SOCKET=<path> makes the tests use a broker that is already running there
// instead of starting one; SWITCHBOARD_TEST_START_TIMEOUT_MS bounds the start-up (default 120 s,
// the first start may build the broker).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

function canConnect(socketPath) {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: socketPath });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a broker with the demo services; resolves with { socketPath, stop(), kill(), restart(), output() }.
 * options.socketPath: where (its directory must not exist yet, or be empty; removed by stop()); options.args:
 * more broker options (e.g. ['--allow-user', 'daemon']).
 */
export async function startBroker(options = {}) {
  if (process.env.SWITCHBOARD_TEST_SOCKET) {
    const socketPath = process.env.SWITCHBOARD_TEST_SOCKET;
    if (!(await canConnect(socketPath))) throw new Error(`no broker answers at SWITCHBOARD_TEST_SOCKET=${socketPath}`);
    return { socketPath, external: true, stop: async () => {}, output: () => '' };
  }
  const launcher = process.env.SWITCHBOARD_TEST_LAUNCHER || path.join(repoRoot, 'scripts', 'switchboard');
  if (!fs.existsSync(launcher)) {
    throw new Error(`broker launcher not found at ${launcher}: the tests need the real broker`);
  }
  let dir;
  let socketPath;
  if (options.socketPath) {
    socketPath = options.socketPath;
    dir = path.dirname(socketPath);
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-node-'));
    socketPath = path.join(dir, 'broker.sock');
  }
  const extraArgs = options.args ?? [];
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const aeronRoot = fs.mkdtempSync(path.join(shm, 'sb-nodetest-'));
  const aeronDir = path.join(aeronRoot, 'aeron');
  let output = '';
  let child = null;
  let exited = null;
  let exitPromise = null;
  const launch = () => {
    exited = null;
    child = spawn(launcher, ['broker', '--demo', '--socket', socketPath, '--aeron-dir', aeronDir, ...extraArgs], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so stop() reaches the JVM behind the launcher script
      env: { ...process.env, SWITCHBOARD_SOCKET: socketPath },
    });
    const mine = child;
    mine.stdout.on('data', (d) => { output += d; });
    mine.stderr.on('data', (d) => { output += d; });
    exitPromise = new Promise((resolve) => mine.once('exit', (code, signal) => {
      if (child === mine) exited = { code, signal };
      resolve();
    }));
    mine.once('error', (err) => { if (child === mine) exited = { error: err }; });
  };
  // Safety net: if this test process ends without stop(), do not leave the broker running.
  const killOnExit = () => {
    if (child && !exited) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    try { fs.rmSync(aeronRoot, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    if (child && !exited) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      const killTimer = setTimeout(() => {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }, 10000);
      await exitPromise;
      clearTimeout(killTimer);
    }
    process.removeListener('exit', killOnExit);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(aeronRoot, { recursive: true, force: true });
  };

  // SIGKILL (no clean shutdown): the socket file and the driver directory stay behind, stale.
  const kill = async () => {
    if (child && !exited) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      await exitPromise;
    }
  };

  const timeoutMs = Number(process.env.SWITCHBOARD_TEST_START_TIMEOUT_MS ?? 120000);
  const waitReady = async () => {
    const from = output.length;
    const deadline = Date.now() + timeoutMs;
    let wait = 25;
    for (;;) {
      if (exited) {
        await stop();
        throw new Error(`the broker exited during start-up (${JSON.stringify(exited)}):\n${output}`);
      }
      // The gateway accepts connections before the demo services have registered; the broker
      // prints "broker ready" once they have.
      if (output.indexOf('switchboard: broker ready', from) >= 0 && fs.existsSync(socketPath) && (await canConnect(socketPath))) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`the broker did not accept connections on ${socketPath} within ${timeoutMs} ms:\n${output}`);
      }
      await delay(wait);
      wait = Math.min(wait * 2, 250);
    }
  };
  // Starts the broker again after kill(), on the same socket path and driver directory.
  const restart = async () => {
    await kill();
    launch();
    await waitReady();
  };
  // Sends a signal (e.g. SIGSTOP, SIGCONT) to the broker's whole process group.
  const signal = (name) => process.kill(-child.pid, name);
  launch();
  await waitReady();
  return { socketPath, stop, kill, restart, signal, output: () => output };
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually(fn, { timeoutMs = 10000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let wait = 10;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(wait);
    wait = Math.min(wait * 2, 200);
  }
}
