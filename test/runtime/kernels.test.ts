/**
 * Every kernel the runtime registers for wasm, against the cpu backend (and, for dilation, which the
 * cpu backprop kernels ignore, against a direct loop), over many shapes.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, randomValues, size, compareBackends, relError, TOLERANCE, type Tensor } from './helpers';
import { WASM_TRAINING_KERNELS } from '../../kernel/runtime/wasmKernels';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

before(ready);

function t4(shape: Shape4, seed: number): Tensor {
  return tf.tensor(randomValues(size(shape), seed), shape);
}

interface ConvCase {
  x: Shape4;
  k: [number, number];
  strides: number | [number, number];
  pad: Pad;
}

const explicitA: Pad = [[0, 0], [1, 2], [0, 1], [0, 0]];
const explicitB: Pad = [[0, 0], [2, 0], [3, 1], [0, 0]];

/** Strides 1/2/mixed, same/valid/explicit padding, odd sizes, 1x1 to 5x5, batch 1 and >1. */
const CONV_CASES: ConvCase[] = [
  { x: [1, 7, 7, 3], k: [3, 3], strides: 1, pad: 'same' },
  { x: [2, 9, 8, 4], k: [3, 3], strides: 2, pad: 'same' },
  { x: [3, 11, 6, 5], k: [3, 2], strides: [2, 1], pad: 'valid' },
  { x: [2, 8, 8, 2], k: [1, 1], strides: 1, pad: 'valid' },
  { x: [1, 13, 10, 3], k: [5, 5], strides: 2, pad: 'same' },
  { x: [2, 10, 11, 3], k: [3, 3], strides: 2, pad: explicitA },
  { x: [1, 9, 9, 2], k: [4, 3], strides: 3, pad: explicitB },
  { x: [4, 6, 5, 1], k: [2, 2], strides: 2, pad: 'valid' },
  { x: [1, 12, 12, 6], k: [7, 7], strides: 2, pad: 'same' },
];

function convOutShape(c: ConvCase, filterOut: number, depthwise: boolean): number[] {
  const info = tf.backend_util.computeConv2DInfo(c.x, [c.k[0], c.k[1], c.x[3], filterOut], c.strides, 1, c.pad, undefined, depthwise);
  return info.outShape;
}

const label = (c: ConvCase): string => `x=[${c.x.join()}] k=${c.k.join('x')} s=${JSON.stringify(c.strides)} pad=${JSON.stringify(c.pad)}`;

void test('the runtime registers the training kernels tfjs-backend-wasm lacks', () => {
  const names = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
    assert.ok(names.has(k), `${k} is registered for wasm`);
  }
  for (const k of WASM_TRAINING_KERNELS) assert.equal(tf.getKernel(k.kernelName, 'wasm'), k, `${k.kernelName} is the runtime's`);
});

void test('Conv2DBackpropFilter matches cpu over strides, paddings, odd sizes and batches', async () => {
  for (const [i, c] of CONV_CASES.entries()) {
    const co = 3 + (i % 3);
    const dyShape = convOutShape(c, co, false) as Shape4;
    const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], co];
    const r = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t4(c.x, i), dy: t4(dyShape, 100 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape }) as Tensor);
    assert.deepEqual(r.shape, filterShape, label(c));
    assert.ok(r.relErr <= TOLERANCE, `${label(c)}: rel err ${r.relErr}`);
  }
});

void test('Conv2DBackpropInput matches cpu over strides, paddings, odd sizes and batches', async () => {
  for (const [i, c] of CONV_CASES.entries()) {
    const co = 2 + (i % 4);
    const dyShape = convOutShape(c, co, false) as Shape4;
    const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], co];
    const r = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: t4(dyShape, 200 + i), filter: t4(filterShape, 300 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as Tensor);
    assert.deepEqual(r.shape, c.x, label(c));
    assert.ok(r.relErr <= TOLERANCE, `${label(c)}: rel err ${r.relErr}`);
  }
});

void test('conv backprop kernels accept NCHW data', async () => {
  const x: Shape4 = [2, 3, 9, 7]; // NCHW
  const filterShape: Shape4 = [3, 3, 3, 4];
  const dyShape: Shape4 = [2, 4, 5, 4];
  const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW' };
  const f = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t4(x, 1), dy: t4(dyShape, 2) }, { ...attrs, filterShape }) as Tensor);
  assert.deepEqual(f.shape, filterShape);
  assert.ok(f.relErr <= TOLERANCE, `filter rel err ${f.relErr}`);
  const d = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: t4(dyShape, 2), filter: t4(filterShape, 3) }, { ...attrs, inputShape: x }) as Tensor);
  assert.deepEqual(d.shape, x);
  assert.ok(d.relErr <= TOLERANCE, `input rel err ${d.relErr}`);
});

void test('depthwise backprop kernels match cpu over strides, paddings and channel multipliers 1-3', async () => {
  for (const [i, c] of CONV_CASES.entries()) {
    const m = 1 + (i % 3);
    const dyShape = convOutShape(c, m, true) as Shape4;
    const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], m];
    const attrs = { strides: c.strides, pad: c.pad, dilations: 1 };
    const f = await compareBackends(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t4(c.x, i), dy: t4(dyShape, 400 + i) }, { ...attrs, filterShape }) as Tensor);
    assert.deepEqual(f.shape, filterShape, label(c));
    assert.ok(f.relErr <= TOLERANCE, `filter ${label(c)} m=${m}: rel err ${f.relErr}`);
    const d = await compareBackends(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: t4(dyShape, 400 + i), filter: t4(filterShape, 500 + i) }, { ...attrs, inputShape: c.x }) as Tensor);
    assert.deepEqual(d.shape, c.x, label(c));
    assert.ok(d.relErr <= TOLERANCE, `input ${label(c)} m=${m}: rel err ${d.relErr}`);
  }
});

/** Direct loops for depthwise gradients with dilation (the cpu backprop kernels ignore dilation). */
function depthwiseGradsReference(x: Float32Array, xs: Shape4, w: Float32Array, ws: Shape4, dy: Float32Array, ys: Shape4, s: number, d: number, top: number, left: number): { dx: Float32Array; dw: Float32Array } {
  const [b, H, W, C] = xs;
  const [kh, kw, , m] = ws;
  const [, oh, ow] = ys;
  const dx = new Float32Array(size(xs));
  const dw = new Float32Array(size(ws));
  for (let n = 0; n < b; n++)
    for (let r = 0; r < oh; r++)
      for (let q = 0; q < ow; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const xr = r * s + i * d - top;
            const xc = q * s + j * d - left;
            if (xr < 0 || xr >= H || xc < 0 || xc >= W) continue;
            for (let c = 0; c < C; c++)
              for (let k = 0; k < m; k++) {
                const g = dy[((n * oh + r) * ow + q) * C * m + c * m + k];
                const xi = ((n * H + xr) * W + xc) * C + c;
                const wi = ((i * kw + j) * C + c) * m + k;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
          }
  return { dx, dw };
}

void test('depthwise backprop kernels handle dilation (against a direct loop)', async () => {
  await tf.setBackend('wasm');
  const cases: { x: Shape4; k: number; m: number; d: number; pad: 'same' | 'valid' }[] = [
    { x: [2, 11, 9, 3], k: 3, m: 1, d: 2, pad: 'same' },
    // channel rows of 3 * 15 * 13 = 585 values: with a BLAS, the channel-major route
    { x: [3, 11, 9, 3], k: 3, m: 1, d: 2, pad: 'same' },
    { x: [1, 12, 13, 2], k: 3, m: 2, d: 3, pad: 'valid' },
    { x: [3, 9, 9, 4], k: 2, m: 1, d: 2, pad: 'same' },
  ];
  for (const [i, c] of cases.entries()) {
    const ws: Shape4 = [c.k, c.k, c.x[3], c.m];
    const info = tf.backend_util.computeConv2DInfo(c.x, ws, 1, c.d, c.pad, undefined, true);
    const ys = info.outShape as Shape4;
    const x = randomValues(size(c.x), 600 + i);
    const w = randomValues(size(ws), 700 + i);
    const dy = randomValues(size(ys), 800 + i);
    const ref = depthwiseGradsReference(x, c.x, w, ws, dy, ys, 1, c.d, info.padInfo.top, info.padInfo.left);
    const attrs = { strides: 1, pad: c.pad, dilations: c.d };
    const [dxT, dwT] = tf.tidy(() => [
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor(dy, ys), filter: tf.tensor(w, ws) }, { ...attrs, inputShape: c.x }) as Tensor,
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(x, c.x), dy: tf.tensor(dy, ys) }, { ...attrs, filterShape: ws }) as Tensor,
    ]);
    const ex = relError(ref.dx, dxT.dataSync());
    const ew = relError(ref.dw, dwT.dataSync());
    tf.dispose([dxT, dwT]);
    assert.ok(ex.relErr <= TOLERANCE, `dx case ${i}: rel err ${ex.relErr}`);
    assert.ok(ew.relErr <= TOLERANCE, `dw case ${i}: rel err ${ew.relErr}`);
  }
});

void test('UnsortedSegmentSum matches cpu, dropping ids outside [0, numSegments)', async () => {
  const cases: { x: number[]; ids: number[]; n: number }[] = [
    { x: [6, 3], ids: [0, 2, 2, -1, 1, 0], n: 3 },
    { x: [5], ids: [4, 0, 4, 9, 1], n: 5 },
    { x: [4, 2, 3], ids: [1, 1, 1, 1], n: 2 },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.unsortedSegmentSum(tf.tensor(randomValues(size(c.x), 900 + i), c.x), tf.tensor1d(c.ids, 'int32'), c.n));
    assert.deepEqual(r.shape, [c.n, ...c.x.slice(1)]);
    assert.ok(r.relErr <= TOLERANCE, `case ${i}: rel err ${r.relErr}`);
  }
  // The gradient of gather goes through it.
  const g = await compareBackends(() => tf.grad((p: Tensor) => tf.gather(p, tf.tensor1d([2, 0, 2, 1], 'int32')).square().sum())(tf.tensor(randomValues(12, 5), [4, 3])));
  assert.ok(g.relErr <= TOLERANCE, `gather gradient rel err ${g.relErr}`);
});

void test('a bad input to a runtime kernel names the kernel and the problem', async () => {
  await tf.setBackend('wasm');
  assert.throws(
    () => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.ones([1, 4, 4, 2], 'int32'), dy: tf.ones([1, 4, 4, 2]) }, { strides: 1, pad: 'same', filterShape: [3, 3, 2, 2] })),
    /Conv2DBackpropFilter: input "x" must be float32, got int32/,
  );
  const before = tf.memory().numTensors;
  assert.throws(
    () => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.ones([1, 4, 4, 2]), filter: tf.ones([3, 3, 2, 1]) }, { strides: 1, pad: 'same', dilations: 'two', inputShape: [1, 4, 4, 2] })),
    /DepthwiseConv2dNativeBackpropInput dilations: expected a number or \[h, w\], got "two"/,
  );
  assert.equal(tf.memory().numTensors, before, 'a failed kernel leaves no tensors behind');
});

void test('ResizeBilinearGrad keeps non-square shapes on cpu (fixed) and matches it on wasm', async () => {
  for (const [i, [h, w, oh, ow, ac]] of ([[8, 6, 30, 22, false], [5, 9, 11, 4, true], [7, 7, 14, 14, false]] as const).entries()) {
    const r = await compareBackends(() => tf.grad((x: Tensor) => tf.mul(tf.image.resizeBilinear(x as tf.Tensor4D, [oh, ow], ac), tf.tensor(randomValues(2 * oh * ow * 3, 40 + i), [2, oh, ow, 3])).sum())(tf.tensor(randomValues(2 * h * w * 3, 50 + i), [2, h, w, 3])));
    assert.deepEqual(r.shape, [2, h, w, 3]);
    assert.ok(r.relErr <= TOLERANCE, `${h}x${w} -> ${oh}x${ow}: rel err ${r.relErr}`);
  }
});

void test('Slice (a copy over the heap, axes merged) matches cpu for ranks 1-6, partial and whole axes, int32 and bool', async () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [7], begin: [2], size: [3] },
    { shape: [4, 5], begin: [1, 0], size: [2, -1] },
    { shape: [3, 4, 5], begin: [0, 1, 2], size: [3, 2, 3] },
    { shape: [8, 6, 6, 4], begin: [0, 1, 1, 0], size: [8, 4, 4, 4] },
    { shape: [2, 5, 6, 3, 2], begin: [0, 0, 0, 0, 1], size: [-1, -1, -1, -1, 1] },
    { shape: [2, 7, 3, 2, 4], begin: [0, 0, 1, 0, 0], size: [2, 7, 1, 2, 4] },
    { shape: [1, 3, 1, 4, 2, 3], begin: [0, 1, 0, 0, 0, 1], size: [1, 2, 1, 4, 2, 2] },
    { shape: [3, 4, 5, 6], begin: [1, 0, 0, 0], size: [2, 4, 5, 6] },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.slice(tf.tensor(randomValues(size(c.shape), 60 + i), c.shape), c.begin, c.size));
    const expected = c.size.map((s, k) => (s === -1 ? c.shape[k] - c.begin[k] : s));
    assert.deepEqual(r.shape, expected, JSON.stringify(c));
    assert.equal(r.relErr, 0, JSON.stringify(c));
    const ri = await compareBackends(() => tf.slice(tf.tensor(Array.from({ length: size(c.shape) }, (_, k) => k), c.shape, 'int32'), c.begin, c.size));
    assert.equal(ri.relErr, 0, `int32 ${JSON.stringify(c)}`);
  }
  const rb = await compareBackends(() => tf.cast(tf.slice(tf.greater(tf.tensor(randomValues(60, 7), [2, 5, 3, 2]), 0), [0, 1, 0, 0], [2, 3, 3, 2]), 'float32'));
  assert.equal(rb.relErr, 0, 'bool');
});

void test('BatchMatMul (transposes made explicit, batches folded) matches cpu for all transpose flags and broadcasts', async () => {
  const cases: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [7, 5], b: [5, 3], tA: false, tB: false },
    { a: [5, 7], b: [5, 3], tA: true, tB: false },
    { a: [7, 5], b: [3, 5], tA: false, tB: true },
    { a: [5, 7], b: [3, 5], tA: true, tB: true },
    { a: [2, 3, 7, 5], b: [5, 4], tA: false, tB: false },
    { a: [2, 3, 7, 5], b: [4, 5], tA: false, tB: true },
    { a: [4, 5, 7], b: [5, 3], tA: true, tB: false },
    { a: [3, 6, 5], b: [3, 5, 4], tA: false, tB: false },
    { a: [3, 5, 6], b: [3, 4, 5], tA: true, tB: true },
    { a: [1, 6, 5], b: [1, 5, 4], tA: false, tB: false },
    { a: [6, 5], b: [2, 5, 4], tA: false, tB: false },
    { a: [1, 1, 9, 8], b: [1, 8, 2], tA: false, tB: false },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.matMul(tf.tensor(randomValues(size(c.a), 70 + i), c.a), tf.tensor(randomValues(size(c.b), 80 + i), c.b), c.tA, c.tB));
    assert.ok(r.relErr <= TOLERANCE, `${JSON.stringify(c)}: rel err ${r.relErr}`);
  }
  // Shapes that do not fit are still refused with tfjs's message.
  await tf.setBackend('wasm');
  assert.throws(() => tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 2]))), /inner shapes \(4\) and \(5\)/);
});

void test('Sum and Mean over leading axes and tiled Transpose match cpu', async () => {
  const sums: { shape: number[]; axis: number | number[] | null; keepDims: boolean }[] = [
    { shape: [64, 7], axis: 0, keepDims: false },
    { shape: [4, 6, 5, 3], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 6, 5, 3], axis: [1, 0], keepDims: true },
    { shape: [4, 6, 5], axis: [0, 2], keepDims: false },
    { shape: [4, 6, 5], axis: -1, keepDims: false },
    { shape: [4, 6, 5], axis: null, keepDims: false },
    { shape: [9], axis: 0, keepDims: true },
  ];
  for (const [i, c] of sums.entries()) {
    const r = await compareBackends(() => tf.sum(tf.tensor(randomValues(size(c.shape), 90 + i), c.shape), c.axis ?? undefined, c.keepDims));
    assert.ok(r.relErr <= TOLERANCE, `sum ${JSON.stringify(c)}: rel err ${r.relErr}`);
    const m = await compareBackends(() => tf.mean(tf.tensor(randomValues(size(c.shape), 90 + i), c.shape), c.axis ?? undefined, c.keepDims));
    assert.ok(m.relErr <= TOLERANCE, `mean ${JSON.stringify(c)}: rel err ${m.relErr}`);
  }
  const ri = await compareBackends(() => tf.cast(tf.sum(tf.tensor(Array.from({ length: 24 }, (_, k) => k), [4, 6], 'int32'), 0), 'float32'));
  assert.equal(ri.relErr, 0, 'int32 sum');
  for (const [i, shape] of [[128, 64], [96, 32], [64, 128], [100, 30], [7, 5]].entries()) {
    const r = await compareBackends(() => tf.transpose(tf.tensor(randomValues(size(shape), 95 + i), shape)));
    assert.deepEqual(r.shape, [shape[1], shape[0]]);
    assert.equal(r.relErr, 0, `transpose ${shape}`);
  }
  const r3 = await compareBackends(() => tf.transpose(tf.tensor(randomValues(60, 99), [3, 4, 5]), [2, 0, 1]));
  assert.equal(r3.relErr, 0, 'rank-3 transpose');
});

void test('SplitV matches cpu on every axis, with -1 sizes', async () => {
  const cases: { shape: number[]; splits: number | number[]; axis: number }[] = [
    { shape: [2, 4, 4, 12], splits: [4, 8], axis: -1 },
    { shape: [2, 4, 4, 12], splits: 3, axis: 3 },
    { shape: [3, 6, 5], splits: [2, -1], axis: 1 },
    { shape: [6, 5], splits: 2, axis: 0 },
    { shape: [2, 3, 4, 6, 4], splits: [1, 2, 3], axis: 3 },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.split(tf.tensor(randomValues(size(c.shape), 110 + i), c.shape), c.splits, c.axis));
    assert.equal(r.relErr, 0, JSON.stringify(c));
  }
});

void test('one buffer as the right operand of matmuls with two shapes gives right results (wasm operator cache)', async () => {
  // tfjs-backend-wasm caches XNNPACK matmul operators by the right operand's data id; reshaped views
  // share it. The runtime copies a buffer that comes back with another shape.
  const r = await compareBackends(() => {
    const x = tf.tensor(randomValues(2 * 17 * 16, 120), [2, 17, 16]);
    const first = tf.matMul(tf.tensor(randomValues(3 * 34, 121), [3, 34]), tf.reshape(x, [34, 16]));
    const second = tf.matMul(tf.tensor(randomValues(5 * 2, 122), [5, 2]), tf.reshape(x, [2, 272]));
    const third = tf.sum(x, 0);
    const fused = tf.fused.matMul({ a: tf.tensor(randomValues(4 * 16, 123), [4, 16]), b: tf.reshape(x, [16, 34]), transposeB: false });
    const again = tf.matMul(tf.tensor(randomValues(3 * 34, 124), [3, 34]), tf.reshape(x, [34, 16]));
    return [first, second, third, fused, again];
  });
  assert.ok(r.relErr <= TOLERANCE, `rel err ${r.relErr}`);
});
