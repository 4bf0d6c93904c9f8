/**
 * The loss and gradient of one batch, optionally in micro-batches: the batch's pairs are passed through the model
 * a few at a time and the gradients of the pieces are added up, weighted by their share of the batch. The result
 * is the gradient of the whole batch's mean loss (up to float rounding) with the activation memory of one piece.
 * Used by the training loop and by each data-parallel replica.
 */
import { tf } from '../model/tf';
import type { PIALNet } from '../model/pialnet';
import type { PairBatch } from '../model/batch';
import { pialLoss } from './loss';

export interface BatchGradient {
  loss: number;
  lossIn: number;
  lossNon: number;
  /** Gradient per variable name (variables the loss does not reach are absent). The caller disposes them. */
  grads: Record<string, tf.Tensor>;
}

/**
 * Pairs per forward/backward pass when training does not say: all of them, except for `paper`-sized inputs
 * (>= 224 px) on wasm, whose activations for more than one pair exceed what the wasm backend's memory can hold
 * (it aborts), so they go one pair at a time.
 */
export function defaultMicroBatch(model: PIALNet, backend: string): number {
  return backend === 'wasm' && model.options.inputSize >= 224 ? 1 : Number.POSITIVE_INFINITY;
}

const FIELDS = ['interactive', 'nonInteractive', 'pose', 'gtIn', 'gtNon'] as const;

/** Loss and gradient of `batch` at the current weights, `micro` pairs per pass. */
export async function batchGradient(model: PIALNet, batch: PairBatch, vars: tf.Variable[], micro = Number.POSITIVE_INFINITY): Promise<BatchGradient> {
  const n = batch.nonInteractive.shape[0];
  const one = async (b: PairBatch): Promise<BatchGradient> => {
    let parts: tf.Tensor | undefined;
    const out = tf.variableGrads(() => {
      const l = pialLoss(model, b);
      parts = tf.keep(l.parts);
      return l.total;
    }, vars);
    try {
      const loss = (await out.value.data())[0];
      const [lossIn, lossNon] = await parts!.data();
      return { loss, lossIn, lossNon, grads: out.grads };
    } finally {
      tf.dispose([out.value, parts!]);
    }
  };
  if (!(micro < n)) return one(batch);
  const acc: BatchGradient = { loss: 0, lossIn: 0, lossNon: 0, grads: {} };
  try {
    for (let start = 0; start < n; start += micro) {
      const k = Math.min(micro, n - start);
      const piece = tf.tidy(() => Object.fromEntries(FIELDS.map((f) => [f, tf.slice(batch[f], start, k)]))) as unknown as PairBatch;
      let part: BatchGradient;
      try {
        part = await one(piece);
      } finally {
        tf.dispose(FIELDS.map((f) => piece[f]));
      }
      const w = k / n;
      acc.loss += w * part.loss;
      acc.lossIn += w * part.lossIn;
      acc.lossNon += w * part.lossNon;
      for (const [name, g] of Object.entries(part.grads)) {
        const prev = acc.grads[name];
        acc.grads[name] = tf.tidy(() => (prev ? tf.add(prev, tf.mul(g, w)) : tf.mul(g, w)));
        tf.dispose([g, prev].filter((t): t is tf.Tensor => t !== undefined));
      }
    }
  } catch (e) {
    tf.dispose(Object.values(acc.grads));
    throw e;
  }
  return acc;
}
