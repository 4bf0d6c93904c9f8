import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, statSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { PIALNet, PAPER_PARAMS_M, cocoAdjacency, disposeBatch, type PIALNetConfig } from '../../kernel/ml/model/index';
import { makeBatch } from './fixtures';

before(useCpu);

void test('paper configuration has the paper parameter count within 5% (36.32 M), counted from the declared shapes', () => {
  const n = PIALNet.countParams('paper');
  const rel = Math.abs(n / 1e6 - PAPER_PARAMS_M) / PAPER_PARAMS_M;
  assert.ok(rel <= 0.05, `paper config has ${(n / 1e6).toFixed(3)} M parameters, ${(rel * 100).toFixed(1)}% off ${PAPER_PARAMS_M} M`);
  const enc = PIALNet.create('paper').countParams('encoder');
  assert.ok(Math.abs(enc - 24.2e6) < 0.1e6, `MiT-B2 encoder should have ~24.2 M parameters, got ${enc}`);
  assert.ok(PIALNet.countParams('small') < n && PIALNet.countParams('nano') < PIALNet.countParams('small'));
});

void test('ablations change the architecture: no KHP has fewer parameters, the baseline fewer still', () => {
  const full = PIALNet.countParams('nano');
  const noKhp = PIALNet.countParams({ base: 'nano', khp: false });
  const base = PIALNet.countParams({ base: 'nano', baseline: 'encoder-decoder' });
  assert.ok(noKhp < full && base < noKhp, `${base} < ${noKhp} < ${full}`);
});

void test('bad options are rejected with the field and the expected value', () => {
  assert.throws(() => PIALNet.create({ base: 'nano', inputSize: 50 }), /option inputSize: expected a multiple of 32, at least 32, got 50/);
  assert.throws(() => PIALNet.create({ base: 'nano', heads: [3, 1, 2, 2] }), /option heads\[0\]: expected a divisor of embedDims\[0\] = 8, got 3/);
  assert.throws(() => PIALNet.create('huge' as 'nano'), /unknown configuration "huge"/);
});

void test('the skeleton adjacency is symmetric, normalised, with self-loops', () => {
  const a = cocoAdjacency();
  for (let i = 0; i < 17; i++) {
    assert.ok(a[i * 17 + i] > 0, `self-loop ${i}`);
    for (let j = 0; j < 17; j++) assert.ok(Math.abs(a[i * 17 + j] - a[j * 17 + i]) < 1e-7);
  }
  // left_knee (13) has neighbours 15 and 11: degree 3 with its self-loop; left_hip (11) has 13, 12, 5: degree 4.
  assert.ok(Math.abs(a[13 * 17 + 11] - 1 / Math.sqrt(3 * 4)) < 1e-6);
  assert.equal(a[0 * 17 + 16], 0);
});

void test('forward shapes: sigmoid maps at 1/4 of the input for all variants; wrong inputs are named', () => {
  const batch = makeBatch(2, 32, 1);
  const before = tf.memory().numTensors;
  const cfgs: PIALNetConfig[] = ['nano', { base: 'nano', khp: false }, { base: 'nano', baseline: 'encoder-decoder' }];
  for (const cfg of cfgs) {
    const m = PIALNet.create(cfg);
    const params = m.variables().length;
    const out = m.predict(batch);
    assert.deepEqual(out.dNon.shape, [2, 8, 8, 6]);
    if (typeof cfg === 'object' && cfg.baseline) assert.equal(out.dIn, null);
    else assert.deepEqual(out.dIn!.shape, [2, 8, 8, 6]);
    const v = out.dNon.dataSync();
    assert.ok(v.every((x) => x > 0 && x < 1), 'sigmoid outputs in (0, 1)');
    tf.dispose([out.dIn, out.dNon].filter((t): t is tf.Tensor4D => t !== null));
    assert.equal(tf.memory().numTensors, before + params, 'predict leaves only the weights');
    m.dispose();
    assert.equal(tf.memory().numTensors, before);
  }
  const m = PIALNet.create('nano');
  assert.throws(() => m.predict({ ...batch, interactive: tf.zeros([2, 16, 16, 3]) }), /interactive must be \[2, 32, 32, 3\], got \[2, 16, 16, 3\]/);
  assert.throws(() => m.predict({ ...batch, pose: undefined }), /pose must be \[2, 17, 3\], got nothing/);
  m.dispose();
  disposeBatch(batch);
});

void test('KHP starts as a pass-through (same D_non as the no-KHP model of the same seed) and then reads the pose', () => {
  const batch = makeBatch(1, 32, 2);
  const other = tf.randomUniform([1, 17, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
  const withKhp = PIALNet.create({ base: 'nano', seed: 4 });
  const without = PIALNet.create({ base: 'nano', seed: 4, khp: false });
  const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  const a = withKhp.predict(batch);
  const n = without.predict(batch);
  assert.ok(maxDiff(a.dNon, n.dNon) < 1e-6, `at initialisation D_non should not depend on KHP (diff ${maxDiff(a.dNon, n.dNon)})`);
  // Once the pose half of the fusion is non-zero, another pose changes D_non; without KHP it never does.
  withKhp.params.get('khp.fuse_h.weight').assign(tf.randomNormal(withKhp.params.get('khp.fuse_h.weight').shape, 0, 0.5, 'float32', 1));
  const b = withKhp.predict(batch);
  const c = withKhp.predict({ ...batch, pose: other });
  assert.ok(maxDiff(b.dNon, c.dNon) > 1e-6, `the KHP model should react to the pose (diff ${maxDiff(b.dNon, c.dNon)})`);
  const d = without.predict({ ...batch, pose: other });
  assert.equal(maxDiff(n.dNon, d.dNon), 0);
  tf.dispose([a, n, b, c, d].flatMap((o) => [o.dIn!, o.dNon]));
  withKhp.dispose();
  without.dispose();
  other.dispose();
  disposeBatch(batch);
});

void test('the same seed gives the same weights, another seed different ones', () => {
  const a = PIALNet.create({ base: 'nano', seed: 3 }, { build: true });
  const b = PIALNet.create({ base: 'nano', seed: 3 }, { build: true });
  const c = PIALNet.create({ base: 'nano', seed: 4 }, { build: true });
  const w = (m: PIALNet): number[] => m.variables().flatMap((v) => Array.from(v.dataSync()));
  assert.deepEqual(w(a), w(b));
  assert.notDeepEqual(w(a), w(c));
  [a, b, c].forEach((m) => m.dispose());
});

async function snapshot(m: PIALNet): Promise<Float32Array[]> {
  return Promise.all(m.variables().map(async (v) => (await v.data()) as Float32Array));
}

void test('save and load round trip (weights, config, training state) through a temporary folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pialnet-'));
  try {
    const m = PIALNet.create({ base: 'nano', seed: 1 }, { build: true });
    const ckpt = join(dir, 'ckpt');
    const extra = tf.ones([3, 2]);
    await m.save(ckpt, { state: { step: 7 }, optimizer: { 'm/x': extra } });
    extra.dispose();
    assert.deepEqual(readdirSync(ckpt).sort(), ['config.json', 'optimizer.bin', 'state.json', 'weights.bin']);
    assert.deepEqual(readdirSync(dir), ['ckpt'], 'no temporary folder left');
    // Save again over it: the checkpoint, and the one before it kept as .ckpt.prev (no temporary folder).
    await m.save(ckpt, { state: { step: 8 } });
    assert.deepEqual(readdirSync(dir).sort(), ['.ckpt.prev', 'ckpt']);
    const loaded = await PIALNet.load(ckpt);
    assert.equal(loaded.options.seed, 1);
    assert.deepEqual(await snapshot(loaded), await snapshot(m));
    const other = PIALNet.create({ base: 'nano', seed: 2 }, { build: true });
    const r = await other.load(ckpt);
    assert.deepEqual(r.state, { step: 8 });
    assert.deepEqual(await snapshot(other), await snapshot(m));
    [m, loaded, other].forEach((x) => x.dispose());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a truncated or mismatched checkpoint fails with a clear error and leaves the model unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pialnet-'));
  try {
    const src = PIALNet.create({ base: 'nano', seed: 1 }, { build: true });
    const ckpt = join(dir, 'ckpt');
    await src.save(ckpt);
    const target = PIALNet.create({ base: 'nano', seed: 9 }, { build: true });
    const before = await snapshot(target);
    const tensors = tf.memory().numTensors;

    const wfile = join(ckpt, 'weights.bin');
    const bytes = statSync(wfile).size;
    truncateSync(wfile, bytes - 100);
    await assert.rejects(target.load(ckpt), (e: Error) => e.message.includes(`weights.bin: expected ${bytes} bytes`) && e.message.includes(`got ${bytes - 100} (truncated)`));
    assert.deepEqual(await snapshot(target), before, 'weights unchanged after a truncated load');

    await src.save(ckpt);
    const wider = PIALNet.create({ base: 'nano', decoderDim: 24 }, { build: true });
    await assert.rejects(wider.load(ckpt), /checkpoint does not match the model.*head\.linear_c1\.weight has shape \[8, 16\], the model expects \[8, 24\]/);
    wider.dispose();

    const noKhp = PIALNet.create({ base: 'nano', khp: false }, { build: true });
    await assert.rejects(noKhp.load(ckpt), /khp\.[a-z_.]+ is not a parameter of this model/);
    noKhp.dispose();

    const cfg = join(ckpt, 'config.json');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').slice(0, 50));
    await assert.rejects(target.load(ckpt), /config\.json: not valid JSON/);
    rmSync(cfg);
    await assert.rejects(target.load(ckpt), /config\.json: not found/);
    assert.deepEqual(await snapshot(target), before, 'weights unchanged after failed loads');
    assert.equal(tf.memory().numTensors, tensors, 'failed loads leak no tensor');
    assert.ok(existsSync(wfile));
    src.dispose();
    target.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a local pretrained encoder initialises only the encoder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pialnet-'));
  try {
    const src = PIALNet.create({ base: 'nano', seed: 5 }, { build: true });
    await src.save(dir + '/enc');
    const m = PIALNet.create({ base: 'nano', seed: 6, pretrainedEncoder: dir + '/enc' }, { build: true });
    const fresh = PIALNet.create({ base: 'nano', seed: 6 }, { build: true });
    const names = [...m.params.specs.keys()];
    const [a, b, c] = [await snapshot(m), await snapshot(src), await snapshot(fresh)];
    names.forEach((n, i) => {
      if (n.startsWith('encoder.')) assert.deepEqual(a[i], b[i], n);
      else assert.deepEqual(a[i], c[i], n);
    });
    assert.throws(() => PIALNet.create({ base: 'nano', pretrainedEncoder: join(dir, 'missing') }, { build: true }), /pretrainedEncoder .*missing: .*missing: not found/);
    [src, m, fresh].forEach((x) => x.dispose());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
