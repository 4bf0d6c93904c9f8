/**
 * Training stays deterministic for a seed on wasm and cpu with the corrected gradients: two runs of the same
 * seed give bit-identical weights, another seed does not.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime, tf } from '../../kernel/runtime/index';
import { PIALNet } from '../../kernel/ml/model/index';
import { train } from '../../kernel/ml/train/index';
import { randomBatch } from './check';

before(() => initRuntime({ backend: 'wasm', notebookDir: __dirname }));

async function run(backend: string, seed: number): Promise<{ weights: Float32Array; losses: number[] }> {
  await tf.setBackend(backend);
  const model = PIALNet.create({ base: 'nano', seed });
  const batches = [randomBatch(model.options, 2, 21), randomBatch(model.options, 2, 22)];
  const r = await train(model, batches, { steps: 4, lr: 1e-3, warmupSteps: 1, display: false });
  const weights = Float32Array.from(model.variables().flatMap((v) => Array.from(v.dataSync())));
  model.dispose();
  for (const b of batches) tf.dispose(Object.values(b));
  return { weights, losses: r.history.map((h) => h.loss) };
}

for (const backend of ['wasm', 'cpu']) {
  void test(`nano training is bit-identical for a seed on ${backend}`, async () => {
    const a = await run(backend, 3);
    const b = await run(backend, 3);
    const c = await run(backend, 4);
    assert.deepEqual(b.losses, a.losses);
    assert.ok(a.weights.every((x, i) => Object.is(x, b.weights[i])), 'same seed, same weights');
    assert.ok(a.weights.some((x, i) => x !== c.weights[i]), 'another seed, other weights');
  });
}
