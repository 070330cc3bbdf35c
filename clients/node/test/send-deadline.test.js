// A call's timeout covers sending: against the real broker stopped with SIGSTOP (it reads nothing), a
// request whose frame does not fit in the socket buffer is answered with the client's timeout error
// by its deadline; after SIGCONT the client is served again. This file has its own broker (it stops
// it); it cannot run against an external broker and fails, not skips, when asked to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, eventually } from '../support/broker.js';
import { connect, RequestTimeoutError } from '../index.js';

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
