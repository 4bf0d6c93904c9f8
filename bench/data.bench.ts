// Data pipeline figures: SynCAL generation (default options) and pair loading (decode + resize + GT + augment, batch 8).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGroundTruth, generateSynCAL, openCAL } from '../kernel/ml/data/index';
import { initRuntime, tf } from '../kernel/runtime/index';
import { record } from './record';

async function main(): Promise<void> {
  // The kernel's backend (wasm here), on which training loads its batches.
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  const dir = mkdtempSync(join(tmpdir(), 'affordance-lab-bench-'));
  try {
    const t0 = performance.now();
    const gen = await generateSynCAL(dir);
    const genS = (performance.now() - t0) / 1000;

    const ds = await openCAL(dir, { split: 'Seen', subset: 'trainset' });
    // The first pass (sharp and the file cache warm up, GT maps are built and remembered), then the timed pass:
    // what every later epoch of a training run costs.
    const tFirst = performance.now();
    for await (const b of ds.batches({ batchSize: 8, augment: true, seed: 1 })) b.dispose();
    const firstS = (performance.now() - tFirst) / 1000;
    const t1 = performance.now();
    let pairs = 0;
    for await (const b of ds.batches({ batchSize: 8, augment: true, seed: 2 })) {
      pairs += b.indices.length;
      b.dispose();
    }
    const loadS = (performance.now() - t1) / 1000;

    // GT of a typical CAL photo size: 640 x 480 (k = 185), three points in each of three channels.
    const pts: [number, number][][] = [[[100, 100], [300, 200], [620, 470]], [], [[10, 400], [320, 240], [500, 50]], [], [[200, 300], [201, 301], [50, 60]], []];
    buildGroundTruth(pts, 640, 480);
    const t2 = performance.now();
    const reps = 10;
    for (let i = 0; i < reps; i++) buildGroundTruth(pts, 640, 480);
    const gtMs = (performance.now() - t2) / reps;

    record({
      'data.syncal_generate_s': genS,
      'data.syncal_images': gen.images,
      'data.load_pairs_per_s': pairs / loadS,
      'data.load_pairs_per_s_first_epoch': pairs / firstS,
      'data.load_pairs': pairs,
      'data.gt_640x480_ms': gtMs,
      'data.machine': `${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), tfjs ${tf.getBackend()}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
