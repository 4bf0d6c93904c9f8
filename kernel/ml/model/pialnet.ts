/**
 * PIAL-Net (docs/paper.md section 4) in tfjs-core ops over the model's own variables.
 *
 * interactive image ─┐                     ┌─ F_in ─ decoder ─ D_in (6, sigmoid) ─┐
 *                    ├─ shared MiT ─ IFE ─ all-MLP                                  KHP (regions of F_in masked by D_in,
 * non-interactive ───┘   encoder   (stage 4) fusion ─ F_non ─────────────────────── + GCN over the pose, transformer)
 *                                                                                   ─ concat with F_non ─ decoder ─ D_non
 *
 * Outputs are at 1/4 of the input size (SegFormer's head resolution): 56 x 56 for 224 px inputs. The metrics
 * resize predictions to the GT size, and training resizes the GT to the output size.
 */
import { COCO17_SKELETON } from '../../protocol';
import { tf } from './tf';
import { ParamStore, type ParamGroup } from './params';
import { Conv2d, CrossBlock, LayerNorm, Linear, MiTBlock, MIT_BLOCK_EPS, MIT_EMBED_EPS, matMul } from './layers';
import { resolveConfig, type ConfigName, type PIALNetOptions } from './config';
import { loadCheckpoint, readCheckpointConfig, saveCheckpoint, type CheckpointExtras, type LoadedCheckpoint } from './checkpoint';
import { prepareEncoderWeights, type EncoderWeightsPlan } from './weights/mit';

/** Number of contact channels (docs/paper.md section 1). */
export const NUM_CHANNELS = 6;
/** Number of COCO-17 keypoints. */
export const NUM_KEYPOINTS = 17;
/** Initial bias of the output convolutions: sigmoid(-3) ~ 0.05, near the mean of sparse contact maps, so early BCE gradients are balanced. */
const OUTPUT_BIAS = -3;

/** Inputs of one forward pass. Images are NHWC float32, ImageNet mean/std normalised. */
export interface PIALNetInputs {
  /** [B, S, S, 3] images of a person interacting with an object. */
  interactive?: tf.Tensor4D;
  /** [B, S, S, 3] images of the object alone. */
  nonInteractive: tf.Tensor4D;
  /** [B, 17, 3]: COCO-17 keypoints of the interactive image, x and y in [0, 1] of the image, score in [0, 1]. */
  pose?: tf.Tensor3D;
}

/** Predictions: sigmoid maps [B, S/4, S/4, 6] in the channel order of CONTACT_CHANNELS. */
export interface PIALNetOutputs {
  /** Interactive prediction D_in; null for the encoder-decoder baseline, which has no interactive branch. */
  dIn: tf.Tensor4D | null;
  /** Non-interactive prediction D_non, the one the CAL protocol scores. */
  dNon: tf.Tensor4D;
}

/** Raw logits of a forward pass, for the loss. */
export interface PIALNetLogits {
  logitsIn: tf.Tensor4D | null;
  logitsNon: tf.Tensor4D;
}

/**
 * Normalised adjacency of the COCO-17 skeleton with self-loops, D^-1/2 (A + I) D^-1/2 (ST-GCN, uniform
 * partition, one hop).
 * @returns row-major 17 x 17 values
 */
export function cocoAdjacency(): Float32Array {
  const n = NUM_KEYPOINTS;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  for (const [i, j] of COCO17_SKELETON) {
    a[i * n + j] = 1;
    a[j * n + i] = 1;
  }
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = a[i * n + j] / Math.sqrt(deg[i] * deg[j]);
  return out;
}

interface Stage {
  embed: Conv2d;
  embedNorm: LayerNorm;
  blocks: MiTBlock[];
  norm: LayerNorm;
  dim: number;
}

/**
 * The Mix Transformer (MiT) encoder of SegFormer, computing what MiT computes: per stage an overlapping
 * patch embedding (conv + LayerNorm eps 1e-5), blocks of x + Attn(LN x) with spatial reduction (sr x sr conv
 * stride sr, LayerNorm eps 1e-5) and x + MixFFN(LN x) (fc1, 3x3 depthwise conv, exact GELU, fc2), block
 * norms eps 1e-6, and a final LayerNorm (eps 1e-6) per stage. Parameter names are MiT's (NVlabs' release)
 * under `encoder.`; weights are stored in tfjs layouts ([kh, kw, in, out] convolutions, [in, out] linears).
 */
class MiTEncoder {
  readonly stages: Stage[] = [];
  constructor(ps: ParamStore, o: PIALNetOptions) {
    const g: ParamGroup = 'encoder';
    let cin = 3;
    for (let i = 0; i < 4; i++) {
      const dim = o.embedDims[i];
      // Overlapping patch embeddings: 7x7 stride 4 then 3x3 stride 2, zero padding k // 2 on every side.
      const [k, s] = i === 0 ? [7, 4] : [3, 2];
      const p = Math.floor(k / 2);
      const blocks: MiTBlock[] = [];
      for (let j = 0; j < o.depths[i]; j++) blocks.push(new MiTBlock(ps, `encoder.block${i + 1}.${j}`, dim, o.heads[i], o.srRatios[i], o.mlpRatio, g));
      this.stages.push({
        embed: new Conv2d(ps, `encoder.patch_embed${i + 1}.proj`, cin, dim, k, s, p, g),
        embedNorm: new LayerNorm(ps, `encoder.patch_embed${i + 1}.norm`, dim, g, MIT_EMBED_EPS),
        blocks,
        norm: new LayerNorm(ps, `encoder.norm${i + 1}`, dim, g, MIT_BLOCK_EPS),
        dim,
      });
      cin = dim;
    }
  }

  /** Runs stages 1..3 fully and stage 4 up to its tokens; returns the maps and the stage-4 tokens [B, N4, C4]. */
  apply(x: tf.Tensor4D): { maps: tf.Tensor4D[]; tokens4: tf.Tensor; hw4: [number, number] } {
    const maps: tf.Tensor4D[] = [];
    let cur = x;
    let tokens4: tf.Tensor | undefined;
    let hw4: [number, number] = [0, 0];
    for (let i = 0; i < 4; i++) {
      const st = this.stages[i];
      const e = st.embed.apply(cur);
      const [b, h, w] = e.shape;
      const hw: [number, number] = [h, w];
      let t = st.embedNorm.apply(tf.reshape(e, [b, h * w, st.dim]));
      for (const blk of st.blocks) t = blk.apply(t, hw);
      t = st.norm.apply(t);
      if (i === 3) {
        tokens4 = t;
        hw4 = hw;
      } else {
        cur = tf.reshape(t, [b, h, w, st.dim]) as tf.Tensor4D;
        maps.push(cur);
      }
    }
    return { maps, tokens4: tokens4!, hw4 };
  }
}

/** IFE: learned cross tokens exchange information between the two images' stage-4 tokens (docs/paper.md 4.2). */
class IFE {
  private readonly tokens: string;
  private readonly blocks: { cIn: CrossBlock; cNon: CrossBlock; joint: CrossBlock; xIn: CrossBlock; xNon: CrossBlock };
  constructor(
    private readonly ps: ParamStore,
    private readonly o: PIALNetOptions,
  ) {
    const d = o.embedDims[3];
    const g: ParamGroup = 'head';
    this.tokens = ps.add('ife.cross_tokens', [o.ifeTokens, d], { kind: 'trunc', std: 0.02 }, g);
    // The m iterations reuse the same five blocks (an iterated refinement, as the paper's figure draws it).
    const blk = (n: string): CrossBlock => new CrossBlock(ps, `ife.${n}`, d, o.ifeHeads, o.ifeMlpRatio, g);
    this.blocks = { cIn: blk('c_in'), cNon: blk('c_non'), joint: blk('c_joint'), xIn: blk('x_in'), xNon: blk('x_non') };
  }

  apply(xIn: tf.Tensor, xNon: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const b = xIn.shape[0]!;
    const t = this.ps.get(this.tokens);
    let xc: tf.Tensor = tf.tile(tf.expandDims(t, 0), [b, 1, 1]);
    let a = xIn;
    let n = xNon;
    const it = this.blocks;
    for (let m = 0; m < this.o.ifeIterations; m++) {
      const c1 = it.cIn.apply(xc, tf.concat([a, xc], 1));
      const c2 = it.cNon.apply(xc, tf.concat([n, xc], 1));
      // Joint block [ours]: the mean of both views queries both views.
      xc = it.joint.apply(tf.mul(tf.add(c1, c2), 0.5), tf.concat([c1, c2], 1));
      a = it.xIn.apply(a, tf.concat([a, xc], 1));
      n = it.xNon.apply(n, tf.concat([n, xc], 1));
    }
    return [a, n];
  }
}

/** SegFormer all-MLP head: per-stage linear to E, upsample to 1/4, concatenate, linear + ReLU. */
class MLPHead {
  private readonly proj: Linear[];
  private readonly fuse: Linear;
  constructor(ps: ParamStore, o: PIALNetOptions) {
    this.proj = o.embedDims.map((c, i) => new Linear(ps, `head.linear_c${i + 1}`, c, o.decoderDim, 'head'));
    this.fuse = new Linear(ps, 'head.linear_fuse', 4 * o.decoderDim, o.decoderDim, 'head');
  }

  apply(maps: tf.Tensor4D[]): tf.Tensor4D {
    const [, h, w] = maps[0].shape;
    const ups = maps.map((m, i) => {
      const p = this.proj[i].apply(m) as tf.Tensor4D;
      return i === 0 ? p : tf.image.resizeBilinear(p, [h, w], false, true);
    });
    return this.fuse.apply(tf.concat(ups, 3), 'relu') as tf.Tensor4D;
  }
}

/** 3x3 conv + ReLU, 1x1 conv to the six channels (logits). */
class Decoder {
  private readonly c1: Conv2d;
  private readonly c2: Conv2d;
  constructor(ps: ParamStore, name: string, o: PIALNetOptions) {
    this.c1 = new Conv2d(ps, `${name}.conv1`, o.decoderDim, o.decoderHidden, 3, 1, 1, 'head');
    this.c2 = new Conv2d(ps, `${name}.conv2`, o.decoderHidden, NUM_CHANNELS, 1, 1, 0, 'head', { biasInit: OUTPUT_BIAS });
  }

  apply(f: tf.Tensor4D): tf.Tensor4D {
    return this.c2.apply(this.c1.apply(f, 'relu'));
  }
}

/** KHP: keypoint heuristic perception (docs/paper.md 4.4). */
class KHP {
  private readonly regionProj: Linear;
  private readonly gcn1: Linear;
  private readonly gcn2: Linear;
  private readonly jointEmbed: string;
  private readonly typeEmbed: string;
  private readonly blocks: CrossBlock[] = [];
  private readonly outProj: Linear;
  private readonly nonProj: Linear;
  private readonly adjacency: Float32Array = cocoAdjacency();
  constructor(
    private readonly ps: ParamStore,
    o: PIALNetOptions,
  ) {
    const k = o.khpDim;
    this.regionProj = new Linear(ps, 'khp.region_proj', o.decoderDim, k, 'head');
    this.gcn1 = new Linear(ps, 'khp.gcn1', 3, o.gcnHidden, 'head');
    this.gcn2 = new Linear(ps, 'khp.gcn2', o.gcnHidden, k, 'head');
    this.jointEmbed = ps.add('khp.joint_embed', [NUM_KEYPOINTS, k], { kind: 'trunc', std: 0.02 }, 'head');
    this.typeEmbed = ps.add('khp.type_embed', [2, k], { kind: 'trunc', std: 0.02 }, 'head');
    for (let i = 0; i < o.khpLayers; i++) this.blocks.push(new CrossBlock(ps, `khp.transformer.${i}`, k, o.khpHeads, 2, 'head'));
    // The 1x1 convolution over [F_non ; broadcast H_1..H_6] is split into its two halves: the H half is constant
    // over space, so it is computed once per image and added (same result, no broadcast copy). It starts as
    // [identity ; 0], i.e. as the model without KHP, so the pose path joins in as it learns (zero-initialised
    // residual branch) instead of first scrambling F_non.
    this.outProj = new Linear(ps, 'khp.fuse_h', NUM_CHANNELS * k, o.decoderDim, 'head', { bias: false, init: { kind: 'zeros' } });
    this.nonProj = new Linear(ps, 'khp.fuse_non', o.decoderDim, o.decoderDim, 'head', { init: { kind: 'eye' } });
  }

  apply(fIn: tf.Tensor4D, dIn: tf.Tensor4D, fNon: tf.Tensor4D, pose: tf.Tensor3D): tf.Tensor4D {
    const [b, h, w, e] = fIn.shape;
    const feats = tf.reshape(fIn, [b, h * w, e]);
    const masks = tf.reshape(dIn, [b, h * w, NUM_CHANNELS]);
    // Region feature per channel: the D_in-weighted mean of F_in.
    const regions = tf.div(matMul(tf.transpose(masks, [0, 2, 1]), feats), tf.add(tf.expandDims(tf.sum(masks, 1), 2), 1e-6));
    const types = this.ps.get(this.typeEmbed);
    const [t0, t1] = tf.split(types, 2, 0);
    const r = tf.add(this.regionProj.apply(regions), t0);
    // Skeleton GCN: X <- relu(Â X W), twice, on centred coordinates and the score.
    const adj = tf.tensor2d(this.adjacency, [NUM_KEYPOINTS, NUM_KEYPOINTS]);
    const centred = tf.sub(pose, tf.tensor1d([0.5, 0.5, 0]));
    const prop = (x: tf.Tensor): tf.Tensor => {
      const c = x.shape[2]!;
      // Â X for each image: [17, 17] x [17, B*C] after moving the batch next to the channels.
      const flat = tf.reshape(tf.transpose(x, [1, 0, 2]), [NUM_KEYPOINTS, b * c]);
      return tf.transpose(tf.reshape(matMul(adj, flat), [NUM_KEYPOINTS, b, c]), [1, 0, 2]);
    };
    const g1 = tf.relu(this.gcn1.apply(prop(centred)));
    const g2 = this.gcn2.apply(prop(g1));
    const kp = tf.add(tf.add(g2, this.ps.get(this.jointEmbed)), t1);
    let seq: tf.Tensor = tf.concat([r, kp], 1);
    for (const blk of this.blocks) seq = blk.apply(seq, seq);
    // H_j: the region tokens after the transformer (one vector each, so pooling is the identity).
    const hTokens = tf.slice(seq, [0, 0, 0], [b, NUM_CHANNELS, -1]);
    const hVec = this.outProj.apply(tf.reshape(hTokens, [b, -1]));
    return tf.add(this.nonProj.apply(fNon), tf.reshape(hVec, [b, 1, 1, e])) as tf.Tensor4D;
  }
}

/** Input of {@link PIALNet.create}: a configuration name or options (optionally on a named `base`). */
export type PIALNetConfig = ConfigName | (Partial<PIALNetOptions> & { base?: ConfigName });

/**
 * PIAL-Net. Weights are plain `tf.variable`s in two groups (`encoder`, `head`) so that training can give
 * them different learning rates; they are created on first use (or {@link PIALNet.build}), which keeps
 * {@link PIALNet.countParams} free for large configurations.
 */
export class PIALNet {
  readonly options: Readonly<PIALNetOptions>;
  /** The parameter store: specs, variables, groups. */
  readonly params = new ParamStore();
  private readonly encoder: MiTEncoder;
  private readonly ife: IFE | undefined;
  private readonly head: MLPHead;
  private readonly decIn: Decoder | undefined;
  private readonly decNon: Decoder;
  private readonly khpModule: KHP | undefined;
  private disposed = false;
  private readonly disposers = new Set<() => void>();

  private constructor(options: PIALNetOptions) {
    this.options = Object.freeze({ ...options });
    const ps = this.params;
    this.encoder = new MiTEncoder(ps, options);
    const baseline = options.baseline === 'encoder-decoder';
    if (!baseline) this.ife = new IFE(ps, options);
    this.head = new MLPHead(ps, options);
    if (!baseline) this.decIn = new Decoder(ps, 'dec_in', options);
    if (!baseline && options.khp) this.khpModule = new KHP(ps, options);
    this.decNon = new Decoder(ps, 'dec_non', options);
  }

  /**
   * Creates a model. Weights are created lazily (first predict/train) unless `build` is true.
   * @param config `'paper'` (MiT-B2, 224 px, ~36.3 M parameters), `'small'` (CPU, 128 px), `'nano'` (tests),
   *   or options overriding a `base` configuration (default base `small`), e.g. `{ base: 'small', khp: false }`.
   */
  static create(config: PIALNetConfig = 'small', opts: { build?: boolean } = {}): PIALNet {
    const m = new PIALNet(resolveConfig(config));
    if (opts.build) m.build();
    return m;
  }

  /** Number of parameters (from the declared shapes; nothing is allocated). */
  static countParams(config: PIALNetConfig): number {
    return new PIALNet(resolveConfig(config)).countParams();
  }

  /** Number of trainable scalars, optionally of one group. */
  countParams(group?: ParamGroup): number {
    return this.params.count(group);
  }

  /** Output map side for the configured input size. */
  get outputSize(): number {
    return this.options.inputSize / 4;
  }

  /**
   * Creates the weights (seeded), and reads the pretrained encoder when `pretrainedEncoder` names one. The
   * file is checked completely (names, shapes, dtypes, sizes) before any weight exists; if reading fails
   * after that, the weights are freed again, so the model stays unbuilt, as it was.
   * @throws `pretrainedEncoder <path>: <file>: ...` naming the file and, for a mismatch, the tensors
   */
  build(): this {
    this.checkAlive();
    if (this.params.built) return this;
    const src = this.options.pretrainedEncoder;
    let plan: EncoderWeightsPlan | undefined;
    if (src) {
      try {
        plan = prepareEncoderWeights(src, this.params, this.options);
      } catch (e) {
        throw new Error(`pretrainedEncoder ${src}: ${(e as Error).message}`);
      }
    }
    try {
      this.params.build(this.options.seed);
      plan?.assign(this.params);
    } catch (e) {
      this.params.dispose();
      throw new Error(src ? `pretrainedEncoder ${src}: ${(e as Error).message}` : (e as Error).message);
    } finally {
      plan?.close();
    }
    return this;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error(`PIALNet ${this.options.name} was disposed`);
  }

  private checkInputs(inputs: PIALNetInputs): number {
    const s = this.options.inputSize;
    const need = (t: tf.Tensor | undefined, field: string, shape: (number | string)[]): void => {
      const ok = !!t && t.rank === shape.length && shape.every((d, i) => typeof d === 'string' || t.shape[i] === d);
      if (!ok) throw new Error(`PIALNet.predict: ${field} must be [${shape.join(', ')}]${t ? `, got [${t.shape.join(', ')}]` : ', got nothing'}`);
    };
    if (!inputs || typeof inputs !== 'object') throw new Error('PIALNet.predict: expected { interactive, nonInteractive, pose }');
    need(inputs.nonInteractive, 'nonInteractive', ['B', s, s, 3]);
    const b = inputs.nonInteractive.shape[0];
    if (this.options.baseline) return b;
    need(inputs.interactive, 'interactive', [b, s, s, 3]);
    if (this.khpModule) need(inputs.pose, 'pose', [b, NUM_KEYPOINTS, 3]);
    return b;
  }

  /**
   * Forward pass returning logits (for the loss). Call inside a tidy or `tf.variableGrads`.
   * @throws when the inputs do not have the configured shapes
   */
  logits(inputs: PIALNetInputs): PIALNetLogits {
    this.checkAlive();
    this.build();
    const b = this.checkInputs(inputs);
    if (this.options.baseline) {
      const enc = this.encoder.apply(inputs.nonInteractive);
      const m4 = tf.reshape(enc.tokens4, [b, enc.hw4[0], enc.hw4[1], -1]) as tf.Tensor4D;
      return { logitsIn: null, logitsNon: this.decNon.apply(this.head.apply([...enc.maps, m4])) };
    }
    // One encoder pass over both images (the encoder is shared).
    const enc = this.encoder.apply(tf.concat([inputs.interactive!, inputs.nonInteractive], 0));
    const [t4In, t4Non] = tf.split(enc.tokens4, 2, 0);
    const [xIn, xNon] = this.ife!.apply(t4In, t4Non);
    const m4 = tf.reshape(tf.concat([xIn, xNon], 0), [2 * b, enc.hw4[0], enc.hw4[1], -1]) as tf.Tensor4D;
    const f = this.head.apply([...enc.maps, m4]);
    const [fIn, fNon] = tf.split(f, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
    const logitsIn = this.decIn!.apply(fIn);
    const nonFeat = this.khpModule ? this.khpModule.apply(fIn, tf.sigmoid(logitsIn), fNon, inputs.pose!) : fNon;
    return { logitsIn, logitsNon: this.decNon.apply(nonFeat) };
  }

  /**
   * Predicts the contact maps.
   * @param inputs `{ interactive, nonInteractive, pose }` (see {@link PIALNetInputs}); the baseline needs only `nonInteractive`
   * @returns sigmoid maps [B, S/4, S/4, 6] (`dIn` null for the baseline); the caller disposes them
   */
  predict(inputs: PIALNetInputs): PIALNetOutputs {
    const [dNon, dIn] = tf.tidy(() => {
      const l = this.logits(inputs);
      const out: tf.Tensor4D[] = [tf.sigmoid(l.logitsNon)];
      if (l.logitsIn) out.push(tf.sigmoid(l.logitsIn));
      return out;
    });
    return { dIn: dIn ?? null, dNon };
  }

  /**
   * The encoder's four stage outputs (after each stage's final LayerNorm), NHWC: for `paper` at 224 px
   * [B, 56, 56, 64], [B, 28, 28, 128], [B, 14, 14, 320], [B, 7, 7, 512]; the same maps MiT's
   * `forward_features` returns (NCHW there), so features can be compared with PyTorch on the same weights.
   * @param images [B, H, W, 3] float32, normalised as the encoder's weights expect (ImageNet mean/std)
   * @returns the four maps; the caller disposes them
   */
  encoderFeatures(images: tf.Tensor4D): tf.Tensor4D[] {
    this.checkAlive();
    if (!images || images.rank !== 4 || images.shape[3] !== 3 || images.shape[1] < 4 || images.shape[2] < 4) {
      throw new Error(`PIALNet.encoderFeatures: images must be [B, H, W, 3] (H, W at least 4)${images?.shape ? `, got [${images.shape.join(', ')}]` : ', got nothing'}`);
    }
    this.build();
    return tf.tidy(() => {
      const enc = this.encoder.apply(images);
      const [b, h, w] = [images.shape[0], enc.hw4[0], enc.hw4[1]];
      return [...enc.maps, tf.reshape(enc.tokens4, [b, h, w, -1]) as tf.Tensor4D];
    });
  }

  /** Trainable variables, optionally of one group. */
  variables(group?: ParamGroup): tf.Variable[] {
    this.build();
    return this.params.variables(group);
  }

  /**
   * Saves weights, configuration and optional training state to a folder, atomically (written under a
   * temporary name, then renamed over the old folder).
   */
  async save(dir: string, extras: CheckpointExtras = {}): Promise<void> {
    this.checkAlive();
    this.build();
    await saveCheckpoint(dir, this, extras);
  }

  /**
   * Loads weights from a checkpoint folder into this model. Everything (files, sizes, names, shapes) is
   * validated before any weight is assigned, so a failed load leaves the model as it was.
   * @returns the training state and optimizer tensors stored with the weights (the caller owns the tensors)
   */
  async load(dir: string): Promise<LoadedCheckpoint> {
    this.checkAlive();
    this.build();
    return loadCheckpoint(dir, this);
  }

  /** Creates a model from a checkpoint folder's configuration and loads its weights. */
  static async load(dir: string): Promise<PIALNet> {
    const m = PIALNet.create({ ...readCheckpointConfig(dir), pretrainedEncoder: undefined });
    const loaded = await m.load(dir);
    tf.dispose(Object.values(loaded.optimizer ?? {}));
    return m;
  }

  /**
   * Runs `fn` when the model is disposed (once per distinct function): state tied to the model, such as the
   * optimizer moments that `train` keeps for `resume: true`, is freed with it.
   */
  onDispose(fn: () => void): void {
    this.disposers.add(fn);
  }

  /** Frees every weight and everything tied to the model (optimizer state kept for resuming). */
  dispose(): void {
    for (const fn of this.disposers) fn();
    this.disposers.clear();
    this.params.dispose();
    this.disposed = true;
  }

  toString(): string {
    return `PIALNet(${this.options.name}, ${(this.countParams() / 1e6).toFixed(2)} M parameters, ${this.options.inputSize} px${this.options.baseline ? ', encoder-decoder baseline' : this.options.khp ? '' : ', no KHP'})`;
  }
}
