/**
 * GELU's own gradient (kernel/ml/model/layers.ts: written out, and on wasm with exp(-x^2/2) as a quotient of
 * sigmoids) against Float64 central differences of x Phi(x) with the reference erf, value by value over
 * [-8, 8]: the whole-model check samples too few activations to see an error in this one term.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime, tf } from '../../kernel/runtime/index';
import { gelu } from '../../kernel/ml/model/layers';
import { erf } from './reference';

before(() => initRuntime({ backend: 'wasm', notebookDir: __dirname }));

const gelu64 = (x: number): number => 0.5 * x * (1 + erf(x * Math.SQRT1_2));

// A grid over [-8, 8], zero, tiny values and where Phi's tail reaches float32's limits.
const xs = Float32Array.from([...Array.from({ length: 641 }, (_, i) => -8 + i * 0.025), 0, 1e-6, -1e-6, 3e-3, -3e-3, 5.9, -5.9, 7.5, -7.5]);

for (const backend of ['wasm', 'cpu']) {
  void test(`GELU value and gradient match Float64 central differences on ${backend}, value by value`, async () => {
    await tf.setBackend(backend);
    const x = tf.tensor(xs);
    const [y, g] = tf.tidy(() => [gelu(x), tf.grad((v: tf.Tensor) => tf.sum(gelu(v)))(x)]);
    const yv = await y.data();
    const gv = await g.data();
    tf.dispose([x, y, g]);
    let worstValue = 0;
    let worstGrad = 0;
    let at = 0;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      const h = 1e-5 * Math.max(1, Math.abs(v));
      const num = (gelu64(v + h) - gelu64(v - h)) / (2 * h);
      worstValue = Math.max(worstValue, Math.abs(yv[i] - gelu64(v)) / Math.max(1, Math.abs(v)));
      const e = Math.abs(gv[i] - num);
      if (e > worstGrad) [worstGrad, at] = [e, v];
    }
    console.log(`${backend}: worst value error ${worstValue.toExponential(2)}, worst gradient error ${worstGrad.toExponential(2)} at x = ${at}`);
    // The derivative lies in [-0.17, 1.13]; float32 evaluation is good to a few 1e-7.
    assert.ok(worstValue <= 1e-6, `value error ${worstValue}`);
    assert.ok(worstGrad <= 2e-6, `gradient error ${worstGrad} at x = ${at}`);
    await tf.setBackend('wasm');
  });
}
