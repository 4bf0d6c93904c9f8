// Micro-batches (kernel/ml/train/step.ts): a batch's gradient accumulated over pieces of a few pairs equals the
// gradient of the whole batch at once, on one thread and on replicas.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime, tf } from '../../kernel/runtime/index';
import { PIALNet, disposeBatch } from '../../kernel/ml/model/index';
import { train } from '../../kernel/ml/train/index';
import { batchGradient, defaultMicroBatch } from '../../kernel/ml/train/step';
import { makeBatch } from './fixtures';

before(async () => {
  await initRuntime({ backend: 'wasm', notebookDir: process.cwd() });
});

void test('the gradient over pieces of 2 + 2 + 1 pairs is the gradient of the 5-pair batch', async () => {
  const model = PIALNet.create('nano').build();
  const vars = model.variables();
  const b = makeBatch(5, 64, 3);
  const whole = await batchGradient(model, b, vars);
  const before = tf.memory().numTensors;
  const pieces = await batchGradient(model, b, vars, 2);
  assert.equal(tf.memory().numTensors - before, Object.keys(pieces.grads).length, 'only the gradients are left');
  assert.ok(Math.abs(whole.loss - pieces.loss) <= 2e-6 * whole.loss, `loss ${pieces.loss} in pieces vs ${whole.loss}`);
  assert.ok(Math.abs(whole.lossIn - pieces.lossIn) <= 2e-6 * whole.lossIn, `lossIn ${pieces.lossIn} in pieces vs ${whole.lossIn}`);
  assert.deepEqual(Object.keys(pieces.grads).sort(), Object.keys(whole.grads).sort());
  let worst = 0;
  for (const [name, g] of Object.entries(whole.grads)) {
    const [a, p] = [g.dataSync(), pieces.grads[name].dataSync()];
    let scale = 1e-12;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      scale = Math.max(scale, Math.abs(a[i]));
      diff = Math.max(diff, Math.abs(a[i] - p[i]));
    }
    // Parameters with a (near-)zero gradient are compared on an absolute scale.
    worst = Math.max(worst, scale > 1e-6 ? diff / scale : diff);
  }
  assert.ok(worst < 1e-4, `gradients differ by ${worst} of their scale`);
  tf.dispose([...Object.values(whole.grads), ...Object.values(pieces.grads)]);
  disposeBatch(b);
  model.dispose();
});

void test('train with microBatch 1 follows train with whole batches, on 1 thread and on 2 replicas', async () => {
  const data = [makeBatch(4, 64, 11), makeBatch(4, 64, 12)];
  const losses = async (threads: number, microBatch?: number): Promise<number[]> => {
    const model = PIALNet.create('nano');
    const r = await train(model, data, { steps: 3, threads, microBatch, display: false, epsilon: 1e-3 });
    model.dispose();
    return r.history.map((h) => h.loss);
  };
  const ref = await losses(1);
  for (const [threads, micro] of [[1, 1], [2, 1], [2, 3]] as const) {
    const got = await losses(threads, micro);
    ref.forEach((l, i) => assert.ok(Math.abs(l - got[i]) <= 2e-5 * l, `threads ${threads}, microBatch ${micro}, step ${i + 1}: ${got[i]} vs ${l}`));
  }
  data.forEach(disposeBatch);
});

void test('microBatch: bad values are refused; paper-sized inputs on wasm default to one pair per pass', async () => {
  const model = PIALNet.create('nano');
  for (const bad of [0, 1.5, -2]) {
    await assert.rejects(train(model, [makeBatch(2, 64, 1)], { steps: 1, microBatch: bad, display: false }), /train: option microBatch must be a positive integer \(pairs per forward\/backward pass\), got/);
  }
  model.dispose();
  assert.equal(defaultMicroBatch(PIALNet.create('paper'), 'wasm'), 1);
  assert.equal(defaultMicroBatch(PIALNet.create('paper'), 'webgpu'), Number.POSITIVE_INFINITY);
  assert.equal(defaultMicroBatch(PIALNet.create('small'), 'wasm'), Number.POSITIVE_INFINITY);
});
