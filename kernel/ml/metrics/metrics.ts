/**
 * Saliency metrics of the CAL protocol (docs/paper.md section 3), on 2-D maps.
 *
 * Conventions, exactly as the group's evaluation code:
 * - the prediction is max-normalised, P / (max P + eps), then resized bilinearly (half-pixel centres, as
 *   OpenCV and PyTorch with align_corners=false) to the ground truth's size when the sizes differ;
 * - KLD and SIM sum-normalise both maps (X / (sum X + eps));
 * - KLD = sum Q * log(Q / (P + eps) + eps), eps = 1e-12 inside the log, added to the ratio;
 * - NSS = sum(s * G) / (sum G + eps) with s = (P - mean P) / std P (population std) and
 *   G = minmax(Q) > threshold (default 0.1);
 * - CC = Pearson correlation of P and Q.
 * A constant prediction has no spread: its NSS and CC are 0 (the formula would divide 0 by 0).
 *
 * @see docs/paper.md section 3
 */
import { tf } from '../model/tf';

/** The epsilon of every formula (docs/paper.md section 3). */
export const METRIC_EPS = 1e-12;
/** Default NSS binarisation threshold on minmax(GT) (the AGD20K code's value; VCR-Net's CAL code uses 0.5). */
export const DEFAULT_NSS_THRESHOLD = 0.1;
/** Below this standard deviation (of a max-normalised map, so in [0, 1]) a map counts as constant. */
const FLAT_STD = 1e-6;

export interface MetricOptions {
  /**
   * NSS: GT pixels with minmax(GT) above this value count as fixations.
   * @default 0.1
   */
  threshold?: number;
  /**
   * `tensor`: reductions as tensor ops (best on GPU backends); `js`: the maps are read back once and reduced in
   * Float64 loops (several times faster than tensor ops on the cpu and wasm backends); `auto` picks by backend.
   * @default 'auto'
   */
  impl?: 'auto' | 'tensor' | 'js';
}

/** Per-map values of a batch, in input order. */
export interface BatchMetrics {
  KLD: Float64Array;
  SIM: Float64Array;
  NSS: Float64Array;
  CC: Float64Array;
  /** max of each GT map: entries with gtMax <= 0 are skipped by the CAL protocol. */
  gtMax: Float64Array;
}

type MetricKey = 'KLD' | 'SIM' | 'NSS' | 'CC';

function checkThreshold(t: number): number {
  if (!Number.isFinite(t) || t < 0 || t >= 1) throw new RangeError(`NSS threshold must be a number in [0, 1), got ${t}`);
  return t;
}

/**
 * Computes the four metrics for N pairs of maps at once, in one tidy and one read-back.
 *
 * @param pred predictions, [N, h, w] (or [h, w]); resized to the GT size when it differs
 * @param gt ground truth, [N, H, W] (or [H, W])
 * @param options.threshold NSS threshold on minmax(GT), default 0.1
 * @param name metric named in errors ("metrics" for the batched call)
 * @returns per-map values; throws when the prediction or the GT holds NaN or Infinity
 */
export async function metricsBatch(pred: tf.Tensor, gt: tf.Tensor, options: MetricOptions = {}, name = 'metrics'): Promise<BatchMetrics> {
  const threshold = checkThreshold(options.threshold ?? DEFAULT_NSS_THRESHOLD);
  if (pred.rank !== gt.rank || (pred.rank !== 2 && pred.rank !== 3)) {
    throw new Error(`${name}: expected the prediction and the GT as 2-D maps [H, W] or batches [N, H, W], got prediction [${pred.shape.join(', ')}] and GT [${gt.shape.join(', ')}]`);
  }
  if (pred.rank === 3 && pred.shape[0] !== gt.shape[0]) {
    throw new Error(`${name}: the prediction batch has ${pred.shape[0]} maps but the GT batch has ${gt.shape[0]}`);
  }
  if (pred.size === 0 || gt.size === 0) throw new Error(`${name}: empty map (prediction [${pred.shape.join(', ')}], GT [${gt.shape.join(', ')}])`);
  const n = pred.rank === 3 ? pred.shape[0] : 1;
  const impl = options.impl ?? 'auto';
  const useJs = impl === 'js' || (impl === 'auto' && ['cpu', 'wasm'].includes(tf.getBackend()));
  const values = useJs ? await reduceJs(pred, gt, n, threshold) : await reduceTensor(pred, gt, n, threshold);
  return unpack(values, n, pred, name);
}

/** Tensor-op reduction: returns per map [KLD, SIM, NSS, CC, gtMax, bad P, NaN P, bad GT]. */
async function reduceTensor(pred: tf.Tensor, gt: tf.Tensor, n: number, threshold: number): Promise<ArrayLike<number>> {
  const out = tf.tidy(() => {
    const eps = tf.scalar(METRIC_EPS);
    const p0 = tf.cast(pred.rank === 2 ? tf.expandDims(pred, 0) : pred, 'float32') as tf.Tensor3D;
    const q = tf.cast(gt.rank === 2 ? tf.expandDims(gt, 0) : gt, 'float32') as tf.Tensor3D;
    const axes = [1, 2];
    const nonFinite = (x: tf.Tensor): tf.Tensor => tf.logicalOr(tf.isNaN(x), tf.isInf(x));
    // Non-finite values are counted before anything else so that the error can name them.
    const badP = tf.sum(tf.cast(nonFinite(p0), 'float32'), axes);
    const nanP = tf.sum(tf.cast(tf.isNaN(p0), 'float32'), axes);
    const badQ = tf.sum(tf.cast(nonFinite(q), 'float32'), axes);
    const clean = (x: tf.Tensor3D): tf.Tensor3D => tf.where(nonFinite(x), tf.zerosLike(x), x);
    const pc = clean(p0);
    const qc = clean(q);
    let p: tf.Tensor3D = tf.div(pc, tf.add(tf.max(pc, axes, true), eps));
    const [H, W] = [q.shape[1], q.shape[2]];
    if (p.shape[1] !== H || p.shape[2] !== W) {
      p = tf.squeeze(tf.image.resizeBilinear(tf.expandDims(p, 3) as tf.Tensor4D, [H, W], false, true), [3]);
    }
    const pn = tf.div(p, tf.add(tf.sum(p, axes, true), eps));
    const qn = tf.div(qc, tf.add(tf.sum(qc, axes, true), eps));
    const kld = tf.sum(tf.mul(qn, tf.log(tf.add(tf.div(qn, tf.add(pn, eps)), eps))), axes);
    const sim = tf.sum(tf.minimum(pn, qn), axes);
    const count = H * W;
    const dp = tf.sub(p, tf.mean(p, axes, true));
    const sxx = tf.sum(tf.square(dp), axes);
    const stdP = tf.sqrt(tf.div(sxx, count));
    const qMin = tf.min(qc, axes, true);
    const qMax = tf.max(qc, axes, true);
    const g = tf.cast(tf.greater(tf.div(tf.sub(qc, qMin), tf.add(tf.sub(qMax, qMin), eps)), threshold), 'float32');
    const flat = tf.lessEqual(stdP, FLAT_STD);
    const safeStd = tf.where(flat, tf.onesLike(stdP), stdP);
    const nssRaw = tf.div(tf.div(tf.sum(tf.mul(dp, g), axes), safeStd), tf.add(tf.sum(g, axes), eps));
    const nss = tf.where(flat, tf.zerosLike(nssRaw), nssRaw);
    const dq = tf.sub(qc, tf.mean(qc, axes, true));
    const denom = tf.sqrt(tf.mul(sxx, tf.sum(tf.square(dq), axes)));
    const ccFlat = tf.logicalOr(flat, tf.lessEqual(denom, 0));
    const ccRaw = tf.div(tf.sum(tf.mul(dp, dq), axes), tf.where(ccFlat, tf.onesLike(denom), denom));
    const cc = tf.where(ccFlat, tf.zerosLike(ccRaw), ccRaw);
    return tf.stack([kld, sim, nss, cc, tf.reshape(qMax, [n]), badP, nanP, badQ], 1);
  });
  const values = await out.data();
  out.dispose();
  return values;
}

/** Loop reduction over the read-back maps (Float64 accumulation); same layout as {@link reduceTensor}. */
async function reduceJs(pred: tf.Tensor, gt: tf.Tensor, n: number, threshold: number): Promise<ArrayLike<number>> {
  const H = gt.shape[gt.rank - 2]!;
  const W = gt.shape[gt.rank - 1]!;
  const h = pred.shape[pred.rank - 2]!;
  const w = pred.shape[pred.rank - 1]!;
  const raw = (await pred.data()) as Float32Array;
  const q = (await gt.data()) as Float32Array;
  const m = h * w;
  const count = H * W;
  const out = new Float64Array(n * 8);
  const maxP = new Float64Array(n);
  const sumP = new Float64Array(n);
  const sumQ = new Float64Array(n);
  const minQ = new Float64Array(n);
  const maxQ = new Float64Array(n);
  // First pass: validity, max and sum of P (raw), sum / min / max of Q.
  for (let i = 0; i < n; i++) {
    let bad = 0;
    let nan = 0;
    let mx = -Infinity;
    let sp = 0;
    for (let j = i * m, e = j + m; j < e; j++) {
      const v = raw[j];
      if (v - v === 0) {
        sp += v;
        if (v > mx) mx = v;
      } else {
        bad++;
        if (v !== v) nan++;
      }
    }
    let badQ = 0;
    let sq = 0;
    let qMin = Infinity;
    let qMax = -Infinity;
    for (let j = i * count, e = j + count; j < e; j++) {
      const v = q[j];
      if (v - v !== 0) badQ++;
      sq += v;
      if (v < qMin) qMin = v;
      if (v > qMax) qMax = v;
    }
    out[i * 8 + 5] = bad;
    out[i * 8 + 6] = nan;
    out[i * 8 + 7] = badQ;
    maxP[i] = mx;
    sumP[i] = sp;
    sumQ[i] = sq;
    minQ[i] = qMin;
    maxQ[i] = qMax;
  }
  for (let i = 0; i < n; i++) if (out[i * 8 + 5] > 0 || out[i * 8 + 7] > 0) return out;
  // Bilinear resizing stays a tensor op (the GT size differs from the prediction's only at evaluation time).
  let p: Float32Array = raw;
  if (h !== H || w !== W) {
    const r = tf.tidy(() => tf.image.resizeBilinear(tf.reshape(pred, [n, h, w, 1]) as tf.Tensor4D, [H, W], false, true));
    p = (await r.data()) as Float32Array;
    r.dispose();
  }
  for (let i = 0; i < n; i++) {
    const o = i * count;
    const scale = 1 / (maxP[i] + METRIC_EPS);
    let sp = sumP[i];
    if (p !== raw) {
      sp = 0;
      for (let j = o, e = o + count; j < e; j++) sp += p[j];
    }
    sp *= scale;
    const sq = sumQ[i];
    const qMin = minQ[i];
    const qMax = maxQ[i];
    const meanP = sp / count;
    const meanQ = sq / count;
    const pNorm = 1 / (sp + METRIC_EPS);
    const qNorm = 1 / (sq + METRIC_EPS);
    const gScale = 1 / (qMax - qMin + METRIC_EPS);
    let kldSum = 0;
    let simSum = 0;
    let gSum = 0;
    let gCount = 0;
    // Second pass with the means known: deviations are summed directly (two-pass variance), so a constant
    // map gives exactly zero spread.
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (let j = o, e = o + count; j < e; j++) {
      const pv = p[j] * scale;
      const qv = q[j];
      const pn = pv * pNorm;
      const qn = qv * qNorm;
      // Entries with Q = 0 contribute exactly 0 (0 * log(eps) = 0): skip the log.
      if (qn > 0) kldSum += qn * Math.log(qn / (pn + METRIC_EPS) + METRIC_EPS);
      simSum += pn < qn ? pn : qn;
      const dp = pv - meanP;
      const dq = qv - meanQ;
      sxx += dp * dp;
      syy += dq * dq;
      sxy += dp * dq;
      if ((qv - qMin) * gScale > threshold) {
        gSum += dp;
        gCount++;
      }
    }
    const std = Math.sqrt(sxx / count);
    const flat = std <= FLAT_STD;
    const k = i * 8;
    out[k] = kldSum;
    out[k + 1] = simSum;
    out[k + 2] = flat ? 0 : gSum / std / (gCount + METRIC_EPS);
    out[k + 3] = flat || syy <= 0 ? 0 : sxy / Math.sqrt(sxx * syy);
    out[k + 4] = qMax;
  }
  return out;
}

function unpack(values: ArrayLike<number>, n: number, pred: tf.Tensor, name: string): BatchMetrics {
  const res: BatchMetrics = { KLD: new Float64Array(n), SIM: new Float64Array(n), NSS: new Float64Array(n), CC: new Float64Array(n), gtMax: new Float64Array(n) };
  const size = pred.rank === 3 ? pred.shape[1]! * pred.shape[2]! : pred.size;
  for (let i = 0; i < n; i++) {
    const o = i * 8;
    const where = n > 1 || pred.rank === 3 ? ` (map ${i} of ${n})` : '';
    if (values[o + 5] > 0) {
      const nan = values[o + 6];
      const what = nan > 0 ? `NaN in ${nan} of ${size} values` : `Infinity in ${values[o + 5]} of ${size} values`;
      throw new Error(`${name}: the prediction contains ${what}${where}; a prediction must be finite (check the model's output or the learning rate)`);
    }
    if (values[o + 7] > 0) throw new Error(`${name}: the ground truth contains NaN or Infinity in ${values[o + 7]} values${where}`);
    res.KLD[i] = values[o];
    res.SIM[i] = values[o + 1];
    res.NSS[i] = values[o + 2];
    res.CC[i] = values[o + 3];
    res.gtMax[i] = values[o + 4];
  }
  return res;
}

async function single(key: MetricKey, pred: tf.Tensor, gt: tf.Tensor, options: MetricOptions = {}): Promise<number> {
  if (pred.rank !== 2 || gt.rank !== 2) {
    throw new Error(`${key.toLowerCase()}: expected 2-D maps [H, W], got prediction [${pred.shape.join(', ')}] and GT [${gt.shape.join(', ')}]`);
  }
  const r = await metricsBatch(pred, gt, options, key.toLowerCase());
  return r[key][0];
}

/**
 * Kullback-Leibler divergence KL(GT || prediction), lower is better.
 * @param pred prediction map [h, w] (e.g. a sigmoid output)
 * @param gt ground-truth map [H, W]
 * @returns sum Q * log(Q / (P + eps) + eps) after max- and sum-normalisation
 * @see docs/paper.md section 3
 */
export function kld(pred: tf.Tensor, gt: tf.Tensor): Promise<number> {
  return single('KLD', pred, gt);
}

/**
 * Similarity (histogram intersection), higher is better, in [0, 1].
 * @param pred prediction map [h, w]
 * @param gt ground-truth map [H, W]
 * @returns sum min(P, Q) after sum-normalisation
 */
export function sim(pred: tf.Tensor, gt: tf.Tensor): Promise<number> {
  return single('SIM', pred, gt);
}

/**
 * Normalised scanpath saliency, higher is better.
 * @param pred prediction map [h, w]
 * @param gt ground-truth map [H, W]
 * @param options.threshold fixations are GT pixels with minmax(GT) > threshold; @default 0.1
 * @returns mean of the standardised prediction (population std) over the fixations; 0 for a constant prediction
 */
export function nss(pred: tf.Tensor, gt: tf.Tensor, options: MetricOptions = {}): Promise<number> {
  return single('NSS', pred, gt, options);
}

/**
 * Pearson correlation coefficient of prediction and GT, in [-1, 1]; 0 when either map is constant.
 * @param pred prediction map [h, w]
 * @param gt ground-truth map [H, W]
 */
export function cc(pred: tf.Tensor, gt: tf.Tensor): Promise<number> {
  return single('CC', pred, gt);
}

/** The four CAL metrics by name. */
export const metrics = { kld, sim, nss, cc, batch: metricsBatch } as const;
