/**
 * PyTorch checkpoints (`.pth`, `.bin`) as written by `torch.save(state_dict, f)`:
 * - the zip format (PyTorch >= 1.6): `<archive>/data.pkl` is the pickled dict, whose tensors point by
 *   persistent id ('storage', type, key, location, numel) at the stored entries `<archive>/data/<key>`;
 * - the legacy format (before 1.6): five pickles in a row (magic number, protocol version, system info,
 *   the dict with persistent ids ('storage', type, key, location, numel, view), the storage keys), then
 *   each storage as an int64 element count followed by its raw little-endian bytes.
 * The pickles go through the restricted reader (./pickle), which executes nothing and refuses any global
 * other than the tensor-rebuild functions, the storage types and OrderedDict.
 */
import { FileReader, DTYPE_BYTES, numel, readFloats, type DType, type TensorRecord, type WeightFile } from './tensors';
import { PickleDict, unpickle, type AllowedGlobal, type GlobalTable } from './pickle';
import { readZipDirectory } from './zip';

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class StorageType {
  constructor(readonly dtype: DType) {}
}

/** Where a storage's bytes are in the file. */
interface Storage {
  key: string;
  dtype: DType;
  /** Byte position of element 0 (resolved after the pickle for the legacy format). */
  position: number;
  /** Number of elements. */
  numel: number;
}

class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const intList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);

function tensorGlobals(file: string): GlobalTable {
  const rebuild = (args: unknown[]): TensorRef => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Object) || !('key' in storage) || !isInt(offset) || !intList(size) || !intList(stride) || size.length !== stride.length) {
      throw new Error(`${file}: a tensor in the pickle has malformed arguments (storage, offset, size, stride)`);
    }
    return new TensorRef(storage as Storage, offset, [...size], [...stride]);
  };
  const g = new Map<string, AllowedGlobal>([
    ['collections.OrderedDict', { call: () => new PickleDict() }],
    ['torch._utils._rebuild_tensor_v2', { call: rebuild }],
    ['torch._utils._rebuild_tensor', { call: rebuild }],
    [
      'torch._utils._rebuild_parameter',
      {
        call: (args) => {
          if (!(args[0] instanceof TensorRef)) throw new Error(`${file}: a parameter in the pickle does not hold a tensor`);
          return args[0];
        },
      },
    ],
  ]);
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) g.set(`torch.${name}`, { value: new StorageType(dtype) });
  return g;
}

/** The storage type in a persistent id: the allowed global's value. */
function storageType(v: unknown, file: string): DType {
  const def = v as { def?: AllowedGlobal } | null;
  const t = def?.def?.value;
  if (!(t instanceof StorageType)) throw new Error(`${file}: a storage in the pickle has no known storage type`);
  return t.dtype;
}

/** The tensors of the unpickled object: a state dict, or a dict holding one under `state_dict` or `model`. */
function collectTensors(obj: unknown, file: string): Map<string, TensorRef> {
  let d = obj;
  if (d instanceof Map && ![...d.values()].some((v) => v instanceof TensorRef)) {
    for (const k of ['state_dict', 'model', 'module']) {
      if (d.get(k) instanceof Map) {
        d = d.get(k);
        break;
      }
    }
  }
  if (!(d instanceof Map)) throw new Error(`${file}: the checkpoint is not a dict of tensors (a state dict)`);
  const out = new Map<string, TensorRef>();
  for (const [k, v] of d) if (typeof k === 'string' && v instanceof TensorRef) out.set(k, v);
  if (out.size === 0) throw new Error(`${file}: the checkpoint holds no tensors`);
  return out;
}

function record(r: FileReader, name: string, t: TensorRef): TensorRecord {
  const { storage, offset, shape, stride } = t;
  const n = numel(shape);
  let span = n === 0 ? 0 : 1;
  shape.forEach((s, i) => (span += (s - 1) * stride[i]));
  if (n > 0 && offset + span > storage.numel) {
    throw new Error(`${r.file}: tensor "${name}" needs elements ${offset}..${offset + span} of storage ${storage.key}, which has ${storage.numel}`);
  }
  let contiguous = true;
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== s) contiguous = false;
    s *= shape[i];
  }
  return {
    name,
    dtype: storage.dtype,
    shape,
    read: (): Float32Array => {
      const esize = DTYPE_BYTES[storage.dtype];
      if (contiguous) return readFloats(r, storage.position + offset * esize, n, storage.dtype, name);
      const all = readFloats(r, storage.position + offset * esize, span, storage.dtype, name);
      const out = new Float32Array(n);
      const idx = new Array<number>(shape.length).fill(0);
      for (let k = 0; k < n; k++) {
        let src = 0;
        for (let i = 0; i < shape.length; i++) src += idx[i] * stride[i];
        out[k] = all[src];
        for (let i = shape.length - 1; i >= 0; i--) {
          if (++idx[i] < shape[i]) break;
          idx[i] = 0;
        }
      }
      return out;
    },
  };
}

/** The first bytes of a PyTorch zip checkpoint. */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** A legacy checkpoint starts with a protocol-2 pickle of the LONG1 magic number. */
export function isLegacyTorch(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a && head[3] === 0x0a;
}

function openZip(r: FileReader): WeightFile {
  const entries = readZipDirectory(r);
  const pkl = [...entries.keys()].find((n) => n.endsWith('/data.pkl') && n.split('/').length === 2);
  if (!pkl) throw new Error(`${r.file}: a zip archive without <name>/data.pkl is not a PyTorch checkpoint`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order) {
    const b = Buffer.from(r.read(order.dataOffset, order.size)).toString('utf8').trim();
    if (b !== 'little') throw new Error(`${r.file}: byte order "${b}" is not supported (expected little)`);
  }
  const pe = entries.get(pkl)!;
  const bytes = r.read(pe.dataOffset, pe.size);
  const storages = new Map<string, Storage>();
  const { value } = unpickle(bytes, 0, {
    file: r.file,
    globals: tensorGlobals(r.file),
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`${r.file}: unknown persistent id ${JSON.stringify(pid)}`);
      const dtype = storageType(pid[1], r.file);
      const key = String(pid[2]);
      const prev = storages.get(key);
      if (prev) return prev;
      const entry = entries.get(`${prefix}data/${key}`);
      if (!entry) throw new Error(`${r.file}: storage ${key} is missing from the archive (${prefix}data/${key})`);
      const count = Math.floor(entry.size / DTYPE_BYTES[dtype]);
      const st: Storage = { key, dtype, position: entry.dataOffset, numel: count };
      storages.set(key, st);
      return st;
    },
  });
  const tensors = new Map<string, TensorRecord>();
  for (const [name, t] of collectTensors(value, r.file)) tensors.set(name, record(r, name, t));
  return { file: r.file, format: 'pytorch zip', tensors, close: () => r.close() };
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function openLegacy(r: FileReader): WeightFile {
  // The pickles are small next to the storages; read ahead in growing chunks until the keys list has been parsed.
  let chunk = Math.min(r.size, 1 << 20);
  for (;;) {
    const bytes = r.read(0, chunk);
    try {
      return parseLegacy(r, bytes);
    } catch (e) {
      if (!(e instanceof Error) || !/ends early/.test(e.message) || chunk === r.size) throw e;
      chunk = Math.min(r.size, chunk * 4);
    }
  }
}

function parseLegacy(r: FileReader, bytes: Uint8Array): WeightFile {
  const plain = { file: r.file, globals: new Map<string, AllowedGlobal>() };
  let at = 0;
  const magic = unpickle(bytes, at, plain);
  if (magic.value !== LEGACY_MAGIC) throw new Error(`${r.file}: not a PyTorch checkpoint (wrong magic number)`);
  const proto = unpickle(bytes, magic.end, plain);
  if (proto.value !== 1001) throw new Error(`${r.file}: legacy checkpoint protocol ${String(proto.value)} is not supported (expected 1001)`);
  const sys = unpickle(bytes, proto.end, plain);
  if (sys.value instanceof Map && sys.value.get('little_endian') === false) throw new Error(`${r.file}: big-endian checkpoints are not supported`);
  const storages = new Map<string, Storage>();
  const views: [Storage, string, number][] = [];
  const main = unpickle(bytes, sys.end, {
    file: r.file,
    globals: tensorGlobals(r.file),
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 6) throw new Error(`${r.file}: unknown persistent id ${JSON.stringify(pid)}`);
      const dtype = storageType(pid[1], r.file);
      const key = String(pid[2]);
      let root = storages.get(key);
      if (!root) {
        root = { key, dtype, position: -1, numel: Number(pid[4]) };
        storages.set(key, root);
      }
      const view = pid[5] as unknown[] | null;
      if (view === null || view === undefined) return root;
      // An old-style storage view: (view key, element offset, size) of the root storage.
      const v: Storage = { key: String(view[0]), dtype, position: -1, numel: Number(view[2]) };
      views.push([v, key, Number(view[1])]);
      return v;
    },
  });
  const keys = unpickle(bytes, main.end, plain);
  if (!Array.isArray(keys.value)) throw new Error(`${r.file}: the storage key list is missing`);
  at = keys.end;
  for (const k of keys.value) {
    const st = storages.get(String(k));
    if (!st) throw new Error(`${r.file}: storage ${String(k)} is listed but not used`);
    const head = r.read(at, 8);
    const count = Number(new DataView(head.buffer, head.byteOffset, 8).getBigInt64(0, true));
    if (count !== st.numel) throw new Error(`${r.file}: storage ${st.key} holds ${count} elements, the pickle says ${st.numel}`);
    st.position = at + 8;
    at += 8 + count * DTYPE_BYTES[st.dtype];
    if (at > r.size) throw new Error(`${r.file}: storage ${st.key} ends at byte ${at}, past the end of the file (${r.size} bytes); truncated?`);
  }
  for (const st of storages.values()) if (st.position < 0) throw new Error(`${r.file}: storage ${st.key} has no data in the file`);
  for (const [v, rootKey, off] of views) {
    const root = storages.get(rootKey)!;
    v.position = root.position + off * DTYPE_BYTES[root.dtype];
    if (off + v.numel > root.numel) throw new Error(`${r.file}: storage view ${v.key} lies outside storage ${rootKey}`);
  }
  const tensors = new Map<string, TensorRecord>();
  for (const [name, t] of collectTensors(main.value, r.file)) tensors.set(name, record(r, name, t));
  return { file: r.file, format: 'pytorch legacy', tensors, close: () => r.close() };
}

/** Opens a PyTorch checkpoint (zip or legacy) for lazy reading. */
export function openTorch(r: FileReader): WeightFile {
  const head = r.read(0, Math.min(4, r.size));
  if (isZip(head)) return openZip(r);
  if (isLegacyTorch(head)) return openLegacy(r);
  throw new Error(`${r.file}: not a PyTorch checkpoint (neither the zip format of torch.save nor the legacy format)`);
}
