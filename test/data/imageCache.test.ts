/**
 * The decoded-image cache of the loader (kernel/ml/data/loading.ts decodedImageOf): the same bytes as a fresh
 * decode, one decode per file and size, and a file rewritten in place decoded again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodedImageOf } from '../../kernel/ml/data/loading';
import { decodeImage } from '../../kernel/ml/data/image';
import { CalDataError } from '../../kernel/ml/data/errors';

const jpeg = (w: number, h: number, r: number): Promise<Buffer> => sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 40, b: 200 } } }).jpeg().toBuffer();

void test('decodedImageOf: fresh-decode bytes, remembered per file and size, decoded again after the file changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-imgcache-'));
  try {
    const f = join(dir, 'a.jpg');
    writeFileSync(f, await jpeg(40, 30, 250));
    const first = await decodedImageOf(f, 16);
    assert.deepEqual(first, await decodeImage(f, 16));
    assert.equal(await decodedImageOf(f, 16), first, 'a second call is served from the cache');
    const other = await decodedImageOf(f, 8);
    assert.equal(other.rgb.length, 8 * 8 * 3, 'another size is another entry');
    // Rewritten in place (other pixels, other size, a later modification time): decoded again.
    writeFileSync(f, await jpeg(20, 10, 10));
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    const again = await decodedImageOf(f, 16);
    assert.notEqual(again, first);
    assert.deepEqual(again, await decodeImage(f, 16));
    assert.equal(again.width, 20);
    assert.ok(Math.abs(again.rgb[0] - 10) < 8 && Math.abs(first.rgb[0] - 250) < 8, `red ${again.rgb[0]} after, ${first.rgb[0]} before`);
    // A missing or broken file is the decoder's error, naming the file, and is not remembered.
    await assert.rejects(decodedImageOf(join(dir, 'missing.jpg'), 16), (e: unknown) => e instanceof CalDataError && e.file.endsWith('missing.jpg'));
    writeFileSync(join(dir, 'bad.jpg'), 'not a jpeg');
    await assert.rejects(decodedImageOf(join(dir, 'bad.jpg'), 16), CalDataError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
