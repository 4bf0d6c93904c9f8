/**
 * Every kernel the runtime registers or replaces (kernel/runtime/: the wasm training kernels and the
 * cpu fix), run through the same kernel name on webgpu and compared with the cpu backend.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, webgpuSkip, useWebgpu, compareWithCpu, randomValues, size, TOLERANCE, type Tensor } from './setup';
import { WASM_TRAINING_KERNELS } from '../../kernel/runtime/wasmKernels';

before(async () => {
  await useWebgpu();
  // tfjs-backend-webgpu runs some kernels (Slice, Transpose, reductions, element-wise ops) on the CPU
  // when their inputs are small and still on the host; here every kernel must run its shader.
  if (!webgpuSkip) tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
});
const skip = webgpuSkip;

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

function t(shape: number[], seed: number): Tensor {
  return tf.tensor(randomValues(size(shape), seed), shape);
}

interface ConvCase {
  x: Shape4;
  k: [number, number];
  strides: number | [number, number];
  pad: Pad;
}

/** Strides 1/2/mixed, same/valid/explicit padding, odd sizes, batch 1 and more. */
const CONV_CASES: ConvCase[] = [
  { x: [1, 7, 7, 3], k: [3, 3], strides: 1, pad: 'same' },
  { x: [2, 9, 8, 4], k: [3, 3], strides: 2, pad: 'same' },
  { x: [3, 11, 6, 5], k: [3, 2], strides: [2, 1], pad: 'valid' },
  { x: [2, 10, 11, 3], k: [3, 3], strides: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];

const label = (c: ConvCase): string => `x=[${c.x.join()}] k=${c.k.join('x')} s=${JSON.stringify(c.strides)} pad=${JSON.stringify(c.pad)}`;

function outShape(c: ConvCase, filterOut: number, depthwise: boolean): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, [c.k[0], c.k[1], c.x[3], filterOut], c.strides, 1, c.pad, undefined, depthwise).outShape as Shape4;
}

function ok(r: { relErr: number }, what: string): void {
  assert.ok(r.relErr <= TOLERANCE, `${what}: webgpu differs from cpu by ${r.relErr} of the values' scale`);
}

/** One check per kernel name; the first test makes sure every registered name has one. */
const CHECKS: Record<string, () => Promise<void>> = {
  async Conv2D() {
    // The wasm runtime replaces Conv2D (im2col + a system BLAS); webgpu runs its own shader under the same name.
    const cases: ConvCase[] = [...CONV_CASES, { x: [2, 5, 6, 7], k: [1, 1], strides: 1, pad: 'valid' }];
    for (const [i, c] of cases.entries()) {
      const co = 2 + (i % 3);
      const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], co];
      const r = await compareWithCpu(() => tf.engine().runKernel('Conv2D', { x: t(c.x, 500 + i), filter: t(filterShape, 600 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 }) as Tensor);
      assert.deepEqual(r.shape, outShape(c, co, false));
      ok(r, label(c));
    }
  },
  async Conv2DBackpropFilter() {
    for (const [i, c] of CONV_CASES.entries()) {
      const co = 3 + (i % 3);
      const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], co];
      const r = await compareWithCpu(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t(c.x, i), dy: t(outShape(c, co, false), 100 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape }) as Tensor);
      assert.deepEqual(r.shape, filterShape);
      ok(r, label(c));
    }
  },
  async Conv2DBackpropInput() {
    for (const [i, c] of CONV_CASES.entries()) {
      const co = 2 + (i % 4);
      const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], co];
      const r = await compareWithCpu(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: t(outShape(c, co, false), 200 + i), filter: t(filterShape, 300 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as Tensor);
      assert.deepEqual(r.shape, c.x);
      ok(r, label(c));
    }
  },
  async DepthwiseConv2dNativeBackpropFilter() {
    for (const [i, c] of CONV_CASES.entries()) {
      const m = 1 + (i % 3);
      const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], m];
      const r = await compareWithCpu(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t(c.x, i), dy: t(outShape(c, m, true), 400 + i) }, { strides: c.strides, pad: c.pad, dilations: 1, filterShape }) as Tensor);
      assert.deepEqual(r.shape, filterShape);
      ok(r, `${label(c)} m=${m}`);
    }
  },
  async DepthwiseConv2dNativeBackpropInput() {
    for (const [i, c] of CONV_CASES.entries()) {
      const m = 1 + (i % 3);
      const filterShape: Shape4 = [c.k[0], c.k[1], c.x[3], m];
      const r = await compareWithCpu(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: t(outShape(c, m, true), 500 + i), filter: t(filterShape, 600 + i) }, { strides: c.strides, pad: c.pad, dilations: 1, inputShape: c.x }) as Tensor);
      assert.deepEqual(r.shape, c.x);
      ok(r, `${label(c)} m=${m}`);
    }
  },
  async UnsortedSegmentSum() {
    // Duplicate ids, an empty segment; rows of rank 1 and 2.
    const ids = [0, 2, 2, 4, 0, 1];
    for (const rest of [[], [3], [2, 5]]) {
      const r = await compareWithCpu(() => tf.unsortedSegmentSum(t([ids.length, ...rest], rest.length), tf.tensor1d(ids, 'int32'), 6));
      assert.deepEqual(r.shape, [6, ...rest]);
      ok(r, `rows [${rest.join()}]`);
    }
  },
  async Slice() {
    const cases: [number[], number[], number[]][] = [
      [[10], [3], [5]],
      [[6, 7], [1, 0], [4, 7]],
      [[4, 5, 6], [1, 2, 0], [2, 3, 6]],
      [[2, 5, 3, 4], [0, 1, 0, 0], [2, 3, 3, 4]],
      [[2, 6, 3, 4, 5], [0, 0, 1, 0, 0], [2, 6, 1, 4, 5]],
      [[2, 3, 2, 4, 3, 2], [1, 0, 0, 1, 0, 0], [1, 3, 2, 2, 3, 2]],
    ];
    for (const [shape, begin, sz] of cases) {
      const r = await compareWithCpu(() => tf.slice(t(shape, shape.length), begin, sz));
      assert.deepEqual(r.shape, sz);
      ok(r, `slice of [${shape.join()}]`);
    }
    const ints = await compareWithCpu(() => tf.slice(tf.range(0, 120, 1, 'int32').reshape([2, 3, 4, 5]), [0, 1, 0, 2], [2, 2, 4, 3]));
    ok(ints, 'int32 slice');
  },
  async BatchMatMul() {
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[2, 4, 5, 7], [7, 3], false, false],
      [[3, 5, 7], [3, 7, 4], false, false],
      [[2, 6, 5], [1, 6, 3], true, false],
    ];
    for (const [i, [a, b, ta, tb]] of cases.entries()) {
      const r = await compareWithCpu(() => tf.matMul(t(a, i), t(b, 50 + i), ta, tb));
      ok(r, `[${a.join()}]${ta ? 'T' : ''} x [${b.join()}]${tb ? 'T' : ''}`);
    }
  },
  async _FusedMatMul() {
    for (const [i, act] of (['linear', 'relu', 'elu'] as const).entries()) {
      const r = await compareWithCpu(() => tf.fused.matMul({ a: t([6, 9], i), b: t([4, 9], 10 + i), transposeB: true, bias: t([4], 20 + i), activation: act }));
      assert.deepEqual(r.shape, [6, 4]);
      ok(r, `fused matmul, ${act}`);
    }
  },
  async Sum() {
    for (const [shape, axis] of [[[64, 32], 0], [[4, 8, 16], [0, 1]], [[6, 5, 4], 2], [[3, 4], [0, 1]]] as [number[], number | number[]][]) {
      const r = await compareWithCpu(() => tf.sum(t(shape, 7), axis));
      ok(r, `sum of [${shape.join()}] over ${JSON.stringify(axis)}`);
    }
  },
  async Mean() {
    for (const [shape, axis] of [[[64, 32], 0], [[4, 8, 16], [0, 1]], [[6, 5, 4], -1]] as [number[], number | number[]][]) {
      const r = await compareWithCpu(() => tf.mean(t(shape, 8), axis, true));
      ok(r, `mean of [${shape.join()}] over ${JSON.stringify(axis)}`);
    }
  },
  async Transpose() {
    for (const [shape, perm] of [[[256, 64], [1, 0]], [[7, 5], [1, 0]], [[2, 3, 4, 5], [0, 2, 3, 1]], [[2, 3, 4, 5, 2], [4, 1, 0, 3, 2]]] as [number[], number[]][]) {
      const r = await compareWithCpu(() => tf.transpose(t(shape, 9), perm));
      ok(r, `transpose of [${shape.join()}] by [${perm.join()}]`);
    }
  },
  async SplitV() {
    for (const [axis, sizes] of [[3, [2, 5, 1]], [1, [1, -1]], [0, [1, 1]]] as [number, number[]][]) {
      const r = await compareWithCpu(() => tf.split(t([2, 4, 3, 8], 11), sizes, axis));
      ok(r, `split on axis ${axis} into ${JSON.stringify(sizes)}`);
    }
  },
  async Identity() {
    // tfjs clones every tensor it saves for backpropagation through Identity.
    const r = await compareWithCpu(() => {
      const x = t([3, 5, 4], 12);
      return [tf.clone(x), tf.engine().runKernel('Identity', { x }) as Tensor];
    });
    ok(r, 'identity of [3,5,4]');
  },
  async ResizeBilinearGrad() {
    // Non-square images, the case the cpu fix is about; up- and down-sampling.
    for (const [i, [images, out, alignCorners]] of ([[[2, 5, 8, 3], [10, 12], false], [[1, 9, 6, 2], [4, 7], true], [[2, 6, 10, 1], [3, 5], false]] as [Shape4, [number, number], boolean][]).entries()) {
      const r = await compareWithCpu(() => tf.engine().runKernel('ResizeBilinearGrad', { images: t(images, i), dy: t([images[0], out[0], out[1], images[3]], 30 + i) }, { alignCorners, halfPixelCenters: false }) as Tensor);
      assert.deepEqual(r.shape, images);
      ok(r, `images [${images.join()}] -> ${out.join('x')}, alignCorners ${alignCorners}`);
    }
  },
};

void test('every kernel the runtime registers or replaces has a webgpu check, and webgpu has the kernel', { skip }, () => {
  const ours = new Set([...WASM_TRAINING_KERNELS.map((k) => k.kernelName), 'ResizeBilinearGrad']);
  assert.deepEqual([...ours].sort(), Object.keys(CHECKS).sort());
  for (const name of ours) assert.ok(tf.getKernel(name, 'webgpu'), `webgpu has no ${name} kernel`);
});

for (const [name, check] of Object.entries(CHECKS)) {
  void test(`${name} on webgpu matches cpu`, { skip }, check);
}
