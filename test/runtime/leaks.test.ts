/**
 * No leaks: a training step (forward, backward, Adam update) of the conv-and-attention net repeated 50
 * times leaves the engine's tensor count unchanged, on wasm and on cpu; on wasm the module's heap
 * stops growing too (the composite kernels free every intermediate, XNNPACK operators included).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, ready } from './helpers';
import { SMALL_NET, makeParams, makeBatch, forward, bceLoss } from './nets';

before(ready);

function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = b.wasm?.HEAPU8;
  if (!heap) throw new Error('the active backend has no wasm heap');
  return heap.byteLength;
}

async function trainSteps(backend: string, steps: number, h: number, w: number): Promise<{ after1: number; afterAll: number; losses: number[]; heap1?: number; heapAll?: number }> {
  await tf.setBackend(backend);
  const start = tf.memory().numTensors;
  const init = makeParams(SMALL_NET, 5);
  const vars = init.map((t) => tf.variable(t));
  tf.dispose(init);
  const { x, y } = makeBatch(SMALL_NET, 2, h, w, 11);
  const opt = tf.train.adam(1e-2);
  const losses: number[] = [];
  let after1 = 0;
  let heap1: number | undefined;
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => bceLoss(forward(SMALL_NET, vars, x), y), true, vars);
    if (!loss) throw new Error('minimize returned no loss');
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    // The first step creates Adam's moment variables; from then on the count must stay put.
    if (i === 0) {
      after1 = tf.memory().numTensors;
      if (backend === 'wasm') heap1 = wasmHeapBytes();
    }
  }
  const afterAll = tf.memory().numTensors;
  const heapAll = backend === 'wasm' ? wasmHeapBytes() : undefined;
  opt.dispose();
  tf.dispose([...vars, x, y]);
  assert.equal(tf.memory().numTensors, start, `${backend}: everything the test made is released`);
  return { after1, afterAll, losses, heap1, heapAll };
}

void test('50 training steps on wasm leave tf.memory().numTensors and the wasm heap unchanged', async () => {
  const r = await trainSteps('wasm', 50, 24, 24);
  assert.equal(r.afterAll, r.after1, `tensors after step 1: ${r.after1}, after step 50: ${r.afterAll}`);
  assert.equal(r.heapAll, r.heap1, 'wasm heap size after step 1 and after step 50');
  assert.ok(r.losses[49] < r.losses[0], `the net learns (loss ${r.losses[0]} -> ${r.losses[49]})`);
});

void test('50 training steps on cpu leave tf.memory().numTensors unchanged', async () => {
  const r = await trainSteps('cpu', 50, 8, 8);
  assert.equal(r.afterAll, r.after1, `tensors after step 1: ${r.after1}, after step 50: ${r.afterAll}`);
  assert.ok(r.losses[49] < r.losses[0], `the net learns (loss ${r.losses[0]} -> ${r.losses[49]})`);
});
