// AdamW: one optimizer step over the `small` model's parameters (246 tensors, 2.26 M values) on the wasm backend,
// the in-memory loop against the tf-ops path, interleaved in one process; median of 10 after 2 warm-up steps.
import { record } from './record';
import { initRuntime, runtimeInfo, tf } from '../kernel/runtime/index';
import { PIALNet } from '../kernel/ml/model/index';
import { AdamW } from '../kernel/ml/train/index';

export async function adamwFigures(): Promise<Record<string, number | string>> {
  const model = PIALNet.create('small');
  model.build();
  const vars = model.variables();
  const grads: Record<string, tf.Tensor> = {};
  vars.forEach((v, i) => (grads[v.name] = tf.randomNormal(v.shape, 0, 1e-2, 'float32', i)));
  const paths = { fused: new AdamW([{ name: 'all', variables: vars }], { fused: true }), ops: new AdamW([{ name: 'all', variables: vars }], { fused: false }) };
  const times: Record<keyof typeof paths, number[]> = { fused: [], ops: [] };
  for (let r = 0; r < 12; r++) {
    for (const k of ['fused', 'ops'] as const) {
      const t0 = performance.now();
      paths[k].apply(grads, { all: 1e-5 });
      vars[vars.length - 1].dataSync(); // the step has run
      if (r >= 2) times[k].push(performance.now() - t0);
    }
  }
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
  paths.fused.dispose();
  paths.ops.dispose();
  tf.dispose(Object.values(grads));
  model.dispose();
  return {
    'train.adamw_small_ms': median(times.fused),
    'train.adamw_small_ops_ms': median(times.ops),
    'train.adamw_small_ops_over_fused': median(times.ops) / median(times.fused),
  };
}

async function main(): Promise<void> {
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  record({ ...(await adamwFigures()), 'train.backend': runtimeInfo().backend });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
