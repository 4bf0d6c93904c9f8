/**
 * A metrics batch on webgpu with the tensor reductions (`impl: 'tensor'`) against the js path (maps
 * read back once, reduced in Float64) and against the independent Float64 reference of the CAL metrics.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, webgpuSkip, useWebgpu } from './setup';
import { webgpuSyncReadCount } from '../../kernel/runtime/index';
import { metricsBatch } from '../../kernel/ml/metrics/index';
import { refMap, refKLD, refSIM, refNSS, refCC, type RefMap } from '../model/reference';
import { rng } from '../rng';

before(useWebgpu);

const N = 6;
const blob = (h: number, w: number, cy: number, cx: number, s: number): RefMap => refMap(h, w, (y, x) => Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * s * s)));

function close(actual: number, expected: number, what: string): void {
  assert.ok(Number.isFinite(actual), `${what}: got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= 2e-4 + 2e-4 * Math.abs(expected), `${what}: expected ${expected}, got ${actual}`);
}

void test(`metrics of a batch of ${N} on webgpu (tensor reductions) match the js path and the Float64 reference`, { skip: webgpuSkip }, async () => {
  assert.ok(await tf.setBackend('webgpu'));
  const r = rng(21);
  // Predictions at 28x28 (resized to the GT's 56x56 inside), GT blobs; one noise prediction, one GT
  // with two blobs.
  const preds: RefMap[] = [];
  const gts: RefMap[] = [];
  for (let i = 0; i < N; i++) {
    preds.push(i === 3 ? refMap(28, 28, () => r()) : blob(28, 28, 4 + 20 * r(), 4 + 20 * r(), 2 + 4 * r()));
    const g = blob(56, 56, 8 + 40 * r(), 8 + 40 * r(), 3 + 6 * r());
    if (i === 5) {
      const g2 = blob(56, 56, 10, 45, 4);
      g.v.forEach((v, k) => (g.v[k] = Math.max(v, g2.v[k])));
    }
    gts.push(g);
  }
  const f32 = (ms: RefMap[]): Float32Array => Float32Array.from(ms.flatMap((m) => Array.from(m.v)));
  const pred = tf.tensor3d(f32(preds), [N, 28, 28]);
  const gt = tf.tensor3d(f32(gts), [N, 56, 56]);
  const reads = webgpuSyncReadCount();
  const before = tf.memory().numTensors;
  const onGpu = await metricsBatch(pred, gt, { impl: 'tensor' });
  const js = await metricsBatch(pred, gt, { impl: 'js' });
  assert.equal(tf.memory().numTensors, before, 'metricsBatch keeps no tensors');
  assert.equal(webgpuSyncReadCount(), reads, 'metricsBatch made synchronous reads');
  for (let i = 0; i < N; i++) {
    // The reference sees the float32-rounded maps that the tensors hold.
    const pr = { ...preds[i], v: Float64Array.from(Float32Array.from(preds[i].v)) };
    const gr = { ...gts[i], v: Float64Array.from(Float32Array.from(gts[i].v)) };
    const ref = { KLD: refKLD(pr, gr), SIM: refSIM(pr, gr), NSS: refNSS(pr, gr, 0.1), CC: refCC(pr, gr) };
    for (const k of ['KLD', 'SIM', 'NSS', 'CC'] as const) {
      close(onGpu[k][i], js[k][i], `pair ${i} ${k}: webgpu tensor path vs js path`);
      close(onGpu[k][i], ref[k], `pair ${i} ${k}: webgpu tensor path vs Float64 reference`);
    }
  }
  tf.dispose([pred, gt]);
});
