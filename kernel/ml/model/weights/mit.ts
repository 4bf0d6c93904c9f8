/**
 * ImageNet-pretrained MiT weights into the encoder: NVlabs' release (`mit_b2.pth`: `patch_embed1.proj.weight`,
 * `block1.0.attn.kv.weight`, `block1.0.mlp.dwconv.dwconv.weight`, `norm1.weight`, ..., `head.*`) and
 * HuggingFace's `nvidia/mit-b2` (`pytorch_model.bin` or `model.safetensors`: `segformer.encoder.
 * patch_embeddings.0.proj.weight`, `...block.0.0.attention.self.query.weight`, `...mlp.dense1.weight`,
 * `...layer_norm.0.weight`, ..., `classifier.*`).
 *
 * Names map to the encoder's (which are NVlabs' under `encoder.`); PyTorch layouts convert to tfjs ones
 * (conv [out, in, kh, kw] -> [kh, kw, in, out], depthwise [C, 1, 3, 3] -> [3, 3, C, 1], linear [out, in]
 * -> [in, out]); HF's separate key and value projections join into MiT's fused `kv` (keys first). The
 * ImageNet classifier and segmentation heads are ignored; every other tensor must match exactly.
 * {@link prepareEncoderWeights} checks everything (names, shapes, dtypes, offsets, HF's config.json)
 * before the model's weights exist; the returned plan then reads one tensor at a time into them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { tf } from '../tf';
import type { ParamStore } from '../params';
import type { PIALNetOptions } from '../config';
import { CHECKPOINT_FORMAT, readCheckpointTensors } from '../checkpoint';
import { FileReader, FLOAT_DTYPES, numel, type TensorRecord, type WeightFile } from './tensors';
import { isLegacyTorch, isZip, openTorch } from './torch';
import { isSafetensors, openSafetensors } from './safetensors';

/** File names looked for, in order, in a folder given as the pretrained encoder. */
export const WEIGHT_FILE_NAMES = ['model.safetensors', 'pytorch_model.bin'] as const;
const WEIGHT_EXTENSIONS = new Set(['.safetensors', '.pth', '.pt', '.bin']);
/** Prefixes of heads that pretrained files carry and the encoder does not use. */
const IGNORED_PREFIXES = ['head.', 'classifier.', 'decode_head.', 'auxiliary_head.'];

/** MiT sizes by (widths, depths), for messages. */
const MIT_SIZES: [string, number[], number[]][] = [
  ['MiT-B0', [32, 64, 160, 256], [2, 2, 2, 2]],
  ['MiT-B1', [64, 128, 320, 512], [2, 2, 2, 2]],
  ['MiT-B2', [64, 128, 320, 512], [3, 4, 6, 3]],
  ['MiT-B3', [64, 128, 320, 512], [3, 4, 18, 3]],
  ['MiT-B4', [64, 128, 320, 512], [3, 8, 27, 3]],
  ['MiT-B5', [64, 128, 320, 512], [3, 6, 40, 3]],
];

function mitName(widths: number[], depths: number[]): string {
  const hit = MIT_SIZES.find(([, w, d]) => w.every((x, i) => x === widths[i]) && d.every((x, i) => x === depths[i]));
  return hit ? ` (${hit[0]})` : '';
}

/** Which part of a target parameter a file tensor fills. */
type Part = 'all' | 'key' | 'value';

interface Source {
  record: TensorRecord;
  part: Part;
}

const HF_BLOCK: Readonly<Record<string, [string, Part]>> = {
  layer_norm_1: ['norm1', 'all'],
  layer_norm_2: ['norm2', 'all'],
  'attention.self.query': ['attn.q', 'all'],
  'attention.self.key': ['attn.kv', 'key'],
  'attention.self.value': ['attn.kv', 'value'],
  'attention.self.sr': ['attn.sr', 'all'],
  'attention.self.layer_norm': ['attn.norm', 'all'],
  'attention.output.dense': ['attn.proj', 'all'],
  'mlp.dense1': ['mlp.fc1', 'all'],
  'mlp.dwconv.dwconv': ['mlp.dwconv.dwconv', 'all'],
  'mlp.dense2': ['mlp.fc2', 'all'],
};

/**
 * The encoder parameter (MiT name without `encoder.`) and part a file's tensor name stands for; 'ignored'
 * for heads, null when it is not an MiT tensor at all.
 */
export function mapTensorName(name: string): { target: string; part: Part } | 'ignored' | null {
  let n = name;
  for (const pre of ['module.', 'backbone.', 'segformer.']) if (n.startsWith(pre)) n = n.slice(pre.length);
  if (IGNORED_PREFIXES.some((p) => n.startsWith(p))) return 'ignored';
  if (n.startsWith('encoder.')) n = n.slice('encoder.'.length);
  // HF names
  let m = /^patch_embeddings\.(\d+)\.(proj|layer_norm)\.(weight|bias)$/.exec(n);
  if (m) return { target: `patch_embed${Number(m[1]) + 1}.${m[2] === 'proj' ? 'proj' : 'norm'}.${m[3]}`, part: 'all' };
  m = /^layer_norm\.(\d+)\.(weight|bias)$/.exec(n);
  if (m) return { target: `norm${Number(m[1]) + 1}.${m[2]}`, part: 'all' };
  m = /^block\.(\d+)\.(\d+)\.(.+)\.(weight|bias)$/.exec(n);
  if (m) {
    const t = HF_BLOCK[m[3]];
    return t ? { target: `block${Number(m[1]) + 1}.${m[2]}.${t[0]}.${m[4]}`, part: t[1] } : null;
  }
  // NVlabs names
  if (/^(patch_embed[1-4]\.(proj|norm)|norm[1-4]|block[1-4]\.\d+\.(norm1|norm2|attn\.(q|kv|proj|sr|norm)|mlp\.(fc1|fc2|dwconv\.dwconv)))\.(weight|bias)$/.test(n)) {
    return { target: n, part: 'all' };
  }
  return null;
}

/** The PyTorch shape of (a part of) a parameter whose tfjs shape is `shape`. */
function torchShape(target: string, shape: number[], part: Part): number[] {
  let s = shape;
  if (part !== 'all') s = s.length === 2 ? [s[0], s[1] / 2] : [s[0] / 2];
  if (s.length === 4) return target.includes('dwconv') ? [s[2], s[3], s[0], s[1]] : [s[3], s[2], s[0], s[1]];
  if (s.length === 2) return [s[1], s[0]];
  return s;
}

/** Writes a PyTorch-layout tensor into (its part of) the tfjs-layout target. */
function place(target: string, out: Float32Array, shape: number[], src: Float32Array, part: Part): void {
  if (shape.length === 4) {
    const [kh, kw, ci, co] = shape;
    const dw = target.includes('dwconv');
    // PyTorch conv [co, ci, kh, kw]; depthwise [ci, 1, kh, kw] with co = 1 (our [kh, kw, C, 1])
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) {
            const s = dw ? ((i * co + o) * kh + y) * kw + x : ((o * ci + i) * kh + y) * kw + x;
            out[((y * kw + x) * ci + i) * co + o] = src[s];
          }
    return;
  }
  if (shape.length === 2) {
    const [cin, cout] = shape;
    const w = part === 'all' ? cout : cout / 2;
    const c0 = part === 'value' ? w : 0;
    for (let o = 0; o < w; o++) for (let i = 0; i < cin; i++) out[i * cout + c0 + o] = src[o * cin + i];
    return;
  }
  out.set(src, part === 'value' ? src.length : 0);
}

/** What the file's tensors say about its MiT size (widths from the patch embeddings, depths from block indices). */
function describeFileSize(mapped: Map<string, Source[]>): { widths: number[]; depths: number[] } {
  const widths = [0, 0, 0, 0];
  const depths = [0, 0, 0, 0];
  for (const [t, srcs] of mapped) {
    const m = /^patch_embed([1-4])\.proj\.weight$/.exec(t);
    if (m) widths[Number(m[1]) - 1] = srcs[0].record.shape[0];
    const b = /^block([1-4])\.(\d+)\./.exec(t);
    if (b) depths[Number(b[1]) - 1] = Math.max(depths[Number(b[1]) - 1], Number(b[2]) + 1);
  }
  return { widths, depths };
}

/** A checked pretrained encoder, ready to be read into the built parameter store. */
export interface EncoderWeightsPlan {
  /** The file (or checkpoint folder) the weights come from. */
  readonly file: string;
  /** 'pytorch zip' | 'pytorch legacy' | 'safetensors' | 'checkpoint' */
  readonly format: string;
  /** Reads and assigns every encoder weight; on error, names the file and tensor. */
  assign(store: ParamStore, onTensor?: (name: string, index: number, total: number) => void): void;
  close(): void;
}

function openWeightFile(file: string): WeightFile {
  let r: FileReader;
  try {
    r = new FileReader(file);
  } catch (e) {
    throw new Error(`${file}: cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const head = r.read(0, Math.min(16, r.size));
    if (isZip(head) || isLegacyTorch(head)) return openTorch(r);
    if (isSafetensors(head, r.size) || extname(file) === '.safetensors') return openSafetensors(r);
    throw new Error(`${file}: not a PyTorch checkpoint (zip or legacy format) nor a safetensors file (it starts with bytes ${Buffer.from(head.subarray(0, 8)).toString('hex')})`);
  } catch (e) {
    r.close();
    throw e;
  }
}

/** Checks HF's config.json (beside the weights) against the encoder's widths, depths, heads and ratios. */
function checkHfConfig(file: string, o: PIALNetOptions): void {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (c.model_type !== undefined && c.model_type !== 'segformer') throw new Error(`${file}: model_type is ${JSON.stringify(c.model_type)}, expected "segformer" (a MiT / SegFormer checkpoint)`);
  const expect: [string, unknown][] = [
    ['hidden_sizes', o.embedDims],
    ['depths', o.depths],
    ['num_attention_heads', o.heads],
    ['sr_ratios', o.srRatios],
    ['mlp_ratios', [o.mlpRatio, o.mlpRatio, o.mlpRatio, o.mlpRatio]],
    ['patch_sizes', [7, 3, 3, 3]],
    ['strides', [4, 2, 2, 2]],
    ['num_channels', 3],
    ['num_encoder_blocks', 4],
    ['hidden_act', 'gelu'],
  ];
  const wrong = expect.filter(([k, v]) => k in c && JSON.stringify(c[k]) !== JSON.stringify(v));
  if (wrong.length) {
    throw new Error(`${file}: the checkpoint's configuration does not match the ${o.name} encoder: ${wrong.map(([k, v]) => `${k} is ${JSON.stringify(c[k])}, expected ${JSON.stringify(v)}`).join('; ')}`);
  }
}

/** The weight file of a folder: HF's names first, else the one file with a weight extension. */
function findWeightFile(dir: string): string {
  for (const n of WEIGHT_FILE_NAMES) if (existsSync(join(dir, n))) return join(dir, n);
  const files = readdirSync(dir).filter((n) => WEIGHT_EXTENSIONS.has(extname(n)) && statSync(join(dir, n)).isFile());
  if (files.length === 1) return join(dir, files[0]);
  if (files.length === 0) throw new Error(`${dir}: no weights found (expected ${WEIGHT_FILE_NAMES.join(' or ')}, a .pth/.bin/.safetensors file, or a PIAL-Net checkpoint folder)`);
  throw new Error(`${dir}: several weight files (${files.sort().join(', ')}); name the one to use`);
}

/**
 * Opens and checks a pretrained encoder (a .pth/.bin/.safetensors file, a folder holding one, or a PIAL-Net
 * checkpoint folder) against the store's declared encoder parameters. Nothing is assigned.
 * @throws naming the file, and for a mismatch every tensor concerned with the expected and found shapes
 */
export function prepareEncoderWeights(path: string, store: ParamStore, o: PIALNetOptions): EncoderWeightsPlan {
  const abs = resolve(path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path);
  if (!existsSync(abs)) throw new Error(`${abs}: not found`);
  let file = abs;
  if (statSync(abs).isDirectory()) {
    const cfg = join(abs, 'config.json');
    if (existsSync(cfg)) {
      let format: unknown;
      try {
        format = (JSON.parse(readFileSync(cfg, 'utf8')) as { format?: unknown }).format;
      } catch {
        format = undefined;
      }
      if (format === CHECKPOINT_FORMAT) return checkpointPlan(abs);
      file = findWeightFile(abs);
      checkHfConfig(cfg, o);
    } else file = findWeightFile(abs);
  }
  const wf = openWeightFile(file);
  try {
    return filePlan(wf, store, o);
  } catch (e) {
    wf.close();
    throw e;
  }
}

function checkpointPlan(dir: string): EncoderWeightsPlan {
  return {
    file: dir,
    format: 'checkpoint',
    assign(store) {
      const tensors = readCheckpointTensors(dir, store, (name) => name.startsWith('encoder.'));
      for (const [name, t] of tensors) {
        store.get(name).assign(t);
        t.dispose();
      }
    },
    close() {},
  };
}

function filePlan(wf: WeightFile, store: ParamStore, o: PIALNetOptions): EncoderWeightsPlan {
  const file = wf.file;
  const mapped = new Map<string, Source[]>();
  const problems: string[] = [];
  for (const rec of wf.tensors.values()) {
    const m = mapTensorName(rec.name);
    if (m === 'ignored') continue;
    if (m === null) {
      problems.push(`tensor "${rec.name}" is not a MiT encoder tensor`);
      continue;
    }
    const list = mapped.get(m.target) ?? [];
    list.push({ record: rec, part: m.part });
    mapped.set(m.target, list);
  }
  const specs = [...store.specs.values()].filter((s) => s.name.startsWith('encoder.'));
  const specByTarget = new Map(specs.map((s) => [s.name.slice('encoder.'.length), s]));
  for (const s of specs) {
    const t = s.name.slice('encoder.'.length);
    const srcs = mapped.get(t);
    const fused = t.includes('attn.kv.');
    if (!srcs) {
      problems.push(`${s.name} is missing (expected a tensor "${t}" of shape [${torchShape(t, s.shape, 'all').join(', ')}]${fused ? ', or HF key and value' : ''})`);
      continue;
    }
    const parts = srcs.map((x) => x.part).sort();
    const okParts = parts.length === 1 ? parts[0] === 'all' : parts.length === 2 && parts[0] === 'key' && parts[1] === 'value';
    if (!okParts) {
      problems.push(`${s.name} is given more than once or in part (${srcs.map((x) => `"${x.record.name}"`).join(', ')})`);
      continue;
    }
    for (const src of srcs) {
      const want = torchShape(t, s.shape, src.part);
      const got = src.record.shape;
      if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
        problems.push(`tensor "${src.record.name}" has shape [${got.join(', ')}], expected [${want.join(', ')}] (for ${s.name})`);
      }
      if (!FLOAT_DTYPES.has(src.record.dtype)) problems.push(`tensor "${src.record.name}" has dtype ${src.record.dtype}, expected F32, F16 or BF16`);
    }
  }
  for (const [t, srcs] of mapped) if (!specByTarget.has(t)) for (const s of srcs) problems.push(`tensor "${s.record.name}" has no place in this encoder (no parameter encoder.${t})`);
  if (problems.length) {
    const { widths, depths } = describeFileSize(mapped);
    const sizes =
      widths.some((w, i) => w !== o.embedDims[i]) || depths.some((d, i) => d !== o.depths[i])
        ? ` The file holds a MiT with widths [${widths.join(', ')}] and depths [${depths.join(', ')}]${mitName(widths, depths)}; the ${o.name} encoder has widths [${o.embedDims.join(', ')}] and depths [${o.depths.join(', ')}]${mitName(o.embedDims, o.depths)}.`
        : '';
    const shown = problems.slice(0, 8).join('; ');
    const more = problems.length > 8 ? ` (and ${problems.length - 8} more)` : '';
    throw new Error(`${file}: the weights do not fit the encoder.${sizes} ${shown}${more}.`);
  }
  return {
    file,
    format: wf.format,
    assign(st, onTensor) {
      let k = 0;
      for (const s of specs) {
        const t = s.name.slice('encoder.'.length);
        const out = new Float32Array(numel(s.shape));
        for (const src of mapped.get(t)!) {
          let values: Float32Array;
          try {
            values = src.record.read();
          } catch (e) {
            throw new Error(`${(e as Error).message} (reading tensor "${src.record.name}")`);
          }
          for (let i = 0; i < values.length; i++) {
            if (!Number.isFinite(values[i])) throw new Error(`${file}: tensor "${src.record.name}" holds a non-finite value at index ${i}`);
          }
          place(t, out, s.shape, values, src.part);
        }
        const v = tf.tensor(out, s.shape);
        st.get(s.name).assign(v);
        v.dispose();
        onTensor?.(s.name, k++, specs.length);
      }
    },
    close: () => wf.close(),
  };
}
