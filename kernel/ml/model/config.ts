/**
 * PIAL-Net configurations: `paper` (MiT-B2 at 224 px, docs/paper.md section 4), `small` (trains on a CPU in
 * minutes at 128 px) and `nano` (tiny, for tests).
 */

/** Options of {@link PIALNet.create}; every field of a named configuration can be overridden. */
export interface PIALNetOptions {
  /** Name shown in outputs and saved in checkpoints. */
  name: string;
  /** Square input size in pixels; outputs are inputSize / 4. @default 224 (paper) */
  inputSize: number;
  /** MiT stage widths. MiT-B2: [64, 128, 320, 512]. */
  embedDims: [number, number, number, number];
  /** MiT blocks per stage. MiT-B2: [3, 4, 6, 3]. */
  depths: [number, number, number, number];
  /** Attention heads per stage. MiT-B2: [1, 2, 5, 8]. */
  heads: [number, number, number, number];
  /** Spatial-reduction ratios of the efficient self-attention. MiT-B2: [8, 4, 2, 1]. */
  srRatios: [number, number, number, number];
  /** Mix-FFN hidden width = mlpRatio x stage width. @default 4 */
  mlpRatio: number;
  /** Width E of the all-MLP fusion head (F_in, F_non). */
  decoderDim: number;
  /** Hidden width of the two decoders (3x3 conv, ReLU, 1x1 conv to 6 channels). */
  decoderHidden: number;
  /** IFE iterations m. @default 2 */
  ifeIterations: number;
  /** Number of learned cross tokens x_c. @default 16 */
  ifeTokens: number;
  /** FFN ratio of the IFE cross-transformer blocks. */
  ifeMlpRatio: number;
  /** Heads of the IFE blocks (stage-4 width must divide). */
  ifeHeads: number;
  /** Width of the KHP tokens (region and keypoint). */
  khpDim: number;
  /** Transformer layers over [region tokens; keypoint tokens]. */
  khpLayers: number;
  khpHeads: number;
  /** Hidden width of the two-layer skeleton GCN. */
  gcnHidden: number;
  /** false: the no-pose ablation (D_non decoded from F_non alone; IFE kept). @default true */
  khp: boolean;
  /** 'encoder-decoder': plain SegFormer-like baseline on the non-interactive image alone (no IFE, no KHP). */
  baseline?: 'encoder-decoder';
  /** Seed of the weight initialisation. @default 0 */
  seed: number;
  /**
   * Optional ImageNet-pretrained MiT weights for the encoder, read when the model is built: NVlabs' `mit_b2.pth`
   * or any `torch.save` state dict (`.pth`/`.bin`, zip or legacy format), HF's `pytorch_model.bin` or
   * `model.safetensors` (or HF's folder holding one with its `config.json`), or a PIAL-Net checkpoint folder.
   * Images must then be ImageNet-normalised (the dataset's default). Nothing is downloaded.
   */
  pretrainedEncoder?: string;
}

export type ConfigName = 'paper' | 'small' | 'nano';

const PAPER: PIALNetOptions = {
  name: 'paper',
  inputSize: 224,
  embedDims: [64, 128, 320, 512],
  depths: [3, 4, 6, 3],
  heads: [1, 2, 5, 8],
  srRatios: [8, 4, 2, 1],
  mlpRatio: 4,
  decoderDim: 768,
  decoderHidden: 64,
  ifeIterations: 2,
  ifeTokens: 16,
  ifeMlpRatio: 0.5,
  ifeHeads: 8,
  khpDim: 128,
  khpLayers: 2,
  khpHeads: 8,
  gcnHidden: 64,
  khp: true,
  seed: 0,
};

const SMALL: PIALNetOptions = {
  name: 'small',
  inputSize: 128,
  embedDims: [32, 64, 128, 160],
  depths: [1, 1, 2, 1],
  heads: [1, 2, 4, 5],
  srRatios: [8, 4, 2, 1],
  mlpRatio: 4,
  decoderDim: 64,
  decoderHidden: 32,
  ifeIterations: 2,
  ifeTokens: 16,
  ifeMlpRatio: 1,
  ifeHeads: 5,
  khpDim: 64,
  khpLayers: 1,
  khpHeads: 4,
  gcnHidden: 32,
  khp: true,
  seed: 0,
};

const NANO: PIALNetOptions = {
  name: 'nano',
  inputSize: 32,
  embedDims: [8, 16, 16, 16],
  depths: [1, 1, 1, 1],
  heads: [1, 1, 2, 2],
  srRatios: [4, 2, 1, 1],
  mlpRatio: 2,
  decoderDim: 16,
  decoderHidden: 8,
  ifeIterations: 2,
  ifeTokens: 4,
  ifeMlpRatio: 1,
  ifeHeads: 2,
  khpDim: 16,
  khpLayers: 1,
  khpHeads: 2,
  gcnHidden: 8,
  khp: true,
  seed: 0,
};

export const CONFIGS: Readonly<Record<ConfigName, Readonly<PIALNetOptions>>> = { paper: PAPER, small: SMALL, nano: NANO };

/** Parameter count of the paper's PIAL-Net (M), the target of the `paper` configuration. */
export const PAPER_PARAMS_M = 36.32;

/** Resolves a configuration name or a partial options object (based on `base`, default `small`) and validates it. */
export function resolveConfig(config: ConfigName | (Partial<PIALNetOptions> & { base?: ConfigName })): PIALNetOptions {
  let o: PIALNetOptions;
  if (typeof config === 'string') {
    if (!(config in CONFIGS)) throw new Error(`PIALNet: unknown configuration "${String(config)}"; expected one of ${Object.keys(CONFIGS).join(', ')} or an options object`);
    o = structuredClone(CONFIGS[config]) as PIALNetOptions;
  } else {
    const { base, ...rest } = config;
    const b = base ?? 'small';
    if (!(b in CONFIGS)) throw new Error(`PIALNet: unknown base configuration "${String(b)}"; expected one of ${Object.keys(CONFIGS).join(', ')}`);
    o = { ...(structuredClone(CONFIGS[b]) as PIALNetOptions), ...rest };
    if (!config.name) o.name = `${b}${o.baseline ? '-baseline' : o.khp ? '' : '-nokhp'}`;
  }
  validateConfig(o);
  return o;
}

function validateConfig(o: PIALNetOptions): void {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new Error(`PIALNet option ${field}: expected ${expected}, got ${JSON.stringify(value)}`);
  };
  if (!Number.isInteger(o.inputSize) || o.inputSize < 32 || o.inputSize % 32 !== 0) bad('inputSize', o.inputSize, 'a multiple of 32, at least 32');
  for (const f of ['embedDims', 'depths', 'heads', 'srRatios'] as const) {
    const v = o[f];
    if (!Array.isArray(v) || v.length !== 4 || v.some((x) => !Number.isInteger(x) || x < 1)) bad(f, v, 'four positive integers');
  }
  o.embedDims.forEach((d, i) => {
    if (d % o.heads[i] !== 0) bad(`heads[${i}]`, o.heads[i], `a divisor of embedDims[${i}] = ${d}`);
  });
  o.srRatios.forEach((r, i) => {
    const side = o.inputSize / 2 ** (i + 2);
    if (side % r !== 0) bad(`srRatios[${i}]`, r, `a divisor of the stage ${i + 1} map side ${side}`);
  });
  for (const f of ['mlpRatio', 'decoderDim', 'decoderHidden', 'ifeIterations', 'ifeTokens', 'khpDim', 'khpLayers', 'khpHeads', 'gcnHidden', 'ifeHeads'] as const) {
    if (!(Number.isInteger(o[f]) && o[f] >= 1)) bad(f, o[f], 'a positive integer');
  }
  if (!(o.ifeMlpRatio > 0)) bad('ifeMlpRatio', o.ifeMlpRatio, 'a positive number');
  if (o.embedDims[3] % o.ifeHeads !== 0) bad('ifeHeads', o.ifeHeads, `a divisor of embedDims[3] = ${o.embedDims[3]}`);
  if (o.khpDim % o.khpHeads !== 0) bad('khpHeads', o.khpHeads, `a divisor of khpDim = ${o.khpDim}`);
  if (typeof o.khp !== 'boolean') bad('khp', o.khp, 'true or false');
  if (o.baseline !== undefined && o.baseline !== 'encoder-decoder') bad('baseline', o.baseline, "'encoder-decoder' or undefined");
  if (!Number.isInteger(o.seed)) bad('seed', o.seed, 'an integer');
}
