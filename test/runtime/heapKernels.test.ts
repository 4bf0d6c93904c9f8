/**
 * The wasm kernels that work over the wasm heap or per batch item (kernel/runtime/wasmHeap.ts and the
 * routes in wasmKernels.ts that use it), against the cpu backend over many shapes; Identity's shared
 * buffers against copies; and every one of them repeated without leaking tensors or backend buffers.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, randomValues, size, compareBackends, assertNoLeaks, TOLERANCE, type Tensor } from './helpers';

before(ready);

const rand = (shape: number[], seed: number): Tensor => tf.tensor(randomValues(size(shape), seed), shape);

void test('BatchMatMul with both operands batched (one product per item) matches cpu: transposes, broadcasts, odd and size-1 axes', async () => {
  const cases: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [3, 5, 7], b: [3, 7, 4], tA: false, tB: false },
    { a: [3, 7, 5], b: [3, 7, 4], tA: true, tB: false },
    { a: [3, 5, 7], b: [3, 4, 7], tA: false, tB: true },
    { a: [3, 7, 5], b: [3, 4, 7], tA: true, tB: true },
    { a: [2, 1, 9, 33], b: [2, 1, 33, 6], tA: false, tB: false },
    { a: [4, 1, 33, 9], b: [4, 1, 6, 33], tA: true, tB: true },
    { a: [2, 3, 1, 5], b: [2, 3, 5, 1], tA: false, tB: false },
    { a: [2, 3, 5, 1], b: [2, 3, 5, 8], tA: true, tB: false },
    { a: [5, 1, 6], b: [5, 6, 1], tA: false, tB: false },
    // a single left matrix against a batch (broadcast), with and without a leading 1
    { a: [6, 5], b: [3, 5, 4], tA: false, tB: false },
    { a: [1, 5, 6], b: [3, 4, 5], tA: true, tB: true },
    // attention-like: [b, heads, n, d] x [b, heads, d, n]
    { a: [2, 2, 17, 8], b: [2, 2, 8, 17], tA: false, tB: false },
    { a: [2, 2, 17, 8], b: [2, 2, 17, 8], tA: false, tB: true },
    { a: [2, 2, 17, 17], b: [2, 2, 17, 8], tA: true, tB: false },
    // a short left operand against a wide right one: computed per item as (B^T A^T)^T
    { a: [3, 6, 40], b: [3, 40, 50], tA: false, tB: false },
    { a: [2, 2, 40, 5], b: [2, 2, 33, 40], tA: true, tB: true },
    { a: [1, 3, 40], b: [4, 40, 64], tA: false, tB: false },
    { a: [2, 1, 70], b: [2, 70, 9], tA: false, tB: false },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.matMul(rand(c.a, 200 + i), rand(c.b, 220 + i), c.tA, c.tB));
    assert.ok(r.relErr <= TOLERANCE, `${JSON.stringify(c)}: rel err ${r.relErr}`);
  }
  // Batch shapes that broadcast both ways ([2, 1] against [1, 3]) against the product of the operands tiled
  // to the full batch by hand: tfjs's cpu backend (the usual reference) returns 24 of the 48 values here.
  const ta = rand([2, 1, 4, 5], 240);
  const tb = rand([1, 3, 5, 2], 241);
  const rb = await compareBackends(() => tf.matMul(ta, tb), () => tf.matMul(tf.tile(ta, [1, 3, 1, 1]), tf.tile(tb, [2, 1, 1, 1])));
  assert.ok(rb.relErr <= TOLERANCE, `broadcast [2,1] x [1,3]: rel err ${rb.relErr}`);
  assert.deepEqual(rb.shape, [2, 3, 4, 2]);
  // An empty inner axis gives zeros; an empty batch an empty result.
  const rz = await compareBackends(() => tf.matMul(tf.zeros([2, 3, 0]), tf.zeros([2, 0, 4])));
  assert.deepEqual(rz.shape, [2, 3, 4]);
  assert.equal(rz.relErr, 0);
  await tf.setBackend('wasm');
  assert.throws(() => tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 2]))), /inner shapes \(4\) and \(5\)/);
});

void test('BatchMatMul with a fresh right operand wider than the left (computed as (B^T A^T)^T) matches cpu for every transpose flag', async () => {
  const cases: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [3, 2000], b: [2000, 9], tA: false, tB: false },
    { a: [2000, 3], b: [2000, 9], tA: true, tB: false },
    { a: [3, 2000], b: [9, 2000], tA: false, tB: true },
    { a: [2000, 3], b: [9, 2000], tA: true, tB: true },
    { a: [2, 3, 2000], b: [2000, 17], tA: false, tB: false },
    { a: [2, 1, 3, 2000], b: [17, 2000], tA: false, tB: true },
    { a: [1, 257], b: [257, 33], tA: false, tB: false },
    { a: [330, 1], b: [330, 65], tA: true, tB: false },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.matMul(rand(c.a, 230 + i), rand(c.b, 240 + i), c.tA, c.tB));
    assert.ok(r.relErr <= TOLERANCE, `${JSON.stringify(c)}: rel err ${r.relErr}`);
  }
  // The same buffers again, as the left operand of one product and the right of another, reshaped.
  const r = await compareBackends(() => {
    const w = rand([40, 9], 250);
    const x = rand([3, 40], 251);
    const p1 = tf.matMul(x, w);
    const p2 = tf.matMul(rand([2, 40], 252), w);
    const p3 = tf.matMul(rand([5, 3], 253), x);
    const p4 = tf.matMul(rand([4, 120], 254), tf.reshape(x, [120, 1]));
    const p5 = tf.matMul(x, w);
    return [p1, p2, p3, p4, p5];
  });
  assert.ok(r.relErr <= TOLERANCE, `reused operands: rel err ${r.relErr}`);
});

void test('Conv2DBackpropInput at strides above 1 (one convolution per stride phase) matches cpu, with phases that see no filter tap', async () => {
  type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  const cases: { x: [number, number, number, number]; k: [number, number]; s: [number, number]; pad: Pad; co: number }[] = [
    { x: [2, 9, 9, 3], k: [1, 1], s: [2, 2], pad: 'valid', co: 4 },
    { x: [2, 10, 8, 3], k: [1, 1], s: [2, 2], pad: 'same', co: 2 },
    { x: [1, 11, 10, 2], k: [2, 2], s: [3, 3], pad: 'valid', co: 3 },
    { x: [2, 12, 12, 5], k: [3, 3], s: [2, 2], pad: 'same', co: 70 },
    { x: [2, 11, 9, 3], k: [3, 5], s: [2, 3], pad: 'same', co: 4 },
    { x: [1, 13, 13, 4], k: [4, 4], s: [4, 2], pad: [[0, 0], [2, 1], [0, 3], [0, 0]], co: 3 },
    { x: [3, 7, 8, 65], k: [3, 3], s: [2, 1], pad: 'valid', co: 2 },
  ];
  for (const [i, c] of cases.entries()) {
    const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.co];
    const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.s, 1, c.pad);
    const r = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: rand(info.outShape, 400 + i), filter: rand(filterShape, 420 + i) }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as Tensor);
    assert.deepEqual(r.shape, c.x, JSON.stringify(c));
    assert.ok(r.relErr <= TOLERANCE, `${JSON.stringify(c)}: rel err ${r.relErr}`);
  }
});

void test('attention-sized both-batched products match cpu, and their operands used again with other shapes stay right', async () => {
  const r = await compareBackends(() => {
    const q = rand([2, 1, 64, 16], 250);
    const k = rand([2, 1, 16, 64], 251);
    const s = tf.matMul(q, k);
    const again = tf.matMul(tf.reshape(k, [2, 1, 64, 16]), rand([2, 1, 16, 3], 252));
    const flat = tf.matMul(rand([5, 16], 253), tf.reshape(k, [16, 128]));
    return [s, again, flat];
  });
  assert.ok(r.relErr <= TOLERANCE, `rel err ${r.relErr}`);
});

void test('Sum and Mean over blocks of axes not at the end (over the heap, in double) match cpu', async () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [67, 13], axis: 0, keepDims: false },
    { shape: [5, 9, 7, 3], axis: [0, 1, 2], keepDims: false },
    { shape: [5, 9, 7, 3], axis: [0, 1, 2], keepDims: true },
    { shape: [4, 9, 5], axis: 1, keepDims: false },
    { shape: [4, 9, 5], axis: 1, keepDims: true },
    { shape: [3, 4, 9, 5], axis: [1, 2], keepDims: false },
    { shape: [1, 9, 1, 5], axis: [0, 1, 2], keepDims: false },
    { shape: [9, 1], axis: 0, keepDims: false },
    { shape: [1, 1, 6], axis: [0, 1], keepDims: false },
    { shape: [17, 3, 1], axis: [0, 1], keepDims: false },
    { shape: [0, 4], axis: 0, keepDims: false },
    { shape: [6, 0, 4], axis: 1, keepDims: false },
    { shape: [4, 6, 5], axis: [0, 2], keepDims: false },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.sum(rand(c.shape, 260 + i), c.axis, c.keepDims));
    assert.ok(r.relErr <= TOLERANCE, `sum ${JSON.stringify(c)}: rel err ${r.relErr}`);
    const m = await compareBackends(() => tf.mean(rand(c.shape, 260 + i), c.axis, c.keepDims));
    assert.ok(m.relErr <= TOLERANCE, `mean ${JSON.stringify(c)}: rel err ${m.relErr}`);
    assert.deepEqual(m.shape, r.shape);
  }
  // A long column: 40000 values of about 1 sum to about 40000 with float32 inputs; double accumulation
  // keeps the error at float32 rounding of the result.
  const r = await compareBackends(() => tf.sum(tf.add(tf.mul(rand([40000, 3], 280), 0.01), 1), 0));
  assert.ok(r.relErr <= 1e-6, `long column: rel err ${r.relErr}`);
});

void test('Slice over the heap matches cpu on NHWC channel slices, crops, size-1 axes and every dtype', async () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [3, 5, 7, 11], begin: [0, 0, 0, 3], size: [3, 5, 7, 5] },
    { shape: [3, 5, 7, 300], begin: [0, 0, 0, 130], size: [-1, -1, -1, 140] },
    { shape: [3, 5, 7, 11], begin: [0, 0, 0, 10], size: [3, 5, 7, 1] },
    { shape: [3, 7, 7, 4], begin: [0, 1, 2, 0], size: [3, 5, 4, 4] },
    { shape: [3, 7, 7, 4], begin: [1, 1, 2, 1], size: [1, 5, 4, 2] },
    { shape: [1, 7, 1, 9], begin: [0, 2, 0, 1], size: [1, 3, 1, 7] },
    { shape: [5, 1, 3], begin: [2, 0, 0], size: [3, 1, 3] },
    { shape: [2, 3, 4, 5, 6, 7], begin: [1, 0, 1, 2, 0, 3], size: [1, 3, 2, 3, 6, 4] },
    { shape: [4, 5], begin: [1, 2], size: [0, 3] },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.slice(rand(c.shape, 300 + i), c.begin, c.size));
    assert.deepEqual(r.shape, c.size.map((s, k) => (s === -1 ? c.shape[k] - c.begin[k] : s)), JSON.stringify(c));
    assert.equal(r.relErr, 0, JSON.stringify(c));
    const ri = await compareBackends(() => tf.slice(tf.tensor(Array.from({ length: size(c.shape) }, (_, k) => k - 50), c.shape, 'int32'), c.begin, c.size));
    assert.equal(ri.relErr, 0, `int32 ${JSON.stringify(c)}`);
    const rb = await compareBackends(() => tf.cast(tf.slice(tf.greater(rand(c.shape, 320 + i), 0), c.begin, c.size), 'float32'));
    assert.equal(rb.relErr, 0, `bool ${JSON.stringify(c)}`);
  }
});

void test('SplitV over the heap (equal pieces through one transpose, others copied) matches cpu on every axis and dtype', async () => {
  const cases: { shape: number[]; splits: number | number[]; axis: number }[] = [
    { shape: [3, 5, 7, 12], splits: 4, axis: 3 },
    { shape: [3, 5, 7, 12], splits: [5, 7], axis: 3 },
    { shape: [3, 5, 7, 12], splits: [2, 0, -1], axis: 3 },
    { shape: [3, 6, 7, 5], splits: 3, axis: 1 },
    { shape: [6, 7, 5], splits: 2, axis: 0 },
    { shape: [6, 1, 5], splits: 1, axis: 1 },
    { shape: [2, 9], splits: [1, 8], axis: 1 },
    { shape: [2, 3, 4, 6, 4], splits: 2, axis: 3 },
  ];
  for (const [i, c] of cases.entries()) {
    const r = await compareBackends(() => tf.split(rand(c.shape, 340 + i), c.splits, c.axis));
    assert.equal(r.relErr, 0, JSON.stringify(c));
    const ri = await compareBackends(() => tf.split(tf.tensor(Array.from({ length: size(c.shape) }, (_, k) => k), c.shape, 'int32'), c.splits, c.axis).map((t) => tf.cast(t, 'float32')));
    assert.equal(ri.relErr, 0, `int32 ${JSON.stringify(c)}`);
  }
});

void test('DepthwiseConv2dNativeBackpropFilter (strided: a loop over the heap; stride 1: per-tap products) matches cpu over strides, paddings, odd sizes and multipliers', async () => {
  type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  const cases: { x: [number, number, number, number]; k: [number, number]; s: [number, number]; pad: Pad; m: number }[] = [
    { x: [2, 9, 9, 5], k: [3, 3], s: [2, 2], pad: 'same', m: 1 },
    { x: [3, 10, 7, 4], k: [3, 3], s: [2, 2], pad: 'valid', m: 1 },
    { x: [1, 11, 13, 3], k: [5, 3], s: [3, 2], pad: 'same', m: 2 },
    { x: [2, 8, 9, 6], k: [3, 3], s: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]], m: 1 },
    { x: [2, 8, 8, 2], k: [2, 2], s: [2, 2], pad: 'valid', m: 3 },
    { x: [1, 7, 7, 1], k: [3, 3], s: [1, 2], pad: 'same', m: 1 },
    // stride 1, multiplier 1: one product per filter tap
    { x: [2, 9, 9, 5], k: [3, 3], s: [1, 1], pad: 'same', m: 1 },
    { x: [2, 8, 9, 6], k: [3, 3], s: [1, 1], pad: [[0, 0], [2, 0], [0, 2], [0, 0]], m: 1 },
    { x: [3, 10, 7, 3], k: [5, 3], s: [1, 1], pad: 'valid', m: 1 },
    { x: [1, 6, 6, 130], k: [3, 3], s: [1, 1], pad: 'same', m: 1 },
    { x: [2, 7, 7, 3], k: [3, 3], s: [1, 1], pad: 'same', m: 2 },
  ];
  for (const [i, c] of cases.entries()) {
    const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.m];
    const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.s, 1, c.pad, undefined, true);
    const r = await compareBackends(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: rand(c.x, 360 + i), dy: rand(info.outShape, 380 + i) }, { strides: c.s, pad: c.pad, dilations: 1, filterShape }) as Tensor);
    assert.deepEqual(r.shape, filterShape, JSON.stringify(c));
    assert.ok(r.relErr <= TOLERANCE, `${JSON.stringify(c)}: rel err ${r.relErr}`);
  }
});

interface WasmBackendView {
  refCount(dataId: object): number;
  numDataIds(): number;
}
const wasmBackend = (): WasmBackendView => tf.findBackend('wasm') as unknown as WasmBackendView;
const dataIdOf = (t: Tensor): object => (t as unknown as { dataId: object }).dataId;

void test('Identity on wasm shares the buffer (reference counted), and clones stay right through dispose, variable assign and matmuls', async () => {
  await tf.setBackend('wasm');
  const b = wasmBackend();
  const x = rand([4, 6], 400);
  const ids0 = b.numDataIds();
  const y = tf.engine().runKernel('Identity', { x }) as Tensor;
  assert.equal(dataIdOf(y), dataIdOf(x), 'the clone has the same buffer');
  assert.equal(b.refCount(dataIdOf(x)), 2);
  assert.equal(b.numDataIds(), ids0, 'no new buffer');
  const values = Array.from(x.dataSync());
  x.dispose();
  assert.equal(b.refCount(dataIdOf(y)), 1);
  assert.deepEqual(Array.from(y.dataSync()), values, 'the clone outlives its source');
  y.dispose();
  assert.equal(b.numDataIds(), ids0 - 1, 'the last reference frees the buffer');

  // A variable cloned (as tfjs does for gradients), then assigned: the clone keeps the old values.
  const v = tf.variable(rand([3, 5], 401));
  const before = Array.from(v.dataSync());
  const c = tf.engine().runKernel('Identity', { x: v }) as Tensor;
  v.assign(rand([3, 5], 402));
  assert.deepEqual(Array.from(c.dataSync()), before, 'clone of a variable after assign');
  assert.notDeepEqual(Array.from(v.dataSync()), before, 'the variable has its new value');
  c.dispose();
  v.dispose();

  // The matmul operator cache keys on buffers: a clone used as the right operand with another shape
  // than its source must still give the right product.
  const r = await compareBackends(() => {
    const w = rand([8, 6], 403);
    const p1 = tf.matMul(rand([3, 8], 404), w);
    const w2 = tf.reshape(tf.engine().runKernel('Identity', { x: w }) as Tensor, [6, 8]);
    const p2 = tf.matMul(rand([2, 6], 405), w2);
    const p3 = tf.matMul(rand([3, 8], 406), tf.engine().runKernel('Identity', { x: w }) as Tensor);
    return [p1, p2, p3];
  });
  assert.ok(r.relErr <= TOLERANCE, `rel err ${r.relErr}`);
});

void test('gradients through clones (tfjs saves tensors with Identity) match cpu', async () => {
  const r = await compareBackends(() => {
    const a = rand([2, 3, 5, 4], 420);
    const w = rand([2, 3, 4, 4], 421);
    const f = (p: Tensor, q: Tensor): Tensor => tf.sum(tf.mul(tf.softmax(tf.matMul(p, q)), tf.exp(tf.mul(p, 0.3))));
    const [ga, gw] = tf.grads(f)([a, w]);
    return [ga, gw];
  });
  assert.ok(r.relErr <= TOLERANCE, `rel err ${r.relErr}`);
});

void test('the heap kernels repeated leave tf.memory().numTensors and the wasm backend buffer count unchanged', async () => {
  await tf.setBackend('wasm');
  const x4 = rand([3, 6, 6, 8], 440);
  const dy2 = rand([3, 3, 3, 8], 441);
  const qa = rand([2, 2, 9, 5], 442);
  const qb = rand([2, 2, 5, 9], 443);
  const am = rand([8, 5], 444);
  const ops: [string, () => void][] = [
    ['matMul both batched', () => tf.dispose(tf.matMul(qa, qb))],
    ['matMul both batched, transposed', () => tf.dispose(tf.matMul(qa, qa, false, true))],
    ['matMul broadcast a', () => tf.dispose(tf.matMul(am, tf.reshape(x4, [3, 8, 36]), true, false))],
    ['sum', () => tf.dispose(tf.sum(x4, [0, 1, 2]))],
    ['mean middle', () => tf.dispose(tf.mean(x4, 1, true))],
    ['slice', () => tf.dispose(tf.slice(x4, [0, 1, 0, 2], [3, 4, 6, 3]))],
    ['split equal', () => tf.dispose(tf.split(x4, 4, 3))],
    ['split unequal', () => tf.dispose(tf.split(x4, [3, 5], 3))],
    ['identity', () => tf.dispose(tf.engine().runKernel('Identity', { x: x4 }) as Tensor)],
    ['depthwise filter grad, stride 1', () => tf.dispose(tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: x4, dy: x4 }, { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 8, 1] }) as Tensor)],
    ['depthwise filter grad, stride 2', () => tf.dispose(tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: x4, dy: dy2 }, { strides: [2, 2], pad: 'same', dilations: 1, filterShape: [3, 3, 8, 1] }) as Tensor)],
    ['matMul swapped', () => tf.dispose(tf.matMul(tf.reshape(dy2, [2, 108]), tf.reshape(x4, [108, 8])))],
    ['conv input grad, stride 2', () => tf.dispose(tf.engine().runKernel('Conv2DBackpropInput', { dy: dy2, filter: tf.reshape(tf.slice(x4, [0, 0, 0, 0], [1, 3, 3, 8]), [3, 3, 1, 8]) }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', inputShape: [3, 6, 6, 1] }) as Tensor)],
    ['gradient step', () => tf.dispose(tf.grads((p: Tensor) => tf.sum(tf.matMul(p, qb)))([qa]))],
  ];
  assertNoLeaks(ops, 20);
  tf.dispose([x4, dy2, qa, qb, am]);
});
