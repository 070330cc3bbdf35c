// A TypeScript user of the package, through its name (exports, "types"): the README's examples, typed.
import {
  connect, Client, ServiceError, ActorNotFoundError, CancelledError, ConnectionClosedError, ForbiddenError,
  RequestTimeoutError, SwitchboardError, TargetBusyError, subjectMatches, type Notification, type HandlerContext,
} from 'switchboard-client';

export async function main(): Promise<void> {
  const controller = new AbortController();
  const { signal } = controller;
  const client: Client = await connect({ socketPath: '/tmp/x/broker.sock', format: 'msgpack', timeoutMs: 1000, waitForBrokerMs: 10000, maxQueuedBytes: 1 << 22, signal });
  client.timeoutMs = 5000;
  const sum = await client.request<{ value: number }>('calculator', 'Add', { a: 2, b: 3 }, { signal });
  const n: number = sum.value;
  await client.send('kv_store', 'Set', { key: 'k', value: 'v' }, { signal, timeoutMs: 100 });
  for await (const item of client.stream<{ remaining: number }>('countdown', 'Countdown', { from: 3 }, { signal })) {
    const r: number = item.remaining;
    void r;
  }
  const s = client.stream('countdown', 'Countdown', { from: 100 });
  s.cancel();
  const sub = await client.subscribe<{ price: number }>(['prices.*', 'orders.>'], { signal });
  for await (const note of sub) {
    const price: number = note.payload.price;
    const gap: number = note.gap;
    void price; void gap;
    break;
  }
  const cb = await client.subscribe('alerts', (note: Notification) => console.log(note.subject), { signal });
  await cb.unsubscribe({ signal });
  await client.publish('prices.ACME', { price: 101.5 }, { retain: true, signal });
  const reg = await client.serve('greeter', async (payload: { name?: string }, ctx: HandlerContext) => {
    if (!payload.name) throw new ServiceError('NO_NAME', 'name is required');
    return { greeting: `hello ${payload.name}`, aborted: ctx.signal.aborted };
  }, { messageTypes: ['Greet'], signal });
  await client.serve('ticker', async function* (payload: { n: number }, ctx) {
    for (let i = 0; i < payload.n && !ctx.signal.aborted; i++) yield { i };
  });
  await reg.unregister({ signal });
  const info = await client.discover({ includeActors: true, signal });
  const version: number = info.protocol_version.current;
  await client.stats({ signal });
  const rtt: number = await client.ping({ timeoutMs: 100, signal });
  await client.drain({ signal });
  const queued: number = client.queuedBytes;
  client.on('disconnect', (err: ConnectionClosedError) => console.log(err.code));
  client.on('reconnect', () => console.log(client.reconnects));
  try {
    await client.request('x', 'y');
  } catch (err) {
    if (err instanceof ActorNotFoundError) console.log(err.code === 'ACTOR_NOT_FOUND');
    if (err instanceof RequestTimeoutError) console.log(err.local);
    if (err instanceof CancelledError || err instanceof ForbiddenError || err instanceof TargetBusyError) console.log(err.code);
    if (err instanceof SwitchboardError) console.log(err.correlationId);
  }
  console.log(n, version, rtt, queued, subjectMatches('a.*', 'a.b'), ForbiddenError.CODE);
  await client.close();
}
