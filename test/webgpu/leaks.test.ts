/**
 * No leaks on a GPU backend: 50 training steps of nano PIAL-Net on webgpu leave the engine's tensor
 * count as it was after the first step, and the bytes of device buffers in use as they were after the
 * second (the first two steps fill tfjs-backend-webgpu's queues of buffers released after submission).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, webgpuSkip, useWebgpu, flushGpu } from './setup';
import { runtime, webgpuSyncReadCount } from '../../kernel/runtime/index';
import { PIALNet, disposeBatch } from '../../kernel/ml/model/index';
import { train, releaseTrainingState } from '../../kernel/ml/train/index';
import { makeBatch } from '../model/fixtures';

before(useWebgpu);

const STEPS = 50;

void test('50 training steps on webgpu leave tf.memory().numTensors and the GPU bytes in use unchanged', { skip: webgpuSkip }, async () => {
  assert.ok(await tf.setBackend('webgpu'));
  const reads = webgpuSyncReadCount();
  const start = runtime.memory();
  const batches = [makeBatch(1, 32, 1), makeBatch(1, 32, 2)];
  const model = PIALNet.create('nano', { build: true });
  assert.equal(typeof start.gpuBytes, 'number', 'the webgpu backend reports GPU bytes');
  const counts: number[] = [];
  const gpu: number[] = [];
  await train(model, batches, {
    steps: STEPS,
    display: false,
    onBatchEnd: () => {
      const m = runtime.memory();
      counts.push(m.numTensors);
      gpu.push(m.gpuBytes ?? -1);
    },
  });
  assert.equal(counts.length, STEPS);
  assert.equal(counts[STEPS - 1], counts[0], `tensors after step 1: ${counts[0]}, after step ${STEPS}: ${counts[STEPS - 1]}`);
  const steady = gpu.slice(1);
  assert.ok(steady.every((b) => b === gpu[1]), `GPU bytes in use from step 2 on: ${[...new Set(steady)].join(', ')} (after step 2: ${gpu[1]}, after step ${STEPS}: ${gpu[STEPS - 1]})`);
  assert.equal(webgpuSyncReadCount(), reads, 'training on webgpu made synchronous reads');
  releaseTrainingState(model);
  model.dispose();
  batches.forEach(disposeBatch);
  await flushGpu();
  const end = runtime.memory();
  assert.equal(end.numTensors, start.numTensors, 'model, optimizer and batches are released');
  assert.equal(end.gpuBytes, start.gpuBytes, 'their device buffers are released');
});
