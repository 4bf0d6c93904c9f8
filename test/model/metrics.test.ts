import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useCpu, tf } from './setup';
import { kld, sim, nss, cc, metrics, metricsBatch } from '../../kernel/ml/metrics/index';
import { refMap, refKLD, refSIM, refNSS, refCC, type RefMap } from './reference';
import { rng } from './fixtures';

before(useCpu);

const blob = (h: number, w: number, cy: number, cx: number, s: number): RefMap =>
  refMap(h, w, (y, x) => Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * s * s)));
const noise = (h: number, w: number, seed: number): RefMap => {
  const r = rng(seed);
  return refMap(h, w, () => r());
};
const toT = (m: RefMap): tf.Tensor2D => tf.tensor2d(Float32Array.from(m.v), [m.h, m.w]);

function close(actual: number, expected: number, what: string, rel = 2e-4, abs = 2e-4): void {
  assert.ok(Number.isFinite(actual), `${what}: got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= abs + rel * Math.abs(expected), `${what}: expected ${expected}, got ${actual}`);
}

async function checkAll(name: string, p: RefMap, g: RefMap, threshold?: number): Promise<void> {
  const pt = toT(p);
  const gt = toT(g);
  const before = tf.memory().numTensors;
  // The reference sees the float32-rounded inputs that the tensors hold.
  const pr = { ...p, v: Float64Array.from(Float32Array.from(p.v)) };
  const gr = { ...g, v: Float64Array.from(Float32Array.from(g.v)) };
  for (const impl of ['tensor', 'js'] as const) {
    const o = { impl, threshold };
    const r = await metricsBatch(pt, gt, o);
    close(r.KLD[0], refKLD(pr, gr), `${name} KLD (${impl})`);
    close(r.SIM[0], refSIM(pr, gr), `${name} SIM (${impl})`);
    close(r.NSS[0], refNSS(pr, gr, threshold), `${name} NSS (${impl})`);
    close(r.CC[0], refCC(pr, gr), `${name} CC (${impl})`);
  }
  close(await kld(pt, gt), refKLD(pr, gr), `${name} KLD`);
  close(await sim(pt, gt), refSIM(pr, gr), `${name} SIM`);
  close(await nss(pt, gt, { threshold }), refNSS(pr, gr, threshold), `${name} NSS`);
  close(await cc(pt, gt), refCC(pr, gr), `${name} CC`);
  assert.equal(tf.memory().numTensors, before, `${name}: metrics leaked tensors`);
  tf.dispose([pt, gt]);
}

void test('metrics match the scalar reference on random predictions and blob GT', async () => {
  for (let i = 0; i < 4; i++) {
    await checkAll(`case ${i}`, noise(24, 32, i + 1), blob(24, 32, 5 + i * 3, 20 - i * 2, 3 + i));
  }
});

void test('metrics match the reference for a blob prediction near the GT (good predictions score well)', async () => {
  const g = blob(40, 40, 20, 20, 5);
  await checkAll('near', blob(40, 40, 22, 19, 6), g);
  const good = await kld(toT(blob(40, 40, 20, 20, 5)), toT(g));
  const bad = await kld(toT(blob(40, 40, 5, 35, 5)), toT(g));
  assert.ok(good < 0.01 && bad > 1, `KLD of a perfect prediction ${good} should be ~0 and of a wrong one ${bad} large`);
  assert.ok((await sim(toT(g), toT(g))) > 0.999);
});

void test('edge cases: uniform maps, zero maps and a one-pixel GT', async () => {
  const g = blob(16, 16, 8, 4, 2);
  await checkAll('uniform prediction', refMap(16, 16, () => 0.3), g);
  assert.equal(await nss(toT(refMap(16, 16, () => 0.3)), toT(g)), 0, 'a constant prediction has NSS 0');
  assert.equal(await cc(toT(refMap(16, 16, () => 0.3)), toT(g)), 0, 'a constant prediction has CC 0');
  await checkAll('uniform GT', noise(16, 16, 9), refMap(16, 16, () => 0.5));
  await checkAll('zero GT', noise(16, 16, 10), refMap(16, 16, () => 0));
  assert.equal(await kld(toT(noise(16, 16, 10)), toT(refMap(16, 16, () => 0))), 0, 'KLD against an all-zero GT is 0');
  await checkAll('zero prediction', refMap(16, 16, () => 0), g);
  assert.ok((await kld(toT(refMap(16, 16, () => 0)), toT(g))) > 20, 'an all-zero prediction gets a huge KLD');
  const onePixel = refMap(16, 16, (y, x) => (y === 5 && x === 11 ? 1 : 0));
  await checkAll('one-pixel GT', noise(16, 16, 11), onePixel);
  await checkAll('one-pixel GT, blob prediction on it', blob(16, 16, 5, 11, 1.5), onePixel);
});

void test('the prediction is resized to the GT size when they differ', async () => {
  await checkAll('upsampled 14x14 -> 56x56', noise(14, 14, 3), blob(56, 56, 30, 12, 6));
  await checkAll('non-uniform 20x30 -> 32x24', noise(20, 30, 4), blob(32, 24, 10, 12, 4));
  await checkAll('downsampled 64x64 -> 16x16', blob(64, 64, 30, 30, 9), blob(16, 16, 7, 8, 3));
});

void test('the NSS threshold is an option (0.5 as in VCR-Net)', async () => {
  const p = noise(20, 20, 5);
  const g = blob(20, 20, 10, 10, 4);
  await checkAll('threshold 0.5', p, g, 0.5);
  const a = await nss(toT(blob(20, 20, 10, 10, 3)), toT(g), { threshold: 0.1 });
  const b = await nss(toT(blob(20, 20, 10, 10, 3)), toT(g), { threshold: 0.5 });
  assert.notEqual(a, b);
  await assert.rejects(nss(toT(p), toT(g), { threshold: 1.5 }), /threshold must be a number in \[0, 1\), got 1.5/);
});

void test('NaN in the prediction is an error that names the metric', async () => {
  const p = noise(8, 8, 6);
  p.v[10] = NaN;
  const g = blob(8, 8, 4, 4, 2);
  const before = tf.memory().numTensors;
  const pt = toT(p);
  const gt = toT(g);
  for (const [name, f] of [['kld', kld], ['sim', sim], ['nss', nss], ['cc', cc]] as const) {
    await assert.rejects(f(pt, gt), (e: Error) => e.message.startsWith(`${name}: the prediction contains NaN in 1 of 64 values`), name);
  }
  tf.dispose([pt, gt]);
  assert.equal(tf.memory().numTensors, before);
});

void test('bad shapes are rejected with both shapes in the message', async () => {
  await assert.rejects(kld(tf.zeros([2, 3, 4]), tf.zeros([3, 4])), /kld: expected 2-D maps \[H, W\], got prediction \[2, 3, 4\] and GT \[3, 4\]/);
  await assert.rejects(metricsBatch(tf.zeros([2, 3, 4]), tf.zeros([3, 3, 4])), /prediction batch has 2 maps but the GT batch has 3/);
});

void test('the batched path equals the single-map functions', async () => {
  const preds = [noise(12, 12, 7), blob(12, 12, 3, 3, 2), refMap(12, 12, () => 1)];
  const gts = [blob(24, 24, 12, 12, 4), blob(24, 24, 6, 18, 3), refMap(24, 24, () => 0)];
  const p = tf.stack(preds.map(toT));
  const g = tf.stack(gts.map(toT));
  const before = tf.memory().numTensors;
  const r = await metrics.batch(p, g);
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 3; i++) {
    const [pi, gi] = [toT(preds[i]), toT(gts[i])];
    close(r.KLD[i], await kld(pi, gi), `batch KLD ${i}`, 1e-5, 1e-6);
    close(r.SIM[i], await sim(pi, gi), `batch SIM ${i}`, 1e-5, 1e-6);
    close(r.NSS[i], await nss(pi, gi), `batch NSS ${i}`, 1e-5, 1e-6);
    close(r.CC[i], await cc(pi, gi), `batch CC ${i}`, 1e-5, 1e-6);
    tf.dispose([pi, gi]);
  }
  assert.deepEqual(Array.from(r.gtMax).map((x) => x > 0), [true, true, false]);
  tf.dispose([p, g]);
});
