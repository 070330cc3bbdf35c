// Reconnection against the real broker: SIGKILL it with a request in flight, start it again on the
// same socket path and media driver directory, and check that the clients come back on their own.
// This file has its own broker (it kills it); it cannot run against an external broker (SWITCHBOARD_TEST_SOCKET)
// and fails, not skips, when asked to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, eventually } from '../support/broker.js';
import { connect, ServiceUnavailableError, ConnectionClosedError } from '../index.js';

let broker;
const unique = `rc${process.pid}x${Date.now().toString(36)}`;
const PROMPT_MS = 5000;
const RESTART_MS = 120000;

before(async () => {
  if (process.env.SWITCHBOARD_TEST_SOCKET) {
    throw new Error('reconnect.test.js needs a broker of its own to kill and restart: unset SWITCHBOARD_TEST_SOCKET');
  }
  broker = await startBroker();
});

after(async () => {
  if (broker) await broker.stop();
});

test('the broker is SIGKILLed and restarted: in-flight calls fail SERVICE_UNAVAILABLE, clients reconnect, re-register and resubscribe', async () => {
    const service = `node_rc_${unique}`;
    const server = await connect({ socketPath: broker.socketPath, timeoutMs: 60000 });
    const caller = await connect({ socketPath: broker.socketPath, timeoutMs: 60000 });
    const events = [];
    server.on('disconnect', (err) => events.push(['disconnect', err]));
    server.on('reconnect', () => events.push(['reconnect']));
    server.on('error', () => {});
    caller.on('error', () => {});
    try {
      let entered = false;
      await server.serve(service, async (payload, ctx) => {
        if (ctx.messageType === 'Hang') { // never answers: the call stays in flight
          entered = true;
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          return null;
        }
        return { echo: payload };
      }, { messageTypes: ['Hang', 'Echo'] });
      const sub = await server.subscribe(`rc.${unique}.>`);
      assert.deepEqual(await caller.request(service, 'Echo', 1), { echo: 1 });

      const inFlight = caller.request(service, 'Hang', {});
      const inFlightOutcome = inFlight.then(() => null, (err) => err);
      const stream = caller.stream('countdown', 'Countdown', { from: 1000, interval_ms: 50 });
      assert.deepEqual((await stream.next()).value, { remaining: 999 });
      await eventually(() => entered, { what: 'the Hang request to reach the handler' });

      await broker.kill();
      const killedAt = Date.now();
      const err = await inFlightOutcome;
      assert.ok(Date.now() - killedAt < PROMPT_MS, 'the in-flight call failed promptly');
      assert.ok(err instanceof ServiceUnavailableError, `got ${err}`);
      assert.ok(err instanceof ConnectionClosedError);
      assert.equal(err.code, 'SERVICE_UNAVAILABLE');
      // the stream gets it too
      await assert.rejects((async () => { for await (const _ of stream) { /* drain */ } })(), ServiceUnavailableError);
      // and the subscription's iteration, once
      await assert.rejects(sub.next(), ServiceUnavailableError);
      await eventually(() => events.some(([e]) => e === 'disconnect'), { what: "the 'disconnect' event" });
      assert.equal(server.connected, false);
      // new calls while disconnected fail fast, nothing is queued
      const t0 = Date.now();
      await assert.rejects(caller.request('calculator', 'Add', { a: 1, b: 1 }), ServiceUnavailableError);
      assert.ok(Date.now() - t0 < 1000);

      await broker.restart(); // same socket path and --aeron-dir: both stale, replaced by the broker
      await eventually(() => events.some(([e]) => e === 'reconnect'), { timeoutMs: RESTART_MS, what: "the 'reconnect' event" });
      await eventually(() => caller.connected, { timeoutMs: RESTART_MS, what: 'the caller to reconnect' });
      assert.equal(server.reconnects, 1);
      // the served service is callable again from a second, new client, and from the old caller
      const fresh = await connect({ socketPath: broker.socketPath, timeoutMs: 10000, reconnect: false });
      try {
        assert.deepEqual(await fresh.request(service, 'Echo', 2), { echo: 2 });
        await fresh.publish(`rc.${unique}.x`, 'after');
      } finally {
        await fresh.close();
      }
      assert.deepEqual(await caller.request(service, 'Echo', 3), { echo: 3 });
      const { value } = await sub.next();
      assert.deepEqual([value.subject, value.payload, value.sequence], [`rc.${unique}.x`, 'after', 1]);
      assert.equal(sub.interruptions, 1);
    } finally {
      await server.close();
      await caller.close();
    }
  });

test('reconnect: false closes the client for good when the connection drops', async () => {
    const c = await connect({ socketPath: broker.socketPath, reconnect: false });
    c.on('error', () => {});
    const closed = new Promise((resolve) => c.once('close', resolve));
    await broker.kill();
    await closed;
    assert.equal(c.closed, true);
    await assert.rejects(c.request('calculator', 'Add', { a: 1, b: 1 }), ConnectionClosedError);
    await broker.restart();
  });
