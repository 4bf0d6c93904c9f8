/**
 * nano PIAL-Net trained for a few steps from the same seed and batch on cpu, wasm and webgpu: the
 * losses of every step and every weight afterwards agree to 1e-4, and the library made no synchronous
 * read of a GPU tensor on the way.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, webgpuSkip, useWasmToo, relError, adapterLabel } from './setup';
import { webgpuSyncReadCount } from '../../kernel/runtime/index';
import { PIALNet, disposeBatch } from '../../kernel/ml/model/index';
import { train, releaseTrainingState } from '../../kernel/ml/train/index';
import { makeBatch } from '../model/fixtures';

before(useWasmToo);
const skip = webgpuSkip;

const STEPS = 3;

interface Run {
  losses: number[];
  weights: Float32Array[];
  names: string[];
}

async function trainOn(backend: string): Promise<Run> {
  assert.ok(await tf.setBackend(backend));
  const batch = makeBatch(2, 32, 5);
  const model = PIALNet.create('nano', { build: true });
  // AdamW's epsilon at 1e-3 (default 1e-8): parameters whose true gradient is zero (the key half of an attention's
  // kv bias: softmax ignores a shift shared by all keys) would otherwise take lr-sized steps driven by float32
  // rounding noise, differently on each backend; this compares the backends' arithmetic, not that noise.
  const r = await train(model, [batch], { steps: STEPS, lr: 1e-3, warmupSteps: 1, epsilon: 1e-3, display: false });
  assert.equal(r.state, 'done');
  const vars = model.variables();
  const weights = await Promise.all(vars.map(async (v) => Float32Array.from(await v.data())));
  const run = { losses: r.history.map((p) => p.loss), weights, names: vars.map((v) => v.name.replace(/#[^#]*$/, '')) };
  releaseTrainingState(model);
  model.dispose();
  disposeBatch(batch);
  return run;
}

void test(`nano PIAL-Net, ${STEPS} steps: losses and weights on webgpu and wasm agree with cpu to 1e-4`, { skip }, async () => {
  const reads = webgpuSyncReadCount();
  const cpu = await trainOn('cpu');
  const wasm = await trainOn('wasm');
  const gpu = await trainOn('webgpu');
  assert.equal(webgpuSyncReadCount(), reads, 'training on webgpu made synchronous reads');
  assert.equal(cpu.losses.length, STEPS);
  for (const [name, run] of [['wasm', wasm], ['webgpu', gpu]] as const) {
    for (let i = 0; i < STEPS; i++) {
      assert.ok(Math.abs(run.losses[i] - cpu.losses[i]) <= 1e-4, `${name} step ${i + 1}: loss ${run.losses[i]} vs cpu ${cpu.losses[i]} (${adapterLabel()})`);
    }
    assert.deepEqual(run.names, cpu.names);
    let worst = 0;
    let worstName = '';
    for (let k = 0; k < cpu.weights.length; k++) {
      const e = relError(cpu.weights[k], run.weights[k]).relErr;
      if (e > worst) [worst, worstName] = [e, cpu.names[k]];
    }
    assert.ok(worst <= 1e-4, `${name}: weight ${worstName} differs from cpu by ${worst} of its scale`);
  }
  // The weights moved: the comparison is not of three untouched initialisations.
  const init = PIALNet.create('nano', { build: true });
  const moved = init.variables().some((v, k) => relError(cpu.weights[k], v.dataSync()).relErr > 1e-3);
  init.dispose();
  assert.ok(moved, 'training changed the weights');
  console.log(`losses cpu ${cpu.losses.map((l) => l.toFixed(5)).join(' ')}; webgpu ${gpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
});
