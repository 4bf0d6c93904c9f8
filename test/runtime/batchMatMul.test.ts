/**
 * BatchMatMul on wasm against the cpu backend, every route forced in turn: one XNNPACK product per batch
 * item, one grouped convolution over the batch, wasm's own kernel, and the cost model's choice; over
 * odd and size-1 sizes, both transpose flags, a single matrix broadcast against a batch, batch dims of
 * rank 1 to 3, and 2-D products on both sides of the swap to (B^T A^T)^T. Each route is also repeated
 * without leaking tensors or wasm buffers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready, randomValues, size, compareBackends, assertNoLeaks, TOLERANCE, type Tensor } from './helpers';
import { forceBatchedMatMulRoute, type BatchedRoute } from '../../kernel/runtime/wasmKernels';
import { blas } from '../../kernel/runtime/blas';

before(ready);
after(() => forceBatchedMatMulRoute(undefined));

const rand = (shape: number[], seed: number): Tensor => tf.tensor(randomValues(size(shape), seed), shape);

/** Operand shapes for batch dims `outer` ([] for one side: a single matrix), sizes m, k, n and flags. */
function operands(outerA: number[], outerB: number[], m: number, k: number, n: number, tA: boolean, tB: boolean): { a: number[]; b: number[]; tA: boolean; tB: boolean } {
  return { a: [...outerA, ...(tA ? [k, m] : [m, k])], b: [...outerB, ...(tB ? [n, k] : [k, n])], tA, tB };
}

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** Both operands batched: sizes around the route threshold, odd and size-1 ones, batch ranks 1-3, broadcast. */
const BATCHED: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [];
const SIZES: [number[], number[], number, number, number][] = [
  [[3], [3], 5, 7, 4],
  [[2, 3], [2, 3], 9, 32, 25],
  [[2, 5], [2, 5], 16, 25, 32],
  [[4, 1], [4, 1], 33, 9, 6],
  [[2, 3], [2, 3], 1, 5, 1],
  [[2, 2], [2, 2], 17, 1, 8],
  [[5], [5], 6, 1, 1],
  [[2, 2, 3], [2, 2, 3], 7, 11, 13],
  [[3], [3], 40, 50, 30],
  [[2, 1, 2], [2, 1, 2], 36, 32, 9],
  [[], [4], 6, 7, 5],
  [[1], [3], 9, 13, 3],
  [[1, 1], [2, 3], 5, 4, 7],
  [[3], [3], 3, 70, 64],
  [[2, 1, 3], [1, 4, 3], 5, 6, 7],
];
for (const [oa, ob, m, k, n] of SIZES) for (const [tA, tB] of FLAGS) BATCHED.push(operands(oa, ob, m, k, n, tA, tB));

// 'blas' (cblas_sgemm per item, kernel/runtime/blas.ts) only where a BLAS library is installed.
const ROUTES: (BatchedRoute | undefined)[] = [...(blas() ? (['blas'] as const) : []), 'items', 'grouped', 'stock', undefined];

void test('BatchMatMul with both operands batched matches cpu on every route, for every transpose flag, broadcast and batch rank', async () => {
  for (const route of ROUTES) {
    forceBatchedMatMulRoute(route);
    for (const [i, c] of BATCHED.entries()) {
      // Reference: the operands broadcast to the full batch by hand first (tfjs's cpu kernel returns too few
      // values for batches that broadcast both ways, such as [2, 1, 3] against [1, 4, 3]).
      const ref = (): Tensor => {
        const a = rand(c.a, 500 + i);
        const b = rand(c.b, 600 + i);
        const oa = c.a.slice(0, -2);
        const ob = c.b.slice(0, -2);
        const outer = tf.broadcast_util.assertAndGetBroadcastShape(oa, ob);
        return tf.matMul(tf.broadcastTo(a, [...outer, ...c.a.slice(-2)]), tf.broadcastTo(b, [...outer, ...c.b.slice(-2)]), c.tA, c.tB);
      };
      const r = await compareBackends(() => tf.matMul(rand(c.a, 500 + i), rand(c.b, 600 + i), c.tA, c.tB), ref);
      assert.ok(r.relErr <= TOLERANCE, `${route ?? 'cost model'} ${JSON.stringify(c)}: rel err ${r.relErr}`);
    }
  }
  forceBatchedMatMulRoute(undefined);
});

void test('BatchMatMul on every route gives zeros for an empty inner axis and an empty result for an empty batch', async () => {
  for (const route of ROUTES) {
    forceBatchedMatMulRoute(route);
    const rz = await compareBackends(() => tf.matMul(tf.zeros([2, 3, 0]), tf.zeros([2, 0, 4])));
    assert.deepEqual(rz.shape, [2, 3, 4]);
    assert.equal(rz.relErr, 0);
    const re = await compareBackends(() => tf.matMul(tf.zeros([0, 3, 2]), tf.zeros([0, 2, 4])));
    assert.deepEqual(re.shape, [0, 3, 4]);
  }
  forceBatchedMatMulRoute(undefined);
});

void test('BatchMatMul with NaN and infinities in one item keeps them in that item on every route', async () => {
  for (const route of ROUTES) {
    forceBatchedMatMulRoute(route);
    const r = await compareBackends(() => {
      const a = rand([3, 4, 5], 700).mul(tf.tensor1d([1, Number.NaN, 1, 1, 1]));
      const b = rand([3, 5, 2], 701).mul(tf.tensor([1, 1, Infinity], [3, 1, 1]));
      return tf.matMul(a, b);
    });
    assert.ok(!Number.isFinite(r.relErr) || r.relErr <= TOLERANCE, `${route ?? 'cost model'}: rel err ${r.relErr}`);
  }
  forceBatchedMatMulRoute(undefined);
});

void test('2-D and left-batched BatchMatMul (direct or swapped to (B^T A^T)^T) matches cpu for every transpose flag', async () => {
  const cases: [number[], number, number, number][] = [
    [[], 72, 160, 160],
    [[], 32, 301, 128],
    [[], 6, 2000, 40],
    [[3], 2, 1500, 64],
    [[], 5, 37, 64],
    [[], 64, 45, 64],
    [[], 1, 9, 1],
    [[], 130, 17, 3],
    [[2], 3, 40, 17],
    [[2, 3], 7, 19, 5],
  ];
  // 'items' keeps 2-D products off the BLAS (XNNPACK, direct or swapped); undefined: the BLAS where there is one.
  for (const route of ['items', undefined] as const) {
    forceBatchedMatMulRoute(route);
    let i = 0;
    for (const [outer, m, k, n] of cases) {
      for (const [tA, tB] of FLAGS) {
        const c = operands(outer, [], m, k, n, tA, tB);
        const r = await compareBackends(() => tf.matMul(rand(c.a, 800 + i), rand(c.b, 900 + i), c.tA, c.tB));
        assert.ok(r.relErr <= TOLERANCE, `${route ?? 'default'} ${JSON.stringify(c)}: rel err ${r.relErr}`);
        i++;
      }
    }
  }
  forceBatchedMatMulRoute(undefined);
});

void test('BatchMatMul repeated on every route leaves tf.memory().numTensors and the wasm buffer count unchanged', async () => {
  await tf.setBackend('wasm');
  const qa = rand([2, 3, 9, 5], 1000);
  const qb = rand([2, 3, 5, 7], 1001);
  const one = rand([9, 5], 1002);
  const big = rand([2, 40, 50], 1003);
  const bigB = rand([2, 50, 30], 1004);
  for (const route of ROUTES) {
    forceBatchedMatMulRoute(route);
    const ops: [string, () => void][] = [
      ['both batched', () => tf.dispose(tf.matMul(qa, qb))],
      ['both batched, transposed', () => tf.dispose(tf.matMul(qb, qa, true, true))],
      ['broadcast a', () => tf.dispose(tf.matMul(one, qb))],
      ['large items', () => tf.dispose(tf.matMul(big, bigB))],
      ['gradient', () => tf.dispose(tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.matMul(p, q)))([qa, qb]))],
    ];
    assertNoLeaks(ops, 10, `${route ?? 'cost model'} `);
  }
  forceBatchedMatMulRoute(undefined);
  tf.dispose([qa, qb, one, big, bigB]);
});
