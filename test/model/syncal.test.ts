// The model on the real data loader: a small generated SynCAL set, opened with openCAL, batches adapted from
// the dataset's CalBatch, a few training steps and a per-class evaluation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { generateSynCAL, openCAL, type CalBatch } from '../../kernel/ml/data/index';
import { PIALNet, toPairBatch, disposeBatch, predictionOutput } from '../../kernel/ml/model/index';
import { train, releaseTrainingState } from '../../kernel/ml/train/index';
import { evaluate } from '../../kernel/ml/metrics/index';

const dir = mkdtempSync(join(tmpdir(), 'syncal-model-'));
before(async () => {
  await useCpu();
  await generateSynCAL(dir, { seed: 0, perClass: 1, size: 96, testPairs: 0 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

void test('a CalBatch is adapted: pose divided by S, disposing the adapted batch frees the source', async () => {
  const ds = await openCAL(dir, { split: 'Seen', subset: 'trainset', size: 32 });
  const before = tf.memory().numTensors;
  const it = ds.batches({ batchSize: 2, shuffle: false });
  const first = (await it.next()).value as CalBatch;
  await it.return(undefined);
  const raw = await first.pose.data();
  const b = toPairBatch(first);
  const norm = await b.pose.data();
  assert.ok(Math.abs(norm[0] - raw[0] / 32) < 1e-6 && Math.abs(norm[1] - raw[1] / 32) < 1e-6 && norm[2] === raw[2]);
  assert.equal(b.nonInteractive, first.imageNon);
  assert.deepEqual(b.classNames, first.classNames);
  disposeBatch(b);
  assert.equal(tf.memory().numTensors, before, 'the source batch and the normalised pose are freed');
});

void test('nano trains on SynCAL batches and evaluates per class on the test pairs (GT at 64 px, input 32 px)', async () => {
  const trainSet = await openCAL(dir, { split: 'Unseen', subset: 'trainset', size: 32 });
  const testSet = await openCAL(dir, { split: 'Unseen', subset: 'testset', size: 64 });
  const model = PIALNet.create('nano', { build: true });
  const before = tf.memory().numTensors;
  const r = await train(model, (e) => trainSet.batches({ batchSize: 4, seed: e }), { steps: 3, display: false });
  assert.equal(r.step, 3);
  // The dataset itself as data: one epoch is ceil(pairs / batchSize) steps.
  const other = PIALNet.create('nano');
  const r2 = await train(other, trainSet, { epochs: 1, batchSize: 8, display: false });
  assert.equal(r2.step, Math.ceil(trainSet.length / 8));
  assert.equal(r2.epoch, 1);
  releaseTrainingState(other);
  other.dispose();
  assert.ok(r.history.every((h) => Number.isFinite(h.loss)));
  releaseTrainingState(model);
  assert.equal(tf.memory().numTensors, before, 'training on dataset batches frees every batch');
  const res = await evaluate(model, testSet, { split: 'Unseen', batchSize: 4 });
  assert.equal(res.pairs, testSet.length);
  assert.ok(res.count > 0 && res.count <= testSet.length * 6);
  for (const k of Object.keys(res.perClass)) assert.ok(['Brush with', 'Stick', 'Lie on', 'Lift', 'Drink with', 'Cut'].includes(k), `Unseen class ${k}`);
  assert.ok(Number.isFinite(res.overall.KLD) && res.overall.SIM! > 0);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

void test('predictionOutput of a dataset batch reads out in the original image\'s pixels', async () => {
  const ds = await openCAL(dir, { split: 'Seen', subset: 'testset', size: 32 });
  const it = ds.batches({ batchSize: 2 });
  const batch = (await it.next()).value as CalBatch;
  await it.return(undefined);
  const model = PIALNet.create('nano');
  try {
    const out = await predictionOutput(model, batch, { index: 1 });
    const info = ds.pairInfo(batch.indices[1]).nonInteractive;
    assert.deepEqual(out.payload.imageSize, { width: info.width, height: info.height });
    assert.notEqual(out.payload.imageSize?.width, 32, 'not the 32-px tensor');
  } finally {
    model.dispose();
    batch.dispose();
  }
});
