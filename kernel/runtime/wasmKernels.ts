/**
 * Training kernels that tfjs-backend-wasm 4.22 does not register, and faster routes for some it has.
 *
 * Registered through tfjs's public `registerKernel`; each one calls the wasm backend's own kernels
 * (looked up with `getKernel(name, 'wasm')`) on TensorInfos, or works over the wasm heap through the
 * backend's own API (wasmHeap.ts), and frees every intermediate it makes, so the engine only ever sees
 * the output. Added:
 * - Conv2DBackpropFilter: one XNNPACK convolution. The filter gradient is the correlation of the input
 *   with the output gradient, so it is a Conv2D whose "batch" is the input channels, whose "input
 *   channels" are the batch, whose filter is the output gradient and whose dilation is the stride.
 * - Conv2DBackpropInput (replacing wasm's own, a direct loop several times slower): stride 1, one Conv2D
 *   of the output gradient with the filter rotated by 180 degrees; strided, one stride-1 Conv2D per
 *   stride phase with that phase's filter taps, interleaved over the heap.
 * - DepthwiseConv2dNativeBackpropInput: one depthwise convolution (XNNPACK) of the spread output
 *   gradient with the rotated filter, its multiplier columns summed afterwards.
 * - DepthwiseConv2dNativeBackpropFilter: stride 1 (multiplier 1), one product and one column sum per
 *   filter tap; strided, a loop over the heap; otherwise one depthwise convolution whose channels are
 *   the (channel, image) pairs and whose filter is the output gradient, summed over the batch.
 * - UnsortedSegmentSum (gradient of gather): ScatterNd, which accumulates duplicates.
 *
 * With a system BLAS (blas.ts), BatchMatMul, Conv2D, Conv2DBackpropFilter, the stride-1 depthwise
 * filter gradient and Sum/Mean over long leading axes run their arithmetic in it, on views of the heap
 * (see each kernel).
 *
 * Replaced, because training leans on them and a faster route exists (each keeps the original for the
 * cases it does not improve): BatchMatMul and _FusedMatMul (XNNPACK path for transposed and batched
 * operands, small batched items as one grouped convolution, and a guard against a stale-operator bug), Slice and SplitV (copies over the heap), 2-D
 * Transpose of tall matrices, Sum and Mean over inner blocks of axes (over the heap), Identity (a shared
 * buffer).
 */
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo, KernelConfig, KernelBackend } from '@tensorflow/tfjs-core';
import { tf } from './tf';
import { activeBlas, type Blas } from './blas';
import { heapBackend, heapDtype, heapCopy, heapPad, heapSlice, heapSplit, heapReduceMiddle, heapReduceMiddleBlas, heapDepthwiseFilterGrad, heapGroupedOperands, heapGroupedResult, heapIm2col, heapChannelCorrelations, heapChannelMajorPadded, convIsPointwise, type ConvGeometry, type WasmHeapBackend } from './wasmHeap';

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type PadAttr = 'same' | 'valid' | number | ExplicitPad;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Pair = [number, number];

/** Calls wasm kernels and remembers every intermediate so that one call frees them all. */
class Scope {
  private readonly temps: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend) {}

  get backendRef(): KernelBackend {
    return this.backend;
  }

  /** Runs a wasm kernel; list kernels (Concat, AddN) take their inputs as an array, as tfjs passes them. */
  run(kernelName: string, inputs: NamedTensorInfoMap | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const k = tf.getKernel(kernelName, 'wasm');
    if (!k) throw new Error(`wasm backend has no kernel ${kernelName}, which the training kernels are built from`);
    const out = k.kernelFunc({ inputs: inputs as NamedTensorInfoMap, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel ${kernelName} returned several outputs where one was expected`);
    this.temps.push(out);
    return out;
  }

  /** Runs a given kernel (e.g. one this module replaced) and tracks its output like run(). */
  run2(k: KernelConfig, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const out = k.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel ${k.kernelName} returned several outputs where one was expected`);
    this.temps.push(out);
    return out;
  }

  /** Tracks a tensor made outside run() (e.g. over the heap) like run()'s outputs. */
  track(t: TensorInfo): TensorInfo {
    this.temps.push(t);
    return t;
  }

  /** Frees every intermediate except `keep`, which the engine will own. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.temps) if (t !== keep) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return keep;
  }

  /** Frees everything (error path). */
  abort(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }
  pad(x: TensorInfo, paddings: Pair[]): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    const heap = heapBackend(this.backend);
    if (heap && heapDtype(x.dtype)) return this.track(heapPad(heap, x, paddings));
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }
  /** Pads (positive) or crops (negative) each axis at its start and end. */
  padOrCrop(x: TensorInfo, amounts: Pair[]): TensorInfo {
    const p = this.pad(x, amounts.map(([a, b]) => [Math.max(0, a), Math.max(0, b)] as Pair));
    const begin = amounts.map(([a]) => Math.max(0, -a));
    const size = p.shape.map((n, i) => n - begin[i] - Math.max(0, -amounts[i][1]));
    return this.slice(p, begin, size);
  }
}

/** The kernel registered for wasm under `name`. */
function wasmKernel(name: string): KernelConfig {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm backend has no kernel ${name}`);
  return k;
}

/** Wraps a kernel body so that intermediates are freed on success and on error. */
function composite(kernelName: string, body: (s: Scope, inputs: NamedTensorInfoMap, attrs: NamedAttrMap) => TensorInfo): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const s = new Scope(backend as KernelBackend);
      try {
        return s.finish(body(s, inputs, attrs ?? {}));
      } catch (e) {
        s.abort();
        throw e;
      }
    },
  };
}

function pair(v: unknown, name: string): Pair {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number')) return [v[0] as number, v[1] as number];
  if (v == null) return [1, 1];
  throw new Error(`${name}: expected a number or [h, w], got ${JSON.stringify(v)}`);
}

function input(inputs: NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: missing input "${name}"`);
  if (t.dtype !== 'float32') throw new Error(`${kernel}: input "${name}" must be float32, got ${t.dtype}`);
  return t;
}

/** A conv info's geometry, for the heap helpers. */
function geometry(info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): ConvGeometry {
  return {
    N: info.batchSize, H: info.inHeight, W: info.inWidth, C: info.inChannels,
    kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth,
    dh: info.dilationHeight, dw: info.dilationWidth, top: info.padInfo.top, left: info.padInfo.left,
    oh: info.outHeight, ow: info.outWidth,
  };
}

/** The input's patches [N*oh*ow, kh*kw*C] (the input itself for a pointwise convolution). */
function patches(s: Scope, heap: WasmHeapBackend, x: TensorInfo, g: ConvGeometry): TensorInfo {
  return convIsPointwise(g) ? x : s.track(heapIm2col(heap, x, g));
}

/**
 * Conv2D (NHWC, float32) with a BLAS: the input's patches times the filter as a [kh*kw*C, O] matrix,
 * one cblas_sgemm (XNNPACK's convolution runs at 13-20 GFLOP/s here). Other cases, and every case
 * without a BLAS, go to the wasm backend's own kernel.
 */
export const conv2DWasm = composite('Conv2D', (s, inputs, attrs) => {
  const orig = original('Conv2D');
  const x = inputs.x;
  const filter = inputs.filter;
  const heap = heapBackend(s.backendRef);
  const lib = activeBlas();
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (!lib || !heap || !x || !filter || x.dtype !== 'float32' || filter.dtype !== 'float32' || dataFormat !== 'NHWC' || x.shape.length !== 4) {
    return s.run2(orig, inputs, attrs);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides as Pair,
    pair(attrs.dilations, 'Conv2D dilations'), attrs.pad as PadAttr, attrs.dimRoundingMode as Rounding, false, 'channelsLast');
  const g = geometry(info);
  const O = info.outChannels;
  const rows = g.N * g.oh * g.ow;
  const K = g.kh * g.kw * g.C;
  const p = patches(s, heap, x, g);
  const out = s.track(heap.makeOutput([g.N, g.oh, g.ow, O], 'float32'));
  if (rows * O === 0) return out;
  const ov = heap.typedArrayFromHeap(out) as Float32Array;
  if (K === 0) ov.fill(0);
  else lib.sgemm(false, false, rows, O, K, heap.typedArrayFromHeap(p) as Float32Array, K, heap.typedArrayFromHeap(filter) as Float32Array, O, 0, ov, O);
  return out;
});
conv2DWasm.setupFunc = (backend) => originals.get('Conv2D')?.setupFunc?.(backend);

/**
 * Conv2DBackpropFilter with a BLAS: dW = patches(x)^T dy, one cblas_sgemm over all output pixels;
 * without one, one Conv2D (XNNPACK).
 */
export const conv2DBackpropFilterWasm = composite('Conv2DBackpropFilter', (s, inputs, attrs) => {
  const K = 'Conv2DBackpropFilter';
  let x = input(inputs, 'x', K);
  let dy = input(inputs, 'dy', K);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides as Pair, 1,
    attrs.pad as PadAttr, attrs.dimRoundingMode as Rounding, false, fmt);
  if (fmt === 'channelsFirst') {
    x = s.transpose(x, [0, 2, 3, 1]);
    dy = s.transpose(dy, [0, 2, 3, 1]);
  }
  const heap = heapBackend(s.backendRef);
  const lib = activeBlas();
  if (lib && heap) {
    const g = geometry(info);
    const rows = g.N * g.oh * g.ow;
    const taps = g.kh * g.kw * g.C;
    const O = info.outChannels;
    const p = patches(s, heap, x, g);
    const out = s.track(heap.makeOutput(filterShape.slice(), 'float32'));
    const ov = heap.typedArrayFromHeap(out) as Float32Array;
    if (rows === 0) ov.fill(0);
    else if (taps * O > 0) lib.sgemm(true, false, taps, O, rows, heap.typedArrayFromHeap(p) as Float32Array, taps, heap.typedArrayFromHeap(dy) as Float32Array, O, 0, ov, O);
    return out;
  }
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inHeight: H, inWidth: W } = info;
  const { top, left } = info.padInfo;
  // [ci, H, W, b]: input channels become the batch, the batch becomes the reduced channel axis.
  const xT = s.transpose(x, [3, 1, 2, 0]);
  // [oh, ow, b, co]: the output gradient is the filter.
  const dyT = s.transpose(dy, [1, 2, 0, 3]);
  // Rows the correlation reads: from -top to (kh-1) + (oh-1)*sh - top; pad (or crop) the input to that.
  const bottom = kh - 1 + (oh - 1) * sh - top - (H - 1);
  const right = kw - 1 + (ow - 1) * sw - left - (W - 1);
  const xP = s.padOrCrop(xT, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  const conv = s.run('Conv2D', { x: xP, filter: dyT }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw],
  });
  // conv is [ci, kh, kw, co]; the filter layout is [kh, kw, ci, co].
  return s.transpose(conv, [1, 2, 0, 3]);
});

/** Output gradient spread out by the stride: zeros between rows and columns, [b, (oh-1)*sh+1, (ow-1)*sw+1, c]. */
function spread(s: Scope, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return dy;
  const [b, oh, ow, c] = dy.shape;
  const d6 = s.reshape(dy, [b, oh, 1, ow, 1, c]);
  const p = s.pad(d6, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const r = s.reshape(p, [b, oh * sh, ow * sw, c]);
  return s.slice(r, [0, 0, 0, 0], [b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c]);
}

/** DepthwiseConv2dNativeBackpropInput as depthwise convolutions (XNNPACK) of the spread gradient. */
export const depthwiseBackpropInputWasm = composite('DepthwiseConv2dNativeBackpropInput', (s, inputs, attrs) => {
  const K = 'DepthwiseConv2dNativeBackpropInput';
  const dy = input(inputs, 'dy', K);
  const filter = input(inputs, 'filter', K);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs.strides as Pair,
    pair(attrs.dilations, `${K} dilations`), attrs.pad as PadAttr, attrs.dimRoundingMode as Rounding, true);
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw, inHeight: H, inWidth: W, inChannels: C } = info;
  const { top, left } = info.padInfo;
  const m = filter.shape[3];
  const [b] = inputShape;
  const up = spread(s, dy, sh, sw);
  const L = up.shape[1];
  const Lw = up.shape[2];
  // dx[i] = sum_k up[i + top - k*dh] * w[k] = a correlation with the rotated filter, dilation dh,
  // starting (kh-1)*dh - top rows before up[0].
  const padT = (kh - 1) * dh - top;
  const padL = (kw - 1) * dw - left;
  const padB = H - 1 + top - (L - 1);
  const padR = W - 1 + left - (Lw - 1);
  // Filter rotated by 180 degrees, [kh, kw, C, m] read as [kh, kw, C*m, 1]: gradient channel c*m+q
  // meets filter column (c, q), in one multiplier-1 depthwise convolution.
  const rot = s.reshape(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, C * m, 1]);
  const gp = s.padOrCrop(up, [[0, 0], [padT, padB], [padL, padR], [0, 0]]);
  const dx = s.run('DepthwiseConv2dNative', { x: gp, filter: rot }, { strides: [1, 1], pad: 'valid', dilations: [dh, dw] });
  if (m === 1) return dx;
  // Sum the multiplier columns of each input channel (a last-axis reduction; no rank-5 slices, which
  // the wasm backend runs in JavaScript).
  return s.run('Sum', { x: s.reshape(dx, [b, H, W, C, m]) }, { axis: [4], keepDims: false });
});

/**
 * Stride-1 depthwise filter gradient (multiplier 1) as, per filter tap, one elementwise product on wasm
 * and one column sum over the heap: with the input padded to [N, Hp, Wp, C] (Hp = oh + (kh-1)*dh) and
 * the output gradient zero-padded at the bottom and right to the same size, tap (i, j) is the product of
 * the gradient with the input shifted by (i*dh*Wp + j*dw)*C elements, summed per channel. The shift is
 * a flat offset: the gradient's zero padding covers every position where it would cross a row or image.
 */
function depthwiseFilterGradTaps(s: Scope, heap: WasmHeapBackend, x: TensorInfo, dy: TensorInfo, p: { kh: number; kw: number; dh: number; dw: number; top: number; left: number; oh: number; ow: number }): TensorInfo {
  const [N, H, W, C] = x.shape;
  const Hp = p.oh + (p.kh - 1) * p.dh;
  const Wp = p.ow + (p.kw - 1) * p.dw;
  const xp = s.padOrCrop(x, [[0, 0], [p.top, Hp - H - p.top], [p.left, Wp - W - p.left], [0, 0]]);
  const dp = s.reshape(s.pad(dy, [[0, 0], [0, Hp - p.oh], [0, Wp - p.ow], [0, 0]]), [N * Hp * Wp * C]);
  const L = N * Hp * Wp;
  const out = s.track(heap.makeOutput([p.kh, p.kw, C, 1], 'float32'));
  for (let i = 0; i < p.kh; i++) {
    for (let j = 0; j < p.kw; j++) {
      const o = (i * p.dh * Wp + j * p.dw) * C;
      const shifted = heap.makeOutput([L * C], 'float32');
      let prod: TensorInfo | undefined;
      let sums: TensorInfo | undefined;
      try {
        const sv = heap.typedArrayFromHeap(shifted);
        sv.set(heap.typedArrayFromHeap(xp).subarray(o));
        // Past the end: the gradient is zero there, but the memory may hold NaN.
        sv.fill(0, L * C - o);
        // Freed at once, not at the end of the kernel: each is as large as the input.
        prod = wasmKernel('Multiply').kernelFunc({ inputs: { a: shifted, b: dp }, backend: heap, attrs: {} }) as TensorInfo;
        sums = heapReduceMiddle(heap, prod, 1, L, C, false, [C]);
        heap.typedArrayFromHeap(out).set(heap.typedArrayFromHeap(sums), (i * p.kw + j) * C);
      } finally {
        heap.disposeData(shifted.dataId);
        if (prod) heap.disposeData(prod.dataId);
        if (sums) heap.disposeData(sums.dataId);
      }
    }
  }
  return out;
}

/**
 * The stride-1 depthwise filter gradient over channel-major copies: the padded input and the output
 * gradient (zero-padded to the same grid) transposed to [C, N*Hp*Wp], then for each channel and tap one
 * dot product of contiguous rows (heapChannelCorrelations); the tap's shift is a flat offset, as in
 * depthwiseFilterGradTaps.
 */
function depthwiseFilterGradChannels(s: Scope, heap: WasmHeapBackend, blasOps: Pick<Blas, 'sdot'> & Required<Pick<Blas, 'transpose'>>, x: TensorInfo, dy: TensorInfo, p: { kh: number; kw: number; dh: number; dw: number; top: number; left: number; oh: number; ow: number }): TensorInfo {
  const [N, , , C] = x.shape;
  const Hp = p.oh + (p.kh - 1) * p.dh;
  const Wp = p.ow + (p.kw - 1) * p.dw;
  const xT = s.track(heapChannelMajorPadded(heap, x, Hp, Wp, p.top, p.left, blasOps.transpose));
  const dT = s.track(heapChannelMajorPadded(heap, dy, Hp, Wp, 0, 0, blasOps.transpose));
  const offsets: number[] = [];
  for (let i = 0; i < p.kh; i++) for (let j = 0; j < p.kw; j++) offsets.push(i * p.dh * Wp + j * p.dw);
  const out = s.track(heapChannelCorrelations(heap, xT, dT, C, N * Hp * Wp, offsets, blasOps.sdot));
  return s.reshape(out, [p.kh, p.kw, C, 1]);
}

/** Channel-row length (N*Hp*Wp) from which depthwiseFilterGradChannels is used. */
const CHANNEL_ROW_MIN = 400;

/**
 * DepthwiseConv2dNativeBackpropFilter as one depthwise convolution (XNNPACK): every (channel, batch)
 * pair becomes a channel of a single image, the output gradient its filter (dilated by the stride), and
 * the batch is summed afterwards.
 */
export const depthwiseBackpropFilterWasm = composite('DepthwiseConv2dNativeBackpropFilter', (s, inputs, attrs) => {
  const K = 'DepthwiseConv2dNativeBackpropFilter';
  const x = input(inputs, 'x', K);
  const dy = input(inputs, 'dy', K);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides as Pair,
    pair(attrs.dilations, `${K} dilations`), attrs.pad as PadAttr, attrs.dimRoundingMode as Rounding, true);
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const m = filterShape[3];
  // Strided: a direct loop over the heap; stride 1, multiplier 1: per-tap products (both 1.1-1.4x
  // faster here than the single depthwise convolution below, which stays for the other cases).
  const heap = heapBackend(s.backendRef);
  if (heap && (sh > 1 || sw > 1)) return s.track(heapDepthwiseFilterGrad(heap, x, dy, { kh, kw, sh, sw, dh, dw, top, left, m }));
  const lib = activeBlas();
  const Hp = oh + (kh - 1) * dh;
  const Wp = ow + (kw - 1) * dw;
  const fits = top >= 0 && left >= 0 && Hp - H - top >= 0 && Wp - W - left >= 0;
  // Channel rows of 400 values and more: the BLAS's dot products (measured: N*Hp*Wp = 512 and 5,408 ran
  // 1.35x and 2.1x faster than the per-tap products, 200 1.6x slower, one BLAS call per channel and tap).
  if (heap && m === 1 && lib?.transpose && fits && x.shape[0] * Hp * Wp >= CHANNEL_ROW_MIN) return depthwiseFilterGradChannels(s, heap, { sdot: lib.sdot, transpose: lib.transpose }, x, dy, { kh, kw, dh, dw, top, left, oh, ow });
  if (heap && m === 1) return depthwiseFilterGradTaps(s, heap, x, dy, { kh, kw, dh, dw, top, left, oh, ow });
  const [b] = x.shape;
  // [1, H, W, C*b]: channel c of image n becomes channel c*b + n.
  const xT = s.reshape(s.transpose(x, [1, 2, 3, 0]), [1, H, W, C * b]);
  // [oh, ow, C*b, m]: its filter is that image's output gradient for the m multiplier columns.
  const dyT = s.reshape(s.transpose(s.reshape(dy, [b, oh, ow, C, m]), [1, 2, 3, 0, 4]), [oh, ow, C * b, m]);
  const bottom = (kh - 1) * dh + (oh - 1) * sh - top - (H - 1);
  const right = (kw - 1) * dw + (ow - 1) * sw - left - (W - 1);
  const xP = s.padOrCrop(xT, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  // Output [1, kh, kw, C*b*m]: stride = forward dilation, dilation = forward stride.
  const conv = s.run('DepthwiseConv2dNative', { x: xP, filter: dyT }, { strides: [dh, dw], pad: 'valid', dilations: [sh, sw] });
  const sliced = s.slice(conv, [0, 0, 0, 0], [1, kh, kw, C * b * m]);
  const perImage = s.reshape(sliced, [kh, kw, C, b, m]);
  return s.run('Sum', { x: perImage }, { axis: [3], keepDims: false });
});

/** The rows of one stride phase of a strided convolution's input gradient, along one axis. */
interface Phase {
  /** First input row of the phase, and how many (every stride-th row from there). */
  first: number;
  count: number;
  /** Filter taps of the phase: r, r + s, r + 2s, ... below the filter size. */
  r: number;
  taps: number;
  /** Output-gradient padding (negative: crop) before and after, for a valid correlation. */
  before: number;
  after: number;
}

/**
 * Per axis: input row i gets dy[q - t] * w[r + s*t] for t >= 0, where r = (i + pad) mod s and
 * q = floor((i + pad) / s). The rows of one residue r form a stride-1 correlation of dy with that
 * phase's taps reversed.
 */
function phases(s: number, k: number, size: number, pad: number, outSize: number): Phase[] {
  const out: Phase[] = [];
  for (let r = 0; r < s; r++) {
    const first = (((r - pad) % s) + s) % s;
    const count = first < size ? Math.ceil((size - first) / s) : 0;
    const taps = r < k ? Math.ceil((k - r) / s) : 0;
    const q0 = (first + pad - r) / s;
    out.push({ first, count, r, taps, before: taps - 1 - q0, after: q0 + count - 1 - (outSize - 1) });
  }
  return out;
}

/**
 * Input gradient of a strided convolution as one stride-1 Conv2D (XNNPACK) per stride phase (sh * sw of
 * them): the phase's output rows and columns see only every stride-th filter tap, so each phase is a
 * dense correlation of the unspread output gradient with a sub-filter, a quarter of the work of the
 * spread-out route at stride 2. The phases are interleaved into the result over the heap.
 */
function stridedInputGrad(s: Scope, heap: WasmHeapBackend, dy: TensorInfo, filter: TensorInfo, p: { sh: number; sw: number; kh: number; kw: number; H: number; W: number; top: number; left: number }): TensorInfo {
  const [N, oh, ow, co] = dy.shape;
  const ci = filter.shape[2];
  const py = phases(p.sh, p.kh, p.H, p.top, oh);
  const px = phases(p.sw, p.kw, p.W, p.left, ow);
  const parts: { y: Phase; x: Phase; z: TensorInfo }[] = [];
  let gaps = false;
  for (const y of py) {
    for (const x of px) {
      if (y.count === 0 || x.count === 0) continue;
      if (y.taps === 0 || x.taps === 0) {
        gaps = true;
        continue;
      }
      // Sub-filter [taps_y, taps_x, co, ci]: taps r + s*t, reversed, channel axes swapped.
      const f = s.track(heap.makeOutput([y.taps, x.taps, co, ci], 'float32'));
      const fv = heap.typedArrayFromHeap(f) as Float32Array;
      const wv = heap.typedArrayFromHeap(filter) as Float32Array;
      for (let u = 0; u < y.taps; u++) {
        const ky = y.r + p.sh * (y.taps - 1 - u);
        for (let v = 0; v < x.taps; v++) {
          const kx = x.r + p.sw * (x.taps - 1 - v);
          const src = (ky * p.kw + kx) * ci * co;
          const dst = (u * x.taps + v) * co * ci;
          for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) fv[dst + o * ci + c] = wv[src + c * co + o];
        }
      }
      const g = s.padOrCrop(dy, [[0, 0], [y.before, y.after], [x.before, x.after], [0, 0]]);
      const z = s.run('Conv2D', { x: g, filter: f }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
      parts.push({ y, x, z });
    }
  }
  const dx = s.track(heap.makeOutput([N, p.H, p.W, ci], 'float32'));
  const out = heap.typedArrayFromHeap(dx) as Float32Array;
  if (gaps) out.fill(0);
  for (const { y, x, z } of parts) {
    const zv = heap.typedArrayFromHeap(z) as Float32Array;
    let o = 0;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < y.count; j++) {
        const row = (n * p.H + y.first + p.sh * j) * p.W;
        for (let k = 0; k < x.count; k++, o += ci) {
          const d = (row + x.first + p.sw * k) * ci;
          if (ci >= 64) out.set(zv.subarray(o, o + ci), d);
          else for (let c = 0; c < ci; c++) out[d + c] = zv[o + c];
        }
      }
    }
  }
  return dx;
}

/**
 * Conv2DBackpropInput as one Conv2D (XNNPACK) of the output gradient, spread out by the stride, with
 * the filter rotated by 180 degrees and its channel axes swapped. Replaces the wasm backend's own
 * kernel, a direct loop about ten times slower than its convolution.
 */
export const conv2DBackpropInputWasm = composite('Conv2DBackpropInput', (s, inputs, attrs) => {
  const K = 'Conv2DBackpropInput';
  let dy = input(inputs, 'dy', K);
  const filter = input(inputs, 'filter', K);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs.strides as Pair, 1,
    attrs.pad as PadAttr, attrs.dimRoundingMode as Rounding, false, fmt);
  if (fmt === 'channelsFirst') dy = s.transpose(dy, [0, 2, 3, 1]);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight: H, inWidth: W } = info;
  const { top, left } = info.padInfo;
  const heap = heapBackend(s.backendRef);
  if (heap && (sh > 1 || sw > 1)) {
    const dx = stridedInputGrad(s, heap, dy, filter, { sh, sw, kh, kw, H, W, top, left });
    return fmt === 'channelsFirst' ? s.transpose(dx, [0, 3, 1, 2]) : dx;
  }
  const up = spread(s, dy, sh, sw);
  const L = up.shape[1];
  const Lw = up.shape[2];
  const gp = s.padOrCrop(up, [[0, 0], [kh - 1 - top, H - 1 + top - (L - 1)], [kw - 1 - left, W - 1 + left - (Lw - 1)], [0, 0]]);
  // [kh, kw, ci, co] -> rotated, [kh, kw, co, ci]
  const f = s.transpose(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
  const dx = s.run('Conv2D', { x: gp, filter: f }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
  return fmt === 'channelsFirst' ? s.transpose(dx, [0, 3, 1, 2]) : dx;
});

/** UnsortedSegmentSum (the gradient of gather) as ScatterNd, which sums duplicate indices. */
export const unsortedSegmentSumWasm = composite('UnsortedSegmentSum', (s, inputs, attrs) => {
  const K = 'UnsortedSegmentSum';
  const x = inputs.x;
  const ids = inputs.segmentIds;
  if (!x || !ids) throw new Error(`${K}: expected inputs x and segmentIds`);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`${K}: x must be float32 or int32, got ${x.dtype}`);
  const numSegments = attrs.numSegments as number;
  const n = ids.shape.reduce((a, c) => a * c, 1);
  const rest = x.shape.slice(ids.shape.length);
  const idsInt = ids.dtype === 'int32' ? ids : s.run('Cast', { x: ids }, { dtype: 'int32' });
  const flatIds = s.reshape(idsInt, [n]);
  const updates = s.reshape(x, [n, ...rest]);
  // Ids outside [0, numSegments) contribute nothing (as in TensorFlow): send them to row 0 with a zero update.
  const lo = s.run('GreaterEqual', { a: flatIds, b: s.run('Fill', {}, { shape: [], value: 0, dtype: 'int32' }) });
  const hi = s.run('Less', { a: flatIds, b: s.run('Fill', {}, { shape: [], value: numSegments, dtype: 'int32' }) });
  const ok = s.run('LogicalAnd', { a: lo, b: hi });
  // Masks by multiplication: the wasm Select kernel handles float32 values only.
  const okInt = s.run('Cast', { x: ok }, { dtype: 'int32' });
  const safeIds = s.run('Multiply', { a: flatIds, b: okInt });
  const okRows = s.reshape(s.run('Cast', { x: ok }, { dtype: updates.dtype }), [n, ...rest.map(() => 1)]);
  const maskedUpd = s.run('Multiply', { a: updates, b: okRows });
  const indices = s.reshape(safeIds, [n, 1]);
  return s.run('ScatterNd', { indices, updates: maskedUpd }, { shape: [numSegments, ...rest] });
});

/** tfjs-backend-wasm's own kernels that the replacements below delegate to (cases they do not handle). */
const originals = new Map<string, KernelConfig>();

function original(name: string): KernelConfig {
  const k = originals.get(name);
  if (!k) throw new Error(`${name}: the wasm backend kernel is missing`);
  return k;
}

/** The wasm backend's own kernel that the runtime replaced (for comparisons), or undefined. */
export function originalWasmKernel(name: string): KernelConfig | undefined {
  return originals.get(name);
}

/**
 * Slice as a copy over the wasm heap, with adjacent axes merged first. wasm's own Slice reads the whole
 * input back into JavaScript (readSync copies it) before copying the box out, so every slice of a
 * large tensor cost a full copy; rank 5 and up it copies element by element. Strings and complex
 * tensors go to the original.
 */
export const sliceWasm: KernelConfig = {
  kernelName: 'Slice',
  backendName: 'wasm',
  setupFunc: (backend) => originals.get('Slice')?.setupFunc?.(backend),
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!x) throw new Error('Slice: missing input "x"');
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs?.begin as number | number[], attrs?.size as number | number[] | undefined);
    const heap = heapBackend(backend);
    if (!heap || !heapDtype(x.dtype)) return original('Slice').kernelFunc({ inputs, backend, attrs: { begin, size } });
    return heapSlice(heap, x, begin, size);
  },
};

/**
 * tfjs-backend-wasm 4.22 caches the XNNPACK operator of a matmul under the id of its right operand's
 * data, without its shape. Reshaped views share that id, so using one buffer as the right operand with
 * two different shapes (e.g. a gradient as [34, 16] in one product and as [2, 272] in the next) silently
 * reuses the first operator and returns wrong numbers. Every matmul the runtime sends down that path
 * records the shape each buffer had; a buffer seen with another shape is copied first (fresh id; a
 * copy over the heap, since Identity shares the buffer).
 */
const matmulWeightShapes = new WeakMap<object, string>();

function guardWeights(s: Scope, b: TensorInfo, signature: string): TensorInfo {
  const seen = matmulWeightShapes.get(b.dataId);
  if (seen === undefined) {
    matmulWeightShapes.set(b.dataId, signature);
    return b;
  }
  if (seen === signature) return b;
  const heap = heapBackend(s.backendRef);
  if (!heap) throw new Error('BatchMatMul: the backend cannot copy a buffer');
  const copy = s.track(heapCopy(heap, b));
  matmulWeightShapes.set(copy.dataId, signature);
  return copy;
}

/** x viewed as [batch, r, c], transposed to [batch, c, r] (the Transpose kernel registered above). */
function transposeLast2(s: Scope, x: TensorInfo, batch: number): TensorInfo {
  const [r, c] = x.shape.slice(-2);
  // A single matrix as 2-D, so that the tiled route above applies.
  if (batch === 1) return s.reshape(s.transpose(s.reshape(x, [r, c]), [1, 0]), [1, c, r]);
  return s.transpose(s.reshape(x, [batch, r, c]), [0, 2, 1]);
}

/**
 * Relative cost of XNNPACK packing a right operand, per element, against transposing an element once
 * (the Transpose kernel), and the fixed cost of one transpose in elements. Measured on fresh operands
 * (CPU time): packing [9216, 64] costs 2.6 ms over the product with the operator cached, a transpose of
 * it about 1 ms, and a transpose of a small matrix some 20 us whatever its size. With these, the
 * weight gradients [32,9216] x [9216,64 or 128] and [64,2304] x [2304,256] swap (1.1-1.5x faster than
 * direct) and [72,160] x [160,160], [64,4608] x [4608,64], [144,2048] x [2048,32] stay direct (the swap
 * was 1.2-2.6x slower there).
 */
const PACK_COST = 4;
const TRANSPOSE_FIXED = 8192;

/** dst[dOff + c * rows + r] = src[sOff + r * cols + c]: a [rows, cols] block transposed. */
function transposeInto(src: Float32Array, sOff: number, rows: number, cols: number, dst: Float32Array, dOff: number): void {
  for (let r = 0; r < rows; r++) {
    const row = sOff + r * cols;
    for (let c = 0; c < cols; c++) dst[dOff + c * rows + r] = src[row + c];
  }
}

/**
 * A product with both operands batched (attention scores and their gradients) as one 2-D XNNPACK
 * product per batch item: each item's matrices are copied out of the batch (the operator is cached
 * under the right operand's id, so each item gets a buffer of its own), multiplied, and copied into
 * the output. A batch of 1 on one side is broadcast. Transposed operands are transposed first.
 */
function perItemProducts(s: Scope, heap: WasmHeapBackend, mm: KernelConfig, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, outer: number[]): TensorInfo {
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const a3 = transposeA ? transposeLast2(s, a, batchA) : a;
  const b3 = transposeB ? transposeLast2(s, b, batchB) : b;
  const [m, k] = a3.shape.slice(-2);
  const [k2, n] = b3.shape.slice(-2);
  if (k !== k2) {
    throw new Error(`Error in matMul: inner shapes (${k}) and (${k2}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const batch = Math.max(batchA, batchB);
  const out = s.track(heap.makeOutput([...outer, m, n], 'float32'));
  if (batch * m * n === 0) return out;
  if (k === 0) {
    (heap.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const sa = m * k;
  const sb = k * n;
  const so = m * n;
  // XNNPACK packs each item's right operand (a fresh buffer): for a short left operand and a wide right one
  // (m << n, e.g. [6, 1024] x [1024, 64]) C^T = B^T A^T packs the small one, at the price of three transposes
  // (costs in elements moved, packing counted as PACK_COST of them, as for 2-D products).
  const swap = PACK_COST * k * n > PACK_COST * k * m + k * n + k * m + m * n;
  const [lr, lc, rr, rc] = swap ? [n, k, k, m] : [m, k, k, n];
  // One left-operand buffer, refilled for each item (XNNPACK caches by the right operand only); the
  // right operand is a new buffer for every item, so that no item meets another's cached operator.
  const left = s.track(heap.makeOutput([lr, lc], 'float32'));
  const fillLeft = (i: number): void => {
    const src = swap ? heap.typedArrayFromHeap(b3) : heap.typedArrayFromHeap(a3);
    const dst = heap.typedArrayFromHeap(left) as Float32Array;
    const item = swap ? (batchB === 1 ? 0 : i) : batchA === 1 ? 0 : i;
    if (swap) transposeInto(src as Float32Array, item * sb, k, n, dst, 0);
    else dst.set((src as Float32Array).subarray(item * sa, (item + 1) * sa));
  };
  const leftShared = swap ? batchB === 1 : batchA === 1;
  if (leftShared) fillLeft(0);
  for (let i = 0; i < batch; i++) {
    const ri = heap.makeOutput([rr, rc], 'float32');
    let oi: TensorInfo | undefined;
    try {
      // Views are taken after the allocations (a heap that grows detaches older views).
      if (!leftShared) fillLeft(i);
      const rdst = heap.typedArrayFromHeap(ri) as Float32Array;
      if (swap) transposeInto(heap.typedArrayFromHeap(a3) as Float32Array, (batchA === 1 ? 0 : i) * sa, m, k, rdst, 0);
      else rdst.set((heap.typedArrayFromHeap(b3) as Float32Array).subarray((batchB === 1 ? 0 : i) * sb, ((batchB === 1 ? 0 : i) + 1) * sb));
      oi = mm.kernelFunc({ inputs: { a: left, b: ri }, backend: heap, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
      const res = heap.typedArrayFromHeap(oi) as Float32Array;
      const dst = heap.typedArrayFromHeap(out) as Float32Array;
      if (swap) transposeInto(res, 0, n, m, dst, i * so);
      else dst.set(res, i * so);
    } finally {
      heap.disposeData(ri.dataId);
      if (oi) heap.disposeData(oi.dataId);
    }
  }
  return out;
}

/** For each item of the broadcast batch `outer`, the index of the item of `sub` (left-padded with 1s) it reads. */
function broadcastItems(outer: readonly number[], sub: readonly number[]): Int32Array {
  const rank = outer.length;
  const pad = rank - sub.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const size = d >= pad ? sub[d - pad] : 1;
    strides[d] = size === 1 ? 0 : stride;
    stride *= size;
  }
  const total = outer.reduce((x, y) => x * y, 1);
  const items = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    let rest = i;
    let at = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rest % outer[d];
      rest = (rest - idx) / outer[d];
      at += idx * strides[d];
    }
    items[i] = at;
  }
  return items;
}

/**
 * Every float32 BatchMatMul as cblas_sgemm calls on views of the wasm heap (blas.ts): transposed
 * operands are passed as such (no copies), a left operand with a batch against a single right matrix is
 * one product over all its rows, and other batches (attention, broadcasts) one call per item. The
 * output is written in place; nothing is cached between calls.
 */
function blasProducts(s: Scope, heap: WasmHeapBackend, lib: Blas, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, outer: number[]): TensorInfo {
  const { m, k, n } = productSizes(a, b, transposeA, transposeB);
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  const batch = outer.reduce((x, y) => x * y, 1);
  const out = s.track(heap.makeOutput([...outer, m, n], 'float32'));
  if (batch * m * n === 0) return out;
  // Views after the last allocation of the call (a growing heap detaches older ones).
  const av = heap.typedArrayFromHeap(a) as Float32Array;
  const bv = heap.typedArrayFromHeap(b) as Float32Array;
  const cv = heap.typedArrayFromHeap(out) as Float32Array;
  if (k === 0) {
    cv.fill(0);
    return out;
  }
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  if (batchB === 1 && !transposeA && batch === batchA) {
    lib.sgemm(false, transposeB, batchA * m, n, k, av, lda, bv, ldb, 0, cv, n);
    return out;
  }
  const itemsA = batchA === batch ? undefined : broadcastItems(outer, outerA);
  const itemsB = batchB === batch ? undefined : broadcastItems(outer, outerB);
  const sa = m * k;
  const sb = k * n;
  const so = m * n;
  for (let i = 0; i < batch; i++) {
    const ia = itemsA ? itemsA[i] : i;
    const ib = itemsB ? itemsB[i] : i;
    lib.sgemm(transposeA, transposeB, m, n, k, av.subarray(ia * sa, (ia + 1) * sa), lda, bv.subarray(ib * sb, (ib + 1) * sb), ldb, 0, cv.subarray(i * so, (i + 1) * so), n);
  }
  return out;
}

/** How a product with both operands batched is computed (see batchedRoute). */
export type BatchedRoute = 'items' | 'grouped' | 'stock' | 'blas';

let forcedRoute: BatchedRoute | undefined;

/** Forces every product with both operands batched onto one route (undefined: the cost model); for tests. */
export function forceBatchedMatMulRoute(route: BatchedRoute | undefined): void {
  forcedRoute = route;
}

/**
 * Item size (m k n multiply-adds) below which the grouped convolution beats one XNNPACK product per
 * item. Measured over the products of a training step (CPU time, both routes alternately): items of 2.6k
 * to 16k multiply-adds ([16,5,9,9] x [16,5,9,32], [8,5,16,32] x [8,5,32,32], attention over a few
 * tokens) ran 1.3-5x faster grouped, items of 41k and more ([16,2,144,32] x [16,2,32,9], [16,1,576,9] x
 * [16,1,9,32]) 2-4x slower: the grouped GEMMs run one input channel per filter tap, slow per
 * multiply-add, while each per-item product pays an operator and a packing (some 30 us here).
 */
const ITEM_MACS = 24_000;

/**
 * The route for products of [m, k] x [k, n] per batch item: one XNNPACK product per item when the items
 * are large enough for its fixed cost to vanish next to the arithmetic; otherwise one grouped
 * convolution for the whole batch (groupedProducts), whose fixed cost is paid once.
 */
function batchedRoute(m: number, k: number, n: number): BatchedRoute {
  if (forcedRoute && forcedRoute !== 'blas') return forcedRoute;
  return m * k * n >= ITEM_MACS ? 'items' : 'grouped';
}

/**
 * A product with both operands batched as one depthwise convolution (XNNPACK) whose channels are the
 * batch items and whose channel multiplier is n: each channel is then a [m, k] x [k, n] GEMM of its own,
 * all under one operator (heapGroupedOperands lays the operands out, heapGroupedResult reads the
 * result back). The filter is a fresh buffer every call, so no cached operator can see other data.
 */
function groupedProducts(s: Scope, heap: WasmHeapBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, itemsA: number, itemsB: number, m: number, k: number, n: number, outer: number[]): TensorInfo {
  const items = Math.max(itemsA, itemsB);
  if (items * m * n === 0 || k === 0) {
    const z = s.track(heap.makeOutput([...outer, m, n], 'float32'));
    if (items * m * n > 0) (heap.typedArrayFromHeap(z) as Float32Array).fill(0);
    return z;
  }
  const { x, filter } = heapGroupedOperands(heap, a, b, transposeA, transposeB, itemsA, itemsB, m, k, n);
  s.track(x);
  s.track(filter);
  const y = s.run('DepthwiseConv2dNative', { x, filter }, { strides: [1, 1], pad: 'valid', dilations: [1, 1] });
  return s.track(heapGroupedResult(heap, y, items, m, n, [...outer, m, n]));
}

/** Sizes m, k, n of the per-item products op(a) [m, k] x op(b) [k, n]; an error (tfjs's words) when k differs. */
function productSizes(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): { m: number; k: number; n: number } {
  const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
  const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const kb = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  if (k !== kb) {
    throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  return { m, k, n };
}

/**
 * BatchMatMul steered onto wasm's fast path. tfjs-backend-wasm multiplies through XNNPACK only when
 * neither operand is transposed and neither has a batch (about 30 GFLOP/s here); otherwise it runs a
 * plain loop (0.3-3 GFLOP/s). Backpropagation asks for exactly those: dA = dY B^T, dB = A^T dY. So a
 * transposed operand is transposed explicitly first (a copy, cheap next to the product); when only
 * the left operand has batch dimensions they are folded into its rows; when both have them (attention),
 * each batch item is its own 2-D product (perItemProducts) if the items are large, and the whole batch
 * one grouped convolution (groupedProducts) if they are small (batchedRoute). With a system BLAS
 * (blas.ts) every float32 product goes to cblas_sgemm instead (blasProducts), unless a test forces a route.
 */
export const batchMatMulWasm = composite('BatchMatMul', (s, inputs, attrs) => {
  const orig = original('BatchMatMul');
  const a = inputs.a;
  const b = inputs.b;
  if (!a || !b) throw new Error('BatchMatMul: expected inputs a and b');
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const heap = heapBackend(s.backendRef);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2 || !heap) {
    return s.run2(orig, inputs, attrs);
  }
  const batch = (t: TensorInfo): number => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchA = batch(a);
  const batchB = batch(b);
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  if (batchA === 0 || batchB === 0) {
    // An empty batch: an empty result (the 2-D route below would fold it into a matrix of no rows).
    const rows = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const cols = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    return s.track(heap.makeOutput([...outer, rows, cols], 'float32'));
  }
  const lib = activeBlas();
  if (lib && (forcedRoute === undefined || forcedRoute === 'blas')) {
    return blasProducts(s, heap, lib, a, b, transposeA, transposeB, outer);
  }
  if (batchB > 1) {
    // Per-item products when the batches pair up one to one (or one side is a single matrix).
    const paired = batchA === 1 || (batchA === batchB && outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]));
    if (!paired) {
      // Batches that broadcast both ways ([2, 1] against [1, 3]): both operands tiled to the full batch
      // first (wasm's and cpu's own kernels return too few values for these).
      const full = (t: TensorInfo, o: number[]): TensorInfo => {
        const padded = [...new Array<number>(outer.length - o.length).fill(1), ...o];
        const r = s.reshape(t, [...padded, ...t.shape.slice(-2)]);
        return s.run('Tile', { x: r }, { reps: [...outer.map((d, i) => d / padded[i]), 1, 1] });
      };
      return s.run2(batchMatMulWasm, { a: full(a, outerA), b: full(b, outerB) }, attrs);
    }
    const { m, k, n } = productSizes(a, b, transposeA, transposeB);
    const route = batchedRoute(m, k, n);
    if (route === 'stock') return s.run2(orig, inputs, attrs);
    if (route === 'grouped') return groupedProducts(s, heap, a, b, transposeA, transposeB, batchA, batchB, m, k, n, outer);
    return perItemProducts(s, heap, orig, a, b, transposeA, transposeB, outer);
  }
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const M = batchA * (transposeA ? ca : ra);
  const K = transposeA ? ra : ca;
  const N = transposeB ? rb : cb;
  if (K !== (transposeB ? cb : rb)) {
    throw new Error(`Error in matMul: inner shapes (${K}) and (${transposeB ? cb : rb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  // XNNPACK packs its right operand when it first sees the buffer, at several times the cost of a
  // transpose per element; for a fresh right operand much wider than the left one (weight gradients
  // X^T dY: K pixels, M and N channels), C^T = B^T A^T packs the smaller one. Costs in transposed
  // elements, packing counted as PACK_COST of them.
  const bCached = !transposeB && matmulWeightShapes.get(b.dataId) === `${rb}x${cb}`;
  const direct = (transposeA ? TRANSPOSE_FIXED + M * K : 0) + (transposeB ? TRANSPOSE_FIXED + K * N : 0) + (bCached ? 0 : PACK_COST * K * N);
  const swapped = (transposeB ? 0 : TRANSPOSE_FIXED + K * N) + (transposeA ? 0 : TRANSPOSE_FIXED + K * M) + PACK_COST * K * M + TRANSPOSE_FIXED + M * N;
  if (swapped < direct && !(transposeA && batchA > 1)) {
    // Left operand B^T [N, K], right operand A^T [K, M] (batches of a folded into its columns).
    const left = transposeB ? s.reshape(b, [N, K]) : s.reshape(transposeLast2(s, b, 1), [N, K]);
    const right = transposeA ? s.reshape(a, [K, M]) : s.reshape(transposeLast2(s, s.reshape(a, [M, K]), 1), [K, M]);
    const ct = s.run2(orig, { a: left, b: guardWeights(s, right, `${K}x${M}`) }, { transposeA: false, transposeB: false });
    const c = s.reshape(transposeLast2(s, ct, 1), [M, N]);
    return s.reshape(c, [...outer, M / batchA, N]);
  }
  // a as rows [batchA * m, k]; a transposed batch goes through an explicit transpose first.
  const a2 = transposeA ? s.reshape(transposeLast2(s, a, batchA), [batchA * ca, ra]) : s.reshape(a, [batchA * ra, ca]);
  const b2 = transposeB ? transposeLast2(s, b, 1) : s.reshape(b, [rb, cb]);
  const b2d = s.reshape(b2, b2.shape.slice(-2));
  if (a2.shape[1] !== b2d.shape[0]) {
    throw new Error(`Error in matMul: inner shapes (${a2.shape[1]}) and (${b2d.shape[0]}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const weights = guardWeights(s, b2d, `${b2d.shape[0]}x${b2d.shape[1]}`);
  const out = s.run2(orig, { a: a2, b: weights }, { transposeA: false, transposeB: false });
  return s.reshape(out, [...outer, a2.shape[0] / batchA, b2d.shape[1]]);
});
// The original kernel binds its wasm function in its setup, which the backend runs for registered kernels.
batchMatMulWasm.setupFunc = (backend) => originals.get('BatchMatMul')?.setupFunc?.(backend);

/** _FusedMatMul with its right operand guarded like BatchMatMul's (same operator cache). */
export const fusedMatMulWasm = composite('_FusedMatMul', (s, inputs, attrs) => {
  const orig = original('_FusedMatMul');
  const b = inputs.b;
  if (!b) throw new Error('_FusedMatMul: missing input "b"');
  const rows = b.shape[b.shape.length - 2];
  const cols = b.shape[b.shape.length - 1];
  const weights = guardWeights(s, b, `${b.shape.slice(0, -2).join('x')}|${rows}x${cols}${attrs.transposeB === true ? 'T' : ''}`);
  return s.run2(orig, { ...inputs, b: weights }, attrs);
});
fusedMatMulWasm.setupFunc = (backend) => originals.get('_FusedMatMul')?.setupFunc?.(backend);

/** Smallest column length and width that Sum and Mean hand to the BLAS (heapReduceMiddleBlas). */
export const REDUCE_BLAS_MIN_ROWS = 64;
export const REDUCE_BLAS_MIN_COLUMNS = 8;

/**
 * Sum and Mean over a contiguous block of axes that is not at the end (bias gradients, gradients of
 * broadcasting ops, batch statistics: [N, C] -> [C], [B, N, C] -> [B, C]) as one pass over the heap in
 * JavaScript, accumulated in double. wasm's own reductions first transpose the reduced axes to the end
 * (30-40 ms for [16384, 128]). With a BLAS, columns of at least 64 rows and 8 values are summed as products
 * with a row of ones, 128 rows per call, the chunks added in double (heapReduceMiddleBlas). Reductions over the
 * last axes (wasm's native case) and other dtypes go to the original kernels.
 */
function blockReduction(kernelName: 'Sum' | 'Mean'): KernelConfig {
  const k = composite(kernelName, (s, inputs, attrs) => {
    const orig = original(kernelName);
    const x = inputs.x;
    if (!x) throw new Error(`${kernelName}: missing input "x"`);
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam((attrs.axis as number | number[] | undefined) ?? [...Array(rank).keys()], x.shape).sort((p, q) => p - q);
    const heap = heapBackend(s.backendRef);
    const contiguous = axes.length > 0 && axes.every((a, i) => a === axes[0] + i) && new Set(axes).size === axes.length;
    const last = axes.length > 0 ? axes[axes.length - 1] : -1;
    if (x.dtype !== 'float32' || !heap || !contiguous || last === rank - 1) return s.run2(orig, inputs, attrs);
    const prodOf = (xs: number[]): number => xs.reduce((u, v) => u * v, 1);
    const outer = prodOf(x.shape.slice(0, axes[0]));
    const count = prodOf(x.shape.slice(axes[0], last + 1));
    const inner = prodOf(x.shape.slice(last + 1));
    const kept = x.shape.filter((_, i) => i < axes[0] || i > last);
    const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (i >= axes[0] && i <= last ? 1 : d)) : kept;
    // Columns long enough for the BLAS calls to pay (one per 128 rows); short ones in one JavaScript pass.
    const lib = activeBlas();
    if (lib && count >= REDUCE_BLAS_MIN_ROWS && inner >= REDUCE_BLAS_MIN_COLUMNS) {
      return s.track(heapReduceMiddleBlas(heap, x, outer, count, inner, kernelName === 'Mean', outShape, lib.sgemm));
    }
    return s.track(heapReduceMiddle(heap, x, outer, count, inner, kernelName === 'Mean', outShape));
  });
  k.setupFunc = (backend) => originals.get(kernelName)?.setupFunc?.(backend);
  return k;
}

/** Sum over a block of axes not at the end, over the heap (see blockReduction). */
export const sumWasm = blockReduction('Sum');
/** Mean over a block of axes not at the end, over the heap (see blockReduction). */
export const meanWasm = blockReduction('Mean');

/**
 * 2-D transposes of tall matrices as a 4-D transpose of 32x32 tiles: wasm's 2-D kernel walks the
 * output with a large input stride (39 ms for [8192, 256]; 4 ms tiled). Other transposes go to the
 * original (a JavaScript loop over the heap was slower than wasm's kernel for every other shape tried).
 */
export const transposeWasm = composite('Transpose', (s, inputs, attrs) => {
  const orig = original('Transpose');
  const x = inputs.x;
  if (!x) throw new Error('Transpose: missing input "x"');
  const perm = attrs.perm as number[];
  const T = 32;
  if (x.shape.length !== 2 || perm[0] !== 1 || x.dtype === 'string') return s.run2(orig, inputs, attrs);
  const [r, c] = x.shape;
  if (r < c || r % T !== 0 || c % T !== 0) return s.run2(orig, inputs, attrs);
  const tiles = s.run2(orig, { x: s.reshape(x, [r / T, T, c / T, T]) }, { perm: [2, 3, 0, 1] });
  return s.reshape(tiles, [c, r]);
});
transposeWasm.setupFunc = (backend) => originals.get('Transpose')?.setupFunc?.(backend);

/** SplitV as copies over the heap (see Slice): splitting the channels of an NHWC tensor is a strided copy. */
export const splitVWasm: KernelConfig = {
  kernelName: 'SplitV',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!x) throw new Error('SplitV: missing input "x"');
    const axis = tf.util.parseAxisParam(attrs?.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, attrs?.numOrSizeSplits as number | number[], axis);
    const heap = heapBackend(backend);
    if (heap && heapDtype(x.dtype)) {
      const outer = x.shape.slice(0, axis).reduce((u, v) => u * v, 1);
      const inner = x.shape.slice(axis + 1).reduce((u, v) => u * v, 1);
      const k = sizes.length;
      if (outer > 1 && k > 1 && sizes.every((n) => n === sizes[0]) && sizes[0] * inner > 0) {
        // Equal pieces of an inner axis: one wasm transpose [outer, k, piece] -> [k, outer, piece] makes
        // every piece contiguous, then each is one copy.
        const piece = sizes[0] * inner;
        const s = new Scope(backend as KernelBackend);
        try {
          const t = s.run2(original('Transpose'), { x: s.reshape(x, [outer, k, piece]) }, { perm: [1, 0, 2] });
          const outs = sizes.map((n) => {
            const shape = x.shape.slice();
            shape[axis] = n;
            return heap.makeOutput(shape, x.dtype);
          });
          const src = heap.typedArrayFromHeap(t);
          const chunk = outer * piece;
          for (const [i, o] of outs.entries()) heap.typedArrayFromHeap(o).set(src.subarray(i * chunk, (i + 1) * chunk));
          s.finish(t);
          heap.disposeData(t.dataId);
          return outs;
        } catch (e) {
          s.abort();
          throw e;
        }
      }
      return heapSplit(heap, x, axis, sizes);
    }
    const begin = new Array<number>(x.shape.length).fill(0);
    const outs: TensorInfo[] = [];
    try {
      for (const n of sizes) {
        const size = x.shape.slice();
        size[axis] = n;
        outs.push(sliceWasm.kernelFunc({ inputs: { x }, backend, attrs: { begin: begin.slice(), size } }) as TensorInfo);
        begin[axis] += n;
      }
    } catch (e) {
      for (const o of outs) (backend as KernelBackend).disposeData(o.dataId);
      throw e;
    }
    return outs;
  },
};

/**
 * Identity sharing its input's buffer (a reference count), as the cpu backend's does: tfjs clones
 * every tensor it saves for backpropagation, and wasm's own Identity copies it. Tensors never write
 * into their buffers (a variable's assign takes the new value's buffer), so a shared buffer is safe;
 * the matmul operator cache keys on the buffer, which a clone keeps with its shape (guardWeights
 * copies explicitly). Strings go to the original.
 */
export const identityWasm: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!x) throw new Error('Identity: missing input "x"');
    const heap = heapBackend(backend);
    if (!heap || x.dtype === 'string' || x.dtype === 'complex64') return original('Identity').kernelFunc({ inputs, backend, attrs });
    heap.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  },
};

/** wasm kernels that exist but are replaced because the new route is much faster. */
const REPLACED = new Set(['Conv2D', 'Conv2DBackpropInput', 'Slice', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'Transpose', 'SplitV', 'Identity']);

/** Every kernel this module adds to the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2DWasm,
  conv2DBackpropFilterWasm,
  conv2DBackpropInputWasm,
  depthwiseBackpropInputWasm,
  depthwiseBackpropFilterWasm,
  unsortedSegmentSumWasm,
  sliceWasm,
  batchMatMulWasm,
  sumWasm,
  transposeWasm,
  splitVWasm,
  fusedMatMulWasm,
  meanWasm,
  identityWasm,
];

/**
 * Registers the missing training kernels for the wasm backend (idempotent; a kernel that a later
 * tfjs-backend-wasm brings itself is left alone). Returns the names registered now.
 */
export function registerWasmTrainingKernels(): string[] {
  const done: string[] = [];
  for (const k of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(k.kernelName, 'wasm');
    if (existing === k) continue;
    if (existing) {
      if (!REPLACED.has(k.kernelName)) continue;
      originals.set(k.kernelName, existing);
      tf.unregisterKernel(k.kernelName, 'wasm');
    }
    tf.registerKernel(k);
    done.push(k.kernelName);
  }
  return done;
}
