// `npm run bench:pytorch`: the PyTorch side-by-side benchmark of PIAL-Net `small` (bench/pytorch/pialnet_small.py),
// recorded into bench/results.json under `pytorch.*` (bench/record.ts's format). Skips, exit 0, without PyTorch.
// Usage: node scripts/bench-pytorch.mjs [extra arguments for the script, e.g. --steps 10 --profile]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';

const load = (path) => tsxRequire(path, import.meta.url);
const { torchPython } = load('../test/model/torchref.ts');
const py = torchPython();
if (!py) {
  console.log('bench:pytorch skipped: no python3 here can import torch and numpy (PYTHON, python3, /usr/bin/python3 tried). On Debian: apt-get install python3-torch python3-numpy libopenblas0-openmp');
  process.exit(0);
}

const { record } = load('../bench/record.ts');
const { PIALNet } = load('../kernel/ml/model/index.ts');
const model = PIALNet.create('small');
const counts = Object.fromEntries([...model.params.specs.values()].map((s) => [s.name, s.shape.reduce((a, b) => a * b, 1)]));
const expected = model.countParams();
console.log(`project: PIAL-Net small, ${expected} parameters`);

const dir = mkdtempSync(join(tmpdir(), 'bench-pytorch-'));
let r;
try {
  writeFileSync(join(dir, 'counts.json'), JSON.stringify(counts));
  const args = ['bench/pytorch/pialnet_small.py', '--expect-params', String(expected), '--expect-counts', join(dir, 'counts.json'), '--threads', '1,2', '--sizes', '128,96', ...process.argv.slice(2)];
  r = spawnSync(py, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(r.stdout ?? '');
if (r.status !== 0) {
  console.error(`bench/pytorch/pialnet_small.py failed with ${r.status ?? r.signal}`);
  process.exit(1);
}

const rows = (r.stdout ?? '')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
const meta = rows.find((x) => x.kind === 'meta');
const values = { 'pytorch.version': meta.torch, 'pytorch.params': meta.params };
for (const x of rows) {
  if (x.kind === 'train') values[`pytorch.small_train_pairs_per_s_${x.threads}t_${x.size}`] = x.pairs_per_s;
  // Inference is recorded at the configured 128 px (the 96 px figures stay in the printed output).
  if (x.kind === 'infer' && x.size === 128) values[`pytorch.small_infer_pairs_per_s_${x.threads}t_${x.size}`] = x.pairs_per_s;
}
console.log('\n== bench/results.json (pytorch.*)');
record(values);
