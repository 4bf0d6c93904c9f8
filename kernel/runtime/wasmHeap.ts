/**
 * Kernels that read and write the wasm backend's heap directly from JavaScript, through the backend's
 * own API only: `makeOutput` allocates an output, `typedArrayFromHeap` gives a view of a tensor's
 * buffer, `disposeData` frees one. These are copies and reductions whose work is a single pass over
 * memory, where tfjs-backend-wasm 4.22's kernels copy the whole input first (Slice reads it back with
 * readSync), transpose it first (Sum, Mean) or walk it with a large stride (Transpose).
 *
 * A view is taken only after every allocation of the call: growing the heap detaches earlier views.
 */
import type { DataId, DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { Sgemm } from './blas';

/** The part of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: DataId): void;
  refCount(dataId: DataId): number;
}

/** The backend as a heap backend, or undefined if it lacks the API (then callers use the original kernel). */
export function heapBackend(b: unknown): WasmHeapBackend | undefined {
  const w = b as Partial<WasmHeapBackend> | null;
  return w && typeof w.makeOutput === 'function' && typeof w.typedArrayFromHeap === 'function' && typeof w.incRef === 'function' ? (w as WasmHeapBackend) : undefined;
}

/** dtypes whose buffers typedArrayFromHeap can view. */
export function heapDtype(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

function prod(xs: readonly number[]): number {
  let p = 1;
  for (const v of xs) p *= v;
  return p;
}

/** A copy of x in a new buffer (a fresh data id). */
export function heapCopy(backend: WasmHeapBackend, x: TensorInfo): TensorInfo {
  const out = backend.makeOutput(x.shape.slice(), x.dtype);
  if (prod(x.shape) > 0) backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x));
  return out;
}

/**
 * Merges the axes of a slice: an axis taken whole folds into the one before it (the range stays
 * contiguous), size-1 axes of the input disappear.
 */
function mergeSliceAxes(shape: readonly number[], begin: readonly number[], size: readonly number[]): { shape: number[]; begin: number[]; size: number[] } {
  const ms: number[] = [];
  const mb: number[] = [];
  const mz: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const whole = begin[i] === 0 && size[i] === shape[i];
    if (ms.length > 0 && whole) {
      const j = ms.length - 1;
      ms[j] *= shape[i];
      mb[j] *= shape[i];
      mz[j] *= shape[i];
    } else {
      ms.push(shape[i]);
      mb.push(begin[i]);
      mz.push(size[i]);
    }
  }
  if (ms.length === 0) return { shape: [1], begin: [0], size: [1] };
  return { shape: ms, begin: mb, size: mz };
}

/** Runs shorter than this are copied element by element; longer ones with subarray/set. */
const SET_RUN = 16;

/**
 * Copies the box [begin, begin + size) of x (shape `shape`, viewed flat as `src`) into `dst` from
 * `dstOffset`, in row-major order.
 */
function copyBox(src: Float32Array | Int32Array | Uint8Array, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: Float32Array | Int32Array | Uint8Array, dstOffset: number): void {
  const m = mergeSliceAxes(shape, begin, size);
  const r = m.shape.length;
  const strides = new Array<number>(r);
  strides[r - 1] = 1;
  for (let i = r - 2; i >= 0; i--) strides[i] = strides[i + 1] * m.shape[i + 1];
  let base = 0;
  for (let i = 0; i < r; i++) base += m.begin[i] * strides[i];
  const inner = m.size[r - 1];
  const outer = prod(m.size.slice(0, r - 1));
  if (outer === 0 || inner === 0) return;
  let o = dstOffset;
  if (r === 1) {
    dst.set(src.subarray(base, base + inner), o);
    return;
  }
  const idx = new Array<number>(r - 1).fill(0);
  const useSet = inner >= SET_RUN;
  // Fast path for the common 2-D case (rows of a matrix): no odometer.
  if (r === 2) {
    const stride = strides[0];
    for (let row = 0; row < outer; row++, base += stride) {
      if (useSet) dst.set(src.subarray(base, base + inner), o);
      else for (let j = 0; j < inner; j++) dst[o + j] = src[base + j];
      o += inner;
    }
    return;
  }
  for (let c = 0; c < outer; c++) {
    if (useSet) dst.set(src.subarray(base, base + inner), o);
    else for (let j = 0; j < inner; j++) dst[o + j] = src[base + j];
    o += inner;
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < m.size[d]) break;
      base -= strides[d] * m.size[d];
      idx[d] = 0;
    }
  }
}

/**
 * x zero-padded by `paddings` ([before, after] per axis, none negative), over the heap: a zero fill and
 * a copy of x into the interior box. wasm's own PadV2 takes 20 ms for [16, 32, 32, 128] here.
 */
export function heapPad(backend: WasmHeapBackend, x: TensorInfo, paddings: readonly (readonly [number, number])[]): TensorInfo {
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const out = backend.makeOutput(shape, x.dtype);
  if (prod(shape) === 0) return out;
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0);
  if (prod(x.shape) === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  // Rows of x (its last axis, with whole trailing axes of the padded tensor merged in) into the box.
  const r = shape.length;
  let inner = x.shape[r - 1];
  let axis = r - 1;
  while (axis > 0 && paddings[axis][0] === 0 && paddings[axis][1] === 0) {
    axis--;
    inner *= x.shape[axis];
  }
  // Axes 0..axis-1 are iterated; axis `axis` is the start of the contiguous run of the padded tensor.
  const strides = new Array<number>(r);
  strides[r - 1] = 1;
  for (let i = r - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  let base = 0;
  for (let i = 0; i < r; i++) base += paddings[i][0] * strides[i];
  const outerShape = x.shape.slice(0, axis);
  const outer = prod(outerShape);
  const idx = new Array<number>(axis).fill(0);
  let o = 0;
  for (let c = 0; c < outer; c++) {
    if (inner >= SET_RUN) dst.set(src.subarray(o, o + inner), base);
    else for (let j = 0; j < inner; j++) dst[base + j] = src[o + j];
    o += inner;
    for (let d = axis - 1; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < outerShape[d]) break;
      base -= strides[d] * outerShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Slice of x as a copy over the heap (begin and size already resolved, as parseSliceParams gives them). */
export function heapSlice(backend: WasmHeapBackend, x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
  const out = backend.makeOutput(size.slice(), x.dtype);
  if (prod(size) === 0) return out;
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out), 0);
  return out;
}

/** Splits x along `axis` into pieces of the given sizes, each a copy over the heap. */
export function heapSplit(backend: WasmHeapBackend, x: TensorInfo, axis: number, sizes: readonly number[]): TensorInfo[] {
  const outs = sizes.map((n) => {
    const s = x.shape.slice();
    s[axis] = n;
    return backend.makeOutput(s, x.dtype);
  });
  const src = backend.typedArrayFromHeap(x);
  const begin = new Array<number>(x.shape.length).fill(0);
  for (const [i, n] of sizes.entries()) {
    if (n > 0 && prod(outs[i].shape) > 0) copyBox(src, x.shape, begin, outs[i].shape, backend.typedArrayFromHeap(outs[i]), 0);
    begin[axis] += n;
  }
  return outs;
}

/**
 * Sum (scale 1) or mean (scale 1/count) of a float32 x viewed as [outer, count, inner] over its middle
 * axis, accumulated in double. Output shape `outShape` (outer * inner elements).
 */
export function heapReduceMiddle(backend: WasmHeapBackend, x: TensorInfo, outer: number, count: number, inner: number, mean: boolean, outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  if (outer * inner === 0) return out;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  if (count === 0) {
    // An empty mean is 0, as on the cpu backend.
    dst.fill(0);
    return out;
  }
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(inner);
  const scale = mean ? 1 / count : 1;
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let base = o * count * inner;
    let r = 0;
    // Eight rows per pass over the accumulator (their float32 values summed in double first).
    for (; r + 8 <= count; r += 8, base += 8 * inner) {
      const b1 = base + inner, b2 = b1 + inner, b3 = b2 + inner, b4 = b3 + inner, b5 = b4 + inner, b6 = b5 + inner, b7 = b6 + inner;
      for (let j = 0; j < inner; j++) {
        acc[j] += src[base + j] + src[b1 + j] + src[b2 + j] + src[b3 + j] + src[b4 + j] + src[b5 + j] + src[b6 + j] + src[b7 + j];
      }
    }
    for (; r < count; r++, base += inner) {
      for (let j = 0; j < inner; j++) acc[j] += src[base + j];
    }
    const ob = o * inner;
    // Mean divides the double sum (as the cpu backend divides its sum), rounding once.
    for (let j = 0; j < inner; j++) dst[ob + j] = mean ? acc[j] * scale : acc[j];
  }
  return out;
}

/** Rows per BLAS call of {@link heapReduceMiddleBlas}: its float32 partial sums are added in double. */
export const REDUCE_CHUNK_ROWS = 128;

let ones = new Float32Array(0);

/**
 * heapReduceMiddle with the sums of each chunk of {@link REDUCE_CHUNK_ROWS} rows taken by the BLAS (a [1, rows]
 * row of ones times the [rows, inner] block: one sgemm per chunk, at memory speed) and the chunks' sums added
 * in double, so a long column keeps the error of float32 rounding of its chunks, not of a float32 running sum.
 */
export function heapReduceMiddleBlas(
  backend: WasmHeapBackend, x: TensorInfo, outer: number, count: number, inner: number, mean: boolean, outShape: number[],
  sgemm: Sgemm,
): TensorInfo {
  if (outer * inner === 0 || count === 0) return heapReduceMiddle(backend, x, outer, count, inner, mean, outShape);
  const out = backend.makeOutput(outShape, 'float32');
  const part = backend.makeOutput([inner], 'float32');
  try {
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const pv = backend.typedArrayFromHeap(part) as Float32Array;
    if (ones.length < REDUCE_CHUNK_ROWS) ones = new Float32Array(REDUCE_CHUNK_ROWS).fill(1);
    const acc = new Float64Array(inner);
    const scale = mean ? 1 / count : 1;
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let r = 0; r < count; r += REDUCE_CHUNK_ROWS) {
        const k = Math.min(REDUCE_CHUNK_ROWS, count - r);
        sgemm(false, false, 1, inner, k, ones, k, src.subarray((o * count + r) * inner), inner, 0, pv, inner);
        for (let j = 0; j < inner; j++) acc[j] += pv[j];
      }
      const ob = o * inner;
      for (let j = 0; j < inner; j++) dst[ob + j] = mean ? acc[j] * scale : acc[j];
    }
  } finally {
    backend.disposeData(part.dataId);
  }
  return out;
}

/** acc[a + c] += x[xb + c] * d[db + c] for c < n. */
function mulAcc(acc: Float64Array, a: number, x: Float32Array, xb: number, d: Float32Array, db: number, n: number): void {
  for (let c = 0; c < n; c++) acc[a + c] += x[xb + c] * d[db + c];
}

/**
 * Filter gradient of a depthwise convolution over the heap: for each filter tap (i, j),
 * dw[i, j, c, q] = sum over n, y, x of x[n, y*sh + i*dh - top, x*sw + j*dw - left, c] * dy[n, y, x, c*m + q],
 * with the channel axis innermost (contiguous in x, dy and the accumulator), accumulated in double.
 */
export function heapDepthwiseFilterGrad(
  backend: WasmHeapBackend, x: TensorInfo, dy: TensorInfo,
  p: { kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; top: number; left: number; m: number },
): TensorInfo {
  const [N, H, W, C] = x.shape;
  const [, oh, ow] = dy.shape;
  const { kh, kw, sh, sw, dh, dw, top, left, m } = p;
  const out = backend.makeOutput([kh, kw, C, m], 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const ds = backend.typedArrayFromHeap(dy) as Float32Array;
  const CM = C * m;
  const acc = new Float64Array(kh * kw * CM);
  // Output pixel outermost: its dy row stays in cache for all kh*kw taps, and the accumulator
  // (kh*kw*C*m doubles) too.
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        const db = ((n * oh + y) * ow + xo) * CM;
        for (let i = 0; i < kh; i++) {
          const yy = y * sh + i * dh - top;
          if (yy < 0 || yy >= H) continue;
          const xRow = (n * H + yy) * W;
          for (let j = 0; j < kw; j++) {
            const xx = xo * sw + j * dw - left;
            if (xx < 0 || xx >= W) continue;
            const xb = (xRow + xx) * C;
            const a0 = (i * kw + j) * CM;
            if (m === 1) {
              mulAcc(acc, a0, xs, xb, ds, db, C);
            } else {
              for (let c = 0; c < C; c++) {
                const xv = xs[xb + c];
                for (let q = 0; q < m; q++) acc[a0 + c * m + q] += xv * ds[db + c * m + q];
              }
            }
          }
        }
      }
    }
  }
  for (let t = 0; t < acc.length; t++) dst[t] = acc[t];
  return out;
}

/**
 * The operands of a batched product laid out for one grouped convolution: a depthwise convolution with
 * channel multiplier n whose channels are the batch items is one small GEMM per channel, so a batch of
 * products needs one operator (one weight packing) where a product per item needs one each. For items
 * a_i = op(a)[i] ([m, k]) and b_i = op(b)[i] ([k, n]), the input is [1, m, k, items] with
 * x[r, t, i] = a_i(r, t) and the filter [1, k, items, n] with f[t, i, j] = b_i(t, j): the 1 x k filter run
 * over the k columns ('valid') gives [1, m, 1, items * n], out_i(r, j) at [r, i, j]. `itemsA`/`itemsB`
 * of 1 broadcast that operand to every item. Fresh buffers (fresh data ids) every call.
 */
export function heapGroupedOperands(
  backend: WasmHeapBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  itemsA: number,
  itemsB: number,
  m: number,
  k: number,
  n: number,
): { x: TensorInfo; filter: TensorInfo } {
  const items = Math.max(itemsA, itemsB);
  const x = backend.makeOutput([1, m, k, items], 'float32');
  const filter = backend.makeOutput([1, k, items, n], 'float32');
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const fv = backend.typedArrayFromHeap(filter) as Float32Array;
  for (let i = 0; i < items; i++) {
    const aOff = itemsA === 1 ? 0 : i * m * k;
    // x[(r * k + t) * items + i] = a_i(r, t); a_i(r, t) is av[aOff + r * k + t], or av[aOff + t * m + r] transposed.
    if (!transposeA) {
      for (let e = 0, q = i; e < m * k; e++, q += items) xv[q] = av[aOff + e];
    } else {
      for (let r = 0; r < m; r++) {
        let q = r * k * items + i;
        for (let t = 0; t < k; t++, q += items) xv[q] = av[aOff + t * m + r];
      }
    }
    const bOff = itemsB === 1 ? 0 : i * k * n;
    // f[(t * items + i) * n + j] = b_i(t, j): rows of b_i, or its columns when transposed.
    for (let t = 0; t < k; t++) {
      const q = (t * items + i) * n;
      if (!transposeB) {
        if (n >= SET_RUN) fv.set(bv.subarray(bOff + t * n, bOff + t * n + n), q);
        else for (let j = 0; j < n; j++) fv[q + j] = bv[bOff + t * n + j];
      } else {
        for (let j = 0; j < n; j++) fv[q + j] = bv[bOff + j * k + t];
      }
    }
  }
  return { x, filter };
}

/** The grouped convolution's output [1, m, 1, items * n] ([m, items, n]) as the product's [items, m, n] (outShape). */
export function heapGroupedResult(backend: WasmHeapBackend, y: TensorInfo, items: number, m: number, n: number, outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  const yv = backend.typedArrayFromHeap(y) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < items; i++) {
    for (let r = 0; r < m; r++) {
      const src = (r * items + i) * n;
      const dst = (i * m + r) * n;
      if (n >= SET_RUN) ov.set(yv.subarray(src, src + n), dst);
      else for (let j = 0; j < n; j++) ov[dst + j] = yv[src + j];
    }
  }
  return out;
}

/** Where a 2-D convolution (NHWC, filter [kh, kw, C, O]) reads: input size, filter, stride, dilation, padding, output size. */
export interface ConvGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
  oh: number;
  ow: number;
}

/** True when the convolution reads each input pixel once, in order: its patches are the input itself. */
export function convIsPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 && g.left === 0 && g.oh === g.H && g.ow === g.W;
}

/**
 * The patches of a convolution's input ("im2col"): row (n, y, x) of the [N*oh*ow, kh*kw*C] result holds
 * the input under the filter at output pixel (y, x), taps in filter order (i, j, c), zeros where the
 * filter hangs over the padding. Input and result are in the same heap, so each run of taps that lie
 * side by side in the input is one copyWithin (a memmove; subarray views cost an allocation each).
 */
export function heapIm2col(backend: WasmHeapBackend, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const { N, H, W, C, kh, kw, sh, sw, dh, dw, top, left, oh, ow } = g;
  const row = kh * kw * C;
  const out = backend.makeOutput([N * oh * ow, row], 'float32');
  const dstView = backend.typedArrayFromHeap(out) as Float32Array;
  const srcView = backend.typedArrayFromHeap(x) as Float32Array;
  if (dstView.length === 0) return out;
  const heap = new Float32Array(dstView.buffer);
  const d0 = dstView.byteOffset >> 2;
  const s0 = srcView.byteOffset >> 2;
  let at = d0;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++, at += row) {
        const x0 = xo * sw - left;
        // The filter row lies inside the input and its taps are adjacent: one copy per filter row.
        const whole = dw === 1 && x0 >= 0 && x0 + kw <= W;
        for (let i = 0; i < kh; i++) {
          const yy = y * sh + i * dh - top;
          const d = at + i * kw * C;
          if (yy < 0 || yy >= H) {
            heap.fill(0, d, d + kw * C);
            continue;
          }
          const base = s0 + (n * H + yy) * W * C;
          if (whole) {
            heap.copyWithin(d, base + x0 * C, base + (x0 + kw) * C);
            continue;
          }
          for (let j = 0; j < kw; j++) {
            const xx = x0 + j * dw;
            const dj = d + j * C;
            if (xx < 0 || xx >= W) heap.fill(0, dj, dj + C);
            else heap.copyWithin(dj, base + xx * C, base + (xx + 1) * C);
          }
        }
      }
    }
  }
  return out;
}

/**
 * Per-channel correlations at a few lags, over channel-major rows: out[t, c] = sum over p of
 * x[c, p + offsets[t]] * d[c, p], p from 0 to length - offsets[t] - 1, where x and d are [channels,
 * length]. With x and d a depthwise convolution's padded input and zero-padded output gradient laid out
 * channel by channel, the lags are the filter taps' flat offsets and out is its filter gradient: one
 * BLAS dot product of contiguous memory per tap and channel (a JavaScript loop was 2x slower).
 */
export function heapChannelCorrelations(
  backend: WasmHeapBackend, x: TensorInfo, d: TensorInfo, channels: number, length: number, offsets: readonly number[],
  sdot: (n: number, x: Float32Array, y: Float32Array) => number,
): TensorInfo {
  const taps = offsets.length;
  const out = backend.makeOutput([taps * channels], 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const ds = backend.typedArrayFromHeap(d) as Float32Array;
  for (let c = 0; c < channels; c++) {
    const row = c * length;
    // One view of the channel's gradient row for all taps: sdot reads only its first n values.
    const drow = ds.subarray(row, row + length);
    for (let t = 0; t < taps; t++) {
      const n = length - offsets[t];
      dst[t * channels + c] = n > 0 ? sdot(n, xs.subarray(row + offsets[t], row + length), drow) : 0;
    }
  }
  return out;
}

/**
 * x [N, H, W, C] laid out channel by channel on a zero-padded grid: [C, N*Hp*Wp] with x[n, y, x, c] at
 * column (n*Hp + y + top)*Wp + x + left of row c. One strided transpose (`transpose`, the BLAS's
 * omatcopy) per input row.
 */
export function heapChannelMajorPadded(
  backend: WasmHeapBackend, x: TensorInfo, Hp: number, Wp: number, top: number, left: number,
  transpose: (rows: number, cols: number, a: Float32Array, lda: number, b: Float32Array, ldb: number) => void,
): TensorInfo {
  const [N, H, W, C] = x.shape;
  const L = N * Hp * Wp;
  const out = backend.makeOutput([C, L], 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  dst.fill(0);
  if (W * C === 0) return out;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) {
      const from = (n * H + y) * W * C;
      const to = (n * Hp + y + top) * Wp + left;
      transpose(W, C, src.subarray(from, from + W * C), C, dst.subarray(to), L);
    }
  }
  return out;
}
