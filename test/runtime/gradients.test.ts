/**
 * Full gradients of a small conv-and-attention net (conv, depthwise, pooling, layer norm, attention,
 * GELU, resize, concat/slice, sigmoid, BCE) on wasm against cpu, for several input sizes and batches.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, relError, runOn, TOLERANCE } from './helpers';
import { SMALL_NET, paramShapes, makeParams, makeBatch, lossAndGrads } from './nets';

before(ready);

const names = paramShapes(SMALL_NET).map(([n]) => n);

async function compareGrads(b: number, h: number, w: number, seed: number): Promise<void> {
  const f = () => {
    const p = makeParams(SMALL_NET, seed);
    const { x, y } = makeBatch(SMALL_NET, b, h, w, seed + 7);
    const { loss, grads } = lossAndGrads(SMALL_NET, p, x, y);
    return [loss, ...grads];
  };
  const ref = await runOn('cpu', f);
  const got = await runOn('wasm', f);
  assert.equal(got.values.length, names.length + 1);
  const loss = relError(ref.values[0], got.values[0]);
  assert.ok(loss.relErr <= TOLERANCE, `loss ${ref.values[0][0]} vs ${got.values[0][0]}`);
  for (let i = 0; i < names.length; i++) {
    assert.deepEqual(got.shapes[i + 1], ref.shapes[i + 1], names[i]);
    const e = relError(ref.values[i + 1], got.values[i + 1]);
    assert.ok(e.maxAbs > 0, `${names[i]}: gradient is not all zero`);
    assert.ok(e.relErr <= TOLERANCE, `b=${b} ${h}x${w} ${names[i]}: rel err ${e.relErr.toExponential(2)} (scale ${e.maxAbs.toExponential(2)})`);
  }
}

void test('conv-and-attention net: every parameter gradient on wasm matches cpu (batch 2, 24x24)', () => compareGrads(2, 24, 24, 1));

void test('conv-and-attention net: gradients match at an odd size, batch 1 (27x19)', () => compareGrads(1, 27, 19, 2));

void test('conv-and-attention net: gradients match at batch 3 (16x24)', () => compareGrads(3, 16, 24, 3));

void test('attention alone (layer norm, batched matmul, softmax, GELU): gradients match', async () => {
  const f = () => {
    const x = tf.tensor(Array.from({ length: 2 * 7 * 12 }, (_, i) => Math.sin(i * 0.37)), [2, 7, 12]);
    const wq = tf.tensor(Array.from({ length: 144 }, (_, i) => Math.cos(i * 0.11) * 0.3), [12, 12]);
    return tf.grads((a: tf.Tensor, w: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, -1, true);
      const n = tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, 1e-5)));
      const q = tf.reshape(tf.matMul(tf.reshape(n, [14, 12]), w), [2, 7, 3, 4]).transpose([0, 2, 1, 3]);
      const att = tf.softmax(tf.matMul(q, q, false, true));
      const o = tf.matMul(att, q);
      const g = tf.mul(tf.mul(o, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(o, tf.mul(tf.pow(o, 3), 0.044715)), Math.sqrt(2 / Math.PI)))));
      return tf.sum(tf.square(g));
    })([x, wq]);
  };
  const ref = await runOn('cpu', f);
  const got = await runOn('wasm', f);
  for (let i = 0; i < 2; i++) {
    const e = relError(ref.values[i], got.values[i]);
    assert.ok(e.maxAbs > 0);
    assert.ok(e.relErr <= TOLERANCE, `grad ${i}: rel err ${e.relErr}`);
  }
});
