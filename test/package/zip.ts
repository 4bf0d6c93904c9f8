/**
 * A minimal reader for .zip files (a .vsix is one): lists entries from the central directory and
 * extracts them (stored or deflated), keeping Unix file modes. Enough to check a package without
 * depending on an `unzip` binary being installed.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  /** Unix mode from the external attributes (0 when the archiver did not record one). */
  mode: number;
  localHeaderOffset: number;
}

/** Lists the entries of a zip file. Throws when the end-of-central-directory record is missing. */
export function listZip(buf: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${i} at ${p}`);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const localHeaderOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({ name, size, compressedSize, method, mode: (external >>> 16) & 0o7777, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The uncompressed bytes of one entry. */
export function readEntry(buf: Buffer, e: ZipEntry): Buffer {
  const p = e.localHeaderOffset;
  if (buf.readUInt32LE(p) !== 0x04034b50) throw new Error(`bad local header for ${e.name}`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const data = buf.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(data);
  if (e.method === 8) return inflateRawSync(data);
  throw new Error(`${e.name}: unsupported compression method ${e.method}`);
}

/** Extracts every entry under `dir`, refusing paths that would leave it. */
export function extractZip(file: string, dir: string): ZipEntry[] {
  const buf = readFileSync(file);
  const entries = listZip(buf);
  const root = resolve(dir);
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    const target = resolve(join(root, e.name));
    if (!target.startsWith(root + sep)) throw new Error(`zip entry escapes the folder: ${e.name}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readEntry(buf, e));
    if (e.mode) chmodSync(target, e.mode);
  }
  return entries;
}
