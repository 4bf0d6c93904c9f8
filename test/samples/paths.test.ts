/**
 * The committed sample notebooks hold no absolute path of the machine they were executed on: every
 * output (text, markdown, JSON payloads) is scanned. A notebook is meant to be opened anywhere.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SAMPLES = resolve(__dirname, '../../samples');

/**
 * Absolute paths in a text: POSIX paths of two or more segments starting at a word boundary (not the
 * `//host/path` of a URL, not `image/png`), Windows drive paths and file: URLs. data: URIs are skipped.
 */
export function absolutePaths(text: string): string[] {
  const t = text.replace(/data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+/g, '');
  const found: string[] = [];
  for (const m of t.matchAll(/(?:^|[\s"'`(=,[])(\/(?:[\w.@+-]+\/)+[\w.@+-]*)/g)) found.push(m[1]);
  for (const m of t.matchAll(/\b[A-Za-z]:\\[^\s"'`]+/g)) found.push(m[0]);
  for (const m of t.matchAll(/file:\/\/\/[^\s"'`)]+/g)) found.push(m[0]);
  return found;
}

/** Every string in an output, with its JSON path; base64 image data is left out. */
function* strings(v: unknown, path: string): Generator<[string, string]> {
  if (typeof v === 'string') yield [path, v];
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* strings(x, `${path}[${i}]`);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('image/')) continue;
      // ImageRef.data in the payloads: base64 of a PNG or JPEG.
      if (k === 'data' && typeof x === 'string' && (v as { mime?: unknown }).mime !== undefined) continue;
      yield* strings(x, `${path}.${k}`);
    }
  }
}

void describe('absolutePaths', () => {
  void it('finds machine paths and nothing else', () => {
    assert.deepEqual(absolutePaths('dataset: /work/main/out/syncal\n'), ['/work/main/out/syncal']);
    assert.deepEqual(absolutePaths('(looked from /home/ada/nb upwards)'), ['/home/ada/nb']);
    assert.deepEqual(absolutePaths('"root": "C:\\Users\\ada\\cal"'), ['C:\\Users\\ada\\cal']);
    assert.deepEqual(absolutePaths('see file:///tmp/x.png'), ['file:///tmp/x.png']);
    assert.deepEqual(absolutePaths('dataset: ../out/syncal, image/png, https://example.org/a/b, a/b/c, 1/2'), []);
    assert.deepEqual(absolutePaths('![x](data:image/jpeg;base64,/9j/4AAQ/Sk+ZJ/Rg==)'), []);
  });
});

void describe('samples', () => {
  const notebooks = readdirSync(SAMPLES).filter((f) => f.endsWith('.ipynb')).sort();
  void it('there are sample notebooks to check', () => {
    assert.ok(notebooks.length >= 3, `found ${notebooks.join(', ')}`);
  });
  for (const name of notebooks) {
    void it(`${name}: outputs hold no absolute path`, () => {
      const nb = JSON.parse(readFileSync(join(SAMPLES, name), 'utf8')) as { cells: { outputs?: unknown[] }[] };
      const hits: string[] = [];
      nb.cells.forEach((cell, ci) => {
        for (const [path, text] of strings(cell.outputs ?? [], `cells[${ci}].outputs`)) {
          for (const p of absolutePaths(text)) hits.push(`${path}: ${p}`);
        }
      });
      assert.deepEqual(hits, [], `absolute paths in ${name} (re-execute the notebook after fixing what prints them)`);
    });
  }
});
