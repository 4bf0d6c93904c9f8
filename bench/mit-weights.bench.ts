// Loading ImageNet-pretrained MiT-B2 weights into `paper` (the `model.mit_b2_*` figures): time, and the peak
// memory that loading adds (the maximum RSS of a fresh process that builds `paper` with the weights, minus
// that of one that builds it without), for a MiT-B2-sized state dict (NVlabs' names, ~99 MB of float32, random values written here; nothing is downloaded) as a
// torch.save zip .pth and as an HF-named .safetensors, next to the time of building the model's own
// weights in the same run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from './record';
import { initRuntime, runtimeInfo } from '../kernel/runtime/index';
import { PIALNet } from '../kernel/ml/model/index';
import { prepareEncoderWeights } from '../kernel/ml/model/weights/mit';
import { hfTensors, torchShape, writeSafetensors, writeTorchZip, type FileTensor } from '../test/model/weightfiles';

async function main(): Promise<void> {
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  const dir = mkdtempSync(join(tmpdir(), 'mit-b2-bench-'));
  try {
    const spec = PIALNet.create('paper');
    const nv: FileTensor[] = [];
    let seed = 1;
    for (const s of spec.params.specs.values()) {
      if (!s.name.startsWith('encoder.')) continue;
      const name = s.name.slice('encoder.'.length);
      const shape = torchShape(name, s.shape);
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) {
        seed = (seed * 16807) % 2147483647;
        data[i] = (seed / 2147483647 - 0.5) * 0.1;
      }
      nv.push({ name, shape, data });
    }
    const hf = hfTensors(nv);
    const weightsMb = nv.reduce((a, t) => a + t.data.byteLength, 0) / 1e6;
    writeTorchZip(join(dir, 'mit_b2.pth'), nv);
    writeSafetensors(join(dir, 'model.safetensors'), hf);
    nv.length = 0;
    hf.length = 0;

    // The model's own weights, built in this run: the baseline the load time is compared with.
    const t = performance.now();
    const model = PIALNet.create('paper', { build: true });
    const buildMs = performance.now() - t;

    const load = (file: string): number => {
      const t0 = performance.now();
      const plan = prepareEncoderWeights(file, model.params, model.options);
      try {
        plan.assign(model.params);
      } finally {
        plan.close();
      }
      return performance.now() - t0;
    };
    load(join(dir, 'mit_b2.pth')); // warm-up: compiles the reader, fills the page cache
    const pthMs = load(join(dir, 'mit_b2.pth'));
    const stMs = load(join(dir, 'model.safetensors'));
    model.dispose();
    const maxRss = (file?: string): number => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', file ?? ''], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      return Number(/maxrss_mb (\S+)/.exec(r.stdout)![1]);
    };
    const base = maxRss();
    const extra = Math.max(maxRss(join(dir, 'mit_b2.pth')), maxRss(join(dir, 'model.safetensors'))) - base;
    record({
      'model.mit_b2_load_ms': pthMs,
      'model.mit_b2_load_safetensors_ms': stMs,
      'model.mit_b2_load_vs_build_ratio': pthMs / buildMs,
      'model.mit_b2_load_peak_extra_mb': extra,
      'model.mit_b2_load_peak_extra_vs_weights': extra / weightsMb,
      'model.mit_b2_weights_mb': weightsMb,
      'model.mit_b2_file_mb': statSync(join(dir, 'mit_b2.pth')).size / 1e6,
      'model.mit_b2_backend': runtimeInfo().backend ?? 'unknown',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Child process: builds `paper` (with the given weights, if any) and prints its maximum RSS. */
async function child(file: string): Promise<void> {
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  PIALNet.create(file ? { base: 'paper', pretrainedEncoder: file } : 'paper', { build: true }).dispose();
  console.log(`maxrss_mb ${process.resourceUsage().maxRSS / 1000}`);
}

(process.argv[2] === '--child' ? child(process.argv[3] ?? '') : main()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
