// `npm run bench:pytorch`: the PyTorch side-by-side benchmark of PIAL-Net `small` (bench/pytorch/pialnet_small.py),
// recorded into bench/results.json under `pytorch.*` (bench/record.ts's format). Skips, exit 0, without PyTorch.
// Usage: node scripts/bench-pytorch.mjs [--with-project] [arguments for the script, e.g. --steps 10 --profile]
//   --with-project  also measures the project's own `small` (wasm, on 1 training thread and on 2, same batch and steps) in this run
//                   and records the ratios PyTorch / project at the same thread count (`pytorch.small_*_ratio_{1,2}t_128`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { require as tsxRequire } from 'tsx/cjs/api';

const side = tsxRequire('../bench/pytorch/project.ts', import.meta.url);
const py = side.torchPython();
if (!py) {
  console.log('bench:pytorch skipped: no python3 here can import torch and numpy (PYTHON, python3, /usr/bin/python3 tried). On Debian: apt-get install python3-torch python3-numpy libopenblas0-openmp');
  process.exit(0);
}

const argv = process.argv.slice(2);
const withProject = argv.includes('--with-project');
const extra = argv.filter((a) => a !== '--with-project');
const { total, counts } = side.projectCounts();
console.log(`project: PIAL-Net small, ${total} parameters`);

const dir = mkdtempSync(join(tmpdir(), 'bench-pytorch-'));
let r;
try {
  writeFileSync(join(dir, 'counts.json'), JSON.stringify(counts));
  const args = [fileURLToPath(new URL('../bench/pytorch/pialnet_small.py', import.meta.url)), '--expect-params', String(total), '--expect-counts', join(dir, 'counts.json'), '--threads', '1,2', '--sizes', '128,96', ...extra];
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
  // Inference is recorded at the configured 128 px (the 96 px figures are in the printed output).
  if (x.kind === 'infer' && x.size === 128) values[`pytorch.small_infer_pairs_per_s_${x.threads}t_${x.size}`] = x.pairs_per_s;
}

if (withProject) {
  const steps = Number(extra[extra.indexOf('--steps') + 1]) || 5;
  const cores = Math.min(2, availableParallelism());
  for (const threads of cores > 1 ? [1, cores] : [1]) {
    const p = await side.measureProject(128, 8, 2, steps, threads);
    const pt = (kind) => rows.find((x) => x.kind === kind && x.threads === threads && x.size === 128);
    console.log(`\nproject, ${p.device}, 128 px, batch 8, ${threads} training thread(s): train ${p.train.pairsPerS.toFixed(3)} pairs/s (${p.train.pairsPerCpuS.toFixed(3)} per CPU-second), infer ${p.infer.pairsPerS.toFixed(3)} pairs/s (${p.infer.pairsPerCpuS.toFixed(3)} per CPU-second)`);
    Object.assign(values, {
      'pytorch.project_backend': p.backend,
      [`pytorch.project_small_train_pairs_per_s_${threads}t_128`]: p.train.pairsPerS,
      ...(threads === 1 ? { 'pytorch.project_small_infer_pairs_per_s_1t_128': p.infer.pairsPerS } : {}),
      // PyTorch over the project at the same thread count: by wall time, and by CPU time (steadier on a shared machine).
      [`pytorch.small_train_ratio_${threads}t_128`]: pt('train').pairs_per_s / p.train.pairsPerS,
      [`pytorch.small_train_cpu_ratio_${threads}t_128`]: pt('train').pairs_per_cpu_s / p.train.pairsPerCpuS,
      ...(threads === 1
        ? {
            'pytorch.small_infer_ratio_1t_128': pt('infer').pairs_per_s / p.infer.pairsPerS,
            'pytorch.small_infer_cpu_ratio_1t_128': pt('infer').pairs_per_cpu_s / p.infer.pairsPerCpuS,
          }
        : {}),
    });
  }
}
console.log('\n== bench/results.json (pytorch.*)');
side.record(values);
