import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynCAL } from '../../kernel/ml/data/index';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `affordance-lab-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let base: Promise<string> | undefined;
const cleanups: (() => void)[] = [];
process.on('exit', () => cleanups.forEach((c) => c()));

/** A small SynCAL (seed 7, one image per class and kind in trainsets, 128 px), generated once per test file. */
export function smallSynCAL(): Promise<string> {
  base ??= (async () => {
    const t = tempDir('syncal');
    cleanups.push(t.cleanup);
    await generateSynCAL(t.dir, { seed: 7, perClass: 1, size: 128, testPairs: 0 });
    return t.dir;
  })();
  return base;
}

/** A copy of the small SynCAL to break on purpose. */
export async function copyOfSynCAL(): Promise<string> {
  const src = await smallSynCAL();
  const t = tempDir('broken');
  cleanups.push(t.cleanup);
  cpSync(src, t.dir, { recursive: true });
  return t.dir;
}

/** All files under a folder, sorted, as paths. */
export function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The first image of a class and kind in a split/subset. */
export function firstImage(root: string, split: string, subset: string, kind: string, folder: string): string {
  const f = walk(join(root, split, subset, kind, folder)).find((p) => p.endsWith('.jpg'));
  if (!f) throw new Error(`no image under ${split}/${subset}/${kind}/${folder}`);
  return f;
}
