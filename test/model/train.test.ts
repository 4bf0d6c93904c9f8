import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { PIALNet, disposeBatch } from '../../kernel/ml/model/index';
import { train, AdamW, lrFactor, releaseTrainingState, MeanPrior } from '../../kernel/ml/train/index';
import { evaluate, metricsOutput, metricsBatch, EvaluationResult } from '../../kernel/ml/metrics/index';
import { setDisplaySink, MIME_BUNDLE } from '../../kernel/display';
import { MIME, type MimeBundle, type TrainingPayload, type MetricsPayload } from '../../kernel/protocol';
import { makeBatch, CLASSES } from './fixtures';

before(useCpu);

void test('lrFactor: linear warm-up, then poly(0.9) decay', () => {
  assert.equal(lrFactor(0, 100, 10), 0.1);
  assert.equal(lrFactor(9, 100, 10), 1);
  assert.ok(Math.abs(lrFactor(55, 100, 10) - 0.5 ** 0.9) < 1e-12);
  assert.ok(lrFactor(99, 100, 10) < 0.05 && lrFactor(99, 100, 10) > 0);
});

void test('AdamW matches a scalar reference with decoupled weight decay and per-group rates', () => {
  const a = tf.variable(tf.tensor2d([[1, -2]]), true, 'adamw-a');
  const b = tf.variable(tf.tensor1d([0.5]), true, 'adamw-b');
  const opt = new AdamW([{ name: 'encoder', variables: [a] }, { name: 'head', variables: [b] }], { weightDecay: 0.1 });
  // Reference: loss = sum(a^2) + sum(b^2)  -> grad 2x.
  const ref = { a: [1, -2], b: [0.5] };
  const m: Record<string, number[]> = { a: [0, 0], b: [0] };
  const v: Record<string, number[]> = { a: [0, 0], b: [0] };
  const lr = { encoder: 0.01, head: 0.1 };
  for (let t = 1; t <= 3; t++) {
    const grads = tf.variableGrads(() => tf.add(tf.sum(tf.square(a)), tf.sum(tf.square(b))) as tf.Scalar, [a, b]);
    opt.apply(grads.grads, lr);
    tf.dispose(grads.value);
    tf.dispose(grads.grads);
    for (const k of ['a', 'b'] as const) {
      const rate = k === 'a' ? lr.encoder : lr.head;
      const decay = k === 'a' ? 0.1 : 0; // vectors (rank 1) are not decayed
      ref[k] = ref[k].map((p, i) => {
        const g = 2 * p;
        m[k][i] = 0.9 * m[k][i] + 0.1 * g;
        v[k][i] = 0.999 * v[k][i] + 0.001 * g * g;
        const upd = m[k][i] / (1 - 0.9 ** t) / (Math.sqrt(v[k][i] / (1 - 0.999 ** t)) + 1e-8);
        return p - rate * upd - rate * decay * p;
      });
    }
  }
  Array.from(a.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - ref.a[i]) < 1e-5, `a[${i}]: expected ${ref.a[i]}, got ${x}`));
  assert.ok(Math.abs(b.dataSync()[0] - ref.b[0]) < 1e-5, `b: expected ${ref.b[0]}, got ${b.dataSync()[0]}`);
  opt.dispose();
  tf.dispose([a, b]);
});

void test('the loss falls over a few steps on a tiny fixed batch', async () => {
  const batch = makeBatch(4, 32, 11);
  const model = PIALNet.create('nano');
  const r = await train(model, [batch], { steps: 15, lr: 1e-3, warmupSteps: 2, display: false });
  const first = r.history[0].loss;
  const last = r.history.slice(-3).reduce((a, p) => a + p.loss, 0) / 3;
  assert.equal(r.state, 'done');
  assert.equal(r.step, 15);
  assert.ok(last < first * 0.9, `loss should fall: first ${first}, last three ${last}`);
  assert.ok(r.history.every((p) => p.lossIn! > 0 && p.lossNon! > 0 && Math.abs(p.loss - p.lossIn! - p.lossNon!) < 1e-5));
  releaseTrainingState(model);
  model.dispose();
  disposeBatch(batch);
});

void test('no tensor growth over 50 training steps', async () => {
  const batches = [makeBatch(2, 32, 1), makeBatch(2, 32, 2)];
  const model = PIALNet.create('nano', { build: true });
  const start = tf.memory().numTensors;
  const counts: number[] = [];
  await train(model, batches, { steps: 50, display: false, onBatchEnd: () => void counts.push(tf.memory().numTensors) });
  assert.equal(counts.length, 50);
  assert.equal(counts[49], counts[0], `tensors after step 1: ${counts[0]}, after step 50: ${counts[49]}`);
  releaseTrainingState(model);
  assert.equal(tf.memory().numTensors, start, 'releasing the training state frees the optimizer');
  model.dispose();
  batches.forEach(disposeBatch);
});

void test('live output: the training payload goes from running to done, with a text fallback', async () => {
  const seen: MimeBundle[] = [];
  setDisplaySink({ display: (b) => void seen.push(b), clear: () => undefined, toBundle: (v) => (v as { [MIME_BUNDLE](): MimeBundle })[MIME_BUNDLE]() });
  try {
    const batch = makeBatch(2, 32, 3);
    const model = PIALNet.create('nano');
    const r = await train(model, [batch], { epochs: 3, display: true, validation: [batch], title: 'nano run' });
    const payloads = seen.map((b) => b[MIME.training] as TrainingPayload);
    assert.equal(payloads[0].state, 'running');
    const last = payloads[payloads.length - 1];
    assert.equal(last.state, 'done');
    assert.equal(last.step, 3);
    assert.equal(last.epochs.length, 3);
    for (const k of ['loss', 'KLD', 'SIM', 'NSS']) assert.ok(Number.isFinite(last.epochs[2].metrics[k]), `epoch metric ${k}`);
    assert.match(String(seen[seen.length - 1]['text/plain']), /nano run \[done\] step 3\/3, epoch 3\/3, loss \d/);
    assert.equal(r[MIME_BUNDLE]()[MIME.training], r.payload);
    releaseTrainingState(model);
    model.dispose();
    disposeBatch(batch);
  } finally {
    setDisplaySink(undefined);
  }
});

void test('interrupt stops at a step boundary with a checkpoint; resume continues to the same weights as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pialnet-train-'));
  const batches = [makeBatch(2, 32, 4), makeBatch(2, 32, 5), makeBatch(2, 32, 6)];
  try {
    const opts = { epochs: 2, lr: 1e-3, display: false } as const;
    const straight = PIALNet.create('nano');
    await train(straight, batches, opts);
    const ac = new AbortController();
    const model = PIALNet.create('nano');
    const ckpt = join(dir, 'ckpt');
    const r1 = await train(model, batches, { ...opts, checkpointDir: ckpt, signal: ac.signal, onBatchEnd: (i) => (i.step === 4 ? ac.abort() : undefined) });
    assert.equal(r1.state, 'interrupted');
    assert.equal(r1.step, 4);
    assert.match(r1.message ?? '', /interrupted at step 4; checkpoint in/);
    assert.ok(existsSync(join(ckpt, 'optimizer.bin')));
    // The model is still usable.
    const out = model.predict(batches[0]);
    assert.deepEqual(out.dNon.shape, [2, 8, 8, 6]);
    tf.dispose([out.dIn!, out.dNon]);
    // Resume in a fresh model object, from the checkpoint alone.
    const resumed = PIALNet.create({ base: 'nano', seed: 99 });
    const r2 = await train(resumed, batches, { ...opts, checkpointDir: ckpt, resume: true });
    assert.equal(r2.state, 'done');
    assert.equal(r2.step, 6);
    assert.deepEqual(r2.history.map((h) => h.step), [1, 2, 3, 4, 5, 6]);
    const a = straight.variables().flatMap((v) => Array.from(v.dataSync()));
    const b = resumed.variables().flatMap((v) => Array.from(v.dataSync()));
    const maxDiff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    assert.ok(maxDiff < 1e-5, `resumed weights differ from the uninterrupted run by ${maxDiff}`);
    // In-memory resume without a checkpoint folder.
    const ac2 = new AbortController();
    const mem = PIALNet.create('nano');
    await train(mem, batches, { ...opts, signal: ac2.signal, onBatchEnd: (i) => (i.step === 2 ? ac2.abort() : undefined) });
    const r3 = await train(mem, batches, { ...opts, resume: true });
    assert.equal(r3.step, 6);
    assert.match(r3.message ?? '', /resumed from the last run at step 2/);
    [straight, model, resumed, mem].forEach((m) => {
      releaseTrainingState(m);
      m.dispose();
    });
  } finally {
    batches.forEach(disposeBatch);
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('evaluate: CAL protocol with per-class and per-part tables, empty GT channels skipped', async () => {
  const batches = [makeBatch(3, 32, 7), makeBatch(3, 32, 8, 16)];
  const model = PIALNet.create('nano', { build: true });
  const before = tf.memory().numTensors;
  const r = await evaluate(model, batches, { split: 'Seen', batchSize: 2 });
  assert.equal(tf.memory().numTensors, before, 'evaluate frees its tensors');
  assert.ok(r instanceof EvaluationResult);
  assert.equal(r.pairs, 6);
  // Each fixture pair has 3 non-empty channels.
  assert.equal(r.count, 18);
  assert.deepEqual(Object.keys(r.perClass).sort(), [...CLASSES].sort());
  assert.deepEqual(Object.keys(r.perPart), ['Hips', 'Hands', 'Feet', 'Outside']);
  // The overall value is the plain mean over entries: recompute it independently.
  let sum = 0;
  let n = 0;
  for (const b of batches) {
    const out = model.predict(b);
    const maps = (t: tf.Tensor4D): tf.Tensor3D => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [-1, t.shape[1], t.shape[2]]);
    const [p, g] = [maps(out.dNon), maps(b.gtNon)];
    const m = await metricsBatch(p, g);
    m.KLD.forEach((k, i) => {
      if (m.gtMax[i] > 0) {
        sum += k;
        n++;
      }
    });
    tf.dispose([p, g, out.dIn!, out.dNon]);
  }
  assert.equal(n, 18);
  assert.ok(Math.abs(r.overall.KLD! - sum / n) < 1e-6, `overall KLD ${r.overall.KLD} vs ${sum / n}`);
  const bundle = r[MIME_BUNDLE]();
  assert.equal((bundle[MIME.metrics] as MetricsPayload).runs[0].results.Seen?.count, 18);
  assert.match(String(bundle['text/markdown']), /\| nano \| \d/);
  model.dispose();
  batches.forEach(disposeBatch);
});

void test('metricsOutput puts runs side by side and adds the paper rows as references', async () => {
  const batch = makeBatch(3, 32, 9);
  const model = PIALNet.create('nano');
  const prior = await MeanPrior.fit([batch], { size: 8 });
  const a = await evaluate(model, [batch], { split: 'Unseen' });
  const b = await evaluate(prior, [batch], { split: 'Unseen' });
  const out = metricsOutput([{ name: 'nano', results: a }, { name: 'prior', results: [b] }], { reference: ['PIAL-Net'] });
  const bundle = out[MIME_BUNDLE]();
  const p = bundle[MIME.metrics] as MetricsPayload;
  assert.deepEqual(p.runs.map((r) => [r.name, r.kind]), [['nano', 'run'], ['prior', 'run'], ['PIAL-Net (CVPR 2023)', 'reference']]);
  assert.equal(p.runs[2].results.Unseen?.overall.KLD, 2.823);
  assert.equal(p.runs[2].results.Seen?.perClass['Type on'].KLD, 0.089);
  assert.equal(p.nssThreshold, 0.1);
  assert.match(String(bundle['text/markdown']), /_PIAL-Net \(CVPR 2023\)_ \| 0\.965 \| 0\.756 \| 3\.732 \| 2\.823 \| 0\.430 \| 2\.303 \|/);
  prior.dispose();
  model.dispose();
  disposeBatch(batch);
});

void test('bad training options are rejected before anything runs', async () => {
  const model = PIALNet.create('nano');
  await assert.rejects(train(model, (function* () {})(), { display: false }), /number of steps is unknown/);
  await assert.rejects(train(model, [], { epochs: 0, display: false }), /epochs must be a positive integer, got 0/);
  await assert.rejects(evaluate(model, [{ interactive: 1 }]), /batch: field interactive is missing or not a tensor/);
  model.dispose();
});
