/**
 * The part of the zip format that `torch.save` (PyTorch >= 1.6) writes: stored (uncompressed) entries,
 * listed in the central directory, with zip64 sizes and offsets when the file needs them. Only the
 * directory is read; an entry's bytes are read later by position.
 */
import type { FileReader } from './tensors';

export interface ZipEntry {
  name: string;
  /** Position of the entry's bytes in the file. */
  dataOffset: number;
  size: number;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip field too large');
  return Number(n);
}

/** Reads the central directory of a zip file. */
export function readZipDirectory(r: FileReader): Map<string, ZipEntry> {
  const bad = (msg: string): never => {
    throw new Error(`${r.file}: not a complete zip archive (${msg})`);
  };
  // The end-of-central-directory record is in the last 22 + 65535 bytes.
  const tailLen = Math.min(r.size, 22 + 65535);
  const tail = r.read(r.size - tailLen, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record; the file may be truncated');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = eocd - 20;
    if (locAt < 0 || tv.getUint32(locAt, true) !== EOCD64_LOCATOR) bad('zip64 locator missing');
    const e64At = u64(tv, locAt + 8);
    const e64 = r.read(e64At, 56);
    const ev = new DataView(e64.buffer, e64.byteOffset, 56);
    if (ev.getUint32(0, true) !== EOCD64) bad('zip64 end record missing');
    count = u64(ev, 32);
    cdSize = u64(ev, 40);
    cdOffset = u64(ev, 48);
  }
  if (cdOffset + cdSize > r.size) bad(`central directory at ${cdOffset}+${cdSize} lies past the end (${r.size} bytes); truncated?`);
  const cd = r.read(cdOffset, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== CENTRAL) bad(`central directory entry ${k} is malformed`);
    const method = cv.getUint16(p + 10, true);
    let csize = cv.getUint32(p + 20, true);
    let usize = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let local = cv.getUint32(p + 42, true);
    const name = Buffer.from(cd.subarray(p + 46, p + 46 + nameLen)).toString('utf8');
    // zip64 extra field: the 64-bit values of the fields that are 0xffffffff, in order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (usize === 0xffffffff) {
          usize = u64(cv, q);
          q += 8;
        }
        if (csize === 0xffffffff) {
          csize = u64(cv, q);
          q += 8;
        }
        if (local === 0xffffffff) local = u64(cv, q);
      }
      e += 4 + len;
    }
    if (method !== 0) bad(`entry ${name} is compressed (method ${method}); torch.save writes stored entries`);
    if (csize !== usize) bad(`entry ${name} is stored with different sizes (${csize} vs ${usize})`);
    const lh = r.read(local, 30);
    const lv = new DataView(lh.buffer, lh.byteOffset, 30);
    if (lv.getUint32(0, true) !== LOCAL) bad(`local header of ${name} missing at ${local}`);
    const dataOffset = local + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataOffset + usize > r.size) bad(`entry ${name} ends at byte ${dataOffset + usize}, past the end of the file (${r.size} bytes); truncated?`);
    entries.set(name, { name, dataOffset, size: usize });
    p = eEnd + commentLen;
  }
  return entries;
}
