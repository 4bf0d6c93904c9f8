/**
 * Float64 reference implementations of the forward kernels PIAL-Net's training graph uses, written from the
 * operations' definitions (NHWC convolution and pooling with TensorFlow's padding rules, bilinear resizing
 * with half-pixel or corner-aligned sampling as in PyTorch's `interpolate`, numpy-style broadcasting).
 * Nothing here calls tfjs: they are what central differences are taken of.
 */

export interface Arr {
  shape: number[];
  data: Float64Array;
}

export type Attrs = Record<string, unknown>;
/** Inputs by the kernel's input names ("x", "a", "b", "filter", ...; "0", "1", ... for list kernels). */
export type RefInputs = Record<string, Arr>;
export type RefKernel = (inputs: RefInputs, attrs: Attrs) => Arr | Arr[];

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};
const arr = (shape: number[]): Arr => ({ shape, data: new Float64Array(numel(shape)) });
const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

function unary(f: (v: number) => number): RefKernel {
  return (inp) => {
    const x = inp.x;
    const out = arr([...x.shape]);
    for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]);
    return out;
  };
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Index into `src` (shape `shape`) of the broadcast output position `idx` (in `outShape`). */
function broadcastIndex(idx: number[], outShape: number[], shape: readonly number[], strides: number[]): number {
  let k = 0;
  const off = outShape.length - shape.length;
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) k += idx[i + off] * strides[i];
  return k;
}

function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

function binary(f: (a: number, b: number) => number): RefKernel {
  return (inp) => {
    const { a, b } = inp;
    const shape = broadcastShape(a.shape, b.shape);
    const out = arr(shape);
    const sa = stridesOf(a.shape);
    const sb = stridesOf(b.shape);
    forEachIndex(shape, (idx, flat) => {
      out.data[flat] = f(a.data[broadcastIndex(idx, shape, a.shape, sa)], b.data[broadcastIndex(idx, shape, b.shape, sb)]);
    });
    return out;
  };
}

/** erf to about 1e-15: Taylor series for |x| < 2.5, continued fraction of erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz-free backward evaluation)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function axesOf(attr: unknown, rank: number): number[] {
  if (attr === null || attr === undefined) return [...Array(rank).keys()];
  const list = Array.isArray(attr) ? (attr as number[]) : [attr as number];
  return list.map((a) => normAxis(a, rank));
}

function reduce(init: number, f: (acc: number, v: number) => number, finish: (acc: number, n: number) => number = (a) => a): RefKernel {
  return (inp, attrs) => {
    const x = inp.x;
    const axes = new Set(axesOf(attrs.axis ?? attrs.reductionIndices, x.shape.length));
    const keep = attrs.keepDims === true;
    const outShapeKeep = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
    const n = x.shape.reduce((a, d, i) => (axes.has(i) ? a * d : a), 1);
    const acc = new Float64Array(numel(outShapeKeep)).fill(init);
    const so = stridesOf(outShapeKeep);
    forEachIndex(x.shape, (idx, flat) => {
      let k = 0;
      for (let i = 0; i < idx.length; i++) if (!axes.has(i)) k += idx[i] * so[i];
      acc[k] = f(acc[k], x.data[flat]);
    });
    for (let i = 0; i < acc.length; i++) acc[i] = finish(acc[i], n);
    return { shape: keep ? outShapeKeep : x.shape.filter((_, i) => !axes.has(i)), data: acc };
  };
}

function transpose(x: Arr, perm: number[]): Arr {
  const shape = perm.map((p) => x.shape[p]);
  const out = arr(shape);
  const sx = stridesOf(x.shape);
  forEachIndex(shape, (idx, flat) => {
    let k = 0;
    for (let i = 0; i < perm.length; i++) k += idx[i] * sx[perm[i]];
    out.data[flat] = x.data[k];
  });
  return out;
}

function reshapeTo(x: Arr, shape: number[]): Arr {
  const n = numel(x.shape);
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = shape.map((d) => (d === -1 ? n / known : d));
  if (numel(resolved) !== n) throw new Error(`cannot reshape [${x.shape}] to [${shape}]`);
  return { shape: resolved, data: x.data.slice() };
}

function sliceArr(x: Arr, begin: number[], size: number[]): Arr {
  const shape = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  const out = arr(shape);
  const sx = stridesOf(x.shape);
  forEachIndex(shape, (idx, flat) => {
    let k = 0;
    for (let i = 0; i < idx.length; i++) k += (idx[i] + begin[i]) * sx[i];
    out.data[flat] = x.data[k];
  });
  return out;
}

function concat(list: Arr[], axis: number): Arr {
  const rank = list[0].shape.length;
  const ax = normAxis(axis, rank);
  const shape = [...list[0].shape];
  shape[ax] = list.reduce((a, t) => a + t.shape[ax], 0);
  const out = arr(shape);
  const so = stridesOf(shape);
  let offset = 0;
  for (const t of list) {
    forEachIndex(t.shape, (idx, flat) => {
      let k = 0;
      for (let i = 0; i < rank; i++) k += (i === ax ? idx[i] + offset : idx[i]) * so[i];
      out.data[k] = t.data[flat];
    });
    offset += t.shape[ax];
  }
  return out;
}

const listInputs = (inp: RefInputs): Arr[] =>
  Object.keys(inp)
    .sort((p, q) => Number(p) - Number(q))
    .map((k) => inp[k]);

/** Output size and the leading pad of one spatial axis under TensorFlow's padding rules. */
function padding(inSize: number, k: number, stride: number, dilation: number, pad: unknown, axis: 0 | 1, rounding?: unknown): { out: number; before: number } {
  const eff = (k - 1) * dilation + 1;
  if (pad === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + eff - inSize, 0);
    return { out, before: Math.floor(total / 2) };
  }
  if (pad === 'valid') return { out: Math.ceil((inSize - eff + 1) / stride), before: 0 };
  if (typeof pad === 'number') {
    const raw = (inSize + 2 * pad - eff) / stride + 1;
    const round = rounding === 'ceil' ? Math.ceil : rounding === 'round' ? Math.round : Math.floor;
    return { out: round(raw), before: pad };
  }
  if (Array.isArray(pad)) {
    const [b, e] = (pad as number[][])[axis + 1];
    return { out: Math.floor((inSize + b + e - eff) / stride) + 1, before: b };
  }
  throw new Error(`padding ${JSON.stringify(pad)} is not supported by the reference`);
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, v[1] as number] : [(v as number | undefined) ?? 1, (v as number | undefined) ?? 1]);

function conv2d(inp: RefInputs, attrs: Attrs, depthwise: boolean): Arr {
  const { x, filter } = inp;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new Error('reference convolution is NHWC only');
  const [b, h, w, c] = x.shape;
  const [kh, kw, fc, m] = filter.shape;
  if (fc !== c) throw new Error(`filter in-channels ${fc} vs input ${c}`);
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations);
  const ph = padding(h, kh, sh, dh, attrs.pad, 0, attrs.dimRoundingMode);
  const pw = padding(w, kw, sw, dw, attrs.pad, 1, attrs.dimRoundingMode);
  const oc = depthwise ? c * m : m;
  const out = arr([b, ph.out, pw.out, oc]);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < ph.out; oy++)
      for (let ox = 0; ox < pw.out; ox++)
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - ph.before;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pw.before;
            if (ix < 0 || ix >= w) continue;
            const xo = ((n * h + iy) * w + ix) * c;
            const oo = ((n * ph.out + oy) * pw.out + ox) * oc;
            for (let ci = 0; ci < c; ci++) {
              const xv = x.data[xo + ci];
              const fo = ((ky * kw + kx) * c + ci) * m;
              if (depthwise) for (let q = 0; q < m; q++) out.data[oo + ci * m + q] += xv * filter.data[fo + q];
              else for (let q = 0; q < m; q++) out.data[oo + q] += xv * filter.data[fo + q];
            }
          }
        }
  return out;
}

function pool(inp: RefInputs, attrs: Attrs, kind: 'avg' | 'max'): Arr {
  const x = inp.x;
  const [b, h, w, c] = x.shape;
  const [kh, kw] = pair(attrs.filterSize);
  const [sh, sw] = pair(attrs.strides);
  const ph = padding(h, kh, sh, 1, attrs.pad, 0, attrs.dimRoundingMode);
  const pw = padding(w, kw, sw, 1, attrs.pad, 1, attrs.dimRoundingMode);
  const out = arr([b, ph.out, pw.out, c]);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < ph.out; oy++)
      for (let ox = 0; ox < pw.out; ox++)
        for (let ci = 0; ci < c; ci++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh + ky - ph.before;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw + kx - pw.before;
              if (ix < 0 || ix >= w) continue;
              const v = x.data[((n * h + iy) * w + ix) * c + ci];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          out.data[((n * ph.out + oy) * pw.out + ox) * c + ci] = kind === 'max' ? acc : acc / count;
        }
  return out;
}

function batchMatMul(inp: RefInputs, attrs: Attrs): Arr {
  const { a, b } = inp;
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k] = ta ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [k2, n] = tb ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (k !== k2) throw new Error(`inner dimensions ${k} and ${k2} differ`);
  const outer = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = arr([...outer, m, n]);
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const sa = stridesOf(aOuter);
  const sb = stridesOf(bOuter);
  forEachIndex(outer, (idx, flat) => {
    const ao = broadcastIndex(idx, outer, aOuter, sa) * a.shape[ra - 2] * a.shape[ra - 1];
    const bo = broadcastIndex(idx, outer, bOuter, sb) * b.shape[rb - 2] * b.shape[rb - 1];
    const oo = flat * m * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = ta ? a.data[ao + q * m + i] : a.data[ao + i * k + q];
          const bv = tb ? b.data[bo + j * k + q] : b.data[bo + q * n + j];
          s += av * bv;
        }
        out.data[oo + i * n + j] = s;
      }
  });
  return out;
}

/**
 * Bilinear resizing, NHWC. Source coordinate of output o: (o + 0.5) * in / out - 0.5 (half-pixel centres,
 * PyTorch `align_corners=False`, clamped at 0), o * (in - 1) / (out - 1) (align corners), or o * in / out.
 */
function resizeBilinear(inp: RefInputs, attrs: Attrs): Arr {
  const x = inp.images;
  const [b, h, w, c] = x.shape;
  const [oh, ow] = attrs.size as [number, number];
  const align = attrs.alignCorners === true;
  const half = attrs.halfPixelCenters === true;
  const src = (o: number, inSize: number, outSize: number): [number, number, number] => {
    let s: number;
    if (align) s = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    else if (half) s = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
    else s = (o * inSize) / outSize;
    const i0 = Math.min(Math.floor(s), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, s - i0];
  };
  const out = arr([b, oh, ow, c]);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < oh; y++) {
      const [y0, y1, fy] = src(y, h, oh);
      for (let xo = 0; xo < ow; xo++) {
        const [x0, x1, fx] = src(xo, w, ow);
        for (let ci = 0; ci < c; ci++) {
          const at = (yy: number, xx: number): number => x.data[((n * h + yy) * w + xx) * c + ci];
          const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
          const bot = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
          out.data[((n * oh + y) * ow + xo) * c + ci] = top * (1 - fy) + bot * fy;
        }
      }
    }
  return out;
}

function softmax(inp: RefInputs, attrs: Attrs): Arr {
  const x = inp.logits;
  const ax = normAxis((attrs.dim as number | undefined) ?? -1, x.shape.length);
  if (ax !== x.shape.length - 1) throw new Error('reference softmax is over the last axis');
  const d = x.shape[ax];
  const out = arr([...x.shape]);
  for (let r = 0; r < x.data.length / d; r++) {
    let mx = -Infinity;
    for (let j = 0; j < d; j++) mx = Math.max(mx, x.data[r * d + j]);
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.exp(x.data[r * d + j] - mx);
    for (let j = 0; j < d; j++) out.data[r * d + j] = Math.exp(x.data[r * d + j] - mx) / s;
  }
  return out;
}

function splitV(inp: RefInputs, attrs: Attrs): Arr[] {
  const x = inp.x;
  const ax = normAxis(attrs.axis as number, x.shape.length);
  const spec = attrs.numOrSizeSplits as number | number[];
  let sizes = typeof spec === 'number' ? new Array<number>(spec).fill(x.shape[ax] / spec) : [...spec];
  const known = sizes.filter((s) => s !== -1).reduce((a, b) => a + b, 0);
  sizes = sizes.map((s) => (s === -1 ? x.shape[ax] - known : s));
  let start = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, i) => (i === ax ? start : 0));
    const size = x.shape.map((d, i) => (i === ax ? s : d));
    start += s;
    return sliceArr(x, begin, size);
  });
}

function tile(inp: RefInputs, attrs: Attrs): Arr {
  const x = inp.x;
  const reps = attrs.reps as number[];
  const shape = x.shape.map((d, i) => d * reps[i]);
  const out = arr(shape);
  const sx = stridesOf(x.shape);
  forEachIndex(shape, (idx, flat) => {
    let k = 0;
    for (let i = 0; i < idx.length; i++) k += (idx[i] % x.shape[i]) * sx[i];
    out.data[flat] = x.data[k];
  });
  return out;
}

function padV2(inp: RefInputs, attrs: Attrs): Arr {
  const x = inp.x;
  const p = attrs.paddings as [number, number][];
  const cv = (attrs.constantValue as number | undefined) ?? 0;
  const shape = x.shape.map((d, i) => d + p[i][0] + p[i][1]);
  const out = arr(shape);
  out.data.fill(cv);
  const so = stridesOf(shape);
  forEachIndex(x.shape, (idx, flat) => {
    let k = 0;
    for (let i = 0; i < idx.length; i++) k += (idx[i] + p[i][0]) * so[i];
    out.data[k] = x.data[flat];
  });
  return out;
}

function gather(inp: RefInputs, attrs: Attrs): Arr {
  const { x, indices } = inp;
  const ax = normAxis((attrs.axis as number | undefined) ?? 0, x.shape.length);
  if ((attrs.batchDims as number | undefined) ?? 0) throw new Error('reference gather has no batchDims');
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const out = arr(shape);
  const sx = stridesOf(x.shape);
  const ir = indices.shape.length;
  const si = stridesOf(indices.shape);
  forEachIndex(shape, (idx, flat) => {
    let ii = 0;
    for (let i = 0; i < ir; i++) ii += idx[ax + i] * si[i];
    const src = [...idx.slice(0, ax), indices.data[ii], ...idx.slice(ax + ir)];
    let k = 0;
    for (let i = 0; i < src.length; i++) k += src[i] * sx[i];
    out.data[flat] = x.data[k];
  });
  return out;
}

const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

/** The reference kernels, by tfjs kernel name. */
export const REFERENCE: Record<string, RefKernel> = {
  Abs: unary(Math.abs),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Log1p: unary(Math.log1p),
  Neg: unary((v) => -v),
  Relu: unary((v) => Math.max(v, 0)),
  Rsqrt: unary((v) => 1 / Math.sqrt(v)),
  Sqrt: unary(Math.sqrt),
  Sigmoid: unary(sigmoid),
  Square: unary((v) => v * v),
  Tanh: unary(Math.tanh),
  Erf: unary(erf),
  Softplus: unary((v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)))),
  Elu: unary((v) => (v >= 0 ? v : Math.expm1(v))),
  Identity: unary((v) => v),
  Cast: (inp, attrs) => {
    if (attrs.dtype !== 'float32') throw new Error(`reference Cast to ${String(attrs.dtype)} is not differentiable`);
    return unary((v) => v)(inp, attrs);
  },
  ClipByValue: (inp, attrs) => unary((v) => Math.min(Math.max(v, attrs.clipValueMin as number), attrs.clipValueMax as number))(inp, attrs),
  LeakyRelu: (inp, attrs) => unary((v) => (v >= 0 ? v : v * (attrs.alpha as number)))(inp, attrs),
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Multiply: binary((a, b) => a * b),
  RealDiv: binary((a, b) => a / b),
  Maximum: binary(Math.max),
  Minimum: binary(Math.min),
  Pow: binary((a, b) => a ** b),
  SquaredDifference: binary((a, b) => (a - b) * (a - b)),
  Sum: reduce(0, (a, v) => a + v),
  Mean: reduce(0, (a, v) => a + v, (a, n) => a / n),
  Max: reduce(-Infinity, Math.max),
  Min: reduce(Infinity, Math.min),
  Softmax: softmax,
  Reshape: (inp, attrs) => reshapeTo(inp.x, attrs.shape as number[]),
  ExpandDims: (inp, attrs) => {
    const x = inp.input;
    const d = attrs.dim as number;
    const ax = d < 0 ? d + x.shape.length + 1 : d;
    return { shape: [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)], data: x.data.slice() };
  },
  Squeeze: (inp, attrs) => {
    const x = inp.x;
    const axes = attrs.axis === undefined || (Array.isArray(attrs.axis) && attrs.axis.length === 0) ? null : axesOf(attrs.axis, x.shape.length);
    return { shape: x.shape.filter((d, i) => !(d === 1 && (axes === null || axes.includes(i)))), data: x.data.slice() };
  },
  Transpose: (inp, attrs) => transpose(inp.x, attrs.perm as number[]),
  Slice: (inp, attrs) => {
    const x = inp.x;
    const begin = typeof attrs.begin === 'number' ? [attrs.begin] : (attrs.begin as number[]);
    const size = typeof attrs.size === 'number' ? [attrs.size] : (attrs.size as number[]);
    return sliceArr(x, [...begin, ...new Array<number>(x.shape.length - begin.length).fill(0)], [...size, ...new Array<number>(x.shape.length - size.length).fill(-1)]);
  },
  SplitV: splitV,
  Concat: (inp, attrs) => concat(listInputs(inp), attrs.axis as number),
  Pack: (inp, attrs) => {
    const list = listInputs(inp);
    const ax = normAxis((attrs.axis as number | undefined) ?? 0, list[0].shape.length + 1);
    return concat(list.map((t) => ({ shape: [...t.shape.slice(0, ax), 1, ...t.shape.slice(ax)], data: t.data })), ax);
  },
  Tile: tile,
  PadV2: padV2,
  GatherV2: gather,
  BatchMatMul: batchMatMul,
  Conv2D: (inp, attrs) => conv2d(inp, attrs, false),
  DepthwiseConv2dNative: (inp, attrs) => conv2d(inp, attrs, true),
  AvgPool: (inp, attrs) => pool(inp, attrs, 'avg'),
  MaxPool: (inp, attrs) => pool(inp, attrs, 'max'),
  ResizeBilinear: resizeBilinear,
};

/**
 * Where an input must be sampled so that the op is smooth there and its central differences are meaningful:
 * away from kinks (|x| > margin for Abs/Relu, off the clip bounds), in the domain (positive for Rsqrt/Sqrt/Log).
 */
export function inputDomain(kernel: string, input: string, attrs: Attrs): { lo: number; hi: number; avoid: number[] } {
  switch (kernel) {
    case 'Rsqrt':
    case 'Sqrt':
    case 'Log':
      return { lo: 0.5, hi: 2, avoid: [] };
    case 'Log1p':
      return { lo: -0.5, hi: 1, avoid: [] };
    case 'RealDiv':
      return input === 'b' ? { lo: 0.5, hi: 1.5, avoid: [] } : { lo: -1, hi: 1, avoid: [] };
    case 'Pow':
      return input === 'a' ? { lo: 0.5, hi: 1.5, avoid: [] } : { lo: -1, hi: 2, avoid: [] };
    case 'Abs':
    case 'Relu':
    case 'LeakyRelu':
    case 'Elu':
      return { lo: -1, hi: 1, avoid: [0] };
    case 'ClipByValue':
      return { lo: (attrs.clipValueMin as number) - 1, hi: (attrs.clipValueMax as number) + 1, avoid: [attrs.clipValueMin as number, attrs.clipValueMax as number] };
    default:
      return { lo: -1, hi: 1, avoid: [] };
  }
}
