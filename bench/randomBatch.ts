// The random batch the model benchmarks train and infer on (bench/model.bench.ts, bench/pytorch/project.ts).
import { tf } from '../kernel/runtime/index';
import type { PairBatch } from '../kernel/ml/model/index';

/** n random pairs at size x size: normal images, uniform poses and GT (seeded, the same every run). */
export function randomPairBatch(n: number, size: number): PairBatch {
  return tf.tidy(() => ({
    interactive: tf.randomNormal([n, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    nonInteractive: tf.randomNormal([n, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
    pose: tf.randomUniform([n, 17, 3], 0, 1, 'float32', 3) as tf.Tensor3D,
    gtIn: tf.randomUniform([n, size, size, 6], 0, 1, 'float32', 4) as tf.Tensor4D,
    gtNon: tf.randomUniform([n, size, size, 6], 0, 1, 'float32', 5) as tf.Tensor4D,
  }));
}
