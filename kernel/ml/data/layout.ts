import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CONTACT_CHANNELS, type SplitName } from '../../protocol';
import { CAL_CLASSES, type CalClass } from './classes';
import { CalDataError, lineOfKey, lineOfOffset, type ProblemLog } from './errors';

/** Train or test half of a split. */
export type CalSubset = 'trainset' | 'testset';
/** The two image kinds of a pair. */
export type ImageKind = 'interactive' | 'non_interactive';

/** Image file extensions the loader reads (lower case). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** One annotated image of the layout, validated at open time (the pixels are read later). */
export interface CalImageRecord {
  kind: ImageKind;
  /** Absolute path of the image. */
  path: string;
  /** Path relative to `<root>/<split>`, with forward slashes, e.g. `trainset/interactive/Kick/ball/0001.jpg`. */
  rel: string;
  className: string;
  classIndex: number;
  object: string;
  /** Size the annotation states (image_width, image_height); checked against the decoded image when read. */
  width: number;
  height: number;
  /** Contact points per channel in CONTACT_CHANNELS order (kps1..kps6), in pixels of the original image. */
  contacts: [number, number][][];
  /** COCO-17 keypoints [x, y, score] in original pixels; interactive images only. */
  pose?: [number, number, number][];
  humanBox?: [number, number, number, number];
  objectBox?: [number, number, number, number];
  /** Named contact regions, when the annotation has them (SynCAL's extension; see {@link CalRegion}). */
  regions?: CalRegion[];
}

/**
 * A named contact region (optional `regions` field of an annotation, written by SynCAL): on a non-interactive
 * image every alternative a body part could touch, on an interactive image the ones touched. Alternatives that
 * look alike share a name. With it, a pair keeps only the non-interactive regions its interaction uses.
 */
export interface CalRegion {
  /** Channel index in CONTACT_CHANNELS. */
  channel: number;
  name: string;
  points: [number, number][];
}

/** Reads and parses a JSON file, reporting a syntax error with its line. */
export function readJson(file: string): { value: unknown; text: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CalDataError(file, `cannot read file: ${(e as Error).message}`);
  }
  try {
    return { value: JSON.parse(text) as unknown, text };
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? lineOfOffset(text, Number(pos[1])) : text.trim() === '' ? 1 : lineOfOffset(text, text.length);
    throw new CalDataError(file, `not valid JSON (${msg}); expected a JSON object`, line);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function box(file: string, text: string, o: Record<string, unknown>, key: string): [number, number, number, number] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 4 || !v.every(isNum)) throw new CalDataError(file, `expected [x0, y0, x1, y1] numbers, got ${JSON.stringify(v)}`, lineOfKey(text, key), key);
  return [v[0], v[1], v[2], v[3]] as [number, number, number, number];
}

/**
 * Parses and checks a contact annotation (`<name>.json`): image_width / image_height positive numbers, kps1..kps6
 * lists of [x, y] inside the image (0 <= x <= width, 0 <= y <= height).
 * @throws CalDataError naming the file, the line and field, and what was expected
 */
export function parseAnnotation(file: string): Pick<CalImageRecord, 'width' | 'height' | 'contacts' | 'humanBox' | 'objectBox'> {
  const { value, text } = readJson(file);
  if (!isObj(value)) throw new CalDataError(file, `expected a JSON object with image_width, image_height, kps1..kps6, got ${Array.isArray(value) ? 'an array' : typeof value}`, 1);
  const dim = (key: string): number => {
    const v = value[key];
    if (v === undefined) throw new CalDataError(file, 'missing field (expected a positive number of pixels)', undefined, key);
    if (!isNum(v) || v <= 0) throw new CalDataError(file, `expected a positive number of pixels, got ${JSON.stringify(v)}`, lineOfKey(text, key), key);
    return v;
  };
  const width = dim('image_width');
  const height = dim('image_height');
  const contacts: [number, number][][] = [];
  for (let c = 0; c < CONTACT_CHANNELS.length; c++) {
    const key = `kps${c + 1}`;
    const v = value[key];
    const line = lineOfKey(text, key);
    if (v === undefined) throw new CalDataError(file, `missing field (expected a list of [x, y] ${CONTACT_CHANNELS[c]} contact points, possibly empty)`, undefined, key);
    if (!Array.isArray(v)) throw new CalDataError(file, `expected a list of [x, y] points, got ${JSON.stringify(v)}`, line, key);
    const pts: [number, number][] = [];
    v.forEach((p: unknown, i: number) => {
      if (!Array.isArray(p) || p.length < 2 || !isNum(p[0]) || !isNum(p[1])) throw new CalDataError(file, `expected a point [x, y] of numbers, got ${JSON.stringify(p)}`, line, `${key}[${i}]`);
      const [x, y] = p as number[];
      if (x < 0 || y < 0 || x > width || y > height) {
        throw new CalDataError(file, `contact point (${x}, ${y}) lies outside the ${width} x ${height} image (expected 0 <= x <= ${width}, 0 <= y <= ${height})`, line, `${key}[${i}]`);
      }
      pts.push([x, y]);
    });
    contacts.push(pts);
  }
  const regions = parseRegions(file, text, value.regions, width, height);
  return { width, height, contacts, humanBox: box(file, text, value, 'human_box'), objectBox: box(file, text, value, 'object_box'), ...(regions ? { regions } : {}) };
}

function parseRegions(file: string, text: string, v: unknown, width: number, height: number): CalRegion[] | undefined {
  if (v === undefined) return undefined;
  const line = lineOfKey(text, 'regions');
  if (!Array.isArray(v)) throw new CalDataError(file, `expected a list of { channel, name, points }, got ${JSON.stringify(v)}`, line, 'regions');
  return v.map((r: unknown, i: number): CalRegion => {
    const field = `regions[${i}]`;
    if (!isObj(r)) throw new CalDataError(file, `expected { channel, name, points }, got ${JSON.stringify(r)}`, line, field);
    const c = CONTACT_CHANNELS.indexOf(r.channel as (typeof CONTACT_CHANNELS)[number]);
    if (c < 0) throw new CalDataError(file, `unknown channel ${JSON.stringify(r.channel)} (expected one of ${CONTACT_CHANNELS.join(', ')})`, line, `${field}.channel`);
    if (typeof r.name !== 'string' || r.name === '') throw new CalDataError(file, `expected a non-empty name, got ${JSON.stringify(r.name)}`, line, `${field}.name`);
    if (!Array.isArray(r.points)) throw new CalDataError(file, `expected a list of [x, y] points, got ${JSON.stringify(r.points)}`, line, `${field}.points`);
    const points = r.points.map((p: unknown, k: number): [number, number] => {
      if (!Array.isArray(p) || p.length < 2 || !isNum(p[0]) || !isNum(p[1])) throw new CalDataError(file, `expected a point [x, y] of numbers, got ${JSON.stringify(p)}`, line, `${field}.points[${k}]`);
      const [x, y] = p as number[];
      if (x < 0 || y < 0 || x > width || y > height) throw new CalDataError(file, `point (${x}, ${y}) lies outside the ${width} x ${height} image (expected 0 <= x <= ${width}, 0 <= y <= ${height})`, line, `${field}.points[${k}]`);
      return [x, y];
    });
    return { channel: c, name: r.name, points };
  });
}

/**
 * Parses and checks a pose file (`<name>.pose.json`): `keypoints` is 17 [x, y, score] triples (COCO-17 order).
 * @throws CalDataError naming the file, the line and field, and what was expected
 */
export function parsePose(file: string): [number, number, number][] {
  const { value, text } = readJson(file);
  if (!isObj(value)) throw new CalDataError(file, 'expected a JSON object with "keypoints": [[x, y, score] x 17]', 1);
  const k = value.keypoints;
  const line = lineOfKey(text, 'keypoints');
  if (k === undefined) throw new CalDataError(file, 'missing field (expected 17 COCO keypoints [x, y, score])', undefined, 'keypoints');
  if (!Array.isArray(k)) throw new CalDataError(file, `expected a list of 17 [x, y, score], got ${JSON.stringify(k)}`, line, 'keypoints');
  if (k.length !== 17) throw new CalDataError(file, `expected 17 COCO-17 keypoints, got ${k.length}`, line, 'keypoints');
  return k.map((p: unknown, i: number) => {
    if (!Array.isArray(p) || p.length < 2 || !p.slice(0, 3).every(isNum)) throw new CalDataError(file, `expected [x, y, score] numbers, got ${JSON.stringify(p)}`, line, `keypoints[${i}]`);
    const a = p as number[];
    return [a[0], a[1], a[2] ?? 1] as [number, number, number];
  });
}

function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** The images of one split/subset, and the classes that had any. */
export interface LayoutIndex {
  /** `<root>/<split>` */
  splitDir: string;
  /** `<root>/<split>/<subset>` */
  subsetDir: string;
  interactive: CalImageRecord[];
  nonInteractive: CalImageRecord[];
}

function requireDir(dir: string, what: string): void {
  if (!isDir(dir)) throw new CalDataError(dir, `missing folder (expected ${what})`);
}

/**
 * Walks `<root>/<split>/<subset>/<interactive|non_interactive>/<class>/<object>/<image>` and validates every
 * annotation and pose file. Structural problems (missing root, split, subset or kind folder) always throw;
 * per-file problems follow the log's mode.
 */
export function indexLayout(root: string, split: SplitName, subset: CalSubset, log: ProblemLog): LayoutIndex {
  requireDir(root, 'the dataset root folder');
  const splitDir = join(root, split);
  requireDir(splitDir, `the ${split} split folder <root>/${split}`);
  const subsetDir = join(splitDir, subset);
  requireDir(subsetDir, `the ${subset} folder <root>/${split}/${subset}`);
  const out: LayoutIndex = { splitDir, subsetDir, interactive: [], nonInteractive: [] };
  for (const kind of ['interactive', 'non_interactive'] as const) {
    const kindDir = join(subsetDir, kind);
    requireDir(kindDir, `the ${kind} folder <root>/${split}/${subset}/${kind}`);
    const list = kind === 'interactive' ? out.interactive : out.nonInteractive;
    for (const folder of listDir(kindDir)) {
      const classDir = join(kindDir, folder);
      if (!isDir(classDir)) continue;
      let cls: CalClass;
      try {
        cls = CAL_CLASSES.find((c) => c.folder === folder) ?? (() => { throw new CalDataError(classDir, `unknown affordance folder "${folder}" (expected one of ${CAL_CLASSES.map((c) => c.folder).join(', ')})`); })();
      } catch (e) {
        log.report(e as CalDataError);
        continue;
      }
      const before = list.length;
      for (const object of listDir(classDir)) {
        const objectDir = join(classDir, object);
        if (!isDir(objectDir)) {
          if (IMAGE_EXTENSIONS.some((x) => object.toLowerCase().endsWith(x))) log.report(new CalDataError(objectDir, `image directly in the class folder (expected ${kind}/${folder}/<object>/<image>)`));
          continue;
        }
        for (const file of listDir(objectDir)) {
          const ext = IMAGE_EXTENSIONS.find((x) => file.toLowerCase().endsWith(x));
          if (!ext) continue;
          const path = join(objectDir, file);
          const stem = path.slice(0, path.length - ext.length);
          try {
            const annFile = `${stem}.json`;
            if (!existsSync(annFile)) throw new CalDataError(annFile, `missing contact annotation for ${file} (expected ${file.slice(0, -ext.length)}.json beside the image)`);
            const ann = parseAnnotation(annFile);
            let pose: [number, number, number][] | undefined;
            if (kind === 'interactive') {
              const poseFile = `${stem}.pose.json`;
              if (!existsSync(poseFile)) throw new CalDataError(poseFile, `missing pose for ${file} (expected ${file.slice(0, -ext.length)}.pose.json beside the interactive image)`);
              pose = parsePose(poseFile);
            }
            list.push({ kind, path, rel: relative(splitDir, path).split(sep).join('/'), className: cls.name, classIndex: cls.index, object, ...ann, ...(pose ? { pose } : {}) });
          } catch (e) {
            if (!(e instanceof CalDataError)) throw e;
            log.report(e);
          }
        }
      }
      if (list.length === before) log.report(new CalDataError(classDir, `empty class: no usable ${kind} images (expected at least one <object>/<name>.jpg|png with its annotation)`));
    }
  }
  return out;
}
