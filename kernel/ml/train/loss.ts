/**
 * Training loss of docs/paper.md 4.5: BCE(D_in, GT_in) + BCE(D_non, GT_non), equal weights, on the logits (the
 * numerically stable form), with the GT brought to the output resolution.
 */
import { tf } from '../model/tf';
import { imagesAt, type PairBatch } from '../model/batch';
import type { PIALNet } from '../model/pialnet';

/**
 * GT [B, H, W, C] at the output size [h, w]: average pooling when H, W are integer multiples of h, w
 * (each output pixel covers exactly its block), bilinear resizing otherwise.
 */
export function gtAtOutput(gt: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, H, W] = gt.shape;
  if (H === h && W === w) return gt;
  if (H % h === 0 && W % w === 0 && H / h === W / w) return tf.avgPool(gt, H / h, H / h, 'valid');
  return tf.image.resizeBilinear(gt, [h, w], false, true);
}

/** Mean binary cross-entropy of logits x against targets z in [0, 1]: max(x, 0) - x z + log(1 + exp(-|x|)). */
export function bceWithLogits(logits: tf.Tensor, target: tf.Tensor): tf.Scalar {
  const z = tf.clipByValue(target, 0, 1);
  const l = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, z)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.mean(l);
}

/**
 * Loss of one batch. Call inside `tf.variableGrads` (or a tidy).
 * @returns total = lossIn + lossNon (lossIn is 0 for the encoder-decoder baseline), and the parts as a [2] tensor
 */
export function pialLoss(model: PIALNet, batch: PairBatch): { total: tf.Scalar; parts: tf.Tensor1D } {
  const size = model.options.inputSize;
  const { logitsIn, logitsNon } = model.logits({ interactive: imagesAt(batch.interactive, size), nonInteractive: imagesAt(batch.nonInteractive, size), pose: batch.pose });
  const [, h, w] = logitsNon.shape;
  const lossNon = bceWithLogits(logitsNon, gtAtOutput(batch.gtNon, h, w));
  const lossIn = logitsIn ? bceWithLogits(logitsIn, gtAtOutput(batch.gtIn, h, w)) : tf.scalar(0);
  return { total: tf.add(lossIn, lossNon), parts: tf.stack([lossIn, lossNon]) as tf.Tensor1D };
}
