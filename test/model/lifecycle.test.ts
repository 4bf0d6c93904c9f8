/**
 * Training leaves nothing behind and loses nothing: tensor counts over re-run training cells, errors that are
 * not interrupts are reported as errors even with an interrupt pending.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { PIALNet, disposeBatch, type PairBatch } from '../../kernel/ml/model/index';
import { train } from '../../kernel/ml/train/index';
import { makeBatch } from './fixtures';

before(useCpu);

void test('re-running a training cell three times and disposing the old model leaves the tensor count where it started', async () => {
  const batch = makeBatch(2, 32, 3);
  const start = tf.memory().numTensors;
  let model: PIALNet | undefined;
  const counts: number[] = [];
  for (let run = 0; run < 3; run++) {
    // What a re-run cell does: `model?.dispose(); model = PIALNet.create('nano'); await train(model, ...)`.
    model?.dispose();
    model = PIALNet.create('nano');
    await train(model, [batch], { steps: 2, display: false });
    counts.push(tf.memory().numTensors);
  }
  model!.dispose();
  assert.equal(counts[1], counts[0], `tensors after run 1/2/3: ${counts.join(', ')}`);
  assert.equal(counts[2], counts[0], `tensors after run 1/2/3: ${counts.join(', ')}`);
  assert.equal(tf.memory().numTensors, start, `${tf.memory().numTensors - start} tensors left after disposing the last model`);
  disposeBatch(batch);
});

void test('training the same model again (no resume) keeps one optimizer state, freed with the model', async () => {
  const batch = makeBatch(2, 32, 4);
  const start = tf.memory().numTensors;
  const model = PIALNet.create('nano');
  const counts: number[] = [];
  for (let run = 0; run < 3; run++) {
    await train(model, [batch], { steps: 2, display: false });
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(counts, [counts[0], counts[0], counts[0]], `tensors after run 1/2/3: ${counts.join(', ')}`);
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
  disposeBatch(batch);
});

/** A batch whose GT holds a NaN: the non-interactive BCE is NaN, the interactive one finite. */
function nanBatch(): PairBatch {
  const b = makeBatch(2, 32, 5);
  const v = b.gtNon.dataSync().slice();
  v[7] = NaN;
  const gtNon = tf.tensor(v, b.gtNon.shape) as tf.Tensor4D;
  b.gtNon.dispose();
  return { ...b, gtNon };
}

void test('a NaN loss stops training with an error naming the step and the part of the loss', async () => {
  const good = makeBatch(2, 32, 6);
  const bad = nanBatch();
  const model = PIALNet.create('nano');
  const before = model.variables().map((v) => Array.from(v.dataSync()));
  await assert.rejects(train(model, [good, bad], { steps: 2, display: false, disposeBatches: false }), (e: Error) => {
    assert.equal(e.name, 'TrainingError');
    assert.match(e.message, /at step 2/);
    assert.match(e.message, /non-interactive branch's BCE \(lossNon\) is NaN/);
    assert.doesNotMatch(e.message, /lossIn\)/);
    return true;
  });
  // One good step was applied, the bad one was not: the weights are finite.
  const after = model.variables().map((v) => Array.from(v.dataSync()));
  assert.ok(after.flat().every(Number.isFinite));
  assert.notDeepEqual(after, before);
  model.dispose();
  disposeBatch(good);
  disposeBatch(bad);
});

void test('a NaN loss while an interrupt is pending is still an error, not "interrupted"', async () => {
  const bad = nanBatch();
  const model = PIALNet.create('nano');
  const ac = new AbortController();
  // The interrupt arrives while the step computes (the loss read is the first await of the step).
  const realData = tf.Tensor.prototype.data;
  tf.Tensor.prototype.data = function (this: tf.Tensor) {
    ac.abort();
    return realData.call(this);
  } as typeof realData;
  try {
    await assert.rejects(train(model, [bad], { steps: 1, display: false, signal: ac.signal, disposeBatches: false }), /lossNon\) is NaN/);
  } finally {
    tf.Tensor.prototype.data = realData;
  }
  model.dispose();
  disposeBatch(bad);
});

void test('a checkpoint that cannot be written after an interrupt is an error naming the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pialnet-ckpt-fail-'));
  const batch = makeBatch(2, 32, 7);
  try {
    // The checkpoint's parent is a file: no folder can be made there.
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'not a folder');
    const target = join(blocker, 'ckpt');
    const model = PIALNet.create('nano');
    const ac = new AbortController();
    await assert.rejects(
      train(model, [batch, batch, batch], { epochs: 1, display: false, disposeBatches: false, checkpointDir: target, signal: ac.signal, onBatchEnd: (i) => (i.step === 1 ? ac.abort() : undefined) }),
      (e: Error) => {
        assert.equal(e.name, 'TrainingError');
        assert.ok(e.message.includes(target), e.message);
        assert.match(e.message, /could not be written/);
        return true;
      },
    );
    // The model and its in-memory state are kept: resume without a folder continues from step 1.
    const r = await train(model, [batch, batch, batch], { epochs: 1, display: false, disposeBatches: false, resume: true });
    assert.match(r.message ?? '', /resumed from the last run at step 1/);
    model.dispose();
  } finally {
    disposeBatch(batch);
    rmSync(dir, { recursive: true, force: true });
  }
});
