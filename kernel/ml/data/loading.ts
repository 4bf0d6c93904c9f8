/**
 * Loading one pair: both images decoded and resized, the GT of both built (masked as the pairing rules say), the
 * pose mapped to the size x size image, and the label-keeping augmentations (flip, brightness/contrast jitter).
 * A pair is loaded into plain arrays first, so that the batch stream can prefetch without holding tensors;
 * {@link toCalPair} turns the arrays into the tensors of `ds.get(i)`.
 */
import { tf } from '../../runtime/tf';
import { buildGroundTruth, type ChannelPoints, type GroundTruthOptions } from './groundTruth';
import { CalDataError } from './errors';
import { stat } from 'node:fs/promises';
import { decodeImage, flipHwc, flipPose, toFloat, type DecodedImage, type Normalization } from './image';
import { maskedChannels, maskingApplies, nonInteractiveContacts, type MaskMode, type PairRef } from './pairing';
import type { CalSubset } from './layout';
import type { Rng } from './rng';

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

/** What loading reads of a dataset: its subset and the options that shape pixels and GT. */
export interface LoadSettings {
  readonly subset: CalSubset;
  readonly options: { readonly size: number; readonly normalize: Normalization; readonly mask: MaskMode; readonly regionMask: boolean };
}

/** A map that keeps the most recently used entries within a byte budget (oldest dropped first). */
class LruBytes<V> {
  private readonly map = new Map<string, V>();
  private bytes = 0;
  constructor(
    private readonly budget: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Most recently used last.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: V): void {
    const had = this.map.get(key);
    if (had !== undefined) this.bytes -= this.sizeOf(had);
    this.map.delete(key);
    this.map.set(key, v);
    this.bytes += this.sizeOf(v);
    while (this.bytes > this.budget && this.map.size > 0) {
      const [oldKey, old] = this.map.entries().next().value as [string, V];
      this.map.delete(oldKey);
      this.bytes -= this.sizeOf(old);
    }
  }
}

/** Memory the GT cache may hold (at 96 px a pair's two maps take 0.44 MB, at 224 px 2.4 MB). */
export const GT_CACHE_BYTES = 256 * 1024 * 1024;
/** GT maps built so far, by everything that determines them. */
const gtCache = new LruBytes<Float32Array>(GT_CACHE_BYTES, (m) => m.byteLength);

/**
 * {@link buildGroundTruth}, remembered: every epoch loads the same pairs, and building a map costs more than
 * decoding the image. The map is a function of the points, the image size and the options, which form the key.
 * Returns a copy (augmentation flips it in place).
 */
export function groundTruthOf(contacts: ChannelPoints, width: number, height: number, options: GroundTruthOptions): Float32Array {
  const key = `${width}x${height}|${options.size ?? 224}|${(options.zeroChannels ?? []).join(',')}|${options.eps ?? ''}|${JSON.stringify(contacts)}`;
  let map = gtCache.get(key);
  if (!map) {
    map = buildGroundTruth(contacts, width, height, options);
    gtCache.set(key, map);
  }
  return map.slice();
}

/** Memory the decoded-image cache may hold (a 96 px image takes 27 KB, a 224 px one 150 KB). */
export const IMAGE_CACHE_BYTES = 128 * 1024 * 1024;
const imageCache = new LruBytes<DecodedImage>(IMAGE_CACHE_BYTES, (d) => d.rgb.byteLength);

/**
 * {@link decodeImage}, remembered by path, size and the file's modification time and length (a file rewritten in
 * place decodes again). Decoding runs in libvips' threads, beside the training replicas; later epochs skip it.
 * The bytes are shared between callers: they are only read (pixels become floats in a new array).
 */
export async function decodedImageOf(path: string, size: number): Promise<DecodedImage> {
  let key: string | undefined;
  try {
    const st = await stat(path);
    key = `${path}|${size}|${st.mtimeMs}|${st.size}`;
  } catch {
    // Unreadable: decodeImage says why, naming the file.
  }
  const hit = key === undefined ? undefined : imageCache.get(key);
  if (hit) return hit;
  const d = await decodeImage(path, size);
  if (key !== undefined) imageCache.set(key, d);
  return d;
}

/** A pair loaded into plain arrays (no tensors yet). */
export interface PairArrays {
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
 * Loads pair `p` (number `index` of its dataset) into arrays. With `rng` and `aug`, applies the augmentations,
 * drawing from `rng` in a fixed order (jitter of the interactive image, of the non-interactive image, then the
 * two flips).
 * @throws CalDataError naming the image when it cannot be decoded or its size disagrees with its annotation
 */
export async function loadPairArrays(settings: LoadSettings, index: number, p: PairRef, rng?: Rng, aug?: Required<AugmentOptions>): Promise<PairArrays> {
  const S = settings.options.size;
  const [a, b] = await Promise.all([decodedImageOf(p.inter.path, S), decodedImageOf(p.non.path, S)]);
  for (const [rec, d] of [[p.inter, a], [p.non, b]] as const) {
    if (d.width !== rec.width || d.height !== rec.height) {
      throw new CalDataError(rec.path, `image is ${d.width} x ${d.height} but its annotation says image_width ${rec.width}, image_height ${rec.height} (expected them to match)`);
    }
  }
  const masking = maskingApplies(settings.options.mask, settings.subset);
  const masked = maskedChannels(p, masking);
  const jit = (): [number, number] => (rng && aug && aug.jitter > 0 ? [rng.range(1 - aug.jitter, 1 + aug.jitter), rng.range(1 - aug.jitter, 1 + aug.jitter)] : [1, 1]);
  const [bi, ci] = jit();
  const [bn, cn] = jit();
  const imageIn = toFloat(a.rgb, settings.options.normalize, bi, ci);
  const imageNon = toFloat(b.rgb, settings.options.normalize, bn, cn);
  const gtIn = groundTruthOf(p.inter.contacts, p.inter.width, p.inter.height, { size: S });
  const nonContacts = nonInteractiveContacts(p, masking, settings.options.regionMask);
  const gtNon = groundTruthOf(nonContacts, p.non.width, p.non.height, { size: S, zeroChannels: masked });
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

/** The tensors and records of a pair loaded by {@link loadPairArrays}, as `ds.get(i)` returns them. */
export function toCalPair(a: PairArrays, size: number): CalPair {
  const p = a.pair;
  const S = size;
  const t = {
    imIn: tf.tensor3d(a.imageIn, [S, S, 3]),
    imNon: tf.tensor3d(a.imageNon, [S, S, 3]),
    pose: tf.tensor2d(a.pose, [17, 3]),
    gtIn: tf.tensor3d(a.gtIn, [S, S, 6]),
    gtNon: tf.tensor3d(a.gtNon, [S, S, 6]),
  };
  return {
    index: a.index,
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
