// The project's side of `npm run bench:pytorch` (scripts/bench-pytorch.mjs loads this one module): where
// PyTorch is, the project's parameter counts for the PyTorch script to check, the results file, and the
// project's own `small` throughput measured with the PyTorch script's protocol, for ratios within one run.
import { record } from '../record';
import { torchPython, torchSkip } from '../../test/model/torchref';
import { initRuntime, runtimeInfo, tf } from '../../kernel/runtime/index';
import { PIALNet, disposeBatch } from '../../kernel/ml/model/index';
import { randomPairBatch } from '../randomBatch';
import { train, releaseTrainingState } from '../../kernel/ml/train/index';

export { record, torchPython, torchSkip };

/** Scalars per parameter name of PIAL-Net `small`, and their total. */
export function projectCounts(): { total: number; counts: Record<string, number> } {
  const m = PIALNet.create('small');
  const counts = Object.fromEntries([...m.params.specs.values()].map((s) => [s.name, s.shape.reduce((a, b) => a * b, 1)]));
  return { total: m.countParams(), counts };
}

export interface ProjectFigures {
  backend: string;
  device: string;
  size: number;
  /** pairs per second of wall time, and per second of this process's CPU time */
  train: { pairsPerS: number; pairsPerCpuS: number };
  infer: { pairsPerS: number; pairsPerCpuS: number };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * PIAL-Net `small` on the project's CPU backend (wasm unless AFFORDANCE_LAB_BACKEND says otherwise): `train`
 * with batch `batch` (loss, gradients, AdamW) on `threads` training threads (data-parallel replicas), `warmup`
 * steps then `steps` timed, and `predict` (one thread) likewise. CPU time counts every thread of the process.
 */
export async function measureProject(size: number, batch = 8, warmup = 2, steps = 5, threads = 1): Promise<ProjectFigures> {
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  const info = runtimeInfo();
  const model = PIALNet.create({ base: 'small', inputSize: size });
  const b = randomPairBatch(batch, size);
  const stamps: [number, number][] = [];
  await train(model, [b], { steps: warmup + steps, threads, display: false, onBatchEnd: () => void stamps.push([performance.now(), cpuSeconds()]) });
  const [w0, c0] = stamps[warmup - 1];
  const [w1, c1] = stamps[warmup + steps - 1];
  const trainFig = { pairsPerS: (batch * steps) / ((w1 - w0) / 1000), pairsPerCpuS: (batch * steps) / (c1 - c0) };
  releaseTrainingState(model);

  const predictOnce = async (): Promise<void> => {
    const o = model.predict(b);
    await o.dNon.data();
    tf.dispose([o.dIn, o.dNon].filter((t): t is tf.Tensor4D => t !== null));
  };
  for (let i = 0; i < warmup; i++) await predictOnce();
  const t0 = performance.now();
  const u0 = cpuSeconds();
  for (let i = 0; i < steps; i++) await predictOnce();
  const inferFig = { pairsPerS: (batch * steps) / ((performance.now() - t0) / 1000), pairsPerCpuS: (batch * steps) / (cpuSeconds() - u0) };
  model.dispose();
  disposeBatch(b);
  return { backend: info.backend ?? 'unknown', device: info.device, size, train: trainFig, infer: inferFig };
}
