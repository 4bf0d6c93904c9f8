/**
 * The direct clones of saved tensors (kernel/runtime/engineSaves.ts): a training step makes no Identity kernel
 * calls for its saves, its gradients are the same numbers as with the engine's own clones, a cell's tf.clone keeps
 * its gradient, and nothing is left allocated.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, randomValues, type Tensor } from './helpers';
import { installCheapSaves, uninstallCheapSaves } from '../../kernel/runtime/engineSaves';

before(ready);

/** A small net with the kinds of saves a PIAL-Net step makes: kernel inputs (Mul, MatMul, Exp's output), customGrad saves. */
const scaled = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [Tensor, tf.GradSaveFunc];
  const s = tf.tidy(() => tf.sigmoid(x));
  save([x, s]);
  return { value: tf.mul(x, s), gradFunc: (dy: Tensor, [sx, ss]: Tensor[]) => [tf.mul(dy, tf.add(ss, tf.mul(sx, tf.mul(ss, tf.sub(1, ss)))))] };
});

function net(w1: tf.Variable, w2: tf.Variable, x: Tensor): Tensor {
  const h = scaled(tf.matMul(x, w1));
  const e = tf.exp(tf.mul(h, 0.1));
  return tf.mean(tf.square(tf.matMul(tf.mul(e, h), w2)));
}

async function step(backend: string): Promise<{ grads: Float32Array[]; identities: number; loss: number }> {
  await tf.setBackend(backend);
  const w1 = tf.tidy(() => tf.variable(tf.tensor(randomValues(6 * 5, 1), [6, 5]), true, `w1_${backend}_${Math.random()}`));
  const w2 = tf.tidy(() => tf.variable(tf.tensor(randomValues(5 * 3, 2), [5, 3]), true, `w2_${backend}_${Math.random()}`));
  const x = tf.tensor(randomValues(4 * 6, 3), [4, 6]);
  let grads: Float32Array[] = [];
  let loss = 0;
  const info = await tf.profile(async () => {
    const r = tf.variableGrads(() => net(w1, w2, x) as tf.Scalar, [w1, w2]);
    loss = (await r.value.data())[0];
    grads = await Promise.all([r.grads[w1.name], r.grads[w2.name]].map(async (g) => Float32Array.from(await g.data())));
    tf.dispose([r.value, ...Object.values(r.grads)]);
  });
  tf.dispose([w1, w2, x]);
  return { grads, loss, identities: info.kernels.filter((k) => k.name === 'Identity').length };
}

for (const backend of ['wasm', 'cpu']) {
  void test(`${backend}: saves make no Identity calls and give the same gradients as the engine's clones`, async () => {
    const before0 = tf.memory().numTensors;
    const direct = await step(backend);
    uninstallCheapSaves();
    let stock;
    try {
      stock = await step(backend);
    } finally {
      installCheapSaves();
    }
    assert.equal(direct.identities, 0, 'saves went through the Identity kernel');
    assert.ok(stock.identities >= 5, `the engine's clones should run Identity for the saves (ran ${stock.identities})`);
    assert.equal(direct.loss, stock.loss);
    assert.deepEqual(direct.grads, stock.grads);
    assert.ok(direct.grads[0].some((v) => v !== 0) && direct.grads[1].some((v) => v !== 0));
    assert.equal(tf.memory().numTensors, before0, 'tensors left allocated');
    await tf.setBackend('wasm');
  });
}

void test('a saved tensor outlives its original: disposing the input before backprop leaves the gradient intact', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor(randomValues(8, 5), [8]);
  const want = await tf.grad((v: Tensor) => tf.sum(tf.mul(v, v)))(x).data();
  // The product saves both operands; the operand made inside f is disposed by f's scope before backprop runs.
  const g = tf.grad((v: Tensor) => {
    const y = tf.add(v, 0);
    return tf.sum(tf.mul(y, y));
  })(x);
  assert.deepEqual(Array.from(await g.data()), Array.from(want));
  tf.dispose([x, g]);
});

void test("a cell's tf.clone is still differentiable and still a tape node", async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor([1, -2, 3]);
  const g = tf.grad((v: Tensor) => tf.sum(tf.mul(tf.clone(v), 3)))(x);
  assert.deepEqual(Array.from(await g.data()), [3, 3, 3]);
  tf.dispose([x, g]);
});
