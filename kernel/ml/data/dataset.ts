import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { display, DISPLAY_HANDLE } from '../../display';
import { CONTACT_CHANNELS, type DatasetIssue, type DatasetThumbnail, type SplitName } from '../../protocol';
import { tf } from '../../runtime/tf';
import { datasetOutput } from '../viz/dataset';
import { heatmapOutput } from '../viz/heatmap';
import { toImageRef } from '../viz/image';
import { channelMaps } from '../viz/quantize';
import { keypointsOutput } from '../viz/keypoints';
import type { VizOutput } from '../viz/output';
import { CAL_CLASSES } from './classes';
import { CalDataError, ProblemLog, type OnError } from './errors';
import { buildGroundTruth } from './groundTruth';
import { decodeImage, flipHwc, flipPose, toFloat, type Normalization } from './image';
import { indexLayout, type CalImageRecord, type CalSubset } from './layout';
import { Rng } from './rng';

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

/** One image of a loaded pair. Tensors belong to the caller (dispose the pair). */
export interface CalPairImage {
  path: string;
  /** Path relative to `<root>/<split>`. */
  rel: string;
  object: string;
  /** [size, size, 3] float32, normalised as the dataset's `normalize` option says. */
  image: tf.Tensor3D;
  /** Size of the original image, the space of `contacts` (and of `keypoints`). */
  originalSize: { width: number; height: number };
  /** Contact points per channel (CONTACT_CHANNELS order), original pixels. */
  contacts: [number, number][][];
  /** [size, size, 6] float32 ground truth in [0, 1], channels in CONTACT_CHANNELS order. */
  gt: tf.Tensor3D;
}

/** A loaded pair from `ds.get(i)`; call `dispose()` when done with its tensors. */
export interface CalPair {
  index: number;
  affordance: string;
  classIndex: number;
  /** The interactive image's object folder. */
  object: string;
  interactive: CalPairImage & {
    /** [17, 3] float32 (x, y, score) in pixel-centre coordinates of the size x size image. */
    pose: tf.Tensor2D;
    /** COCO-17 keypoints [x, y, score] in original pixels. */
    keypoints: [number, number, number][];
  };
  nonInteractive: CalPairImage;
  /** Channels of the non-interactive GT that the masking rule zeroed. */
  maskedChannels: number[];
  /** The non-interactive contact points the GT was built from, after masking (CONTACT_CHANNELS order). */
  gtNonContacts: [number, number][][];
  dispose(): void;
}

/** Augmentations that keep labels right. */
export interface AugmentOptions {
  /** Probability of a horizontal flip per image (the interactive and non-interactive image flip independently). @default 0.5 */
  flip?: number;
  /** Brightness and contrast factors drawn from [1 - j, 1 + j]. @default 0.1 */
  jitter?: number;
}

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

interface PairRef {
  inter: CalImageRecord;
  non: CalImageRecord;
  /** Line in the pairs file (test pairs). */
  line?: number;
}

interface PairArrays {
  index: number;
  pair: PairRef;
  imageIn: Float32Array;
  imageNon: Float32Array;
  pose: Float32Array;
  gtIn: Float32Array;
  gtNon: Float32Array;
  sizeIn: { width: number; height: number };
  sizeNon: { width: number; height: number };
  masked: number[];
  nonContacts: [number, number][][];
}

/**
 * A CAL split/subset opened by {@link openCAL}: a list of (interactive, non-interactive) pairs. Pixels are read
 * lazily; everything else was validated when the dataset was opened.
 */
export class CalDataset {
  /** Problems collected with `onError: 'skip'` (at open time and while reading). */
  readonly issues: DatasetIssue[];
  private readonly log: ProblemLog;
  private readonly byClassNon = new Map<number, CalImageRecord[]>();

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
    for (const r of nonInteractiveImages) {
      const l = this.byClassNon.get(r.classIndex) ?? [];
      l.push(r);
      this.byClassNon.set(r.classIndex, l);
    }
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

  /** Whether the masking rule applies to this dataset's pairs (`mask` and the subset). */
  private get masking(): boolean {
    const m = this.options.mask;
    return !(m === 'never' || (m === 'test' && this.subset !== 'testset'));
  }

  private maskFor(p: PairRef): number[] {
    if (!this.masking) return [];
    return CONTACT_CHANNELS.map((_, c) => c).filter((c) => p.inter.contacts[c].length === 0);
  }

  /**
   * The non-interactive points the GT is built from: all of them, or, with region masking, per channel the points
   * of the regions whose names the interactive image touches (all of the channel when no name matches).
   */
  private nonContactsFor(p: PairRef): [number, number][][] {
    const inter = p.inter.regions, non = p.non.regions;
    if (!this.options.regionMask || !this.masking || !inter || !non) return p.non.contacts;
    return p.non.contacts.map((all, c) => {
      const names = new Set(inter.filter((r) => r.channel === c).map((r) => r.name));
      const kept = non.filter((r) => r.channel === c && names.has(r.name)).flatMap((r) => r.points);
      return kept.length > 0 ? kept : all;
    });
  }

  private async loadArrays(index: number, p: PairRef, rng?: Rng, aug?: Required<AugmentOptions>): Promise<PairArrays> {
    const S = this.options.size;
    const [a, b] = await Promise.all([decodeImage(p.inter.path, S), decodeImage(p.non.path, S)]);
    for (const [rec, d] of [[p.inter, a], [p.non, b]] as const) {
      if (d.width !== rec.width || d.height !== rec.height) {
        throw new CalDataError(rec.path, `image is ${d.width} x ${d.height} but its annotation says image_width ${rec.width}, image_height ${rec.height} (expected them to match)`);
      }
    }
    const masked = this.maskFor(p);
    const jit = (): [number, number] => (rng && aug && aug.jitter > 0 ? [rng.range(1 - aug.jitter, 1 + aug.jitter), rng.range(1 - aug.jitter, 1 + aug.jitter)] : [1, 1]);
    const [bi, ci] = jit();
    const [bn, cn] = jit();
    const imageIn = toFloat(a.rgb, this.options.normalize, bi, ci);
    const imageNon = toFloat(b.rgb, this.options.normalize, bn, cn);
    const gtIn = buildGroundTruth(p.inter.contacts, p.inter.width, p.inter.height, { size: S });
    const nonContacts = this.nonContactsFor(p);
    const gtNon = buildGroundTruth(nonContacts, p.non.width, p.non.height, { size: S, zeroChannels: masked });
    const pose = new Float32Array(17 * 3);
    const kps = p.inter.pose ?? [];
    const sx = S / p.inter.width, sy = S / p.inter.height;
    kps.forEach(([x, y, s], k) => {
      // Pixel-centre mapping, the same one the GT resize uses, so keypoints and heatmaps line up.
      pose[k * 3] = (x + 0.5) * sx - 0.5;
      pose[k * 3 + 1] = (y + 0.5) * sy - 0.5;
      pose[k * 3 + 2] = s;
    });
    if (rng && aug && aug.flip > 0) {
      if (rng.chance(aug.flip)) {
        flipHwc(imageIn, S, 3);
        flipHwc(gtIn, S, 6);
        flipPose(pose, S);
      }
      if (rng.chance(aug.flip)) {
        flipHwc(imageNon, S, 3);
        flipHwc(gtNon, S, 6);
      }
    }
    return { index, pair: p, imageIn, imageNon, pose, gtIn, gtNon, sizeIn: { width: a.width, height: a.height }, sizeNon: { width: b.width, height: b.height }, masked, nonContacts: nonContacts.map((pts, c) => (masked.includes(c) ? [] : pts)) };
  }

  /**
   * Loads pair i: both images decoded and resized, GT built, pose mapped to the size x size image.
   * The caller owns the tensors: call `pair.dispose()`.
   * @throws CalDataError naming the image when it cannot be decoded or its size disagrees with its annotation
   */
  async get(i: number): Promise<CalPair> {
    const p = this.ref(i);
    const a = await this.loadArrays(i, p);
    const S = this.options.size;
    const t = {
      imIn: tf.tensor3d(a.imageIn, [S, S, 3]),
      imNon: tf.tensor3d(a.imageNon, [S, S, 3]),
      pose: tf.tensor2d(a.pose, [17, 3]),
      gtIn: tf.tensor3d(a.gtIn, [S, S, 6]),
      gtNon: tf.tensor3d(a.gtNon, [S, S, 6]),
    };
    return {
      index: i,
      affordance: p.inter.className,
      classIndex: p.inter.classIndex,
      object: p.inter.object,
      interactive: { path: p.inter.path, rel: p.inter.rel, object: p.inter.object, image: t.imIn, originalSize: a.sizeIn, contacts: p.inter.contacts, gt: t.gtIn, pose: t.pose, keypoints: p.inter.pose ?? [] },
      nonInteractive: { path: p.non.path, rel: p.non.rel, object: p.non.object, image: t.imNon, originalSize: a.sizeNon, contacts: p.non.contacts, gt: t.gtNon },
      maskedChannels: a.masked,
      gtNonContacts: a.nonContacts,
      dispose: () => Object.values(t).forEach((x) => x.dispose()),
    };
  }

  /**
   * Batched, optionally shuffled and augmented, prefetched iteration over one pass of the pairs.
   * Pixels are decoded ahead as plain arrays; tensors are created only for the batch being yielded, so breaking
   * out of the loop leaks nothing. The consumer owns each yielded batch and calls `batch.dispose()`.
   * With `onError: 'skip'` a pair whose image fails to decode is left out (the batch is smaller) and recorded in
   * `issues`; with `throw` the error propagates from the loop.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<CalBatch, void, undefined> {
    const B = options.batchSize ?? 8;
    if (!Number.isInteger(B) || B < 1) throw new Error(`batches: batchSize must be a positive integer, got ${B}`);
    const train = this.subset === 'trainset';
    const seed = options.seed ?? this.options.seed;
    const rng = new Rng(seed);
    const order = this.pairs.map((_, i) => i);
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
        const p = this.pairs[i];
        const partners = this.byClassNon.get(p.inter.classIndex) ?? [p.non];
        const ref: PairRef = repair ? { inter: p.inter, non: repairRng.pick(partners) } : p;
        return { i, ref, rng: aug ? rng.fork(i + 3) : undefined };
      }),
    );
    type Settled = { ok: PairArrays } | { err: unknown; index: number };
    const load = (plan: (typeof plans)[number]): Promise<Settled[]> =>
      Promise.all(plan.map(({ i, ref, rng: r }) => this.loadArrays(i, ref, r, aug).then((ok): Settled => ({ ok }), (err: unknown): Settled => ({ err, index: i }))));
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
        else if (s.err instanceof CalDataError) this.log.report(s.err);
        else throw s.err;
      }
      if (ok.length > 0) yield this.toBatch(ok);
    }
  }

  private toBatch(items: PairArrays[]): CalBatch {
    const S = this.options.size;
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

  /** Per-class counts (classes present, in the paper's order) and the part x class contact matrix. */
  stats(): { classes: { name: string; interactive: number; nonInteractive: number; pairs: number }[]; parts: string[]; contactMatrix: number[][] } {
    const present = CAL_CLASSES.filter((c) => this.interactiveImages.some((r) => r.classIndex === c.index) || this.nonInteractiveImages.some((r) => r.classIndex === c.index));
    const classes = present.map((c) => ({
      name: c.name,
      interactive: this.interactiveImages.filter((r) => r.classIndex === c.index).length,
      nonInteractive: this.nonInteractiveImages.filter((r) => r.classIndex === c.index).length,
      pairs: this.pairs.filter((p) => p.inter.classIndex === c.index).length,
    }));
    const all = [...this.interactiveImages, ...this.nonInteractiveImages];
    const contactMatrix = CONTACT_CHANNELS.map((_, ch) => present.map((c) => all.filter((r) => r.classIndex === c.index && r.contacts[ch].length > 0).length));
    return { classes, parts: [...CONTACT_CHANNELS], contactMatrix };
  }

  /**
   * The dataset output: counts per class, the body-part x class contact matrix, problems skipped and a few
   * thumbnails (MIME dataset v1 with a text/markdown fallback). Displays it and returns it.
   * @param options.thumbnails - how many classes get an interactive and a non-interactive thumbnail. @default 6
   */
  async summary(options: { thumbnails?: number; title?: string } = {}): Promise<VizOutput<'application/vnd.affordance-lab.dataset.v1+json'>> {
    const st = this.stats();
    const thumbnails: DatasetThumbnail[] = [];
    for (const c of st.classes.slice(0, options.thumbnails ?? 6)) {
      for (const [kind, list] of [['interactive', this.interactiveImages], ['non_interactive', this.nonInteractiveImages]] as const) {
        const rec = list.find((r) => r.className === c.name);
        if (!rec) continue;
        try {
          thumbnails.push({ className: c.name, kind, label: `${rec.object}/${rec.rel.split('/').pop() ?? ''}`, image: await toImageRef(await sharp(rec.path).toBuffer(), { maxSide: 96 }) });
        } catch (e) {
          this.log.report(new CalDataError(rec.path, `cannot decode image for a thumbnail (${(e as Error).message}); expected a JPEG or PNG file`));
        }
      }
    }
    const out = await datasetOutput({
      title: options.title ?? `CAL ${this.split} / ${this.subset}: ${this.length} pairs`,
      root: this.root,
      split: this.split,
      subset: this.subset,
      classes: st.classes,
      parts: st.parts,
      contactMatrix: st.contactMatrix,
      thumbnails,
      errors: [...this.issues],
    });
    display(out);
    return markShown(out);
  }

  /**
   * Shows pair i: the interactive image with keypoints, skeleton and contact points, the non-interactive image
   * with its contact points (keypoints MIME), and the GT heatmaps of both (heatmap MIME), each with an image/png
   * fallback. Displays the four outputs and returns them.
   */
  async show(i: number): Promise<VizOutput<'application/vnd.affordance-lab.keypoints.v1+json' | 'application/vnd.affordance-lab.heatmap.v1+json'>[]> {
    const p = this.ref(i);
    const pair = await this.get(i);
    try {
      const [imgIn, imgNon] = await Promise.all([readFile(p.inter.path), readFile(p.non.path)]);
      const label = `#${i} ${p.inter.className}`;
      // GT maps travel at 112 x 112 (a quarter of the bytes); the fallback PNG is drawn from the full maps.
      const outs = [
        await keypointsOutput({ image: imgIn, width: p.inter.width, height: p.inter.height, keypoints: p.inter.pose ?? [], contacts: CONTACT_CHANNELS.map((channel, c) => ({ channel, points: p.inter.contacts[c] })), title: `${label}: interactive ${p.inter.object}` }),
        await keypointsOutput({ image: imgNon, width: p.non.width, height: p.non.height, keypoints: [], contacts: CONTACT_CHANNELS.map((channel, c) => ({ channel, points: p.non.contacts[c] })), title: `${label}: non-interactive ${p.non.object}` }),
        await heatmapOutput({ image: imgIn, maps: await channelMaps(pair.interactive.gt), maxMapSide: 112, title: `${label}: interactive GT` }),
        await heatmapOutput({ image: imgNon, maps: await channelMaps(pair.nonInteractive.gt), maxMapSide: 112, title: `${label}: non-interactive GT${pair.maskedChannels.length ? ` (masked: ${pair.maskedChannels.map((c) => CONTACT_CHANNELS[c]).join(', ')})` : ''}` }),
      ];
      for (const o of outs) display(o);
      return markShown(outs);
    } finally {
      pair.dispose();
    }
  }
}

/**
 * Marks a value returned after it was displayed, so that a cell ending with `await ds.summary()` does not show
 * it a second time as the cell's result (the kernel skips values carrying DISPLAY_HANDLE). It stays displayable.
 */
function markShown<T extends object>(v: T): T {
  Object.defineProperty(v, DISPLAY_HANDLE, { value: true, enumerable: false });
  return v;
}

function parsePairs(file: string, splitDir: string, byRel: Map<string, CalImageRecord>, log: ProblemLog): PairRef[] {
  if (!existsSync(file)) throw new CalDataError(file, 'missing pairs file (expected one "interactive_rel_path,non_interactive_rel_path" per line)');
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const pairs: PairRef[] = [];
  lines.forEach((raw, k) => {
    const line = k + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    try {
      const parts = text.split(',').map((s) => s.trim());
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw new CalDataError(file, `expected "interactive_rel_path,non_interactive_rel_path", got "${text}"`, line);
      const [ri, rn] = parts.map((r, j) => {
        const rel = r.replace(/\\/g, '/').replace(/^\.\//, '');
        const rec = byRel.get(rel) ?? byRel.get(`testset/${rel}`);
        if (!rec) {
          const where = resolve(splitDir, rel);
          throw new CalDataError(file, `${j === 0 ? 'interactive' : 'non-interactive'} image "${r}" ${existsSync(where) ? 'was left out or is not in this subset' : 'does not exist'} (expected a path relative to ${splitDir} of an indexed ${j === 0 ? 'interactive' : 'non_interactive'} image)`, line);
        }
        return rec;
      });
      if (ri.kind !== 'interactive' || rn.kind !== 'non_interactive') throw new CalDataError(file, `expected an interactive image then a non-interactive image, got ${ri.kind} then ${rn.kind}`, line);
      if (ri.classIndex !== rn.classIndex) throw new CalDataError(file, `pair mixes classes ${ri.className} and ${rn.className} (expected the same affordance)`, line);
      pairs.push({ inter: ri, non: rn, line });
    } catch (e) {
      if (!(e instanceof CalDataError)) throw e;
      log.report(e);
    }
  });
  return pairs;
}

/**
 * Opens a CAL split/subset: indexes `<root>/<split>/<subset>`, validates every annotation and pose file, and
 * builds the pairs (training: each interactive image with a non-interactive image of its class drawn with `seed`;
 * test: the lines of `<root>/<split>/test_pairs.txt`).
 * @throws CalDataError naming the file (and line/field) and what was expected, unless `onError: 'skip'` (structural
 *   problems such as a missing folder always throw)
 * @see PAPER.md section 2 for the layout
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
  let pairs: PairRef[];
  if (subset === 'testset') {
    const byRel = new Map<string, CalImageRecord>();
    for (const r of [...idx.interactive, ...idx.nonInteractive]) byRel.set(r.rel, r);
    pairs = parsePairs(options.pairsFile ?? join(idx.splitDir, 'test_pairs.txt'), idx.splitDir, byRel, log);
  } else {
    const rng = new Rng(opts.seed);
    const nonBy = new Map<number, CalImageRecord[]>();
    for (const r of idx.nonInteractive) nonBy.set(r.classIndex, [...(nonBy.get(r.classIndex) ?? []), r]);
    pairs = [];
    const reported = new Set<number>();
    for (const r of idx.interactive) {
      const partners = nonBy.get(r.classIndex);
      if (!partners) {
        if (!reported.has(r.classIndex)) {
          reported.add(r.classIndex);
          log.report(new CalDataError(join(idx.subsetDir, 'non_interactive', CAL_CLASSES[r.classIndex].folder), `empty class: ${CAL_CLASSES[r.classIndex].name} has interactive images but no non-interactive images to pair them with (expected at least one)`));
        }
        continue;
      }
      pairs.push({ inter: r, non: rng.pick(partners) });
    }
  }
  return new CalDataset(abs, split, subset, opts, idx.interactive, idx.nonInteractive, pairs, log);
}
