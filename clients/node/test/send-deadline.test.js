// A call's timeout covers sending: against the real broker stopped with SIGSTOP (it reads nothing), a
// request whose frame does not fit in the socket buffer is answered with the client's timeout error
// by its deadline; after SIGCONT the client is served again. Frames that do not fit wait in the client's
// send queue, bounded in bytes: a call that ends before its frame was written takes the frame back, so
// nothing stale piles up behind the stopped broker. This file has its own broker (it stops it); it cannot
// run against an external broker and fails, not skips, when asked to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, eventually } from '../support/broker.js';
import { connect, RequestTimeoutError, TargetBusyError } from '../index.js';

const TIMEOUT_MS = 1000;
const SLACK_MS = 1500; // scheduling on a loaded 2-core machine
const WATCHDOG_MS = 8000; // SIGCONT at the latest: under the media driver's 10 s client timeout
const BIG = 'x'.repeat(1024 * 1024 - 1024);
let broker;

before(async () => {
  if (process.env.SWITCHBOARD_TEST_SOCKET) {
    throw new Error('send-deadline.test.js needs a broker of its own to stop: unset SWITCHBOARD_TEST_SOCKET');
  }
  broker = await startBroker();
});

after(async () => {
  if (broker) await broker.stop();
});

test('a request to a SIGSTOPped broker ends by its deadline, and the client is served after SIGCONT', async () => {
  const client = await connect({ socketPath: broker.socketPath, timeoutMs: 30000 });
  client.on('error', () => {});
  try {
    assert.deepEqual(await client.request('calculator', 'Add', { a: 1, b: 2 }), { value: 3 });
    broker.signal('SIGSTOP');
    const watchdog = setTimeout(() => broker.signal('SIGCONT'), WATCHDOG_MS);
    try {
      const started = Date.now();
      const outcome = await Promise.allSettled([
        client.request('kv_store', 'Set', { key: 'big', value: BIG }, { timeoutMs: TIMEOUT_MS }),
        client.request('kv_store', 'Set', { key: 'big2', value: BIG }, { timeoutMs: TIMEOUT_MS }),
        client.request('calculator', 'Add', { a: 1, b: 1 }, { timeoutMs: TIMEOUT_MS }),
      ]);
      const elapsed = Date.now() - started;
      for (const o of outcome) {
        assert.equal(o.status, 'rejected', `answered while the broker was stopped: ${JSON.stringify(o.value)}`);
        assert.ok(o.reason instanceof RequestTimeoutError, `got ${o.reason}`);
      }
      assert.ok(elapsed < TIMEOUT_MS + 2000 + SLACK_MS, `the calls took ${elapsed} ms (deadline plus margin)`);
    } finally {
      clearTimeout(watchdog);
      broker.signal('SIGCONT');
    }
    await eventually(async () => {
      try {
        return (await client.request('calculator', 'Add', { a: 2, b: 2 }, { timeoutMs: 5000 })).value === 4;
      } catch {
        return false;
      }
    }, { timeoutMs: 60000, what: 'the client to be served again after SIGCONT' });
  } finally {
    await client.close();
  }
});

test('while the broker is stopped, unsent frames stay within maxQueuedBytes and leave with their calls', async () => {
  const MAX_QUEUED = 2 * 1024 * 1024;
  const VALUE = 'v'.repeat(200 * 1024);
  const CALLS = 60; // 12 MB: far more than the socket buffers and the send queue hold
  const unique = `sq${process.pid}x${Date.now().toString(36)}`;
  const client = await connect({ socketPath: broker.socketPath, timeoutMs: 30000, maxQueuedBytes: MAX_QUEUED, maxPayload: 1024 * 1024 });
  client.on('error', () => {});
  try {
    assert.deepEqual(await client.request('calculator', 'Add', { a: 1, b: 2 }), { value: 3 });
    broker.signal('SIGSTOP');
    const watchdog = setTimeout(() => broker.signal('SIGCONT'), WATCHDOG_MS);
    let outcome;
    try {
      const calls = [];
      let peak = 0;
      for (let i = 0; i < CALLS; i++) {
        calls.push(client.request('kv_store', 'Set', { key: `${unique}-${i}`, value: VALUE }, { timeoutMs: TIMEOUT_MS }));
        peak = Math.max(peak, client.queuedBytes);
      }
      assert.ok(peak > 0, 'nothing waited in the send queue: the test did not fill the socket');
      assert.ok(peak <= MAX_QUEUED, `${peak} bytes queued, over maxQueuedBytes=${MAX_QUEUED}`);
      outcome = await Promise.allSettled(calls);
      // Left queued: at most a CANCEL (under 64 bytes) for each call whose REQUEST was written.
      const written = outcome.filter((o) => o.reason instanceof RequestTimeoutError && !/dropped unsent/.test(o.reason.message)).length;
      assert.ok(client.queuedBytes <= written * 64, `${client.queuedBytes} bytes still queued after every call ended (${written} written)`);
    } finally {
      clearTimeout(watchdog);
      broker.signal('SIGCONT');
    }
    const busy = [];
    const unsent = [];
    for (let i = 0; i < CALLS; i++) {
      const o = outcome[i];
      assert.equal(o.status, 'rejected', `call ${i} answered while the broker was stopped`);
      if (o.reason instanceof TargetBusyError) {
        busy.push(i);
      } else {
        assert.ok(o.reason instanceof RequestTimeoutError, `call ${i}: ${o.reason}`);
        if (/dropped unsent/.test(o.reason.message)) unsent.push(i);
      }
    }
    assert.ok(busy.length > 0, 'no call was refused for a full send queue');
    assert.ok(unsent.length > 0, 'no call timed out with its frame still queued');
    await eventually(async () => {
      try {
        return (await client.request('calculator', 'Add', { a: 2, b: 2 }, { timeoutMs: 5000 })).value === 4;
      } catch {
        return false;
      }
    }, { timeoutMs: 60000, what: 'the client to be served again after SIGCONT' });
    // What was never written never reached the service.
    for (const i of [...busy, ...unsent]) {
      const got = await client.request('kv_store', 'Get', { key: `${unique}-${i}` }, { timeoutMs: 5000 });
      assert.equal(got.found, false, `call ${i} failed unsent, yet its Set reached the service`);
    }
  } finally {
    await client.close();
  }
});
