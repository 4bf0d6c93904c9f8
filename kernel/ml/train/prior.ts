/**
 * Prior baselines for comparison tables: a map that does not look at the images.
 * - `MeanPrior.fit(data)`: the mean training GT_non map per channel (the dataset's spatial prior);
 * - `centerPrior(size)`: an isotropic Gaussian at the image centre, the same for every channel.
 */
import { tf } from '../model/tf';
import { disposeBatch, iterateSource, toPairBatch, type BatchAdapter, type BatchSource, type Predictor } from '../model/batch';
import type { PIALNetInputs } from '../model/pialnet';
import { gtAtOutput } from './loss';

/** A predictor returning the same [S, S, 6] map for every input. */
export class FixedMapPredictor implements Predictor {
  readonly options: { name: string };
  constructor(
    /** [S, S, 6] */
    readonly map: tf.Tensor3D,
    name: string,
  ) {
    this.options = { name };
  }

  predict(inputs: PIALNetInputs): { dNon: tf.Tensor4D; dIn: null } {
    const b = inputs.nonInteractive.shape[0];
    return { dNon: tf.tidy(() => tf.tile(tf.expandDims(this.map, 0), [b, 1, 1, 1]) as tf.Tensor4D), dIn: null };
  }

  dispose(): void {
    this.map.dispose();
  }
}

/** The mean GT_non map of the training data, at `size` x `size`. */
export class MeanPrior extends FixedMapPredictor {
  /**
   * @param data training batches (read once)
   * @param options.size output side @default 56
   * @param options.maxPairs stop after this many pairs
   */
  static async fit(data: BatchSource<unknown>, options: { size?: number; maxPairs?: number; adapt?: BatchAdapter; disposeBatches?: boolean } = {}): Promise<MeanPrior> {
    const size = options.size ?? 56;
    const adapt = options.adapt ?? toPairBatch;
    const dispose = options.disposeBatches ?? !Array.isArray(data);
    let sum = tf.zeros([size, size, 6]) as tf.Tensor3D;
    let n = 0;
    for await (const item of iterateSource(data, 0)) {
      const b = adapt(item);
      const next = tf.tidy(() => tf.add(sum, tf.sum(gtAtOutput(b.gtNon, size, size), 0)) as tf.Tensor3D);
      sum.dispose();
      sum = next;
      n += b.gtNon.shape[0];
      if (dispose) disposeBatch(b);
      if (options.maxPairs && n >= options.maxPairs) break;
    }
    if (n === 0) throw new Error('MeanPrior.fit: the data yielded no pair');
    const mean = tf.tidy(() => tf.div(sum, n) as tf.Tensor3D);
    sum.dispose();
    return new MeanPrior(mean, 'mean prior');
  }
}

/** A centred Gaussian (sigma = size / 4) for every channel. */
export function centerPrior(size = 56): FixedMapPredictor {
  const s = size / 4;
  const map = tf.tidy(() => {
    const r = tf.sub(tf.range(0, size), (size - 1) / 2);
    const g = tf.exp(tf.div(tf.neg(tf.square(r)), 2 * s * s));
    const g2 = tf.mul(tf.expandDims(g, 1), tf.expandDims(g, 0));
    return tf.tile(tf.expandDims(g2, 2), [1, 1, 6]) as tf.Tensor3D;
  });
  return new FixedMapPredictor(map, 'center prior');
}
