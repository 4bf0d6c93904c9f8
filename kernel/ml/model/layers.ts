/**
 * Building blocks of PIAL-Net written with tfjs-core ops over the model's own variables: linear, LayerNorm,
 * convolutions, multi-head (cross) attention with optional spatial reduction, Mix-FFN and the pre-LN
 * transformer blocks. Each block declares its parameters in the constructor and reads them in `apply`.
 * Tensors are NHWC for images and [B, N, C] for token sequences.
 */
import { tf } from './tf';
import type { Init, ParamGroup, ParamStore } from './params';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * exp(-x^2 / 2). On wasm as sigmoid(-s) / sigmoid(s) with s = x^2 / 2 (the same number: sigmoid(-s) =
 * e^-s sigmoid(s)), because tfjs-backend-wasm's Exp is a scalar loop (17.6 ms for [16, 576, 128] in a training
 * step) and its Sigmoid XNNPACK's vector code; the quotient has no cancellation (both sigmoids keep their
 * relative precision). Elsewhere Exp.
 */
function gaussExp(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.exp(tf.mul(tf.square(x), -0.5));
  const s = tf.mul(tf.mul(x, x), 0.5);
  return tf.div(tf.sigmoid(tf.neg(s)), tf.sigmoid(s));
}

/**
 * GELU in its exact form x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), as PyTorch's `nn.GELU()` (MiT's
 * activation) computes it. The gradient Phi(x) + x phi(x) is written out and reuses the forward's Phi(x),
 * so backprop keeps x and Phi(x) instead of every intermediate, and computes no second erf.
 */
const geluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const cdf = tf.tidy(() => tf.mul(tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1), 0.5));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, scdf] = saved;
      const xpdf = tf.mul(tf.mul(sx, gaussExp(sx)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(scdf, xpdf))];
    },
  };
});
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

/**
 * Matrix product (batched over leading axes of equal shape) whose gradient is two plain products with
 * transposed operands: da = dy . b^T, db = a^T . dy. tfjs's own matMul gradient does the same but tapes
 * more; on wasm the transposes cost nothing with a BLAS (passed as flags) and are explicit copies
 * before XNNPACK otherwise (kernel/runtime/wasmKernels.ts).
 */
const matMulOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [tf.matMul(dy, sb, false, true), tf.matMul(sa, dy, true, false)];
    },
  };
});
export const matMul = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => matMulOp(a, b);

/** a . b^T (attention scores q . k^T) with the gradient da = dy . b, db = dy^T . a: no transpose of b is made. */
const matMulTransposedOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b, false, true),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [tf.matMul(dy, sb), tf.matMul(dy, sa, true, false)];
    },
  };
});
export const matMulTransposed = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => matMulTransposedOp(a, b);

export class Linear {
  readonly w: string;
  readonly b: string | undefined;
  constructor(
    private readonly ps: ParamStore,
    name: string,
    readonly cin: number,
    readonly cout: number,
    group: ParamGroup,
    opts: { bias?: boolean; biasInit?: number; std?: number; init?: Init } = {},
  ) {
    this.w = ps.add(`${name}.weight`, [cin, cout], opts.init ?? { kind: 'trunc', std: opts.std ?? 0.02 }, group);
    this.b = opts.bias === false ? undefined : ps.add(`${name}.bias`, [cout], opts.biasInit ? { kind: 'const', value: opts.biasInit } : { kind: 'zeros' }, group);
  }

  /** x: [..., cin] -> [..., cout] */
  apply(x: tf.Tensor, activation: 'linear' | 'relu' = 'linear'): tf.Tensor {
    const shape = x.shape;
    const x2 = tf.reshape(x, [-1, this.cin]);
    let y = matMul(x2, this.ps.get(this.w));
    if (this.b) y = tf.add(y, this.ps.get(this.b));
    if (activation === 'relu') y = tf.relu(y);
    return tf.reshape(y, [...shape.slice(0, -1), this.cout]);
  }
}

/** LayerNorm epsilon of MiT's blocks and stage norms (`partial(nn.LayerNorm, eps=1e-6)` in MiT-B0..B5). */
export const MIT_BLOCK_EPS = 1e-6;
/** LayerNorm epsilon of MiT's patch embeddings and spatial reduction (PyTorch's default, 1e-5). */
export const MIT_EMBED_EPS = 1e-5;

/** LayerNorm over the last axis, biased variance (as PyTorch's), eps added to the variance. */
export class LayerNorm {
  readonly g: string;
  readonly b: string;
  constructor(
    private readonly ps: ParamStore,
    name: string,
    dim: number,
    group: ParamGroup,
    private readonly eps = MIT_BLOCK_EPS,
  ) {
    this.g = ps.add(`${name}.weight`, [dim], { kind: 'ones' }, group);
    this.b = ps.add(`${name}.bias`, [dim], { kind: 'zeros' }, group);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return layerNormOp(this.eps)(x, this.ps.get(this.g), this.ps.get(this.b));
  }
}

const layerNormOps = new Map<number, (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/**
 * LayerNorm over the last axis with its gradient written out: y = xhat g + b with xhat = (x - mean) r and
 * r = 1 / sqrt(var + eps). Backprop keeps xhat and r only and computes
 * dx = r (dy g - mean(dy g) - xhat mean(dy g xhat)), dg = sum(dy xhat), db = sum(dy) (sums over every axis
 * but the last): about a dozen kernels instead of the thirty that differentiating each op gives, and no copies
 * of the intermediates. The forward pass is the same ops in the same order as written out plainly.
 */
function layerNormOp(eps: number): (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  let op = layerNormOps.get(eps);
  if (op) return op;
  op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const axis = x.rank - 1;
    const [xhat, r] = tf.tidy(() => {
      const d = tf.sub(x, tf.mean(x, axis, true));
      const rs = tf.rsqrt(tf.add(tf.mean(tf.square(d), axis, true), eps));
      return [tf.mul(d, rs), rs];
    });
    save([xhat, r, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sr, sg] = saved;
        const lead = Array.from({ length: dy.rank - 1 }, (_, i) => i);
        const dg = tf.mul(dy, sg);
        const m1 = tf.mean(dg, axis, true);
        const m2 = tf.mean(tf.mul(dg, sx), axis, true);
        const dx = tf.mul(tf.sub(tf.sub(dg, m1), tf.mul(sx, m2)), sr);
        return [dx, tf.sum(tf.mul(dy, sx), lead), tf.sum(dy, lead)];
      },
    };
  }) as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  layerNormOps.set(eps, op);
  return op;
}

export class Conv2d {
  readonly w: string;
  readonly b: string | undefined;
  constructor(
    private readonly ps: ParamStore,
    name: string,
    cin: number,
    readonly cout: number,
    readonly k: number,
    readonly stride: number,
    readonly pad: number,
    group: ParamGroup,
    opts: { bias?: boolean; biasInit?: number } = {},
  ) {
    this.w = ps.add(`${name}.weight`, [k, k, cin, cout], { kind: 'he', fanOut: k * k * cout }, group);
    this.b = opts.bias === false ? undefined : ps.add(`${name}.bias`, [cout], opts.biasInit ? { kind: 'const', value: opts.biasInit } : { kind: 'zeros' }, group);
  }

  apply(x: tf.Tensor4D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
    // Plain conv2d rather than tf.fused.conv2d: the fused op's gradient always computes the input gradient,
    // which for the first layer (the images) is wasted work; the plain op's gradient is pruned.
    let y: tf.Tensor4D = tf.conv2d(x, this.ps.get(this.w) as tf.Tensor4D, this.stride, this.pad);
    if (this.b) y = tf.add(y, this.ps.get(this.b));
    return activation === 'relu' ? tf.relu(y) : y;
  }

  /**
   * Same result as {@link apply} for a non-overlapping convolution (kernel = stride, no padding), computed as
   * space-to-depth and one matrix product: much cheaper to differentiate on the wasm backend.
   */
  applyPatchwise(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const k = this.k;
    const oh = Math.floor(h / k);
    const ow = Math.floor(w / k);
    const crop = oh * k === h && ow * k === w ? x : tf.slice(x, [0, 0, 0, 0], [b, oh * k, ow * k, c]);
    const patches = tf.reshape(tf.transpose(tf.reshape(crop, [b, oh, k, ow, k, c]), [0, 1, 3, 2, 4, 5]), [b * oh * ow, k * k * c]);
    let y = matMul(patches, tf.reshape(this.ps.get(this.w), [k * k * c, this.cout]));
    if (this.b) y = tf.add(y, this.ps.get(this.b));
    return tf.reshape(y, [b, oh, ow, this.cout]);
  }
}

/**
 * 3x3 depthwise convolution with bias, stride 1, one pixel of zero padding on every side (the Mix-FFN's
 * positional mixing; PyTorch's `Conv2d(dim, dim, 3, 1, 1, groups=dim)`).
 */
export class DepthwiseConv3 {
  readonly w: string;
  readonly b: string;
  constructor(
    private readonly ps: ParamStore,
    name: string,
    dim: number,
    group: ParamGroup,
  ) {
    this.w = ps.add(`${name}.weight`, [3, 3, dim, 1], { kind: 'he', fanOut: 9 }, group);
    this.b = ps.add(`${name}.bias`, [dim], { kind: 'zeros' }, group);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.add(tf.depthwiseConv2d(x, this.ps.get(this.w) as tf.Tensor4D, 1, 1), this.ps.get(this.b));
  }
}

/** [B, N, C] -> [B, heads, N, C / heads] */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, n, c] = x.shape;
  if (heads === 1) return tf.reshape(x, [b!, 1, n!, c!]);
  return tf.transpose(tf.reshape(x, [b!, n!, heads, c! / heads]), [0, 2, 1, 3]);
}

function mergeHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, , n, d] = x.shape;
  if (heads === 1) return tf.reshape(x, [b!, n!, d!]);
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b!, n!, heads * d!]);
}

/**
 * Multi-head attention, query from `x`, keys and values from `kv` (self-attention when kv is x).
 * With a spatial-reduction ratio sr > 1 (MiT's efficient self-attention), kv is the [B, H, W, C] map of x
 * reduced by an sr x sr convolution with stride sr and a LayerNorm, so the cost is N * N / sr^2.
 */
export class Attention {
  private readonly q: Linear;
  private readonly kv: Linear;
  private readonly proj: Linear;
  private readonly sr: Conv2d | undefined;
  private readonly srNorm: LayerNorm | undefined;
  constructor(
    ps: ParamStore,
    name: string,
    readonly dim: number,
    readonly heads: number,
    group: ParamGroup,
    srRatio = 1,
  ) {
    if (dim % heads !== 0) throw new Error(`${name}: width ${dim} is not divisible by ${heads} heads`);
    this.q = new Linear(ps, `${name}.q`, dim, dim, group);
    this.kv = new Linear(ps, `${name}.kv`, dim, 2 * dim, group);
    this.proj = new Linear(ps, `${name}.proj`, dim, dim, group);
    if (srRatio > 1) {
      this.sr = new Conv2d(ps, `${name}.sr`, dim, dim, srRatio, srRatio, 0, group);
      this.srNorm = new LayerNorm(ps, `${name}.norm`, dim, group, MIT_EMBED_EPS);
    }
  }

  /**
   * @param x queries [B, N, C]
   * @param kv keys/values source [B, M, C]; for spatial reduction pass x itself and its map size
   * @param hw (H, W) of x when the spatial reduction applies
   */
  apply(x: tf.Tensor, kv: tf.Tensor, hw?: [number, number]): tf.Tensor {
    const [b, , c] = x.shape;
    let src = kv;
    if (this.sr && hw) {
      const map = tf.reshape(kv, [b!, hw[0], hw[1], c!]) as tf.Tensor4D;
      const red = this.sr.applyPatchwise(map);
      src = this.srNorm!.apply(tf.reshape(red, [b!, -1, c!]));
    }
    const q = splitHeads(this.q.apply(x), this.heads);
    const kvp = this.kv.apply(src);
    const [k, v] = tf.split(kvp, 2, 2);
    const kh = splitHeads(k, this.heads);
    const vh = splitHeads(v, this.heads);
    const scale = 1 / Math.sqrt(c! / this.heads);
    const att = tf.softmax(tf.mul(matMulTransposed(q, kh), scale));
    return this.proj.apply(mergeHeads(matMul(att, vh), this.heads));
  }
}

/**
 * Mix-FFN: linear -> 3x3 depthwise conv -> GELU (exact) -> linear. Parameter names follow MiT's:
 * `fc1`, `dwconv.dwconv` (the convolution sits inside MiT's DWConv module), `fc2`.
 */
export class MixFFN {
  private readonly fc1: Linear;
  private readonly dw: DepthwiseConv3;
  private readonly fc2: Linear;
  constructor(ps: ParamStore, name: string, dim: number, hidden: number, group: ParamGroup) {
    this.fc1 = new Linear(ps, `${name}.fc1`, dim, hidden, group);
    this.dw = new DepthwiseConv3(ps, `${name}.dwconv.dwconv`, hidden, group);
    this.fc2 = new Linear(ps, `${name}.fc2`, hidden, dim, group);
  }

  apply(x: tf.Tensor, hw: [number, number]): tf.Tensor {
    const [b, n] = x.shape;
    const h = this.fc1.apply(x);
    const hidden = h.shape[2]!;
    const m = this.dw.apply(tf.reshape(h, [b!, hw[0], hw[1], hidden]) as tf.Tensor4D);
    return this.fc2.apply(gelu(tf.reshape(m, [b!, n!, hidden])));
  }
}

/** MiT block: x + Attn(LN x) (spatial reduction), then x + MixFFN(LN x). */
export class MiTBlock {
  private readonly n1: LayerNorm;
  private readonly attn: Attention;
  private readonly n2: LayerNorm;
  private readonly ffn: MixFFN;
  constructor(ps: ParamStore, name: string, dim: number, heads: number, sr: number, mlpRatio: number, group: ParamGroup) {
    this.n1 = new LayerNorm(ps, `${name}.norm1`, dim, group, MIT_BLOCK_EPS);
    this.attn = new Attention(ps, `${name}.attn`, dim, heads, group, sr);
    this.n2 = new LayerNorm(ps, `${name}.norm2`, dim, group, MIT_BLOCK_EPS);
    this.ffn = new MixFFN(ps, `${name}.mlp`, dim, dim * mlpRatio, group);
  }

  apply(x: tf.Tensor, hw: [number, number]): tf.Tensor {
    const a = this.n1.apply(x);
    const y = tf.add(x, this.attn.apply(a, a, hw));
    return tf.add(y, this.ffn.apply(this.n2.apply(y), hw));
  }
}

/**
 * Pre-LN transformer block with separate query and key/value streams: CT(Q = a, KV = kv) =
 * a + MHA(LN a, LN kv), then + FFN (GELU). With kv = a it is an ordinary self-attention block.
 */
export class CrossBlock {
  private readonly nq: LayerNorm;
  private readonly nkv: LayerNorm;
  private readonly attn: Attention;
  private readonly n2: LayerNorm;
  private readonly fc1: Linear;
  private readonly fc2: Linear;
  constructor(ps: ParamStore, name: string, dim: number, heads: number, mlpRatio: number, group: ParamGroup) {
    this.nq = new LayerNorm(ps, `${name}.norm_q`, dim, group);
    this.nkv = new LayerNorm(ps, `${name}.norm_kv`, dim, group);
    this.attn = new Attention(ps, `${name}.attn`, dim, heads, group);
    this.n2 = new LayerNorm(ps, `${name}.norm2`, dim, group);
    this.fc1 = new Linear(ps, `${name}.fc1`, dim, Math.max(1, Math.round(dim * mlpRatio)), group);
    this.fc2 = new Linear(ps, `${name}.fc2`, Math.max(1, Math.round(dim * mlpRatio)), dim, group);
  }

  apply(a: tf.Tensor, kv: tf.Tensor): tf.Tensor {
    const y = tf.add(a, this.attn.apply(this.nq.apply(a), this.nkv.apply(kv)));
    return tf.add(y, this.fc2.apply(gelu(this.fc1.apply(this.n2.apply(y)))));
  }
}
