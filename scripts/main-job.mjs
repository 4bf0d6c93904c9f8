// The main job (`npm start`, after the build): generate the default SynCAL dataset, execute the three
// sample notebooks headless, and write the executed notebooks and a self-contained HTML report to out/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const started = Date.now();
const step = (n, total, msg) => console.log(`\n[${n}/${total}] ${msg}  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
const run = (args) => {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\nfailed: node ${args.join(' ')} (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
};

const dataDir = resolve('out/syncal');
step(1, 3, `SynCAL dataset -> ${dataDir}`);
if (existsSync(join(dataDir, 'Seen'))) console.log('already generated; reusing it');
else run(['dist/cli.js', 'syncal', dataDir]);

step(2, 3, 'executing samples/ -> out/notebooks/');
run(['scripts/run-samples.mjs', '--out', 'out/notebooks']);

step(3, 3, 'building the HTML report');
const executed = readdirSync('out/notebooks').filter((f) => f.endsWith('.ipynb')).sort().map((f) => join('out/notebooks', f));
run(['scripts/build-report.mjs', 'out/report.html', ...executed]);

console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
console.log(`Executed notebooks: ${resolve('out/notebooks')}`);
console.log(`Report: ${resolve('out/report.html')}`);
