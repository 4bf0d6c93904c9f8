// The encoder is MiT: exact GELU, MiT's names, and the same features as a PyTorch MiT on the same weights.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { PIALNet } from '../../kernel/ml/model/index';
import { gelu } from '../../kernel/ml/model/layers';
import { readF32, relMaxDiff, runTorchReference, SMALL_MIT, smallMitOptions, torchSkip } from './torchref';

before(useCpu);

/** erf in Float64 from its Maclaurin series (|x| <= 3) or continued fraction (|x| > 3): independent of tfjs. */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax > 3) {
    // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...))))
    let f = ax;
    for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
    return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
  }
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
    if (Math.abs(term) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const gelu64 = (x: number): number => 0.5 * x * (1 + erf64(x / Math.SQRT2));

void test('GELU is the exact erf form (PyTorch nn.GELU), value and gradient, not an approximation', () => {
  const xs: number[] = [];
  for (let x = -6; x <= 6; x += 0.125) xs.push(x);
  const x = tf.tensor1d(xs);
  const y = gelu(x).dataSync();
  const g = tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x).dataSync();
  xs.forEach((v, i) => {
    assert.ok(Math.abs(y[i] - gelu64(v)) <= 2e-6 * Math.max(1, Math.abs(v)), `gelu(${v}) = ${y[i]}, exact ${gelu64(v)}`);
    // central difference of the Float64 reference
    const h = 1e-5;
    const d = (gelu64(v + h) - gelu64(v - h)) / (2 * h);
    assert.ok(Math.abs(g[i] - d) <= 2e-6, `gelu'(${v}) = ${g[i]}, central difference ${d}`);
  });
  tf.dispose(x);
});

void test("encoder parameter names are MiT's (NVlabs' release) under encoder., e.g. the Mix-FFN's mlp.dwconv.dwconv", () => {
  const m = PIALNet.create({ base: 'nano', depths: [2, 1, 1, 1] });
  const names = [...m.params.specs.keys()].filter((n) => n.startsWith('encoder.'));
  const expected: string[] = [];
  const wb = (p: string): string[] => [`${p}.weight`, `${p}.bias`];
  for (let i = 1; i <= 4; i++) {
    expected.push(...wb(`encoder.patch_embed${i}.proj`), ...wb(`encoder.patch_embed${i}.norm`));
    for (let j = 0; j < m.options.depths[i - 1]; j++) {
      const b = `encoder.block${i}.${j}`;
      expected.push(...wb(`${b}.norm1`), ...wb(`${b}.attn.q`), ...wb(`${b}.attn.kv`), ...wb(`${b}.attn.proj`));
      if (m.options.srRatios[i - 1] > 1) expected.push(...wb(`${b}.attn.sr`), ...wb(`${b}.attn.norm`));
      expected.push(...wb(`${b}.norm2`), ...wb(`${b}.mlp.fc1`), ...wb(`${b}.mlp.dwconv.dwconv`), ...wb(`${b}.mlp.fc2`));
    }
    expected.push(...wb(`encoder.norm${i}`));
  }
  assert.deepEqual([...names].sort(), [...expected].sort());
  m.dispose();
});

void test('encoderFeatures returns the four NHWC stage maps (paper widths at 224 px: 56x56x64, 28x28x128, 14x14x320, 7x7x512)', () => {
  // The map sizes follow from the widths, the patch embeddings and the input size; one block per stage keeps it quick.
  const m = PIALNet.create({ base: 'paper', depths: [1, 1, 1, 1], baseline: 'encoder-decoder', decoderDim: 16 }, { build: true });
  const x = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
  const f = m.encoderFeatures(x);
  assert.deepEqual(
    f.map((t) => t.shape),
    [
      [1, 56, 56, 64],
      [1, 28, 28, 128],
      [1, 14, 14, 320],
      [1, 7, 7, 512],
    ],
  );
  tf.dispose([x, ...f]);
  assert.throws(() => m.encoderFeatures(tf.zeros([1, 224, 224]) as unknown as tf.Tensor4D), /encoderFeatures: images must be \[B, H, W, 3\].*got \[1, 224, 224\]/);
  m.dispose();
});

void test('the encoder computes what a PyTorch MiT computes on the same weights (square and odd-sized inputs)', { skip: torchSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mit-ref-'));
  try {
    // 64x64, and 72x56 whose stage maps (18x14, 9x7, 5x4, 3x2) exercise the padding and the sr crop.
    const meta = runTorchReference(dir, { ...SMALL_MIT, inputs: [[2, 64, 64], [1, 72, 56]], write: ['tfjs'] });
    const m = PIALNet.create(smallMitOptions, { build: true });
    const entries = JSON.parse(readFileSync(join(dir, 'tfjs.json'), 'utf8')) as { name: string; shape: number[]; offset: number }[];
    const blob = readF32(join(dir, 'tfjs.f32'));
    const encNames = [...m.params.specs.keys()].filter((n) => n.startsWith('encoder.'));
    assert.deepEqual(entries.map((e) => e.name).sort(), [...encNames].sort(), 'the PyTorch MiT and ours have the same parameters');
    for (const e of entries) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      assert.deepEqual(e.shape, m.params.specs.get(e.name)!.shape, e.name);
      m.params.get(e.name).assign(tf.tensor(blob.subarray(e.offset / 4, e.offset / 4 + n), e.shape));
    }
    meta.inputs.forEach((shape, k) => {
      const x = tf.tensor4d(readF32(join(dir, `input_${k}.f32`)), shape as [number, number, number, number]);
      const feats = m.encoderFeatures(x);
      feats.forEach((f, s) => {
        assert.deepEqual(f.shape, meta.features[k][s], `input ${k} stage ${s + 1} shape`);
        const err = relMaxDiff(f.dataSync(), readF32(join(dir, `features_${k}_${s}.f32`)));
        assert.ok(err < 1e-4, `input ${k} stage ${s + 1}: max |ours - PyTorch| / max |PyTorch| = ${err.toExponential(2)}`);
      });
      tf.dispose([x, ...feats]);
    });
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
