// Gradient check figure: the whole-model check of test/gradcheck (nano PIAL-Net, analytic gradients of the real
// training loss against Float64 central differences, a few hundred parameters over every group) on the
// benchmark backend. Kept beside the model figures under the `model.` prefix.
import { record } from './record';
import { initRuntime, runtimeInfo } from '../kernel/runtime/index';
import { checkModel } from '../test/gradcheck/check';

async function main(): Promise<void> {
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  const backend = runtimeInfo().backend;
  const t0 = performance.now();
  const r = await checkModel(backend, { samples: 240 });
  const worst = r.groups.reduce((a, g) => (g.relErr > a.relErr ? g : a));
  record({
    'model.gradcheck_worst_rel_err': r.worstRelErr,
    'model.gradcheck_worst_group': worst.group,
    'model.gradcheck_params': r.params,
    'model.gradcheck_backend': backend,
    'model.gradcheck_s': (performance.now() - t0) / 1000,
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
