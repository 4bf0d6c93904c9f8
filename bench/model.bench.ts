// Model and metrics figures: metrics over 1,000 map pairs, `small` training and inference throughput on the
// wasm backend (the CPU backend of this machine), and the `paper` configuration's parameter count counted from
// real variables.
import { record } from './record';
import { initRuntime, runtimeInfo, tf } from '../kernel/runtime/index';
import { PIALNet, PAPER_PARAMS_M, type PairBatch } from '../kernel/ml/model/index';
import { metricsBatch } from '../kernel/ml/metrics/index';
import { train, releaseTrainingState } from '../kernel/ml/train/index';

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

function batch(n: number, size: number): PairBatch {
  return tf.tidy(() => ({
    interactive: tf.randomNormal([n, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    nonInteractive: tf.randomNormal([n, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
    pose: tf.randomUniform([n, 17, 3], 0, 1, 'float32', 3) as tf.Tensor3D,
    gtIn: tf.randomUniform([n, size, size, 6], 0, 1, 'float32', 4) as tf.Tensor4D,
    gtNon: tf.randomUniform([n, size, size, 6], 0, 1, 'float32', 5) as tf.Tensor4D,
  }));
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

  // small: training throughput (batch 8, 128 px) over 6 timed steps after 2 warm-up steps.
  const model = PIALNet.create('small');
  const size = model.options.inputSize;
  const b = batch(8, size);
  const stamps: number[] = [];
  await train(model, [b], { steps: 8, display: false, onBatchEnd: () => void stamps.push(performance.now()) });
  const trainPerSec = (8 * 6) / ((stamps[7] - stamps[1]) / 1000);
  releaseTrainingState(model);

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
  tf.dispose([b.interactive, b.nonInteractive, b.pose, b.gtIn, b.gtNon]);

  // paper: parameters counted from real variables.
  const paper = PIALNet.create('paper', { build: true });
  const real = paper.variables().reduce((a, v) => a + v.size, 0);
  if (real !== paper.countParams()) throw new Error(`paper: ${real} parameters in variables, ${paper.countParams()} declared`);
  paper.dispose();

  record({
    'metrics.1000_maps_ms': metricsMs,
    'model.small_train_images_per_s': trainPerSec,
    'model.small_infer_images_per_s': inferPerSec,
    'model.paper_params_m': real / 1e6,
    'model.paper_params_target_m': PAPER_PARAMS_M,
    'model.backend': backend,
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
