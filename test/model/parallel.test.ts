// Data-parallel training (kernel/ml/train/parallel.ts) on the wasm backend: worker threads, each a replica
// with its own wasm backend, against training in the kernel's own thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime, runtimeInfo, tf } from '../../kernel/runtime/index';
import { parseThreads, trainingThreads } from '../../kernel/runtime/threads';
import { PIALNet, disposeBatch, type PairBatch } from '../../kernel/ml/model/index';
import { train, TrainingError } from '../../kernel/ml/train/index';
import { setReplicaFaultHook, shareSizes } from '../../kernel/ml/train/parallel';
import { makeBatch } from './fixtures';

before(async () => {
  await initRuntime({ backend: 'wasm', notebookDir: process.cwd() });
});
after(() => setReplicaFaultHook(undefined));

const BATCHES: PairBatch[] = [];
function batches(n: number): PairBatch[] {
  while (BATCHES.length < 3) BATCHES.push(makeBatch(n, 64, 100 + BATCHES.length));
  return BATCHES;
}

/** Trains a fresh nano model; returns its loss history and final weights. */
async function run(threads: number, o: { steps?: number; signal?: AbortSignal; resume?: PIALNet; batchSize?: number } = {}) {
  const model = o.resume ?? PIALNet.create('nano');
  const data = o.batchSize ? [makeBatch(o.batchSize, 64, 7), makeBatch(o.batchSize, 64, 8)] : batches(4);
  // epsilon 1e-3: parameters whose gradient is ~0 (attention key biases) do not take noise-driven steps.
  const r = await train(model, data, { steps: o.steps ?? 3, threads, display: false, epsilon: 1e-3, signal: o.signal, resume: o.resume !== undefined });
  const weights = await Promise.all(model.variables().map((v) => v.data()));
  if (o.batchSize) data.forEach(disposeBatch);
  return { model, r, losses: r.history.map((h) => h.loss), weights };
}

function maxRelDiff(a: Float32Array[] | Uint8Array[] | Int32Array[], b: typeof a): number {
  let worst = 0;
  a.forEach((x, i) => {
    let scale = 1e-6;
    let diff = 0;
    for (let k = 0; k < x.length; k++) {
      scale = Math.max(scale, Math.abs(x[k]));
      diff = Math.max(diff, Math.abs(x[k] - b[i][k]));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}

void test('shares: contiguous, sizes differ by at most one, none empty', () => {
  assert.deepEqual(shareSizes(8, 2), [4, 4]);
  assert.deepEqual(shareSizes(5, 2), [3, 2]);
  assert.deepEqual(shareSizes(7, 3), [3, 2, 2]);
  assert.deepEqual(shareSizes(2, 4), [1, 1]);
  assert.deepEqual(shareSizes(1, 1), [1]);
});

void test('thread counts: env and option validated, naming the source', () => {
  assert.equal(trainingThreads({ AFFORDANCE_LAB_THREADS: '3' }), 3);
  assert.ok(trainingThreads({}) >= 1);
  assert.throws(() => trainingThreads({ AFFORDANCE_LAB_THREADS: 'two' }), /env AFFORDANCE_LAB_THREADS: expected a whole number of threads from 1 to 64, got "two"/);
  assert.throws(() => parseThreads(0, 'train: option threads'), /train: option threads: expected a whole number/);
  assert.equal(runtimeInfo().threads, trainingThreads());
});

void test('2 replicas train the same model as 1 thread (losses and weights within float32 noise), and the same on every run', async () => {
  const one = await run(1);
  const two = await run(2);
  const again = await run(2);
  assert.equal(two.r.state, 'done');
  assert.equal(two.r.payload.threads, 2);
  assert.equal(one.r.payload.threads, 1);
  one.losses.forEach((l, i) => assert.ok(Math.abs(l - two.losses[i]) <= 2e-5 * Math.abs(l), `step ${i + 1}: loss ${two.losses[i]} on 2 threads vs ${l} on 1`));
  const rel = maxRelDiff(one.weights as Float32Array[], two.weights as Float32Array[]);
  assert.ok(rel < 1e-4, `weights differ by ${rel} of their scale between 1 and 2 threads`);
  // Deterministic for a given thread count: bit for bit.
  assert.deepEqual(again.losses, two.losses);
  assert.equal(maxRelDiff(two.weights as Float32Array[], again.weights as Float32Array[]), 0);
  // The replicas really computed: with unequal shares (3 + 2 pairs) the loss is still the batch's mean.
  const oneOdd = await run(1, { batchSize: 5, steps: 2 });
  const twoOdd = await run(2, { batchSize: 5, steps: 2 });
  oneOdd.losses.forEach((l, i) => assert.ok(Math.abs(l - twoOdd.losses[i]) <= 2e-5 * Math.abs(l), `unequal shares, step ${i + 1}: ${twoOdd.losses[i]} vs ${l}`));
  for (const x of [one, two, again, oneOdd, twoOdd]) x.model.dispose();
});

void test('no tensors are left behind by data-parallel training', async () => {
  batches(4);
  const before = tf.memory().numTensors;
  const { model } = await run(2, { steps: 2 });
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

void test('an interrupt stops at the next step and keeps the state; resume on 2 threads matches an uninterrupted run', async () => {
  const full = await run(2, { steps: 3 });
  const ac = new AbortController();
  const model = PIALNet.create('nano');
  const r = await train(model, batches(4), {
    steps: 3,
    threads: 2,
    display: false,
    epsilon: 1e-3,
    signal: ac.signal,
    onBatchEnd: (i) => {
      if (i.step === 1) ac.abort();
    },
  });
  assert.equal(r.state, 'interrupted');
  assert.equal(r.step, 1);
  const resumed = await run(2, { steps: 3, resume: model });
  assert.equal(resumed.r.state, 'done');
  assert.deepEqual(resumed.losses, full.losses);
  assert.equal(maxRelDiff(resumed.weights as Float32Array[], full.weights as Float32Array[]), 0);
  model.dispose();
  full.model.dispose();
});

void test('a replica that crashes mid-run is an error of the cell, not a hang; the model keeps its last weights', async () => {
  setReplicaFaultHook({ replica: 1, exitAtStep: 2 });
  const model = PIALNet.create('nano');
  try {
    await assert.rejects(
      train(model, batches(4), { steps: 3, threads: 2, display: false }),
      (e: unknown) => e instanceof TrainingError && /step 2 failed: training replica 2 of 2 stopped unexpectedly \(exit code 3\); the model keeps the weights of step 1/.test((e as Error).message),
    );
    // The model still works, and training on it continues (resume) once the fault is gone.
    setReplicaFaultHook(undefined);
    const r = await train(model, batches(4), { steps: 3, threads: 2, display: false, resume: true });
    assert.equal(r.state, 'done');
    assert.equal(r.step, 3);
  } finally {
    setReplicaFaultHook(undefined);
    model.dispose();
  }
});

void test('a replica that throws reports its error in the cell', async () => {
  setReplicaFaultHook({ replica: 0, throwAtStep: 1 });
  const model = PIALNet.create('nano');
  try {
    await assert.rejects(train(model, batches(4), { steps: 2, threads: 2, display: false }), /step 1 failed: training replica 1 of 2 failed at step 1: fault injected at step 1/);
  } finally {
    setReplicaFaultHook(undefined);
    model.dispose();
  }
});

void test('a replica that cannot start is an error that says how to train without replicas; bad thread counts are refused', async () => {
  setReplicaFaultHook({ replica: 1, failAtStart: true });
  const model = PIALNet.create('nano');
  try {
    await assert.rejects(
      train(model, batches(4), { steps: 1, threads: 2, display: false }),
      /could not start 2 training threads: training replica 2 of 2 failed: fault injected at start; train\(model, data, \{ threads: 1 \}\) trains in the kernel's own thread/,
    );
    setReplicaFaultHook(undefined);
    await assert.rejects(train(model, batches(4), { steps: 1, threads: 0, display: false }), /train: option threads: expected a whole number of threads from 1 to 64, got 0/);
  } finally {
    setReplicaFaultHook(undefined);
    model.dispose();
  }
});

void test('training on wasm (1 thread and 2 replicas) follows training on the cpu backend step for step', async () => {
  const wasm = [await run(1, { steps: 3 }), await run(2, { steps: 3 })];
  await tf.setBackend('cpu');
  try {
    const cpu = await run(1, { steps: 3 });
    wasm.forEach((w, t) => {
      cpu.losses.forEach((l, i) => assert.ok(Math.abs(l - w.losses[i]) <= 1e-4 * Math.abs(l), `${t + 1} thread(s), step ${i + 1}: loss ${w.losses[i]} on wasm vs ${l} on cpu`));
      const rel = maxRelDiff(cpu.weights as Float32Array[], w.weights as Float32Array[]);
      assert.ok(rel < 1e-3, `${t + 1} thread(s): weights differ by ${rel} of their scale between wasm and cpu after 3 steps`);
    });
    cpu.model.dispose();
  } finally {
    await tf.setBackend('wasm');
    for (const w of wasm) w.model.dispose();
  }
});

void test('no more replicas start than a batch has pairs', async () => {
  const model = PIALNet.create('nano');
  const data = [makeBatch(2, 64, 21)];
  const r = await train(model, data, { steps: 1, threads: 4, display: false });
  assert.equal(r.state, 'done');
  assert.equal(r.payload.threads, 2);
  model.dispose();
  data.forEach(disposeBatch);
});
