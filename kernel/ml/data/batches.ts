/**
 * The batch stream behind `ds.batches()`: one lazy pass over the pairs, seeded shuffling, re-pairing and
 * augmentation, pairs loaded ahead as plain arrays (prefetch) and stacked into the tensors of each batch only
 * when it is yielded.
 */
import { tf } from '../../runtime/tf';
import { CalDataError } from './errors';
import type { CalImageRecord, CalSubset } from './layout';
import type { AugmentOptions, PairArrays } from './loading';
import type { PairRef } from './pairing';
import { Rng } from './rng';

/** Options of {@link CalDataset.batches}. */
export interface BatchOptions {
  /** @default 8 */
  batchSize?: number;
  /** Shuffle the order of pairs. @default true for trainset, false for testset */
  shuffle?: boolean;
  /** Seed of shuffling, re-pairing and augmentation. @default the dataset's seed */
  seed?: number;
  /** `true` for the defaults of {@link AugmentOptions}. @default false */
  augment?: boolean | AugmentOptions;
  /** Batches loaded ahead while the consumer works. @default 2 */
  prefetch?: number;
  /** Training only: draw a fresh non-interactive partner for every pair (within its class). @default true for trainset */
  repair?: boolean;
  /** Leave out a last, smaller batch. @default false */
  dropRemainder?: boolean;
}

/**
 * A batch of pairs. Tensors belong to the consumer: call `dispose()` after the step (nothing else holds them).
 * B may be smaller than batchSize for the last batch or when a pair was skipped (`onError: 'skip'`).
 */
export interface CalBatch {
  /** [B, S, S, 3] float32 interactive images. */
  imageIn: tf.Tensor4D;
  /** [B, S, S, 3] float32 non-interactive images. */
  imageNon: tf.Tensor4D;
  /** [B, 17, 3] float32 poses of the interactive images: x, y in pixel-centre coordinates of the S x S image, score. Divide x, y by S for [0, 1]. */
  pose: tf.Tensor3D;
  /** [B, S, S, 6] float32 GT of the interactive images. */
  gtIn: tf.Tensor4D;
  /** [B, S, S, 6] float32 GT of the non-interactive images (masked per the dataset's `mask`). */
  gtNon: tf.Tensor4D;
  /** [B] int32 class index in CAL_CLASSES order. */
  classIndex: tf.Tensor1D;
  classNames: string[];
  /** Pair indices (into the dataset) of the rows. */
  indices: number[];
  pathsIn: string[];
  pathsNon: string[];
  /** S */
  size: number;
  dispose(): void;
}

/** What the batch stream reads of its dataset. `options` is read when the stream starts (and `size` per batch). */
export interface BatchSource {
  readonly subset: CalSubset;
  readonly options: { readonly seed: number; readonly size: number };
  readonly pairs: readonly PairRef[];
  /** Non-interactive images per class index, the partners re-pairing draws from. */
  readonly byClassNon: ReadonlyMap<number, CalImageRecord[]>;
  /** Loads one pair into arrays (see `loadPairArrays`). */
  load(index: number, p: PairRef, rng?: Rng, aug?: Required<AugmentOptions>): Promise<PairArrays>;
  /** Records (or, with `onError: 'throw'`, throws) a problem with a pair. */
  report(e: CalDataError): void;
}

/**
 * One pass over the pairs of `src` in batches; see {@link CalDataset.batches}. Lazy: nothing is drawn or read
 * before the first `next()`, and the option errors are thrown from there.
 */
export async function* batchStream(src: BatchSource, options: BatchOptions = {}): AsyncGenerator<CalBatch, void, undefined> {
  const B = options.batchSize ?? 8;
  if (!Number.isInteger(B) || B < 1) throw new Error(`batches: batchSize must be a positive integer, got ${B}`);
  const train = src.subset === 'trainset';
  const seed = options.seed ?? src.options.seed;
  const rng = new Rng(seed);
  const order = src.pairs.map((_, i) => i);
  if (options.shuffle ?? train) rng.fork(1).shuffle(order);
  const repairRng = rng.fork(2);
  const repair = (options.repair ?? train) && train;
  const aug: Required<AugmentOptions> | undefined = options.augment ? { flip: 0.5, jitter: 0.1, ...(options.augment === true ? {} : options.augment) } : undefined;
  const chunks: number[][] = [];
  for (let i = 0; i < order.length; i += B) chunks.push(order.slice(i, i + B));
  if (options.dropRemainder && chunks.length > 0 && chunks[chunks.length - 1].length < B) chunks.pop();
  // Every random draw happens here, in order, so the stream does not depend on load timing.
  const plans = chunks.map((chunk) =>
    chunk.map((i) => {
      const p = src.pairs[i];
      const partners = src.byClassNon.get(p.inter.classIndex) ?? [p.non];
      const ref: PairRef = repair ? { inter: p.inter, non: repairRng.pick(partners) } : p;
      return { i, ref, rng: aug ? rng.fork(i + 3) : undefined };
    }),
  );
  type Settled = { ok: PairArrays } | { err: unknown; index: number };
  const load = (plan: (typeof plans)[number]): Promise<Settled[]> =>
    Promise.all(plan.map(({ i, ref, rng: r }) => src.load(i, ref, r, aug).then((ok): Settled => ({ ok }), (err: unknown): Settled => ({ err, index: i }))));
  const ahead = Math.max(0, options.prefetch ?? 2);
  const queue: Promise<Settled[]>[] = [];
  let next = 0;
  const fill = (): void => {
    while (next < plans.length && queue.length <= ahead) queue.push(load(plans[next++]));
  };
  fill();
  while (queue.length > 0) {
    const settled = await (queue.shift() as Promise<Settled[]>);
    fill();
    const ok: PairArrays[] = [];
    for (const s of settled) {
      if ('ok' in s) ok.push(s.ok);
      else if (s.err instanceof CalDataError) src.report(s.err);
      else throw s.err;
    }
    if (ok.length > 0) yield toBatch(ok, src.options.size);
  }
}

/** Stacks loaded pairs into the tensors of one batch (S = `size`). */
function toBatch(items: PairArrays[], size: number): CalBatch {
  const S = size;
  const n = items.length;
  const cat = (pick: (a: PairArrays) => Float32Array, len: number): Float32Array => {
    const out = new Float32Array(n * len);
    items.forEach((a, k) => out.set(pick(a), k * len));
    return out;
  };
  const t = {
    imageIn: tf.tensor4d(cat((a) => a.imageIn, S * S * 3), [n, S, S, 3]),
    imageNon: tf.tensor4d(cat((a) => a.imageNon, S * S * 3), [n, S, S, 3]),
    pose: tf.tensor3d(cat((a) => a.pose, 51), [n, 17, 3]),
    gtIn: tf.tensor4d(cat((a) => a.gtIn, S * S * 6), [n, S, S, 6]),
    gtNon: tf.tensor4d(cat((a) => a.gtNon, S * S * 6), [n, S, S, 6]),
    classIndex: tf.tensor1d(items.map((a) => a.pair.inter.classIndex), 'int32'),
  };
  return {
    ...t,
    classNames: items.map((a) => a.pair.inter.className),
    indices: items.map((a) => a.index),
    pathsIn: items.map((a) => a.pair.inter.path),
    pathsNon: items.map((a) => a.pair.non.path),
    size: S,
    dispose: () => Object.values(t).forEach((x) => x.dispose()),
  };
}
