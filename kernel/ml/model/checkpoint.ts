/**
 * PIAL-Net checkpoints: a folder with
 * - `config.json`: format tag, the model options, and the weight manifest (name, shape, byte offset);
 * - `weights.bin`: every weight as little-endian float32, in manifest order;
 * - `state.json` (optional): the training state (step, epoch, schedule, history...) and the manifest of
 * - `optimizer.bin` (optional): the optimizer's moment tensors.
 *
 * Saving never leaves the folder without a complete checkpoint: the files are written into a temporary
 * folder beside it and flushed to disk (each file, then the folder), config.json last; only then is the
 * current checkpoint moved aside to `.<name>.prev` (replacing an older one) and the new folder renamed into
 * place, the parent folder flushed after each rename. A crash at any point leaves either the new checkpoint
 * or the previous one complete. Loading validates every file, size, name and shape before a single weight is
 * assigned; when the newest checkpoint is missing or incomplete it falls back to the previous complete one
 * (`.prev`, or a `.old-*` folder an earlier version left) and says so. Temporary folders of saves that died
 * are removed by the next save or load.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
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
  /** Set when a fallback was loaded: why, and from where. */
  note?: string;
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

/** The points of a save at which a crash can happen, in order (fault-injection tests stop the process there). */
export const SAVE_STAGES = ['temp-created', 'weights-written', 'optimizer-written', 'state-written', 'config-written', 'synced', 'previous-removed', 'current-moved-aside', 'renamed'] as const;
export type SaveStage = (typeof SAVE_STAGES)[number];

let faultHook: ((stage: SaveStage, dir: string) => void) | undefined;

/** Test hook: called at every stage of every save (a test kills its process there to simulate a crash). */
export function setCheckpointFaultHook(hook: ((stage: SaveStage, dir: string) => void) | undefined): void {
  faultHook = hook;
}

/** Writes a file and flushes it to disk before returning. */
function writeDurable(file: string, data: Buffer | string): void {
  const fd = openSync(file, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (renames, new files) to disk; a no-op where folders cannot be opened (Windows). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const previousOf = (target: string): string => join(dirname(target), `.${basename(target)}.prev`);

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary folders of saves to `target` whose process is gone. Returns their names. */
function removeStaleTemps(target: string): string[] {
  const parent = dirname(target);
  if (!existsSync(parent)) return [];
  const prefix = `.${basename(target)}.tmp-`;
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pidAlive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes a checkpoint folder so that a crash at any moment leaves a complete checkpoint (see the module doc). */
export async function saveCheckpoint(dir: string, model: CheckpointModel, extras: CheckpointExtras = {}): Promise<void> {
  const target = resolve(dir);
  const names = [...model.params.specs.keys()];
  const weights = await pack(
    model.params.variables().map((v, i) => [names[i], v] as [string, tf.Tensor]),
    'weights.bin',
  );
  const opt = extras.optimizer ? await pack(Object.entries(extras.optimizer), 'optimizer.bin') : undefined;
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  removeStaleTemps(target);
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp);
  const stage = (s: SaveStage): void => faultHook?.(s, target);
  stage('temp-created');
  try {
    const config: ConfigFile = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, options: { ...model.options }, params: model.params.count(), weights: weights.manifest };
    writeDurable(join(tmp, 'weights.bin'), weights.data);
    stage('weights-written');
    if (opt) {
      writeDurable(join(tmp, 'optimizer.bin'), opt.data);
      stage('optimizer-written');
    }
    const state: StateFile = { state: extras.state ?? null, optimizer: opt?.manifest ?? null };
    writeDurable(join(tmp, 'state.json'), JSON.stringify(state, null, 1) + '\n');
    stage('state-written');
    // config.json last: a folder without it is never taken for a checkpoint.
    writeDurable(join(tmp, 'config.json'), JSON.stringify(config, null, 1) + '\n');
    stage('config-written');
    syncDir(tmp);
    stage('synced');
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // The new checkpoint is complete on disk. Swap it in, keeping the current one as the previous.
  const prev = previousOf(target);
  if (existsSync(target)) {
    rmSync(prev, { recursive: true, force: true });
    syncDir(parent);
    stage('previous-removed');
    renameSync(target, prev);
    syncDir(parent);
    stage('current-moved-aside');
  }
  renameSync(tmp, target);
  stage('renamed');
  syncDir(parent);
}

/** A file of a checkpoint folder that is missing, unreadable, truncated or malformed: a save that did not finish. */
class IncompleteCheckpoint extends Error {}

function readJson<T>(file: string): T {
  if (!existsSync(file)) throw new IncompleteCheckpoint(`${file}: not found (is this a PIAL-Net checkpoint folder?)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new IncompleteCheckpoint(`${file}: not valid JSON (${(e as Error).message})`);
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
    throw new IncompleteCheckpoint(`${file}: field "${field}" should be { file, bytes, tensors[] }`);
  }
  let expect = 0;
  for (const t of m.tensors) {
    if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0) || t.offset !== expect) {
      throw new IncompleteCheckpoint(`${file}: ${field} entry ${JSON.stringify(t)} is malformed (expected a name, an integer shape and offset ${expect})`);
    }
    expect += size(t.shape) * 4;
  }
  if (expect !== m.bytes) throw new Error(`${file}: ${field} lists ${expect} bytes of tensors but declares ${m.bytes}`);
  if (/[\\/]/.test(m.file)) throw new Error(`${file}: ${field}.file must be a file name in the folder, got ${JSON.stringify(m.file)}`);
}

/** Reads a manifest's binary file, checking its exact size. */
function readBinary(dir: string, m: Manifest): Buffer {
  const file = join(dir, m.file);
  if (!existsSync(file)) throw new IncompleteCheckpoint(`${file}: not found`);
  const got = statSync(file).size;
  if (got !== m.bytes) throw new IncompleteCheckpoint(`${file}: expected ${m.bytes} bytes (${m.tensors.length} tensors), got ${got}${got < m.bytes ? ' (truncated)' : ''}`);
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
  const target = resolve(dir);
  for (const root of candidates(target)) {
    try {
      return readConfig(root).options;
    } catch (e) {
      if (!isIncomplete(e)) throw e;
    }
  }
  return readConfig(target).options;
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

/** Checkpoint folders to try for `dir`, newest first: the folder itself, its previous, then `.old-*` leftovers. */
function candidates(target: string): string[] {
  const out = [target, previousOf(target)];
  const parent = dirname(target);
  if (existsSync(parent)) {
    const prefix = `.${basename(target)}.old-`;
    const olds = readdirSync(parent)
      .filter((n) => n.startsWith(prefix))
      .map((n) => join(parent, n))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    out.push(...olds);
  }
  return out.filter((d) => existsSync(d));
}

/** Whether a checkpoint folder (or a fallback of it) exists for `dir`. */
export function hasCheckpoint(dir: string): boolean {
  return candidates(resolve(dir)).some((d) => existsSync(join(d, 'config.json')));
}

/** Reads and validates one folder completely; assigns nothing. */
function readFolder(root: string, model: CheckpointModel): { tensors: Map<string, tf.Tensor>; state: Record<string, unknown> | null; optimizer: Record<string, tf.Tensor> | null } {
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
  return { tensors, state, optimizer };
}

/** A checkpoint folder whose files are missing or inconsistent (as opposed to one for another model). */
function isIncomplete(e: unknown): boolean {
  return e instanceof IncompleteCheckpoint;
}

/**
 * Loads a checkpoint into a model: validates everything first, then assigns every weight. When the newest
 * checkpoint in `dir` is missing or incomplete (a crash while it was written), the previous complete one is
 * loaded instead and `note` says so; a checkpoint for another model is an error, never skipped.
 */
export async function loadCheckpoint(dir: string, model: CheckpointModel): Promise<LoadedCheckpoint> {
  const target = resolve(dir);
  removeStaleTemps(target);
  const tried: string[] = [];
  let firstError: unknown;
  for (const root of candidates(target)) {
    let read: ReturnType<typeof readFolder>;
    try {
      read = readFolder(root, model);
    } catch (e) {
      if (!isIncomplete(e)) throw e;
      firstError ??= e;
      tried.push(`${root}: ${(e as Error).message}`);
      continue;
    }
    for (const [name, t] of read.tensors) {
      model.params.get(name).assign(t);
      t.dispose();
    }
    await Promise.resolve();
    const note = root === target ? undefined : `the checkpoint in ${target} was ${existsSync(target) ? 'incomplete' : 'missing'} (${tried[0]?.replace(/^[^:]*: /, '') ?? 'not found'}); loaded the previous complete one from ${root}`;
    return { dir: root, state: read.state, optimizer: read.optimizer, note };
  }
  if (firstError) throw firstError instanceof Error && tried.length > 1 ? new Error(`no complete checkpoint for ${target}: ${tried.join('; ')}`) : firstError;
  throw new Error(`${join(target, 'config.json')}: not found (is this a PIAL-Net checkpoint folder?)`);
}
