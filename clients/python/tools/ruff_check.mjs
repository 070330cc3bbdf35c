// Lints Python files with Ruff's WebAssembly build (the npm package @astral-sh/ruff-wasm-nodejs), for machines
// where the ruff binary cannot be installed. Same rules and rule codes as the ruff command; the settings are
// pyproject.toml's [tool.ruff], handed over as JSON by scripts/test (Node.js has no TOML reader).
// Usage: node ruff_check.mjs SETTINGS_JSON FILE...   Exit status 1 when anything is reported, 2 on misuse.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [settingsJson, ...files] = process.argv.slice(2);
if (!settingsJson || files.length === 0) {
  console.error('usage: node ruff_check.mjs SETTINGS_JSON FILE...');
  process.exit(2);
}
// resolved from the folder scripts/test installed the package into (NODE_PATH), not from this file's folder
const require = createRequire(`${process.env.RUFF_WASM_PREFIX ?? process.cwd()}/`);
const { Workspace, PositionEncoding } = require('@astral-sh/ruff-wasm-nodejs');

const ruff = JSON.parse(settingsJson);
const { lint = {}, ...top } = ruff;
const workspace = new Workspace({ ...top, lint }, PositionEncoding.Utf8);
let problems = 0;
for (const file of files) {
  for (const d of workspace.check(readFileSync(file, 'utf8'))) {
    problems++;
    console.log(`${file}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? 'syntax'} ${d.message}`);
  }
}
console.error(`ruff ${Workspace.version()} (WebAssembly): ${problems} problem(s) in ${files.length} file(s)`);
process.exit(problems ? 1 : 0);
