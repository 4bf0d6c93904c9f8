/**
 * PIAL-Net checkpoints: a folder with
 * - `config.json`: format tag, the model options, and the weight manifest (name, shape, byte offset);
 * - `weights.bin`: every weight as little-endian float32, in manifest order;
 * - `state.json` (optional): the training state (step, epoch, schedule, history...) and the manifest of
 * - `optimizer.bin` (optional): the optimizer's moment tensors.
 * A folder is written under a temporary name and renamed over the old one, so a crash never leaves a half
 * checkpoint. Loading validates every file, size, name and shape before a single weight is assigned.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tf } from './tf';
import type { ParamStore } from './params';
import type { PIALNetOptions } from './config';

export const CHECKPOINT_FORMAT = 'affordance-lab/pialnet';
export const CHECKPOINT_VERSION = 1;

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
}

interface Manifest {
  file: string;
  bytes: number;
  tensors: TensorEntry[];
}

interface ConfigFile {
  format: string;
  version: number;
  options: PIALNetOptions;
  params: number;
  weights: Manifest;
}

interface StateFile {
  state: Record<string, unknown> | null;
  optimizer: Manifest | null;
}

/** What {@link saveCheckpoint} stores beside the weights. */
export interface CheckpointExtras {
  /** Any JSON-serialisable training state. */
  state?: Record<string, unknown>;
  /** Named tensors (e.g. AdamW moments), stored in optimizer.bin. */
  optimizer?: Record<string, tf.Tensor>;
}

/** What a load returns beside the weights it assigns. */
export interface LoadedCheckpoint {
  dir: string;
  state: Record<string, unknown> | null;
  /** Optimizer tensors, owned by the caller (dispose them). */
  optimizer: Record<string, tf.Tensor> | null;
}

/** The model side a checkpoint needs: its options and parameter store. */
export interface CheckpointModel {
  readonly options: Readonly<PIALNetOptions>;
  readonly params: ParamStore;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

async function pack(named: [string, tf.Tensor][], file: string): Promise<{ manifest: Manifest; data: Buffer }> {
  const tensors: TensorEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    const values = (await t.data()) as Float32Array;
    const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    tensors.push({ name, shape: [...t.shape], offset });
    chunks.push(Buffer.from(buf));
    offset += buf.byteLength;
  }
  return { manifest: { file, bytes: offset, tensors }, data: Buffer.concat(chunks) };
}

/** Writes a checkpoint folder atomically (temporary folder, then rename). */
export async function saveCheckpoint(dir: string, model: CheckpointModel, extras: CheckpointExtras = {}): Promise<void> {
  const target = resolve(dir);
  const names = [...model.params.specs.keys()];
  const weights = await pack(
    model.params.variables().map((v, i) => [names[i], v] as [string, tf.Tensor]),
    'weights.bin',
  );
  const opt = extras.optimizer ? await pack(Object.entries(extras.optimizer), 'optimizer.bin') : undefined;
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    const config: ConfigFile = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, options: { ...model.options }, params: model.params.count(), weights: weights.manifest };
    writeFileSync(join(tmp, 'weights.bin'), weights.data);
    if (opt) writeFileSync(join(tmp, 'optimizer.bin'), opt.data);
    const state: StateFile = { state: extras.state ?? null, optimizer: opt?.manifest ?? null };
    writeFileSync(join(tmp, 'state.json'), JSON.stringify(state, null, 1) + '\n');
    // config.json last: a folder without it is never taken for a checkpoint.
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(config, null, 1) + '\n');
    if (existsSync(target)) {
      const old = join(dirname(target), `.${basename(target)}.old-${process.pid}-${Date.now()}`);
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function readJson<T>(file: string): T {
  if (!existsSync(file)) throw new Error(`${file}: not found (is this a PIAL-Net checkpoint folder?)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

function readConfig(dir: string): ConfigFile {
  const file = join(dir, 'config.json');
  const c = readJson<ConfigFile>(file);
  if (!c || c.format !== CHECKPOINT_FORMAT) throw new Error(`${file}: field "format" should be "${CHECKPOINT_FORMAT}", got ${JSON.stringify(c?.format)}`);
  if (c.version !== CHECKPOINT_VERSION) throw new Error(`${file}: version ${JSON.stringify(c.version)} is not supported (expected ${CHECKPOINT_VERSION})`);
  if (!c.options || typeof c.options !== 'object') throw new Error(`${file}: field "options" is missing`);
  checkManifest(c.weights, file, 'weights');
  return c;
}

function checkManifest(m: Manifest | null | undefined, file: string, field: string): asserts m is Manifest {
  if (!m || typeof m.file !== 'string' || !Number.isInteger(m.bytes) || !Array.isArray(m.tensors)) {
    throw new Error(`${file}: field "${field}" should be { file, bytes, tensors[] }`);
  }
  let expect = 0;
  for (const t of m.tensors) {
    if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0) || t.offset !== expect) {
      throw new Error(`${file}: ${field} entry ${JSON.stringify(t)} is malformed (expected a name, an integer shape and offset ${expect})`);
    }
    expect += size(t.shape) * 4;
  }
  if (expect !== m.bytes) throw new Error(`${file}: ${field} lists ${expect} bytes of tensors but declares ${m.bytes}`);
  if (/[\\/]/.test(m.file)) throw new Error(`${file}: ${field}.file must be a file name in the folder, got ${JSON.stringify(m.file)}`);
}

/** Reads a manifest's binary file, checking its exact size. */
function readBinary(dir: string, m: Manifest): Buffer {
  const file = join(dir, m.file);
  if (!existsSync(file)) throw new Error(`${file}: not found`);
  const got = statSync(file).size;
  if (got !== m.bytes) throw new Error(`${file}: expected ${m.bytes} bytes (${m.tensors.length} tensors), got ${got}${got < m.bytes ? ' (truncated)' : ''}`);
  return readFileSync(file);
}

function slice(buf: Buffer, t: TensorEntry): Float32Array {
  const n = size(t.shape);
  const out = new Float32Array(n);
  // Copy: the Buffer's offset in its pool need not be 4-byte aligned.
  Buffer.from(out.buffer).set(buf.subarray(t.offset, t.offset + n * 4));
  return out;
}

/** The model options stored in a checkpoint folder. */
export function readCheckpointConfig(dir: string): PIALNetOptions {
  return readConfig(resolve(dir)).options;
}

/**
 * Reads the weights of a checkpoint (or of a pretrained-encoder folder in the same format) that `filter`
 * selects, validated against the store's declared shapes. Returns new tensors; assigns nothing.
 */
export function readCheckpointTensors(dir: string, store: ParamStore, filter: (name: string) => boolean = () => true): Map<string, tf.Tensor> {
  const root = resolve(dir);
  const cfgFile = join(root, 'config.json');
  const cfg = readConfig(root);
  const entries = new Map(cfg.weights.tensors.map((t) => [t.name, t]));
  const problems: string[] = [];
  const wanted = [...store.specs.values()].filter((s) => filter(s.name));
  for (const s of wanted) {
    const e = entries.get(s.name);
    if (!e) problems.push(`${s.name} is missing (the model expects [${s.shape.join(', ')}])`);
    else if (e.shape.length !== s.shape.length || e.shape.some((d, i) => d !== s.shape[i])) problems.push(`${s.name} has shape [${e.shape.join(', ')}], the model expects [${s.shape.join(', ')}]`);
  }
  for (const name of entries.keys()) if (filter(name) && !store.specs.has(name)) problems.push(`${name} is not a parameter of this model`);
  if (problems.length) {
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new Error(`${cfgFile}: checkpoint does not match the model (${cfg.options.name ?? '?'} -> this model): ${problems.slice(0, 5).join('; ')}${more}`);
  }
  const buf = readBinary(root, cfg.weights);
  const out = new Map<string, tf.Tensor>();
  for (const s of wanted) {
    const e = entries.get(s.name)!;
    const values = slice(buf, e);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        tf.dispose([...out.values()]);
        throw new Error(`${join(root, cfg.weights.file)}: ${s.name} holds a non-finite value at index ${i}`);
      }
    }
    out.set(s.name, tf.tensor(values, e.shape));
  }
  return out;
}

/** Loads a checkpoint into a model: validates everything first, then assigns every weight. */
export async function loadCheckpoint(dir: string, model: CheckpointModel): Promise<LoadedCheckpoint> {
  const root = resolve(dir);
  const tensors = readCheckpointTensors(root, model.params);
  let state: Record<string, unknown> | null = null;
  let optimizer: Record<string, tf.Tensor> | null = null;
  try {
    const stateFile = join(root, 'state.json');
    if (existsSync(stateFile)) {
      const s = readJson<StateFile>(stateFile);
      state = s?.state ?? null;
      if (s?.optimizer) {
        checkManifest(s.optimizer, stateFile, 'optimizer');
        const buf = readBinary(root, s.optimizer);
        optimizer = {};
        for (const e of s.optimizer.tensors) optimizer[e.name] = tf.tensor(slice(buf, e), e.shape);
      }
    }
  } catch (e) {
    tf.dispose([...tensors.values(), ...Object.values(optimizer ?? {})]);
    throw e;
  }
  for (const [name, t] of tensors) {
    model.params.get(name).assign(t);
    t.dispose();
  }
  await Promise.resolve();
  return { dir: root, state, optimizer };
}
