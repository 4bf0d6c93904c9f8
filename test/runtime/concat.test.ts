/**
 * Concat over the wasm heap (kernel/runtime/wasmHeap.ts heapConcat) against the cpu backend: every axis,
 * short and long rows, empty and single inputs, int32 and bool, its gradient; and repeated without leaks.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, randomValues, size, compareBackends, type Tensor } from './helpers';

before(ready);

const rand = (shape: number[], seed: number): Tensor => tf.tensor(randomValues(size(shape), seed), shape);

void test('Concat over the heap matches cpu on every axis, row length, empty and single inputs', async () => {
  const cases: { shapes: number[][]; axis: number }[] = [
    // the channel concatenation of the decoder: four maps along the last axis
    { shapes: [[3, 5, 7, 8], [3, 5, 7, 8], [3, 5, 7, 8], [3, 5, 7, 8]], axis: 3 },
    { shapes: [[2, 3, 4, 300], [2, 3, 4, 7]], axis: -1 },
    { shapes: [[2, 9, 16], [2, 16, 16]], axis: 1 },
    { shapes: [[4, 5], [1, 5], [3, 5]], axis: 0 },
    { shapes: [[2, 3, 1], [2, 3, 1], [2, 3, 1]], axis: 2 },
    { shapes: [[2, 0, 4], [2, 3, 4]], axis: 1 },
    { shapes: [[5, 7]], axis: 1 },
    { shapes: [[2, 2, 2, 2, 3], [2, 2, 2, 2, 5]], axis: 4 },
    { shapes: [[1, 2, 3], [1, 2, 3]], axis: 0 },
    { shapes: Array.from({ length: 12 }, (_, i) => [2, i + 1, 3]), axis: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.concat(c.shapes.map((s, k) => rand(s, 500 + 10 * i + k)), c.axis));
    assert.equal(r.relErr, 0, JSON.stringify(c));
    const ri = await compareBackends(() => tf.cast(tf.concat(c.shapes.map((s, k) => tf.tensor(Array.from({ length: size(s) }, (_, j) => j - 7 * k), s, 'int32')), c.axis), 'float32'));
    assert.equal(ri.relErr, 0, `int32 ${JSON.stringify(c)}`);
    const rb = await compareBackends(() => tf.cast(tf.concat(c.shapes.map((s, k) => tf.greater(rand(s, 600 + 10 * i + k), 0)), c.axis), 'float32'));
    assert.equal(rb.relErr, 0, `bool ${JSON.stringify(c)}`);
  }
  // The order of the inputs is kept beyond ten of them (the kernel's inputs are keyed 0, 1, ..., 11).
  await tf.setBackend('wasm');
  const parts = Array.from({ length: 12 }, (_, i) => tf.fill([1, 2], i));
  assert.deepEqual(Array.from(tf.concat(parts, 0).dataSync()), Array.from({ length: 24 }, (_, j) => Math.floor(j / 2)));
  tf.dispose(parts);
  assert.throws(() => tf.concat([tf.ones([2, 3]), tf.ones([3, 3])], 1), /shape|rank|concat/i);
});

void test('the gradient through a channel Concat matches cpu', async () => {
  const r = await compareBackends(() => {
    const a = rand([2, 4, 4, 3], 700);
    const b = rand([2, 4, 4, 5], 701);
    const w = rand([2, 4, 4, 8], 702);
    return tf.grads((x: Tensor, y: Tensor) => tf.sum(tf.mul(tf.concat([x, y], 3), w)))([a, b]);
  });
  assert.ok(r.relErr <= 1e-6, `rel err ${r.relErr}`);
});

void test('Concat over the heap repeated leaves tensors and wasm buffers unchanged', async () => {
  await tf.setBackend('wasm');
  const b = tf.findBackend('wasm') as unknown as { numDataIds(): number };
  const xs = [rand([3, 4, 4, 8], 710), rand([3, 4, 4, 8], 711), rand([3, 4, 4, 300], 712)];
  const once = (): void => tf.tidy(() => void tf.concat(xs, 3));
  once();
  const tensors = tf.memory().numTensors;
  const ids = b.numDataIds();
  for (let i = 0; i < 20; i++) once();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(b.numDataIds(), ids);
  tf.dispose(xs);
});
