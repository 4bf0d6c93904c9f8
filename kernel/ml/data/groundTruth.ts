import { CONTACT_CHANNELS } from '../../protocol';

/** Contact points per channel in {@link CONTACT_CHANNELS} order: `contacts[c]` is a list of [x, y] pixels. */
export type ChannelPoints = readonly (readonly (readonly [number, number])[])[];

/**
 * Gaussian kernel size of the paper's label script for an H x W image: floor(sqrt(H*W)/3), made odd by adding 1.
 * @see docs/paper.md section 2, "Ground-truth heatmaps"
 */
export function gtKernelSize(height: number, width: number): number {
  const k = Math.floor(Math.sqrt(height * width) / 3);
  return k % 2 === 0 ? k + 1 : k;
}

/** The sigma OpenCV derives from a kernel size when sigma = 0: 0.3 * ((k - 1) * 0.5 - 1) + 0.8. */
export function gtSigma(k: number): number {
  return 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
}

/** OpenCV's fixed small kernels (getGaussianKernel with sigma <= 0 and ksize <= 7). */
const SMALL_KERNELS: Record<number, number[]> = {
  1: [1],
  3: [0.25, 0.5, 0.25],
  5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
  7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
};

/**
 * The 1-D Gaussian kernel of cv2.getGaussianKernel(k, 0): the fixed table for k <= 7, otherwise
 * exp(-(i - (k-1)/2)^2 / (2 sigma^2)) normalised to sum 1.
 */
export function gaussianKernel1d(k: number): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new Error(`gaussianKernel1d: kernel size must be a positive odd integer, got ${k}`);
  if (SMALL_KERNELS[k]) return Float64Array.from(SMALL_KERNELS[k]);
  const sigma = gtSigma(k);
  const g = new Float64Array(k);
  const c = (k - 1) / 2;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += g[i];
  }
  for (let i = 0; i < k; i++) g[i] /= sum;
  return g;
}

/**
 * OpenCV's BORDER_REFLECT_101 index (gfedcb|abcdefgh|gfedcba), repeated for kernels longer than the axis,
 * as cv::borderInterpolate does.
 */
export function reflect101(p: number, n: number): number {
  if (n === 1) return 0;
  while (p < 0 || p >= n) {
    if (p < 0) p = -p;
    else p = 2 * n - 2 - p;
  }
  return p;
}

/**
 * Response of the 1-D blur (kernel g, BORDER_REFLECT_101) to a unit impulse at index `at` on an axis of length n:
 * out[i] = sum over taps t with reflect101(i + t - r) == at of g[t].
 */
function impulseResponse(g: Float64Array, n: number, at: number): Float64Array {
  const out = new Float64Array(n);
  const r = (g.length - 1) / 2;
  // The virtual positions j in [-r, n - 1 + r] that reflect101 maps onto `at`: reflections repeat with period 2n - 2.
  const images: number[] = [];
  if (n === 1) {
    for (let j = -r; j <= r; j++) images.push(j);
  } else {
    const period = 2 * n - 2;
    for (let base = -Math.ceil((r + n) / period) * period; base <= n - 1 + r + period; base += period) {
      for (const j of [base + at, base - at]) if (j >= -r && j <= n - 1 + r && reflect101(j, n) === at && !images.includes(j)) images.push(j);
    }
  }
  for (const j of images) {
    const lo = Math.max(0, j - r), hi = Math.min(n - 1, j + r);
    for (let i = lo; i <= hi; i++) out[i] += g[j - i + r];
  }
  return out;
}

/**
 * Weights of a 1-D bilinear resize from n to m samples with OpenCV's INTER_LINEAR convention (half-pixel
 * centres: src = (dst + 0.5) * n / m - 0.5, clamped to [0, n - 1]): for each output index, two source
 * indices and their weights.
 */
export function linearResizeTaps(n: number, m: number): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(m), i1 = new Int32Array(m), w1 = new Float64Array(m);
  const scale = n / m;
  for (let d = 0; d < m; d++) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > n - 1) s = n - 1;
    const a = Math.floor(s);
    i0[d] = a;
    i1[d] = Math.min(a + 1, n - 1);
    w1[d] = s - a;
  }
  return { i0, i1, w1 };
}

function resample1d(v: Float64Array, taps: { i0: Int32Array; i1: Int32Array; w1: Float64Array }): Float64Array {
  const out = new Float64Array(taps.i0.length);
  for (let d = 0; d < out.length; d++) out[d] = v[taps.i0[d]] * (1 - taps.w1[d]) + v[taps.i1[d]] * taps.w1[d];
  return out;
}

/** Options of {@link buildGroundTruth}. */
export interface GroundTruthOptions {
  /** Output side (square). @default 224 */
  size?: number;
  /** Channels forced to all zeros (the test-pair masking rule), by channel index. */
  zeroChannels?: readonly number[];
  /** Min-max epsilon. @default 1e-10 */
  eps?: number;
}

/**
 * Ground-truth heatmaps of one image exactly as the paper's label script builds them, per channel:
 * 1. a zero H x W map with +1 at each contact point (row = y, col = x, truncated to integers and clamped inside);
 * 2. cv2.GaussianBlur with k = {@link gtKernelSize}, sigma = {@link gtSigma}(k), BORDER_REFLECT_101;
 * 3. min-max normalisation (x - min) / (max - min + eps);
 * 4. bilinear resize to size x size (cv2.INTER_LINEAR, half-pixel centres).
 * A channel without points is all zeros.
 *
 * Why it is fast: the map is a sum of impulses and every step but min-max is linear and separable, so each
 * point's blurred map is an outer product of two 1-D responses; min and max are taken over the exact
 * full-resolution map (O(points x H x W)), and min-max is affine with resize weights summing to 1, so it
 * commutes with the resize. The result equals the dense computation to float rounding.
 *
 * @param contacts - points per channel, in CONTACT_CHANNELS order (6 lists)
 * @returns Float32Array of size*size*6, HWC order (channel fastest), as the [size, size, 6] GT tensor
 * @see docs/paper.md section 2; OpenCV getGaussianKernel, borderInterpolate, resize(INTER_LINEAR)
 */
export function buildGroundTruth(contacts: ChannelPoints, width: number, height: number, options: GroundTruthOptions = {}): Float32Array {
  const size = options.size ?? 224;
  const eps = options.eps ?? 1e-10;
  const C = CONTACT_CHANNELS.length;
  if (contacts.length !== C) throw new Error(`buildGroundTruth: expected ${C} channel point lists, got ${contacts.length}`);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new Error(`buildGroundTruth: image size must be positive integers, got ${width} x ${height}`);
  const out = new Float32Array(size * size * C);
  const k = gtKernelSize(height, width);
  const g = gaussianKernel1d(k);
  const tx = linearResizeTaps(width, size), ty = linearResizeTaps(height, size);
  const zero = new Set(options.zeroChannels ?? []);
  const plane = new Float64Array(size * size);
  const rxCache = new Map<number, Float64Array>(), ryCache = new Map<number, Float64Array>();
  const rx = (x: number): Float64Array => rxCache.get(x) ?? (rxCache.set(x, impulseResponse(g, width, x)), rxCache.get(x) as Float64Array);
  const ry = (y: number): Float64Array => ryCache.get(y) ?? (ryCache.set(y, impulseResponse(g, height, y)), ryCache.get(y) as Float64Array);
  for (let c = 0; c < C; c++) {
    if (zero.has(c) || contacts[c].length === 0) continue;
    // Points at the same pixel add up (the label script does += 1), so group them with a count.
    const pts = new Map<string, { x: number; y: number; n: number }>();
    for (const [px, py] of contacts[c]) {
      const x = Math.min(Math.max(Math.trunc(px), 0), width - 1);
      const y = Math.min(Math.max(Math.trunc(py), 0), height - 1);
      const key = `${x},${y}`;
      const e = pts.get(key);
      if (e) e.n++;
      else pts.set(key, { x, y, n: 1 });
    }
    const list = [...pts.values()];
    let min = Infinity, max = -Infinity;
    if (list.length === 1) {
      // One point: the map is an outer product of non-negative vectors, so its extremes are products of extremes.
      const a = rx(list[0].x), b = ry(list[0].y);
      let amin = Infinity, amax = -Infinity, bmin = Infinity, bmax = -Infinity;
      for (const v of a) { if (v < amin) amin = v; if (v > amax) amax = v; }
      for (const v of b) { if (v < bmin) bmin = v; if (v > bmax) bmax = v; }
      min = amin * bmin * list[0].n;
      max = amax * bmax * list[0].n;
    } else {
      const row = new Float64Array(width);
      for (let y = 0; y < height; y++) {
        row.fill(0);
        for (const p of list) {
          const wy = ry(p.y)[y] * p.n;
          if (wy === 0) continue;
          const a = rx(p.x);
          for (let x = 0; x < width; x++) row[x] += wy * a[x];
        }
        for (let x = 0; x < width; x++) {
          const v = row[x];
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
    }
    const denom = max - min + eps;
    // Sum of outer products into one plane (row-major, contiguous), then normalise into the interleaved output.
    plane.fill(0);
    for (const p of list) {
      const rxs = resample1d(rx(p.x), tx), rys = resample1d(ry(p.y), ty);
      for (let Y = 0; Y < size; Y++) {
        const w = rys[Y] * p.n;
        if (w === 0) continue;
        const o = Y * size;
        for (let X = 0; X < size; X++) plane[o + X] += w * rxs[X];
      }
    }
    const inv = 1 / denom;
    for (let i = 0, o = c; i < plane.length; i++, o += C) out[o] = (plane[i] - min) * inv;
  }
  return out;
}
