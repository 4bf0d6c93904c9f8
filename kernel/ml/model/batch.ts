/**
 * The batch format that training and evaluation consume, and the adapter from other batch shapes.
 */
import { tf } from './tf';
import type { PIALNetInputs, PIALNetOutputs } from './pialnet';

/** One batch of (interactive, non-interactive) pairs with their ground truth. */
export interface PairBatch {
  /** [B, S, S, 3] interactive images (ImageNet-normalised). */
  interactive: tf.Tensor4D;
  /** [B, S, S, 3] non-interactive images. */
  nonInteractive: tf.Tensor4D;
  /** [B, 17, 3] COCO-17 pose of the interactive image: x, y in [0, 1], score. */
  pose: tf.Tensor3D;
  /** [B, H, W, 6] GT of the interactive image (any H, W; resized to the output size for the loss). */
  gtIn: tf.Tensor4D;
  /** [B, H, W, 6] GT of the non-interactive image (scored by the CAL protocol at its own size). */
  gtNon: tf.Tensor4D;
  /** Affordance class of each pair (groups the per-class tables). */
  classNames?: string[];
  /** Frees the batch (and the source batch it was adapted from); without it {@link disposeBatch} disposes the five tensors. */
  dispose?: () => void;
}

/** Anything that predicts the non-interactive maps: a PIALNet, a prior, a user's model. */
export interface Predictor {
  predict(inputs: PIALNetInputs): PIALNetOutputs | { dNon: tf.Tensor4D; dIn?: tf.Tensor4D | null };
  /** Shown in metric tables. */
  readonly options?: { readonly name?: string };
}

/** A dataset that makes its own batches (e.g. `openCAL(...)`'s CalDataset); `length` counts pairs. */
export interface BatchedDataset {
  readonly length: number;
  batches(options: { batchSize?: number; seed?: number; augment?: boolean }): AsyncIterable<unknown> | Iterable<unknown>;
}

/**
 * A stream of batches: an array (reused every epoch), an iterable, a factory called once per epoch, or a
 * dataset with a `batches()` method (called once per epoch with the batch size and the epoch as seed).
 */
export type BatchSource<T = PairBatch> = Iterable<T> | AsyncIterable<T> | ((epoch: number) => Iterable<T> | AsyncIterable<T>) | BatchedDataset;

/** Whether a source is a dataset with its own `batches()` (and not an iterable of batches). */
export function isBatchedDataset(x: unknown): x is BatchedDataset {
  return typeof x === 'object' && x !== null && typeof (x as BatchedDataset).batches === 'function' && typeof (x as BatchedDataset).length === 'number' && !(Symbol.iterator in x) && !(Symbol.asyncIterator in x);
}

/** Turns the caller's batch objects into {@link PairBatch}es (identity when they already are). */
export type BatchAdapter = (item: unknown) => PairBatch;

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

/**
 * Default adapter: accepts {@link PairBatch} objects, the dataset's `CalBatch` (`imageIn`, `imageNon`, pose in
 * pixels of the S x S image, which is divided by S here), and common alternative field names.
 * A source object's `dispose()` is kept: disposing the adapted batch frees the source too.
 * @throws naming the missing or wrongly shaped field
 */
export function toPairBatch(item: unknown): PairBatch {
  if (!item || typeof item !== 'object') throw new Error(`batch: expected an object with interactive, nonInteractive, pose, gtIn, gtNon tensors, got ${typeof item}`);
  const o = item as Record<string, unknown>;
  const pick = (names: string[]): unknown => {
    for (const n of names) if (o[n] !== undefined) return o[n];
    return undefined;
  };
  const tensor = (names: string[], rank: number): tf.Tensor => {
    const v = pick(names);
    if (!isTensor(v)) throw new Error(`batch: field ${names[0]} is missing or not a tensor (have: ${Object.keys(o).join(', ')})`);
    if (v.rank !== rank) throw new Error(`batch: field ${names[0]} should have rank ${rank}, got shape [${v.shape.join(', ')}]`);
    return v;
  };
  const b: PairBatch = {
    interactive: tensor(['interactive', 'interactiveImage', 'imageIn'], 4) as tf.Tensor4D,
    nonInteractive: tensor(['nonInteractive', 'non_interactive', 'nonInteractiveImage', 'imageNon'], 4) as tf.Tensor4D,
    pose: tensor(['pose', 'keypoints', 'poses'], 3) as tf.Tensor3D,
    gtIn: tensor(['gtIn', 'gtInteractive', 'gt_in'], 4) as tf.Tensor4D,
    gtNon: tensor(['gtNon', 'gtNonInteractive', 'gt_non'], 4) as tf.Tensor4D,
  };
  const sourceDispose = typeof o.dispose === 'function' ? (o.dispose as () => void).bind(o) : undefined;
  if (typeof o.size === 'number' && o.imageIn !== undefined && o.interactive === undefined) {
    // CalBatch: pose x, y are pixel coordinates of the S x S image.
    const px = b.pose;
    const S = o.size;
    b.pose = tf.tidy(() => tf.div(px, tf.tensor1d([S, S, 1])) as tf.Tensor3D);
    const own = b.pose;
    b.dispose = () => {
      own.dispose();
      if (sourceDispose) sourceDispose();
      else tf.dispose(px);
    };
  } else if (sourceDispose) {
    b.dispose = sourceDispose;
  }
  const cls = pick(['classNames', 'classes', 'className', 'labels', 'affordances']);
  if (Array.isArray(cls)) b.classNames = cls.map(String);
  const n = b.nonInteractive.shape[0];
  for (const [k, t] of Object.entries(b) as [string, unknown][]) {
    if (isTensor(t) && t.shape[0] !== n) throw new Error(`batch: field ${k} has ${t.shape[0]} items but nonInteractive has ${n}`);
  }
  if (b.classNames && b.classNames.length !== n) throw new Error(`batch: ${b.classNames.length} class names for ${n} pairs`);
  return b;
}

/** Disposes every tensor of a batch. */
export function disposeBatch(b: PairBatch): void {
  if (b.dispose) b.dispose();
  else tf.dispose([b.interactive, b.nonInteractive, b.pose, b.gtIn, b.gtNon]);
}

/** Images [B, H, W, 3] at `size` x `size` (bilinear) when they have another size. */
export function imagesAt(images: tf.Tensor4D, size: number | undefined): tf.Tensor4D {
  if (!size || (images.shape[1] === size && images.shape[2] === size)) return images;
  return tf.image.resizeBilinear(images, [size, size], false, true);
}

/** Iterates a {@link BatchSource} for one epoch; a dataset is asked for batches of `batchSize` seeded with the epoch. */
export async function* iterateSource<T>(source: BatchSource<T>, epoch: number, datasetOptions: { batchSize?: number; augment?: boolean } = {}): AsyncGenerator<T> {
  const it = isBatchedDataset(source)
    ? (source.batches({ batchSize: datasetOptions.batchSize ?? 8, seed: epoch, ...(datasetOptions.augment !== undefined ? { augment: datasetOptions.augment } : {}) }) as Iterable<T> | AsyncIterable<T>)
    : typeof source === 'function'
      ? source(epoch)
      : source;
  if (it && typeof (it as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
    for await (const x of it as AsyncIterable<T>) yield x;
  } else if (it && typeof (it as Iterable<T>)[Symbol.iterator] === 'function') {
    for (const x of it as Iterable<T>) yield x;
  } else {
    throw new Error('data: expected an array, an iterable, an async iterable of batches, a function (epoch) => iterable, or a dataset with batches()');
  }
}
