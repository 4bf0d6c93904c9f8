/**
 * Tensors of a weight file, read lazily: a reader lists every tensor (name, dtype, shape) from the file's
 * header or pickle without reading the values, and each tensor's values are read from the file when asked
 * for, by position, as float32. So a whole checkpoint is never in memory at once: loading needs the model's
 * own weights plus one tensor at a time.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Element types a weight file may hold; only the floating ones convert to float32 weights. */
export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export const FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['F32', 'F16', 'BF16', 'F64']);

/** One tensor of a file: what it is, and how to read its values (row-major, as float32). */
export interface TensorRecord {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Reads the values as float32 (F16, BF16 and F64 converted); throws naming the file for other dtypes. */
  read(): Float32Array;
}

/** An opened weight file. */
export interface WeightFile {
  readonly file: string;
  /** 'pytorch zip', 'pytorch legacy' or 'safetensors' */
  readonly format: string;
  readonly tensors: ReadonlyMap<string, TensorRecord>;
  close(): void;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A file open for positioned reads. */
export class FileReader {
  private fd: number | undefined;
  readonly size: number;
  constructor(readonly file: string) {
    this.fd = openSync(file, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** Reads `length` bytes at `position` into `into` (or a new buffer); a short read is an error naming the file. */
  read(position: number, length: number, into?: Uint8Array): Uint8Array {
    if (this.fd === undefined) throw new Error(`${this.file}: read after close`);
    if (position < 0 || position + length > this.size) {
      throw new Error(`${this.file}: needs bytes ${position}..${position + length} but the file has ${this.size} (truncated?)`);
    }
    const buf = into ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n <= 0) throw new Error(`${this.file}: unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

const f16 = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
};

/**
 * Reads `count` elements of `dtype` starting at byte `position` of the file as float32.
 * @param what names the tensor in errors
 */
export function readFloats(reader: FileReader, position: number, count: number, dtype: DType, what: string): Float32Array {
  if (!FLOAT_DTYPES.has(dtype)) throw new Error(`${reader.file}: tensor "${what}" has dtype ${dtype}; only F32, F16, BF16 (and F64) weights can be loaded`);
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    reader.read(position, count * 4, new Uint8Array(out.buffer));
    return out;
  }
  const bytes = reader.read(position, count * DTYPE_BYTES[dtype]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = f16(view.getUint16(2 * i, true));
  else if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u[i] = view.getUint16(2 * i, true) << 16;
  } else for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}
