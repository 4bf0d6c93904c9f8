/**
 * safetensors files: an 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }`, then the
 * data, each tensor's bytes at [8 + N + begin, 8 + N + end). Every field is checked before anything is
 * read: the header length against the file size, the JSON, the dtypes, each tensor's byte count against
 * its shape, and the offsets against the data size (no overlap, no gap, nothing past the end), so a
 * truncated or inconsistent file is an error naming it.
 */
import { DTYPE_BYTES, numel, readFloats, type DType, type FileReader, type TensorRecord, type WeightFile } from './tensors';

const DTYPES: Readonly<Record<string, DType>> = { F32: 'F32', F16: 'F16', BF16: 'BF16', F64: 'F64', I64: 'I64', I32: 'I32', I16: 'I16', I8: 'I8', U8: 'U8', BOOL: 'BOOL' };
/** Largest header accepted (the format's own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

/** Heuristic used to recognise the format: a plausible header length followed by `{`. */
export function isSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9) return false;
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && n <= size - 8 && head[8] === 0x7b;
}

export function openSafetensors(r: FileReader): WeightFile {
  const bad = (msg: string): never => {
    throw new Error(`${r.file}: not a valid safetensors file (${msg})`);
  };
  if (r.size < 8) bad(`${r.size} bytes, shorter than the 8-byte header length`);
  const lenBytes = r.read(0, 8);
  const big = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (big > BigInt(Math.min(MAX_HEADER, r.size - 8))) bad(`header length ${big} exceeds the file (${r.size} bytes)${big > BigInt(MAX_HEADER) ? ' or the 100 MB limit' : '; truncated?'}`);
  const n = Number(big);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(r.read(8, n)).toString('utf8'));
  } catch (e) {
    bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataSize = r.size - dataStart;
  const spans: [number, number, string][] = [];
  const tensors = new Map<string, TensorRecord>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string'))) bad('__metadata__ must map strings to strings');
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!e || typeof e !== 'object') bad(`entry "${name}" is not an object`);
    const dtype = typeof e!.dtype === 'string' ? DTYPES[e!.dtype] : undefined;
    if (!dtype) bad(`tensor "${name}" has dtype ${JSON.stringify(e!.dtype)}; expected one of ${Object.keys(DTYPES).join(', ')}`);
    const shape = e!.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) bad(`tensor "${name}" has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    const off = e!.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((d) => !Number.isInteger(d) || (d as number) < 0) || off[0] > off[1]) bad(`tensor "${name}" has data_offsets ${JSON.stringify(off)}; expected [begin, end] with 0 <= begin <= end`);
    const [b, en] = off as [number, number];
    const s = shape as number[];
    const bytes = numel(s) * DTYPE_BYTES[dtype!];
    if (en - b !== bytes) bad(`tensor "${name}" ([${s.join(', ')}] ${dtype}) needs ${bytes} bytes but data_offsets [${b}, ${en}] hold ${en - b}`);
    if (en > dataSize) bad(`tensor "${name}" ends at data byte ${en} but the file holds ${dataSize} bytes of data; truncated?`);
    spans.push([b, en, name]);
    tensors.set(name, { name, dtype: dtype!, shape: s, read: () => readFloats(r, dataStart + b, numel(s), dtype!, name) });
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let end = 0;
  for (const [b, en, name] of spans) {
    if (b < end) bad(`tensor "${name}" overlaps the tensor before it`);
    if (b > end) bad(`data bytes ${end}..${b} belong to no tensor (before "${name}")`);
    end = en;
  }
  if (end !== dataSize) bad(`the tensors cover ${end} bytes of data but the file holds ${dataSize}`);
  return { file: r.file, format: 'safetensors', tensors, close: () => r.close() };
}
