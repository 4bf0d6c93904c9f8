// Runs every test that can run on this machine with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [folder-or-file ...]   (default: everything under test/ but e2e/, vscode/ and
// webgpu/, which `npm run test:webgpu` runs on its own)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const excluded = new Set(['test/e2e', 'test/vscode', 'test/fixtures', 'test/webgpu']);
/** @param {string} p @returns {string[]} */
function collect(p) {
  if (excluded.has(p) && !process.argv.slice(2).includes(p)) return [];
  const st = statSync(p);
  if (st.isFile()) return p.endsWith('.test.ts') ? [p] : [];
  return readdirSync(p).sort().flatMap((n) => collect(join(p, n)));
}
const roots = process.argv.length > 2 ? process.argv.slice(2) : ['test'];
const files = roots.flatMap(collect);
if (files.length === 0) {
  console.error('no test files found under ' + roots.join(', '));
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
