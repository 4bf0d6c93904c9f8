/**
 * A small conv-and-attention net with the layer types of PIAL-Net's training graph: strided and 1x1
 * convolutions, a Mix-FFN (depthwise 3x3) with GELU, max and average pooling, layer norm, multi-head
 * attention with spatially reduced keys (batched matmul, softmax), bilinear upsampling, concat/slice,
 * sigmoid and binary cross-entropy. Parameters are plain tensors built from a seed, so the same net
 * can be built on any backend; used by the gradient and leak tests and by the runtime benchmark.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { tf } from '../../kernel/runtime/tf';
import { randomValues, size } from './helpers';

type T = tfc.Tensor;
type T4 = tfc.Tensor4D;

export interface NetConfig {
  inChannels: number;
  /** Channels of the two stages. */
  c1: number;
  c2: number;
  heads: number;
  outChannels: number;
}

export const SMALL_NET: NetConfig = { inChannels: 3, c1: 16, c2: 32, heads: 2, outChannels: 6 };

/** Parameter shapes by name, in a fixed order. */
export function paramShapes(c: NetConfig): [string, number[]][] {
  return [
    ['stem.w', [3, 3, c.inChannels, c.c1]],
    ['stem.b', [c.c1]],
    ['down.w', [3, 3, c.c1, c.c2]],
    ['ffn.w1', [1, 1, c.c2, 2 * c.c2]],
    ['ffn.dw', [3, 3, 2 * c.c2, 1]],
    ['ffn.w2', [1, 1, 2 * c.c2, c.c2]],
    ['down2.w', [3, 3, c.c2, c.c2]],
    ['ln.g', [c.c2]],
    ['ln.b', [c.c2]],
    ['att.q', [c.c2, c.c2]],
    ['att.kv', [c.c2, 2 * c.c2]],
    ['att.o', [c.c2, c.c2]],
    ['head.w', [1, 1, 2 * c.c2, c.outChannels]],
    ['head.dw', [3, 3, c.outChannels, 2]],
  ];
}

/** Parameters (He-scaled uniform), created on the active backend. */
export function makeParams(c: NetConfig, seed: number): T[] {
  return paramShapes(c).map(([name, shape], i) => {
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * (name.endsWith('dw') ? 1 : shape[2]) : shape[0];
    const scale = name.endsWith('.b') ? 0.1 : name === 'ln.g' ? 0.2 : Math.sqrt(3 / fanIn);
    const v = randomValues(size(shape), seed * 1000 + i).map((x) => (name === 'ln.g' ? 1 : 0) + x * scale);
    return tf.tensor(v, shape);
  });
}

function gelu(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

function layerNorm(x: T, g: T, b: T): T {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

/** Forward pass: image [b, H, W, inChannels] -> logits [b, H, W, outChannels]. */
export function forward(c: NetConfig, p: T[], x: T4): T4 {
  const [stemW, stemB, downW, w1, dw, w2, down2W, lnG, lnB, wq, wkv, wo, headW, headDw] = p;
  const [b, H, W] = x.shape;
  // Stage 1 (H/4): strided convs, max pool, GELU.
  let h = tf.relu(tf.add(tf.conv2d(x, stemW as T4, 2, 'same'), stemB)) as T4;
  h = tf.maxPool(h, 3, 1, 'same');
  const f1 = gelu(tf.conv2d(h, downW as T4, 2, 'same')) as T4;
  // Mix-FFN: 1x1 expand, depthwise 3x3, GELU, 1x1 project, residual.
  const e = tf.conv2d(f1, w1 as T4, 1, 'valid');
  const m = gelu(tf.depthwiseConv2d(e, dw as T4, 1, 'same')) as T4;
  const s1 = tf.add(f1, tf.conv2d(m, w2 as T4, 1, 'valid')) as T4;
  // Stage 2 (H/8): attention with spatially reduced keys/values (average pool).
  const f2 = tf.conv2d(s1, down2W as T4, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const [, h2, w2s, C] = f2.shape;
  const n = h2 * w2s;
  const heads = c.heads;
  const d = C / heads;
  const tokens = layerNorm(tf.reshape(f2, [b, n, C]), lnG, lnB);
  const q = tf.transpose(tf.reshape(tf.matMul(tf.reshape(tokens, [b * n, C]), wq), [b, n, heads, d]), [0, 2, 1, 3]);
  const red = tf.avgPool(tf.reshape(tokens, [b, h2, w2s, C]) as T4, 2, 2, 'same');
  const nr = red.shape[1] * red.shape[2];
  const kv = tf.matMul(tf.reshape(red, [b * nr, C]), wkv);
  const k = tf.transpose(tf.reshape(tf.slice(kv, [0, 0], [b * nr, C]), [b, nr, heads, d]), [0, 2, 1, 3]);
  const v = tf.transpose(tf.reshape(tf.slice(kv, [0, C], [b * nr, C]), [b, nr, heads, d]), [0, 2, 1, 3]);
  const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)));
  const o = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [b * n, C]);
  const f2o = tf.add(f2, tf.reshape(tf.matMul(o, wo), [b, h2, w2s, C])) as T4;
  // Head: upsample, concat with stage 1, 1x1 conv, depthwise with multiplier 2, upsample to input size.
  const up = tf.image.resizeBilinear(f2o, [s1.shape[1], s1.shape[2]]);
  const cat = tf.concat([s1, up], 3) as T4;
  const logits = tf.depthwiseConv2d(tf.conv2d(cat, headW as T4, 1, 'valid'), headDw as T4, 1, 'same');
  // The two multiplier columns of each channel, summed.
  const l = tf.sum(tf.reshape(logits, [b, logits.shape[1], logits.shape[2], c.outChannels, 2]), 4) as T4;
  return tf.image.resizeBilinear(l, [H, W]);
}

/** Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1]. */
export function bceLoss(logits: T, target: T): tfc.Scalar {
  const p = tf.clipByValue(tf.sigmoid(logits), 1e-6, 1 - 1e-6);
  return tf.neg(tf.mean<tfc.Scalar>(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))))));
}

/** Input and target of the given size, created on the active backend. */
export function makeBatch(c: NetConfig, b: number, h: number, w: number, seed: number): { x: T4; y: T4 } {
  const xs: [number, number, number, number] = [b, h, w, c.inChannels];
  const ys: [number, number, number, number] = [b, h, w, c.outChannels];
  const y = randomValues(size(ys), seed + 1).map((v) => (v > 0.3 ? 1 : 0));
  return { x: tf.tensor4d(randomValues(size(xs), seed), xs), y: tf.tensor4d(y, ys) };
}

/** Loss and gradients with respect to every parameter. */
export function lossAndGrads(c: NetConfig, p: T[], x: T4, y: T4): { loss: T; grads: T[] } {
  const { value, grads } = tf.valueAndGrads((...ps: T[]) => bceLoss(forward(c, ps, x), y))(p);
  return { loss: value, grads };
}
