// Writers of small weight files for the tests, in the formats researchers have: torch.save's zip format,
// its legacy (pre-1.6) format, and safetensors. Written from the formats' descriptions (pickle protocol 2,
// PKZIP stored entries, the safetensors header), independently of the project's readers.
import { writeFileSync } from 'node:fs';

export interface FileTensor {
  name: string;
  /** PyTorch shape ([out, in, kh, kw] for convolutions, [out, in] for linears) */
  shape: number[];
  data: Float32Array;
}

/** A protocol-2 pickle, opcode by opcode. */
export class Pickler {
  private readonly parts: Buffer[] = [];
  private raw(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  proto(): this {
    return this.raw(0x80, 2);
  }
  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    return this;
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  appends(): this {
    return this.raw(0x65);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  build(): this {
    return this.raw(0x62);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    this.parts.push(h, b);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    const h = Buffer.alloc(5);
    h[0] = 0x4a;
    h.writeInt32LE(n, 1);
    this.parts.push(h);
    return this;
  }
  /** LONG1 of a (possibly large) integer. */
  long(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    while (x !== 0n) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (bytes.length && bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  ints(xs: number[]): this {
    this.mark();
    xs.forEach((x) => this.int(x));
    return this.tuple();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const rowStrides = (shape: number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};

/** The pickle of an OrderedDict state dict whose tensors point at storages '0', '1', ... */
export function stateDictPickle(tensors: FileTensor[], legacy: boolean, storageType = 'FloatStorage'): Buffer {
  const p = new Pickler().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  tensors.forEach((t, i) => {
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', storageType).str(String(i)).str('cpu').int(t.data.length);
    if (legacy) p.none();
    p.tuple().binpersid();
    p.int(0).ints(t.shape).ints(rowStrides(t.shape)).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().reduce();
  });
  return p.setitems().stop().bytes();
}

/** A pickle that would run a shell command if it were executed by Python's pickle.load. */
export function maliciousPickle(command: string): Buffer {
  return new Pickler().proto().global('posix', 'system').mark().str(command).tuple().reduce().stop().bytes();
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of stored entries (what torch.save writes). */
export function zipStored(entries: [string, Uint8Array][]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(data.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(n.length, 26);
    locals.push(lh, n, Buffer.from(data));
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(data.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(n.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const f32bytes = (d: Float32Array): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** torch.save(state_dict) in the zip format. */
export function writeTorchZip(file: string, tensors: FileTensor[], pickle?: Buffer): void {
  const entries: [string, Uint8Array][] = [['archive/data.pkl', pickle ?? stateDictPickle(tensors, false)]];
  tensors.forEach((t, i) => entries.push([`archive/data/${i}`, f32bytes(t.data)]));
  entries.push(['archive/version', Buffer.from('3\n')]);
  writeFileSync(file, zipStored(entries));
}

/** torch.save(state_dict, _use_new_zipfile_serialization=False): the legacy format. */
export function writeTorchLegacy(file: string, tensors: FileTensor[], pickle?: Buffer): void {
  const magic = new Pickler().proto().long(0x1950a86a20f9469cfc6cn).stop().bytes();
  const proto = new Pickler().proto().int(1001).stop().bytes();
  const sys = new Pickler().proto().emptyDict().mark().str('protocol_version').int(1001).str('little_endian').bool(true).str('type_sizes').emptyDict().mark().str('short').int(2).str('int').int(4).str('long').int(4).setitems().setitems().stop().bytes();
  const main = pickle ?? stateDictPickle(tensors, true);
  const keys = new Pickler().proto().emptyList().mark();
  tensors.forEach((_, i) => keys.str(String(i)));
  const parts: Buffer[] = [magic, proto, sys, main, keys.appends().stop().bytes()];
  for (const t of tensors) {
    const n = Buffer.alloc(8);
    n.writeBigInt64LE(BigInt(t.data.length));
    parts.push(n, Buffer.from(f32bytes(t.data)));
  }
  writeFileSync(file, Buffer.concat(parts));
}

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign | Math.round((mant | 0x800000) / 2 ** (14 - exp)) >> 0;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

/** A safetensors file; dtype F16 / BF16 rounds the values. Returns the bytes (also written to `file`). */
export function writeSafetensors(file: string, tensors: FileTensor[], dtype: 'F32' | 'F16' | 'BF16' = 'F32', metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    let b: Buffer;
    if (dtype === 'F32') b = Buffer.from(f32bytes(t.data));
    else {
      b = Buffer.alloc(t.data.length * 2);
      const u = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
      for (let i = 0; i < t.data.length; i++) b.writeUInt16LE(dtype === 'BF16' ? u[i] >>> 16 : toHalf(t.data[i]), 2 * i);
    }
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + b.length] };
    blobs.push(b);
    offset += b.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const out = Buffer.concat([len, json, ...blobs]);
  writeFileSync(file, out);
  return out;
}

/** PyTorch shape of one of our parameters (the layouts as PyTorch stores them). */
export function torchShape(name: string, shape: number[]): number[] {
  if (shape.length === 4) return name.includes('dwconv') ? [shape[2], 1, shape[0], shape[1]] : [shape[3], shape[2], shape[0], shape[1]];
  if (shape.length === 2) return [shape[1], shape[0]];
  return shape;
}

/** The same tensors under HF's names (`segformer.encoder.*`, key and value split, `classifier.*`). */
export function hfTensors(nv: FileTensor[]): FileTensor[] {
  const block: Record<string, string> = {
    norm1: 'layer_norm_1',
    norm2: 'layer_norm_2',
    'attn.q': 'attention.self.query',
    'attn.proj': 'attention.output.dense',
    'attn.sr': 'attention.self.sr',
    'attn.norm': 'attention.self.layer_norm',
    'mlp.fc1': 'mlp.dense1',
    'mlp.fc2': 'mlp.dense2',
    'mlp.dwconv.dwconv': 'mlp.dwconv.dwconv',
  };
  const out: FileTensor[] = [];
  for (const t of nv) {
    let m: RegExpExecArray | null;
    if ((m = /^head\.(\w+)$/.exec(t.name))) out.push({ ...t, name: `classifier.${m[1]}` });
    else if ((m = /^patch_embed(\d)\.(proj|norm)\.(\w+)$/.exec(t.name))) out.push({ ...t, name: `segformer.encoder.patch_embeddings.${Number(m[1]) - 1}.${m[2] === 'norm' ? 'layer_norm' : 'proj'}.${m[3]}` });
    else if ((m = /^norm(\d)\.(\w+)$/.exec(t.name))) out.push({ ...t, name: `segformer.encoder.layer_norm.${Number(m[1]) - 1}.${m[2]}` });
    else if ((m = /^block(\d)\.(\d+)\.(.+)\.(weight|bias)$/.exec(t.name))) {
      const pre = `segformer.encoder.block.${Number(m[1]) - 1}.${m[2]}`;
      if (m[3] === 'attn.kv') {
        const c = t.shape[0] / 2;
        const half = t.data.length / 2;
        out.push({ name: `${pre}.attention.self.key.${m[4]}`, shape: [c, ...t.shape.slice(1)], data: t.data.slice(0, half) });
        out.push({ name: `${pre}.attention.self.value.${m[4]}`, shape: [c, ...t.shape.slice(1)], data: t.data.slice(half) });
      } else out.push({ ...t, name: `${pre}.${block[m[3]]}.${m[4]}` });
    } else throw new Error(`no HF name for ${t.name}`);
  }
  return out;
}
