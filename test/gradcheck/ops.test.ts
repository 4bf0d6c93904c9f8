/**
 * Every kernel of a PIAL-Net training step, replayed with small random inputs on cpu and wasm: tfjs's analytic
 * gradient against Float64 central differences of an independent reference (./reference.ts).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime, tf } from '../../kernel/runtime/index';
import { registerGradientFixes } from '../../kernel/runtime/gradFixes';
import { REFERENCE } from './reference';
import { checkInvocation, resizeCases, trainingGraphKernels, worstPerKernel, type Invocation, type OpResult } from './check';

/** Largest accepted |analytic - numeric| relative to the gradient's scale (float32 analytic vs Float64). */
export const OP_TOLERANCE = 1e-3;

/** tfjs 4.22's own gradient of ResizeBilinear: its ResizeBilinearGrad kernel with the op's attributes. */
const stockResizeBilinearGrad = {
  kernelName: 'ResizeBilinear',
  inputsToSave: ['images'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => ({
    images: () => tf.engine().runKernel('ResizeBilinearGrad', { dy: dy as tf.Tensor, images: saved[0] }, attrs) as tf.Tensor,
  }),
};

let graph: Invocation[] = [];
before(async () => {
  await initRuntime({ backend: 'wasm', notebookDir: __dirname });
  await tf.setBackend('cpu');
  graph = [...trainingGraphKernels('nano'), ...trainingGraphKernels('nano', { khp: false })];
});

function report(backend: string, results: OpResult[]): string {
  return [...worstPerKernel(results)].map(([k, r]) => `${backend} ${k.padEnd(22)} worst rel err ${r.relErr.toExponential(2)} (forward ${r.forwardErr.toExponential(1)}, ${r.checked} coords)${r.error ? ` ${r.error}` : ''}`).join('\n');
}

void test('the training graph is recorded from the model and every kernel in it has a Float64 reference', () => {
  const kernels = new Set(graph.map((i) => i.kernel));
  for (const k of ['Conv2D', 'DepthwiseConv2dNative', 'BatchMatMul', 'ResizeBilinear', 'Softmax', 'Mean']) assert.ok(kernels.has(k), `the nano graph should use ${k}`);
  const missing = [...kernels].filter((k) => !REFERENCE[k] && k !== 'Fill');
  assert.deepEqual(missing, [], `kernels of the training graph without a Float64 reference: ${missing.join(', ')}`);
});

for (const backend of ['cpu', 'wasm']) {
  void test(`every kernel of the training graph has a correct gradient on ${backend}`, async () => {
    const results: OpResult[] = [];
    for (const inv of [...graph, ...resizeCases()]) results.push(await checkInvocation(inv, backend));
    console.log(report(backend, results));
    const bad = results.filter((r) => r.error !== 'not differentiable' && !(r.relErr <= OP_TOLERANCE && r.forwardErr <= 1e-4));
    assert.deepEqual(bad.map((r) => `${r.signature}: rel err ${r.relErr}, forward ${r.forwardErr}${r.error ? `, ${r.error}` : ''}`), []);
  });
}

void test('the checker catches tfjs 4.22\'s own ResizeBilinear gradient, which ignores halfPixelCenters', async () => {
  tf.registerGradient(stockResizeBilinearGrad);
  try {
    const results: OpResult[] = [];
    for (const inv of resizeCases()) results.push(await checkInvocation(inv, 'cpu'));
    const half = results.filter((r) => r.signature.includes('"halfPixelCenters":true') && !r.signature.includes('[1,1,1,'));
    assert.ok(half.length >= 4);
    for (const r of half) assert.ok(r.relErr > 0.1, `${r.signature}: the stock gradient should be off, got ${r.relErr}`);
    const corners = results.filter((r) => r.signature.includes('"alignCorners":true'));
    for (const r of corners) assert.ok(r.relErr <= OP_TOLERANCE, `${r.signature}: align-corners was right before too`);
  } finally {
    registerGradientFixes();
  }
  const after = await checkInvocation(resizeCases()[0], 'cpu');
  assert.ok(after.relErr <= OP_TOLERANCE, `fixed gradient back in place: ${after.relErr}`);
});
