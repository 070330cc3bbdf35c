#!/usr/bin/env node
// Socket-path benchmark driven from one Node.js process with the real client (clients/node).
//   switchboard  client -> gateway -> Java service `bench` (opaque Echo over Aeron IPC)
//   echo         the same client -> bare Java echo server with the same framing (the floor)
// Scenarios: closed-loop round trip (one call in flight; p50/p90/p99) and pipelined throughput
// (--window calls in flight; requests/s); --scenarios rtt,pipelined picks them. Payload {"data": <32 characters>}.
// Output lines (tab-separated), appended to --out:  socket  node  <system>  <metric>  <repeat>  <value>
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const system = args.system;
const seconds = Number(args.seconds ?? 3);
const warmup = Number(args.warmup ?? 1);
const repeats = Number(args.repeats ?? 3);
const windowSize = Number(args.window ?? 256);
const clientPath = path.resolve(args['client-path'] ?? 'clients/node', 'index.js');
const { connect } = await import(pathToFileURL(clientPath).href);

const PAYLOAD = { data: '0123456789abcdef0123456789abcdef' };

function emit(metric, repeat, value) {
  const line = `socket\tnode\t${system}\t${metric}\t${repeat}\t${value}\n`;
  if (args.out) appendFileSync(args.out, line); else process.stdout.write(line);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * sorted.length + 0.5) - 1));
  return sorted[i];
}

async function roundTrip(client, secs) {
  const samples = [];
  const end = process.hrtime.bigint() + BigInt(Math.round(secs * 1e9));
  let reply;
  for (;;) {
    const t0 = process.hrtime.bigint();
    if (t0 >= end) break;
    reply = await client.request('bench', 'Echo', PAYLOAD);
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  if (!reply || reply.data !== PAYLOAD.data) throw new Error(`unexpected echo reply ${JSON.stringify(reply)}`);
  return samples.sort((a, b) => a - b);
}

async function pipelined(client, secs) {
  let done = 0;
  let stop = false;
  const start = performance.now();
  const end = start + secs * 1000;
  let elapsed = 0;
  // `windowSize` independent chains, each sending its next call when the previous one is answered
  const chain = async () => {
    while (!stop) {
      await client.request('bench', 'Echo', PAYLOAD);
      done++;
      if ((done & 255) === 0 && performance.now() >= end && !stop) {
        stop = true;
        elapsed = performance.now() - start;
      }
    }
  };
  await Promise.all(Array.from({ length: windowSize }, chain));
  return (done / (elapsed || (performance.now() - start))) * 1000;
}

const scenarios = new Set(String(args.scenarios ?? 'rtt,pipelined').split(','));
for (const s of scenarios) {
  if (s !== 'rtt' && s !== 'pipelined') {
    console.error(`socket_bench.mjs: unknown scenario '${s}' (rtt, pipelined)`);
    process.exit(2);
  }
}

const client = await connect({ socketPath: args.socket });
try {
  if (scenarios.has('rtt')) await roundTrip(client, warmup);
  for (let r = 0; scenarios.has('rtt') && r < repeats; r++) {
    const s = await roundTrip(client, seconds);
    emit('rtt_count', r, s.length);
    for (const p of [50, 90, 99]) emit(`rtt_p${p}`, r, percentile(s, p));
    console.error(`node   ${system.padEnd(11)} round trip #${r}: ${s.length} calls p50 ${(percentile(s, 50) / 1e3).toFixed(1)} us` +
      ` p90 ${(percentile(s, 90) / 1e3).toFixed(1)} us p99 ${(percentile(s, 99) / 1e3).toFixed(1)} us`);
  }
  if (scenarios.has('pipelined')) await pipelined(client, warmup);
  for (let r = 0; scenarios.has('pipelined') && r < repeats; r++) {
    const rate = await pipelined(client, seconds);
    emit('pipelined_rps', r, rate.toFixed(0));
    console.error(`node   ${system.padEnd(11)} pipelined #${r} (window ${windowSize}): ${rate.toFixed(0)} requests/s`);
  }
} finally {
  await client.close();
}
