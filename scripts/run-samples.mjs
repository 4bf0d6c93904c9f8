// Re-executes the sample notebooks in place with the headless runner (dist/cli.js), in order:
// 01 generates/opens the dataset, 02 trains and saves a checkpoint, 03 evaluates it.
// Usage: node scripts/run-samples.mjs [--out <dir>]   (default: rewrite samples/*.ipynb in place)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : undefined;
const samples = readdirSync('samples').filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();
if (samples.length === 0) {
  console.error('no samples found in samples/');
  process.exit(1);
}
if (outDir) mkdirSync(outDir, { recursive: true });
for (const [i, name] of samples.entries()) {
  const input = join('samples', name);
  const output = outDir ? join(outDir, name) : input;
  console.log(`[${i + 1}/${samples.length}] ${input} -> ${output}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['dist/cli.js', 'run', input, '--out', output], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${input} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  console.log(`[${i + 1}/${samples.length}] done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
