// A tiny deterministic batch source for the model tests: blob-shaped contact maps whose position follows
// a keypoint of the pose, so that a model can learn something in a few steps.
import { tf } from './setup';
import type { PairBatch } from '../../kernel/ml/model/index';
import { rng } from '../rng';

export { rng } from '../rng';

export const CLASSES = ['Sit on', 'Ride', 'Kick'];

/** One batch of `n` pairs at `size` px, GT at `gtSize`. */
export function makeBatch(n: number, size: number, seed: number, gtSize = size): PairBatch {
  const r = rng(seed);
  const pose = new Float32Array(n * 17 * 3);
  const gt = new Float32Array(n * gtSize * gtSize * 6);
  const img = new Float32Array(n * size * size * 3);
  const classNames: string[] = [];
  for (let b = 0; b < n; b++) {
    const cx = 0.25 + 0.5 * r();
    const cy = 0.25 + 0.5 * r();
    for (let k = 0; k < 17; k++) {
      pose[(b * 17 + k) * 3] = Math.min(1, Math.max(0, cx + (r() - 0.5) * 0.2));
      pose[(b * 17 + k) * 3 + 1] = Math.min(1, Math.max(0, cy + (r() - 0.5) * 0.2));
      pose[(b * 17 + k) * 3 + 2] = 1;
    }
    classNames.push(CLASSES[b % CLASSES.length]);
    const active = [2, 5, b % 2 === 0 ? 1 : 3];
    for (let y = 0; y < gtSize; y++) {
      for (let x = 0; x < gtSize; x++) {
        const d = ((x / gtSize - cx) ** 2 + (y / gtSize - cy) ** 2) / (2 * 0.12 ** 2);
        for (const c of active) gt[((b * gtSize + y) * gtSize + x) * 6 + c] = Math.exp(-d);
      }
    }
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const d = ((x / size - cx) ** 2 + (y / size - cy) ** 2) / (2 * 0.15 ** 2);
        for (let c = 0; c < 3; c++) img[((b * size + y) * size + x) * 3 + c] = Math.exp(-d) * (c + 1) - 0.5 + 0.1 * r();
      }
    }
  }
  const gtT = tf.tensor4d(gt, [n, gtSize, gtSize, 6]);
  return {
    interactive: tf.tensor4d(img, [n, size, size, 3]),
    nonInteractive: tf.tensor4d(img.map((v) => v * 0.8), [n, size, size, 3]),
    pose: tf.tensor3d(pose, [n, 17, 3]),
    gtIn: gtT,
    gtNon: tf.clone(gtT),
    classNames,
  };
}
