// A CommonJS TypeScript user: require() through the package's "require" condition.
import sb = require('switchboard-client');

export async function main(): Promise<void> {
  const client: sb.Client = await sb.connect({ waitForBrokerMs: 1000 });
  const reply: unknown = await client.request('calculator', 'Add', { a: 1, b: 2 }, { signal: AbortSignal.timeout(1000) });
  console.log(reply, sb.ForbiddenError.CODE);
  await client.close();
}
