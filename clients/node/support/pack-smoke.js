#!/usr/bin/env node
// The package as users get it: `npm pack`, then a fresh npm project installs the tarball (no registry
// needed: the client has no runtime dependencies) and, against a real broker, an ES module and a
// CommonJS program use it by name; tsc checks a TypeScript user against the installed declarations.
// Run by scripts/test; exits non-zero on any failure. SWITCHBOARD_TEST_* variables as for the tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from './broker.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-node-pack-'));
const quiet = { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' };

function check(cond, what) {
  if (!cond) throw new Error(`pack smoke test: ${what}`);
}

let broker;
try {
  // 1. the tarball: what users install, and nothing else
  const [packed] = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', work], { ...quiet, cwd: packageDir }));
  const files = packed.files.map((f) => f.path).sort();
  console.log(`npm pack: ${packed.filename}, ${packed.size} bytes, ${files.length} files: ${files.join(' ')}`);
  for (const f of ['package.json', 'README.md', 'index.js', 'index.d.ts', 'src/client.js']) check(files.includes(f), `${f} missing from the tarball`);
  for (const f of files) check(!/^(test|typecheck|support|node_modules)\//.test(f), `${f} should not be in the tarball`);
  check(packed.license === undefined || packed.license === 'Apache-2.0', `licence ${packed.license}`);

  // 2. a fresh project installs it
  const project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'smoke', version: '1.0.0', private: true }, null, 2));
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', path.join(work, packed.filename)], { ...quiet, cwd: project });
  const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'switchboard-client', 'package.json'), 'utf8'));
  check(installed.license === 'Apache-2.0', `installed package says licence ${installed.license}`);

  // 3. both module systems, by package name, against a real broker
  broker = await startBroker();
  fs.writeFileSync(path.join(project, 'smoke.mjs'), `
    import { connect, ActorNotFoundError } from 'switchboard-client';
    const client = await connect({ socketPath: process.argv[2], waitForBrokerMs: 5000 });
    const sum = await client.request('calculator', 'Add', { a: 2, b: 3 });
    if (sum.value !== 5) throw new Error('Add: ' + JSON.stringify(sum));
    const items = await client.stream('countdown', 'Countdown', { from: 3, interval_ms: 0 }).toArray();
    if (items.map((i) => i.remaining).join() !== '2,1,0') throw new Error('Countdown: ' + JSON.stringify(items));
    const sub = await client.subscribe('smoke.>');
    await client.publish('smoke.esm', { hello: 'esm' });
    const { value: n } = await sub.next();
    if (n.subject !== 'smoke.esm' || n.payload.hello !== 'esm') throw new Error('PUSH: ' + JSON.stringify(n));
    try { await client.request('no_such_service', 'X', {}); throw new Error('no error'); }
    catch (err) { if (!(err instanceof ActorNotFoundError)) throw err; }
    await client.close();
    console.log('import: ok');`);
  fs.writeFileSync(path.join(project, 'smoke.cjs'), `
    const { connect, ForbiddenError } = require('switchboard-client');
    (async () => {
      const client = await connect({ socketPath: process.argv[2] });
      const sum = await client.request('calculator', 'Add', { a: 40, b: 2 }, { signal: AbortSignal.timeout(10000) });
      if (sum.value !== 42 || ForbiddenError.CODE !== 'FORBIDDEN') throw new Error('Add: ' + JSON.stringify(sum));
      await client.close();
      console.log('require: ok');
    })().catch((err) => { console.error(err); process.exit(1); });`);
  for (const program of ['smoke.mjs', 'smoke.cjs']) {
    const out = execFileSync(process.execPath, [program, broker.socketPath], { ...quiet, cwd: project });
    process.stdout.write(out);
    check(/: ok$/m.test(out), `${program} did not finish`);
  }

  // 4. a TypeScript user against the installed declarations (tsc from this package's devDependencies)
  const tsc = path.join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc');
  check(fs.existsSync(tsc), `TypeScript is not installed in ${packageDir} (npm ci there first)`);
  fs.copyFileSync(path.join(packageDir, 'typecheck', 'consumer.ts'), path.join(project, 'consumer.ts'));
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true,
      typeRoots: [path.join(packageDir, 'node_modules', '@types')], types: ['node'],
    },
    files: ['consumer.ts'],
  }, null, 2));
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  console.log('tsc on the installed package: ok');
} finally {
  if (broker) await broker.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
