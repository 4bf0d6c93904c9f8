/**
 * Gradients that tfjs 4.22 gets wrong, replaced in its gradient registry (one registry for every backend).
 *
 * ResizeBilinear: tfjs's gradient kernel (ResizeBilinearGrad) spreads the output gradient with the
 * align-corners sampling positions whatever `halfPixelCenters` says, on every backend (cpu, wasm,
 * webgpu and the TensorFlow binding alike). With `halfPixelCenters = true` (what PIAL-Net's decoder, SegFormer
 * and PyTorch's `align_corners=False` use) the gradient of every layer below an upsampling was wrong.
 *
 * Bilinear resizing is linear and separable: out[b] = Ah . in[b] . Aw^T per channel, where Ah [outH, inH]
 * and Aw [outW, inW] hold the interpolation weights of the forward pass. Its gradient is therefore
 * dIn[b] = Ah^T . dOut[b] . Aw, which is computed here with two matrix products (the operation every
 * backend accelerates) and three transposes, with the weights built in JS from exactly the sampling rule
 * of the forward kernel (half-pixel centres, align-corners, or neither; any scale up or down). One
 * implementation for every backend, instead of one kernel per backend computing the same linear map.
 */
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { tf } from './tf';

/**
 * Interpolation matrix [outSize, inSize] of one axis, following the forward kernel's rule: source position
 * s = ratio * (o + 0.5) - 0.5 with half-pixel centres, else ratio * o, where ratio = (in - 1) / (out - 1)
 * with align-corners (and out > 1), else in / out; the two neighbours floor(s) and ceil(s) are clamped into
 * the image and weighted 1 - f and f, f = s - max(0, floor(s)).
 */
export function bilinearWeights(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Float32Array {
  // Every training step asks for the same few matrices: built once per (sizes, rule).
  const key = `${inSize},${outSize},${alignCorners ? 1 : 0}${halfPixelCenters ? 1 : 0}`;
  const cached = weightCache.get(key);
  if (cached) return cached;
  const a = new Float64Array(outSize * inSize);
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  for (let o = 0; o < outSize; o++) {
    const s = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
    const lo = Math.max(0, Math.floor(s));
    const hi = Math.min(inSize - 1, Math.ceil(s));
    const f = s - lo;
    a[o * inSize + Math.min(lo, inSize - 1)] += 1 - f;
    a[o * inSize + hi] += f;
  }
  const w = Float32Array.from(a);
  if (weightCache.size > 256) weightCache.clear();
  weightCache.set(key, w);
  return w;
}

const weightCache = new Map<string, Float32Array>();

/** dImages [B, inH, inW, C] of resizeBilinear for the output gradient dy [B, outH, outW, C]. */
export function resizeBilinearBackward(dy: Tensor, imageShape: readonly number[], alignCorners: boolean, halfPixelCenters: boolean): Tensor {
  const [b, inH, inW, c] = imageShape;
  const [, outH, outW] = dy.shape;
  return tf.tidy(() => {
    const ah = tf.tensor2d(bilinearWeights(inH, outH, alignCorners, halfPixelCenters), [outH, inH]);
    const aw = tf.tensor2d(bilinearWeights(inW, outW, alignCorners, halfPixelCenters), [outW, inW]);
    const g = dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32');
    // Width: [B, C, outH, outW] . Aw -> [B, C, outH, inW]
    const t1 = tf.reshape(tf.transpose(g, [0, 3, 1, 2]), [b * c * outH, outW]);
    const m1 = tf.reshape(tf.matMul(t1, aw), [b, c, outH, inW]);
    // Height: [B, C, inW, outH] . Ah -> [B, C, inW, inH]
    const t2 = tf.reshape(tf.transpose(m1, [0, 1, 3, 2]), [b * c * inW, outH]);
    const m2 = tf.reshape(tf.matMul(t2, ah), [b, c, inW, inH]);
    return tf.transpose(m2, [0, 3, 2, 1]);
  });
}

const resizeBilinearGrad: GradConfig = {
  kernelName: 'ResizeBilinear',
  inputsToSave: ['images'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [images] = saved;
    const g = Array.isArray(dy) ? dy[0] : dy;
    const alignCorners = attrs.alignCorners === true;
    const halfPixelCenters = attrs.halfPixelCenters === true;
    return { images: () => resizeBilinearBackward(g, images.shape, alignCorners, halfPixelCenters) };
  },
};

/** Installs the corrected gradients (idempotent). */
export function registerGradientFixes(): void {
  tf.registerGradient(resizeBilinearGrad);
}
