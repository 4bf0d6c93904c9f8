/**
 * The system BLAS the wasm kernels hand their products to (kernel/runtime/blas.ts): the search, its
 * errors, cblas_sgemm against a double-precision loop, and every kernel that uses it against the cpu
 * backend with the BLAS and without it (XNNPACK).
 *
 * Where no BLAS library is installed the BLAS cases skip, saying so; with
 * AFFORDANCE_LAB_BLAS_REQUIRED=1 (CI, which installs Debian's libopenblas0-openmp) they fail instead.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, randomValues, size, compareBackends, assertNoLeaks, TOLERANCE, type Tensor } from './helpers';
import { blasStatus, blasCandidates, disableBlas, resetBlasForTests, BLAS_ENV } from '../../kernel/runtime/blas';
import { initRuntime, runtimeInfo } from '../../kernel/runtime/index';

before(ready);
after(() => {
  disableBlas(false);
  resetBlasForTests();
});

const required = process.env.AFFORDANCE_LAB_BLAS_REQUIRED === '1';
const found = blasStatus();
const skip = found.blas || required ? false : `no BLAS here: ${found.reason}`;

type Shape4 = [number, number, number, number];
const t = (shape: number[], seed: number): Tensor => tf.tensor(randomValues(size(shape), seed), shape);

void test('a BLAS library is found and described by file name only', { skip }, () => {
  const st = blasStatus();
  assert.ok(st.blas, `no BLAS: ${st.blas ? '' : st.reason}`);
  assert.ok(!st.blas.library.includes('/'), `library named by file: ${st.blas.library}`);
  assert.ok(st.blas.description.length > 0);
});

void test('runtime.info() names the BLAS in the wasm device description', { skip }, async () => {
  await initRuntime({ backend: 'wasm', notebookDir: __dirname });
  const info = runtimeInfo();
  assert.equal(info.backend, 'wasm');
  assert.match(info.device, /BLAS|OpenBLAS|MKL|Accelerate/);
  assert.ok(!info.device.includes('/'), `no paths in the device: ${info.device}`);
});

void test(`${BLAS_ENV}=off and an unusable library name give reasons, never a throw`, () => {
  try {
    resetBlasForTests();
    const off = blasStatus({ [BLAS_ENV]: 'off' });
    assert.equal(off.blas, undefined);
    assert.match(off.blas ? '' : off.reason, /turned off/);
    resetBlasForTests();
    const bad = blasStatus({ [BLAS_ENV]: '/nowhere/libno-such-blas.so.7' });
    assert.equal(bad.blas, undefined);
    const reason = bad.blas ? '' : bad.reason;
    assert.match(reason, /libno-such-blas\.so\.7/);
    assert.ok(!reason.includes('/nowhere'), `the reason names the file, not its folder: ${reason}`);
  } finally {
    resetBlasForTests();
    blasStatus();
  }
  assert.ok(blasCandidates('linux').includes('libopenblas.so.0'));
  assert.ok(blasCandidates('darwin').some((n) => n.includes('Accelerate')));
});

void test('cblas_sgemm over heap-like views matches a double-precision loop for every transpose pair and row stride', { skip }, () => {
  const st = blasStatus();
  assert.ok(st.blas);
  const { sgemm } = st.blas;
  const shapes: [number, number, number][] = [[1, 1, 1], [7, 5, 3], [33, 17, 65], [128, 9, 200], [2, 300, 4]];
  let seed = 1;
  for (const [m, n, k] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const lda = (ta ? m : k) + 2;
        const ldb = (tb ? k : n) + 1;
        const ldc = n + 3;
        // One buffer with the three matrices at offsets, as they lie in the wasm heap.
        const la = (ta ? k : m) * lda;
        const lb = (tb ? n : k) * ldb;
        const heap = randomValues(la + lb + m * ldc + 8, seed++);
        const a = heap.subarray(4, 4 + la);
        const b = heap.subarray(4 + la, 4 + la + lb);
        const c = heap.subarray(4 + la + lb, 4 + la + lb + m * ldc);
        const c0 = Float32Array.from(c);
        sgemm(ta, tb, m, n, k, a, lda, b, ldb, 0.5, c, ldc);
        let worst = 0;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let want = 0.5 * c0[i * ldc + j];
            for (let p = 0; p < k; p++) want += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            worst = Math.max(worst, Math.abs(c[i * ldc + j] - want) / Math.max(1, Math.abs(want)));
          }
          // The padding past each row of c is left alone.
          for (let j = n; j < ldc; j++) assert.equal(c[i * ldc + j], c0[i * ldc + j], `c padding at row ${i}`);
        }
        assert.ok(worst < 1e-5, `[${m},${k}]x[${k},${n}] ta=${ta} tb=${tb}: rel err ${worst}`);
      }
    }
  }
});

interface Conv {
  x: Shape4;
  k: [number, number];
  co: number;
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

/** Convolutions of the shapes a step has (channels 3-64, 7x7 stride 4, 3x3 stride 2, 1x1) and odd ones. */
const CONVS: Conv[] = [
  { x: [2, 24, 24, 3], k: [7, 7], co: 8, strides: [4, 4], dilations: [1, 1], pad: 'same' },
  { x: [2, 12, 12, 16], k: [3, 3], co: 32, strides: [2, 2], dilations: [1, 1], pad: 'same' },
  { x: [3, 9, 10, 17], k: [3, 3], co: 5, strides: [1, 1], dilations: [1, 1], pad: 'same' },
  { x: [2, 8, 8, 64], k: [1, 1], co: 6, strides: [1, 1], dilations: [1, 1], pad: 'valid' },
  { x: [1, 11, 7, 4], k: [3, 2], co: 3, strides: [2, 1], dilations: [1, 1], pad: 'valid' },
  { x: [2, 10, 11, 5], k: [3, 3], co: 4, strides: [2, 2], dilations: [1, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 13, 12, 3], k: [3, 3], co: 4, strides: [1, 1], dilations: [2, 2], pad: 'same' },
  { x: [2, 6, 6, 8], k: [1, 1], co: 8, strides: [2, 2], dilations: [1, 1], pad: 'valid' },
];

const convLabel = (c: Conv): string => `x=[${c.x.join()}] k=${c.k.join('x')}x${c.co} s=${c.strides.join()} d=${c.dilations.join()} pad=${JSON.stringify(c.pad)}`;

for (const withBlas of [true, false]) {
  const route = withBlas ? 'with the BLAS' : 'without it (XNNPACK)';
  void test(`Conv2D and its two gradients match cpu ${route}`, { skip: withBlas ? skip : false }, async () => {
    disableBlas(!withBlas);
    try {
      for (const [i, c] of CONVS.entries()) {
        const fs: Shape4 = [c.k[0], c.k[1], c.x[3], c.co];
        const y = await compareBackends(() => tf.conv2d(t(c.x, 10 + i) as tf.Tensor4D, t(fs, 20 + i) as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations));
        assert.ok(y.relErr <= TOLERANCE, `Conv2D ${convLabel(c)}: rel err ${y.relErr}`);
        if (c.dilations[0] > 1) continue; // the backprop kernels have no dilation
        const info = tf.backend_util.computeConv2DInfo(c.x, fs, c.strides, 1, c.pad);
        const ys = info.outShape;
        const f = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: t(c.x, 30 + i), dy: t(ys, 40 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: fs }) as Tensor);
        assert.deepEqual(f.shape, fs);
        assert.ok(f.relErr <= TOLERANCE, `Conv2DBackpropFilter ${convLabel(c)}: rel err ${f.relErr}`);
        const d = await compareBackends(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: t(ys, 50 + i), filter: t(fs, 60 + i) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as Tensor);
        assert.deepEqual(d.shape, c.x);
        assert.ok(d.relErr <= TOLERANCE, `Conv2DBackpropInput ${convLabel(c)}: rel err ${d.relErr}`);
      }
    } finally {
      disableBlas(false);
    }
  });

  void test(`DepthwiseConv2dNativeBackpropFilter at stride 1 matches cpu ${route}, on both sides of the channel-row threshold`, { skip: withBlas ? skip : false }, async () => {
    disableBlas(!withBlas);
    try {
      const cases: { x: Shape4; k: number; pad: 'same' | 'valid' }[] = [
        { x: [2, 16, 16, 8], k: 3, pad: 'same' }, // channel rows of 648
        { x: [4, 6, 6, 33], k: 3, pad: 'same' }, // 256
        { x: [2, 5, 5, 20], k: 3, pad: 'same' }, // 98
        { x: [3, 12, 14, 3], k: 3, pad: 'valid' }, // 504, no padding
        { x: [1, 24, 20, 2], k: 5, pad: 'same' }, // 672
        { x: [2, 9, 9, 1], k: 1, pad: 'valid' },
      ];
      for (const [i, c] of cases.entries()) {
        const fs: Shape4 = [c.k, c.k, c.x[3], 1];
        const ys = tf.backend_util.computeConv2DInfo(c.x, fs, 1, 1, c.pad, undefined, true).outShape;
        const r = await compareBackends(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t(c.x, 70 + i), dy: t(ys, 80 + i) }, { strides: 1, pad: c.pad, dilations: 1, filterShape: fs }) as Tensor);
        assert.deepEqual(r.shape, fs);
        assert.ok(r.relErr <= TOLERANCE, `x=[${c.x.join()}] k=${c.k} ${c.pad}: rel err ${r.relErr}`);
      }
    } finally {
      disableBlas(false);
    }
  });
}

void test('Sum and Mean over long leading axes (BLAS chunks added in double) match cpu, and a long column keeps float32 rounding', { skip }, async () => {
  await tf.setBackend('wasm');
  const cases: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
    { shape: [300, 40], axis: 0 }, // 3 chunks, the last one partial
    { shape: [128, 8], axis: 0 }, // exactly one chunk, the narrowest width taken
    { shape: [3, 200, 16], axis: 1 }, // several outer blocks
    { shape: [4, 9, 10, 12], axis: [0, 1, 2], keepDims: true },
    { shape: [63, 50], axis: 0 }, // below the row threshold: the JavaScript pass
    { shape: [500, 7], axis: 0 }, // below the width threshold
  ];
  for (const [i, c] of cases.entries()) {
    for (const op of ['sum', 'mean'] as const) {
      const r = await compareBackends(() => tf[op](t(c.shape, 90 + i), c.axis, c.keepDims ?? false));
      assert.ok(r.relErr <= TOLERANCE, `${op} ${JSON.stringify(c)}: rel err ${r.relErr}`);
    }
  }
  // 40000 values of about 1 per column (313 chunks): the result stays within float32 rounding of cpu's double sum.
  const long = await compareBackends(() => tf.sum(tf.add(tf.mul(t([40000, 9], 99), 0.01), 1), 0));
  assert.ok(long.relErr <= 1e-6, `long columns: rel err ${long.relErr}`);
  assertNoLeaks([['column sums', () => tf.dispose(tf.sum(t([300, 40], 98), 0))]], 5);
});

void test('the BLAS kernels leave tf.memory().numTensors and the wasm buffer count unchanged when repeated', { skip }, async () => {
  await tf.setBackend('wasm');
  const x = t([2, 12, 12, 8], 1) as tf.Tensor4D;
  const w = t([3, 3, 8, 16], 2) as tf.Tensor4D;
  const dwf = t([3, 3, 8, 1], 3) as tf.Tensor4D;
  const ops: [string, () => void][] = [
    ['conv2d and its gradients', () => tf.dispose(tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same')))([x, w]))],
    ['depthwise filter gradient', () => tf.dispose(tf.grad((q: Tensor) => tf.sum(tf.depthwiseConv2d(x, q as tf.Tensor4D, 1, 'same')))(dwf))],
    ['batched product', () => tf.dispose(tf.matMul(t([3, 5, 7], 4), t([3, 6, 7], 5), false, true))],
  ];
  assertNoLeaks(ops, 5);
  tf.dispose([x, w, dwf]);
});
