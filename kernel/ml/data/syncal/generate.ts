import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { CONTACT_CHANNELS, type SplitName } from '../../../protocol';
import { CAL_CLASSES, type CalClass } from '../classes';
import type { CalSubset } from '../layout';
import { Rng } from '../rng';
import { CLASS_KINDS, heldOutKind } from './objects';
import { interactionScene, mirrorScene, objectScene, type Scene } from './scene';

/** Options of {@link generateSynCAL}. */
export interface SynCALOptions {
  /** Same seed, same bytes. @default 0 */
  seed?: number;
  /** Interactive and non-interactive images per class in each trainset. @default 6 */
  perClass?: number;
  /**
   * Least number of test pairs per split: each class of a testset gets enough interactive and non-interactive
   * images for it (at least half of `perClass`, and 2). The default gives Seen 115 and Unseen 102 test pairs,
   * enough to tell models apart by a paired test; 0 keeps the testsets at half of `perClass`. @default 100
   */
  testPairs?: number;
  /** Image width in pixels; heights vary between 0.75 and 1 times it. @default 192 */
  size?: number;
  /** Images rendered at once. @default 4 */
  concurrency?: number;
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link generateSynCAL} wrote. */
export interface SynCALResult {
  root: string;
  images: number;
  /** Per split and subset: images per kind. */
  counts: Record<string, { interactive: number; nonInteractive: number; pairs?: number }>;
  seconds: number;
}

interface Job {
  split: SplitName;
  subset: CalSubset;
  cls: CalClass;
  kind: 'interactive' | 'non_interactive';
  kindIndex: number;
  index: number;
  seed: number;
}

/** FNV-1a of a string, for per-image seeds that do not depend on generation order. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Object kinds of a class usable in a split/subset: the held-out kind of an Unseen class only in Unseen/testset. */
function kindsFor(cls: CalClass, split: SplitName, subset: CalSubset): number[] {
  const all = CLASS_KINDS[cls.folder].map((_, i) => i);
  if (split === 'Seen' || !cls.unseen) return all;
  const held = heldOutKind(cls.folder);
  return subset === 'testset' ? [held] : all.filter((i) => i !== held);
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

function annotationJson(s: Scene): string {
  const clampX = (x: number): number => Math.min(s.width, Math.max(0, r1(x)));
  const clampY = (y: number): number => Math.min(s.height, Math.max(0, r1(y)));
  const o: Record<string, unknown> = { image_width: s.width, image_height: s.height };
  CONTACT_CHANNELS.forEach((_, c) => {
    o[`kps${c + 1}`] = s.contacts[c].map(([x, y]) => [clampX(x), clampY(y)]);
  });
  // SynCAL's extension (ignored by readers of the plain CAL format): named regions, so that a pair can tell which
  // of several alternatives (end grip or mid grip) its interaction uses.
  o.regions = s.regions.map((r) => ({ channel: r.channel, name: r.name, points: r.points.map(([x, y]) => [clampX(x), clampY(y)]) }));
  if (s.humanBox) o.human_box = s.humanBox;
  o.object_box = s.objectBox;
  return JSON.stringify(o, null, 1) + '\n';
}

function poseJson(s: Scene): string {
  const kps = (s.pose ?? []).map(([x, y, c]) => [r1(x), r1(y), Math.round(c * 1000) / 1000]);
  return JSON.stringify({ keypoints: kps }) + '\n';
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Writes SynCAL, a synthetic stand-in for CAL in exactly its layout (docs/paper.md section 2): for Seen and Unseen,
 * trainset and testset, interactive images (a COCO-17 person posed so the class's body parts touch the object's
 * functional regions, with `<name>.json` contacts and `<name>.pose.json`) and non-interactive images (the object
 * alone, all its plausible regions annotated), plus `<split>/test_pairs.txt`. Unseen/testset covers the six Unseen
 * classes with object kinds held out of Unseen/trainset. Deterministic: the same options give the same bytes.
 * @param dir - output folder (created; existing files with the same names are overwritten)
 */
export async function generateSynCAL(dir: string, options: SynCALOptions = {}): Promise<SynCALResult> {
  const t0 = performance.now();
  const seed = options.seed ?? 0;
  const perClass = options.perClass ?? 6;
  const width = options.size ?? 192;
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`generateSynCAL: perClass must be a positive integer, got ${perClass}`);
  const testPairs = options.testPairs ?? 100;
  if (!Number.isInteger(testPairs) || testPairs < 0 || testPairs > 10000) throw new Error(`generateSynCAL: testPairs must be an integer from 0 to 10000, got ${testPairs}`);
  if (!Number.isInteger(width) || width < 96 || width > 1024) throw new Error(`generateSynCAL: size must be an integer from 96 to 1024, got ${width}`);
  const root = resolve(dir);
  const jobs: Job[] = [];
  for (const split of ['Seen', 'Unseen'] as const) {
    for (const subset of ['trainset', 'testset'] as const) {
      const classes = split === 'Unseen' && subset === 'testset' ? CAL_CLASSES.filter((c) => c.unseen) : CAL_CLASSES;
      const n = subset === 'trainset' ? perClass : Math.max(2, Math.ceil(perClass / 2), Math.ceil(testPairs / classes.length));
      for (const cls of classes) {
        const kinds = kindsFor(cls, split, subset);
        for (const kind of ['interactive', 'non_interactive'] as const) {
          for (let i = 0; i < n; i++) {
            jobs.push({ split, subset, cls, kind, kindIndex: kinds[(i + (kind === 'interactive' ? 0 : 1)) % kinds.length], index: i, seed: hash(`${seed}/${split}/${subset}/${cls.folder}/${kind}/${i}`) });
          }
        }
      }
    }
  }
  const counts: SynCALResult['counts'] = {};
  for (const j of jobs) {
    const key = `${j.split}/${j.subset}`;
    counts[key] ??= { interactive: 0, nonInteractive: 0 };
    if (j.kind === 'interactive') counts[key].interactive++;
    else counts[key].nonInteractive++;
  }
  let done = 0;
  const rels = new Map<Job, string>();
  await runLimited(jobs, options.concurrency ?? 4, async (j) => {
    const rng = new Rng(j.seed);
    const height = Math.round(width * rng.pick([0.75, 0.875, 1]));
    const kind = CLASS_KINDS[j.cls.folder][j.kindIndex];
    // Successive images of the same object kind cycle through its interaction variants, so every class shows all
    // of its body parts as soon as each kind has been drawn a few times.
    const variant = Math.floor(j.index / kindsFor(j.cls, j.split, j.subset).length);
    let scene = j.kind === 'interactive' ? interactionScene(j.cls, kind, rng, width, height, variant) : objectScene(j.cls, kind, rng, width, height);
    if (rng.chance(0.5)) scene = mirrorScene(scene);
    const folder = join(root, j.split, j.subset, j.kind, j.cls.folder, scene.object);
    const name = `${j.cls.folder.toLowerCase()}_${j.kind === 'interactive' ? 'i' : 'n'}${String(j.index).padStart(4, '0')}`;
    await mkdir(folder, { recursive: true });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${scene.svg}</svg>`;
    const jpg = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer();
    await writeFile(join(folder, `${name}.jpg`), jpg);
    await writeFile(join(folder, `${name}.json`), annotationJson(scene));
    if (j.kind === 'interactive') await writeFile(join(folder, `${name}.pose.json`), poseJson(scene));
    rels.set(j, `${j.subset}/${j.kind}/${j.cls.folder}/${scene.object}/${name}.jpg`);
    options.onProgress?.(++done, jobs.length);
  });
  // Test pairs: every test interactive image with a non-interactive image of its class, drawn with the seed.
  for (const split of ['Seen', 'Unseen'] as const) {
    const rng = new Rng(hash(`${seed}/${split}/pairs`));
    const lines: string[] = [];
    for (const cls of CAL_CLASSES) {
      const inter = jobs.filter((j) => j.split === split && j.subset === 'testset' && j.cls === cls && j.kind === 'interactive').map((j) => rels.get(j) as string);
      const non = jobs.filter((j) => j.split === split && j.subset === 'testset' && j.cls === cls && j.kind === 'non_interactive').map((j) => rels.get(j) as string);
      if (non.length === 0) continue;
      for (const a of inter) lines.push(`${a},${rng.pick(non)}`);
    }
    counts[`${split}/testset`].pairs = lines.length;
    await writeFile(join(root, split, 'test_pairs.txt'), lines.join('\n') + '\n');
  }
  await writeFile(join(root, 'syncal.json'), JSON.stringify({ generator: 'SynCAL', version: 1, seed, perClass, testPairs, size: width, counts }, null, 2) + '\n');
  return { root, images: jobs.length, counts, seconds: (performance.now() - t0) / 1000 };
}
