// Model and metrics figures: metrics over 1,000 map pairs, `small` training and inference throughput on the
// wasm backend (the CPU backend of this machine), and the `paper` configuration's parameter count counted from
// real variables.
import { record } from './record';
import { randomPairBatch } from './randomBatch';
import { initRuntime, runtimeInfo, tf } from '../kernel/runtime/index';
import { PIALNet, PAPER_PARAMS_M, disposeBatch, type PairBatch } from '../kernel/ml/model/index';
import { metricsBatch } from '../kernel/ml/metrics/index';
import { train, pialLoss } from '../kernel/ml/train/index';
import { trainingThreads } from '../kernel/runtime/threads';
import { blas, disableBlas } from '../kernel/runtime/blas';

function blobMaps(n: number, size: number, seed: number): tf.Tensor3D {
  return tf.tidy(() => {
    const c = tf.randomUniform([n, 1, 1, 2], 0.2, 0.8, 'float32', seed);
    const r = tf.div(tf.range(0, size), size);
    const yy = tf.reshape(r, [1, size, 1]);
    const xx = tf.reshape(r, [1, 1, size]);
    const [cy, cx] = tf.split(tf.reshape(c, [n, 1, 1, 2]), 2, 3).map((t) => tf.reshape(t, [n, 1, 1]));
    const d = tf.add(tf.square(tf.sub(yy, cy)), tf.square(tf.sub(xx, cx)));
    return tf.exp(tf.div(tf.neg(d), 2 * 0.1 * 0.1)) as tf.Tensor3D;
  });
}

/**
 * Milliseconds per kernel of one training step (forward, loss, gradients; the optimizer excluded), summed over
 * the step's invocations: `model.small_step_kernels.<Kernel>_ms` for the 15 costliest, plus the step's total.
 */
async function stepKernels(model: PIALNet, b: PairBatch): Promise<Record<string, number>> {
  const vars = model.build().variables();
  const step = async (): Promise<void> => {
    const { value, grads } = tf.variableGrads(() => pialLoss(model, b).total, vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  await step();
  await step();
  const t0 = performance.now();
  await step();
  const stepMs = performance.now() - t0;
  const info = await tf.profile(async () => {
    await step();
  });
  const byKernel = new Map<string, number>();
  // customGrad ops appear as "forward" around the kernels they run: counted by their kernels only.
  for (const k of info.kernels) if (k.name !== 'forward') byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const rows = [...byKernel.entries()].sort((x, y) => y[1] - x[1]);
  const out: Record<string, number> = { 'model.small_step_ms_1t': stepMs };
  for (const [name, ms] of rows.slice(0, 15)) out[`model.small_step_kernels.${name}_ms`] = ms;
  out['model.small_step_kernels.others_ms'] = rows.slice(15).reduce((a, [, ms]) => a + ms, 0);
  return out;
}

async function main(): Promise<void> {
  await initRuntime({ backend: (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm', notebookDir: process.cwd() });
  const backend = runtimeInfo().backend;

  // KLD + SIM + NSS over 1,000 pairs of 224 x 224 maps, in chunks of 250 (one read-back each).
  const chunks = [0, 1, 2, 3].map((i) => [blobMaps(250, 224, 10 + i), blobMaps(250, 224, 20 + i)] as const);
  await metricsBatch(chunks[0][0], chunks[0][1]);
  const t0 = performance.now();
  for (const [p, g] of chunks) await metricsBatch(p, g);
  const metricsMs = performance.now() - t0;
  tf.dispose(chunks.flat());

  // small: training throughput (batch 8) at 128 and 96 px, on 1 thread and on every core, over 6 timed steps
  // after 2 warm-up steps; all figures of one run, so their ratios are comparable.
  const cores = trainingThreads();
  const trainFigures: Record<string, number> = {};
  const trainRate = async (inputSize: number, threads: number): Promise<number> => {
    const m = PIALNet.create({ base: 'small', name: 'small', inputSize });
    const bb = randomPairBatch(8, inputSize);
    const stamps: number[] = [];
    await train(m, [bb], { steps: 8, threads, display: false, onBatchEnd: () => void stamps.push(performance.now()) });
    m.dispose();
    disposeBatch(bb);
    return (8 * 6) / ((stamps[7] - stamps[1]) / 1000);
  };
  for (const inputSize of [128, 96]) {
    for (const threads of cores > 1 ? [1, cores] : [1]) {
      trainFigures[`model.small_train_pairs_per_s_${inputSize}px_${threads}t`] = await trainRate(inputSize, threads);
    }
  }
  // The same 1-thread figure with the system BLAS set aside (XNNPACK only), as the same-run baseline of
  // the BLAS routes (kernel/runtime/blas.ts); absent where no BLAS is installed.
  if (blas()) {
    disableBlas(true);
    try {
      trainFigures['model.small_train_pairs_per_s_96px_1t_without_blas'] = await trainRate(96, 1);
    } finally {
      disableBlas(false);
    }
  }
  const trainPerSec = trainFigures[`model.small_train_pairs_per_s_128px_${cores}t`];

  // small: milliseconds per kernel of one training step (128 px, batch 8, 1 thread; tf.profile after 2 steps).
  const model = PIALNet.create('small');
  const size = model.options.inputSize;
  const b = randomPairBatch(8, size);
  const kernelFigures = await stepKernels(model, b);

  // small: inference throughput, batch 8.
  const predictOnce = async (): Promise<void> => {
    const o = model.predict(b);
    await o.dNon.data();
    tf.dispose([o.dIn, o.dNon].filter((t): t is tf.Tensor4D => t !== null));
  };
  await predictOnce();
  const t1 = performance.now();
  for (let i = 0; i < 5; i++) await predictOnce();
  const inferPerSec = (8 * 5) / ((performance.now() - t1) / 1000);
  model.dispose();
  disposeBatch(b);

  // paper: parameters counted from real variables.
  const paper = PIALNet.create('paper', { build: true });
  const real = paper.variables().reduce((a, v) => a + v.size, 0);
  if (real !== paper.countParams()) throw new Error(`paper: ${real} parameters in variables, ${paper.countParams()} declared`);
  paper.dispose();

  record({
    'metrics.1000_maps_ms': metricsMs,
    'model.small_train_pairs_per_s': trainPerSec,
    'model.train_threads': cores,
    ...trainFigures,
    ...kernelFigures,
    'model.small_infer_pairs_per_s': inferPerSec,
    'model.paper_params_m': real / 1e6,
    'model.paper_params_target_m': PAPER_PARAMS_M,
    'model.backend': backend,
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
