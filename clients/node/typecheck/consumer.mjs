// @ts-check
// A JavaScript user whose editor checks the calls against index.d.ts (// @ts-check).
import { connect, CancelledError } from 'switchboard-client';

const controller = new AbortController();
const client = await connect({ timeoutMs: 1000, waitForBrokerMs: 5000 });
/** @type {{ value: number }} */
const sum = await client.request('calculator', 'Add', { a: 2, b: 3 }, { signal: controller.signal });
const sub = await client.subscribe('prices.*', (n) => console.log(n.subject, n.payload, n.sequence), { signal: controller.signal });
await sub.unsubscribe();
try {
  await client.publish('prices.X', { price: 1 }, { signal: AbortSignal.abort() });
} catch (err) {
  if (err instanceof CancelledError) console.log(err.code);
}
await client.drain();
console.log(sum.value, client.connected, client.queuedBytes);
await client.close();
