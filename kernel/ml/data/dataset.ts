/**
 * The dataset: {@link openCAL} and the {@link CalDataset} it returns. This module indexes a split/subset (the
 * image records of `./layout`, the pairs of `./pairing`) and holds the dataset's lookups; loading a pair
 * (`./loading`), the batch stream (`./batches`) and the displayed outputs (`./display`) live in their own modules,
 * which the class's methods call.
 */
import { join, resolve } from 'node:path';
import type { DatasetIssue, SplitName } from '../../protocol';
import type { VizOutput } from '../viz/output';
import { batchStream, type BatchOptions, type BatchSource, type CalBatch } from './batches';
import { datasetStats, datasetSummary, showPair } from './display';
import { ProblemLog, type OnError } from './errors';
import type { Normalization } from './image';
import { indexLayout, type CalImageRecord, type CalSubset } from './layout';
import { loadPairArrays, toCalPair, type CalPair } from './loading';
import { groupByClass, pairWithinClass, readTestPairs, type PairRef } from './pairing';

export type { AugmentOptions, CalPair, CalPairImage } from './loading';
export type { BatchOptions, CalBatch } from './batches';

/** Options of {@link openCAL}. */
export interface OpenCALOptions {
  /** @default 'Seen' */
  split?: SplitName;
  /** @default 'trainset' */
  subset?: CalSubset;
  /** Seed of the random within-class pairing of training pairs. @default 0 */
  seed?: number;
  /** `throw` (default): the first bad file throws a CalDataError; `skip`: bad items are left out and listed in `ds.issues` and the summary. */
  onError?: OnError;
  /** Side of the square images and GT maps. @default 224 */
  size?: number;
  /** How image tensors are normalised. @default 'imagenet' */
  normalize?: Normalization;
  /**
   * When a non-interactive GT channel is zeroed because the interactive image of the pair has no points for it.
   * `test` (default): test pairs only, as the paper states; `always`: training pairs too; `never`.
   */
  mask?: 'test' | 'always' | 'never';
  /**
   * Off by default (the paper's protocol on every dataset). When on, where the masking rule applies and both
   * annotations carry named `regions` (SynCAL's extension of the format), also keep only the non-interactive
   * regions whose names the interactive image touches (e.g. the end grip, not the mid grip), so the pair's GT
   * follows the interaction. No effect on annotations without regions (the real CAL). @default false
   */
  regionMask?: boolean;
  /** Pairs file of the test subset. @default `<root>/<split>/test_pairs.txt` */
  pairsFile?: string;
}

/**
 * A CAL split/subset opened by {@link openCAL}: a list of (interactive, non-interactive) pairs. Pixels are read
 * lazily; everything else was validated when the dataset was opened.
 */
export class CalDataset {
  /** Problems collected with `onError: 'skip'` (at open time and while reading). */
  readonly issues: DatasetIssue[];
  private readonly log: ProblemLog;
  private readonly byClassNon: Map<number, CalImageRecord[]>;

  /** @internal use {@link openCAL} */
  constructor(
    readonly root: string,
    readonly split: SplitName,
    readonly subset: CalSubset,
    readonly options: Required<Omit<OpenCALOptions, 'pairsFile'>>,
    readonly interactiveImages: readonly CalImageRecord[],
    readonly nonInteractiveImages: readonly CalImageRecord[],
    private readonly pairs: PairRef[],
    log: ProblemLog,
  ) {
    this.log = log;
    this.issues = log.issues;
    this.byClassNon = groupByClass(nonInteractiveImages);
  }

  /** Number of pairs. */
  get length(): number {
    return this.pairs.length;
  }

  /** Side of images and GT maps. */
  get size(): number {
    return this.options.size;
  }

  /** The records of pair i, without reading pixels. */
  pairInfo(i: number): { affordance: string; classIndex: number; interactive: CalImageRecord; nonInteractive: CalImageRecord; line?: number } {
    const p = this.ref(i);
    return { affordance: p.inter.className, classIndex: p.inter.classIndex, interactive: p.inter, nonInteractive: p.non, ...(p.line !== undefined ? { line: p.line } : {}) };
  }

  private ref(i: number): PairRef {
    if (!Number.isInteger(i) || i < 0 || i >= this.pairs.length) throw new RangeError(`pair index ${i} out of range (expected 0..${this.pairs.length - 1})`);
    return this.pairs[i];
  }

  /**
   * Loads pair i: both images decoded and resized, GT built, pose mapped to the size x size image.
   * The caller owns the tensors: call `pair.dispose()`.
   * @throws CalDataError naming the image when it cannot be decoded or its size disagrees with its annotation
   */
  async get(i: number): Promise<CalPair> {
    const p = this.ref(i);
    const a = await loadPairArrays(this, i, p);
    return toCalPair(a, this.options.size);
  }

  /**
   * Batched, optionally shuffled and augmented, prefetched iteration over one pass of the pairs.
   * Pixels are decoded ahead as plain arrays; tensors are created only for the batch being yielded, so breaking
   * out of the loop leaks nothing. The consumer owns each yielded batch and calls `batch.dispose()`.
   * With `onError: 'skip'` a pair whose image fails to decode is left out (the batch is smaller) and recorded in
   * `issues`; with `throw` the error propagates from the loop.
   */
  batches(options: BatchOptions = {}): AsyncGenerator<CalBatch, void, undefined> {
    // The stream holds the dataset's own `options` and `pairs` and reads them when it starts, as the method would.
    const source: BatchSource = {
      subset: this.subset,
      options: this.options,
      pairs: this.pairs,
      byClassNon: this.byClassNon,
      load: (index, p, rng, aug) => loadPairArrays(this, index, p, rng, aug),
      report: (e) => this.log.report(e),
    };
    return batchStream(source, options);
  }

  /** Per-class counts (classes present, in the paper's order) and the part x class contact matrix. */
  stats(): { classes: { name: string; interactive: number; nonInteractive: number; pairs: number }[]; parts: string[]; contactMatrix: number[][] } {
    return datasetStats(this.interactiveImages, this.nonInteractiveImages, this.pairs);
  }

  /**
   * The dataset output: counts per class, the body-part x class contact matrix, problems skipped and a few
   * thumbnails (MIME dataset v1 with a text/markdown fallback). Displays it and returns it.
   * @param options.thumbnails - how many classes get an interactive and a non-interactive thumbnail. @default 6
   */
  summary(options: { thumbnails?: number; title?: string } = {}): Promise<VizOutput<'application/vnd.affordance-lab.dataset.v1+json'>> {
    return datasetSummary(this, (e) => this.log.report(e), options);
  }

  /**
   * Shows pair i: the interactive image with keypoints, skeleton and contact points, the non-interactive image
   * with its contact points (keypoints MIME), and the GT heatmaps of both (heatmap MIME), each with an image/png
   * fallback. Displays the four outputs and returns them.
   */
  show(i: number): Promise<VizOutput<'application/vnd.affordance-lab.keypoints.v1+json' | 'application/vnd.affordance-lab.heatmap.v1+json'>[]> {
    return showPair(this, i);
  }
}

/**
 * Opens a CAL split/subset: indexes `<root>/<split>/<subset>`, validates every annotation and pose file, and
 * builds the pairs (training: each interactive image with a non-interactive image of its class drawn with `seed`;
 * test: the lines of `<root>/<split>/test_pairs.txt`).
 * @throws CalDataError naming the file (and line/field) and what was expected, unless `onError: 'skip'` (structural
 *   problems such as a missing folder always throw)
 * @see docs/paper.md section 2 for the layout
 */
export function openCAL(root: string, options: OpenCALOptions = {}): Promise<CalDataset> {
  return Promise.resolve().then(() => openCALSync(root, options));
}

function openCALSync(root: string, options: OpenCALOptions): CalDataset {
  const split = options.split ?? 'Seen';
  const subset = options.subset ?? 'trainset';
  if (split !== 'Seen' && split !== 'Unseen') throw new Error(`openCAL: split must be 'Seen' or 'Unseen', got ${JSON.stringify(split)}`);
  if (subset !== 'trainset' && subset !== 'testset') throw new Error(`openCAL: subset must be 'trainset' or 'testset', got ${JSON.stringify(subset)}`);
  const opts = { split, subset, seed: options.seed ?? 0, onError: options.onError ?? 'throw', size: options.size ?? 224, normalize: options.normalize ?? 'imagenet', mask: options.mask ?? 'test', regionMask: options.regionMask ?? false } as const;
  if (!Number.isInteger(opts.size) || opts.size < 8) throw new Error(`openCAL: size must be an integer >= 8, got ${opts.size}`);
  const log = new ProblemLog(opts.onError);
  const abs = resolve(root);
  const idx = indexLayout(abs, split, subset, log);
  const pairs =
    subset === 'testset'
      ? readTestPairs(options.pairsFile ?? join(idx.splitDir, 'test_pairs.txt'), idx.splitDir, [...idx.interactive, ...idx.nonInteractive], log)
      : pairWithinClass(idx.interactive, idx.nonInteractive, opts.seed, idx.subsetDir, log);
  return new CalDataset(abs, split, subset, opts, idx.interactive, idx.nonInteractive, pairs, log);
}
