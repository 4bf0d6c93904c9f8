/**
 * Payload validation. Outputs come from notebooks on disk, older or newer extension versions and user
 * code, so every field a view reads is checked first; the error names the field path, the value found
 * and what was expected, and the error box shows it instead of a blank output.
 */
import type {
  DatasetPayload,
  HeatmapPayload,
  ImageRef,
  KeypointsPayload,
  MetricsPayload,
  TrainingPayload,
} from '../kernel/protocol';
import { base64ToBytes } from './dom';

/** A payload the renderer cannot draw; `path` names the offending field (e.g. `maps[0].data`). */
export class PayloadError extends Error {
  constructor(
    readonly kind: string,
    readonly path: string,
    message: string,
  ) {
    super(path ? `${kind} payload: ${path}: ${message}` : `${kind} payload: ${message}`);
    this.name = 'PayloadError';
  }
}

/** A payload of a version this renderer does not know. */
export class UnsupportedVersionError extends PayloadError {
  constructor(kind: string, version: unknown) {
    super(kind, 'version', `${describe(version)} is not supported; this renderer draws version 1. Update the Affordance Lab extension to view this output.`);
    this.name = 'UnsupportedVersionError';
  }
}

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Field checks bound to one payload kind, so every error names it. */
class Checker {
  constructor(readonly kind: string) {}

  fail(path: string, message: string): never {
    throw new PayloadError(this.kind, path, message);
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${describe(v)}`);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describe(v)}`);
    return v;
  }

  optStr(v: unknown, path: string): string | undefined {
    return v === undefined ? undefined : this.str(v, path);
  }

  num(v: unknown, path: string, opts: { min?: number; max?: number; int?: boolean } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number, got ${describe(v)}`);
    if (opts.int && !Number.isInteger(v)) this.fail(path, `expected an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(path, `expected >= ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) this.fail(path, `expected <= ${opts.max}, got ${v}`);
    return v;
  }

  /** A number, or null/NaN-like gaps that charts show as missing. */
  optNum(v: unknown, path: string, opts: { min?: number; max?: number; int?: boolean } = {}): number | undefined {
    return v === undefined ? undefined : this.num(v, path, opts);
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(path, `expected one of ${allowed.join(', ')}, got ${describe(v)}`);
    return v as T;
  }

  version(p: Record<string, unknown>): void {
    if (p.version !== 1) {
      if (p.version === undefined) this.fail('version', 'missing; expected 1');
      throw new UnsupportedVersionError(this.kind, p.version);
    }
  }

  image(v: unknown, path: string): ImageRef {
    const o = this.obj(v, path);
    this.oneOf(o.mime, `${path}.mime`, ['image/png', 'image/jpeg'] as const);
    this.base64(o.data, `${path}.data`);
    this.num(o.width, `${path}.width`, { min: 1, max: 16384, int: true });
    this.num(o.height, `${path}.height`, { min: 1, max: 16384, int: true });
    return o as unknown as ImageRef;
  }

  base64(v: unknown, path: string): string {
    const s = this.str(v, path);
    if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) this.fail(path, `expected base64 without a data: prefix (length ${s.length})`);
    return s;
  }
}

/** A quantised map decoded to bytes. */
export interface DecodedMap {
  name: string;
  width: number;
  height: number;
  /** width*height bytes, row-major. */
  bytes: Uint8Array;
  min: number;
  max: number;
}

/** The value a map byte stands for: `min + byte / 255 * (max - min)`. */
export function mapValue(m: DecodedMap, index: number): number {
  return m.min + (m.bytes[index] / 255) * (m.max - m.min);
}

function decodeMap(c: Checker, v: unknown, path: string): DecodedMap {
  const o = c.obj(v, path);
  const name = c.str(o.name, `${path}.name`);
  const width = c.num(o.width, `${path}.width`, { min: 1, max: 8192, int: true });
  const height = c.num(o.height, `${path}.height`, { min: 1, max: 8192, int: true });
  c.oneOf(o.encoding, `${path}.encoding`, ['u8'] as const);
  const min = c.num(o.min, `${path}.min`);
  const max = c.num(o.max, `${path}.max`);
  if (max < min) c.fail(`${path}.max`, `max (${max}) is below min (${min})`);
  const bytes = base64ToBytes(c.base64(o.data, `${path}.data`));
  if (bytes.length !== width * height) c.fail(`${path}.data`, `decodes to ${bytes.length} bytes, expected width*height = ${width * height} (${width}x${height})`);
  return { name, width, height, bytes, min, max };
}

/** A heatmap payload with its maps decoded. */
export interface CheckedHeatmap {
  payload: HeatmapPayload;
  maps: DecodedMap[];
  /** GT maps by name. */
  gt: Map<string, DecodedMap>;
}

/** Validates a heatmap payload and decodes its maps. */
export function checkHeatmap(v: unknown): CheckedHeatmap {
  const c = new Checker('heatmap');
  const p = c.obj(v, '');
  c.version(p);
  c.optStr(p.title, 'title');
  if (p.image !== undefined) c.image(p.image, 'image');
  const mapsIn = c.arr(p.maps, 'maps');
  if (mapsIn.length === 0) c.fail('maps', 'expected at least one map, got an empty array');
  const maps = mapsIn.map((m, i) => decodeMap(c, m, `maps[${i}]`));
  const gt = new Map<string, DecodedMap>();
  if (p.gt !== undefined) {
    c.arr(p.gt, 'gt').forEach((m, i) => {
      const d = decodeMap(c, m, `gt[${i}]`);
      gt.set(d.name, d);
    });
  }
  if (p.colormap !== undefined) c.oneOf(p.colormap, 'colormap', ['turbo', 'jet', 'viridis'] as const);
  if (p.opacity !== undefined) c.num(p.opacity, 'opacity', { min: 0, max: 1 });
  if (p.imageSize !== undefined) {
    const o = c.obj(p.imageSize, 'imageSize');
    c.num(o.width, 'imageSize.width', { min: 1, max: 1 << 20, int: true });
    c.num(o.height, 'imageSize.height', { min: 1, max: 1 << 20, int: true });
  }
  return { payload: p as unknown as HeatmapPayload, maps, gt };
}

/** Validates a keypoints payload. */
export function checkKeypoints(v: unknown): KeypointsPayload {
  const c = new Checker('keypoints');
  const p = c.obj(v, '');
  c.version(p);
  c.optStr(p.title, 'title');
  if (p.image !== undefined) c.image(p.image, 'image');
  c.num(p.width, 'width', { min: 1 });
  c.num(p.height, 'height', { min: 1 });
  const kps = c.arr(p.keypoints, 'keypoints');
  kps.forEach((k, i) => {
    const o = c.obj(k, `keypoints[${i}]`);
    c.num(o.x, `keypoints[${i}].x`);
    c.num(o.y, `keypoints[${i}].y`);
    c.num(o.score, `keypoints[${i}].score`);
  });
  const names = c.arr(p.names, 'names');
  names.forEach((n, i) => c.str(n, `names[${i}]`));
  if (kps.length > 0 && names.length !== kps.length) c.fail('names', `expected ${kps.length} names (one per keypoint), got ${names.length}`);
  c.arr(p.skeleton, 'skeleton').forEach((e, i) => {
    const pair = c.arr(e, `skeleton[${i}]`);
    if (pair.length !== 2) c.fail(`skeleton[${i}]`, `expected a pair of keypoint indices, got ${describe(pair)}`);
    pair.forEach((j, k) => c.num(j, `skeleton[${i}][${k}]`, { min: 0, int: true }));
  });
  c.arr(p.contacts, 'contacts').forEach((ct, i) => {
    const o = c.obj(ct, `contacts[${i}]`);
    c.str(o.channel, `contacts[${i}].channel`);
    c.arr(o.points, `contacts[${i}].points`).forEach((pt, j) => {
      const xy = c.arr(pt, `contacts[${i}].points[${j}]`);
      if (xy.length !== 2) c.fail(`contacts[${i}].points[${j}]`, `expected [x, y], got ${describe(xy)}`);
      c.num(xy[0], `contacts[${i}].points[${j}][0]`);
      c.num(xy[1], `contacts[${i}].points[${j}][1]`);
    });
  });
  return p as unknown as KeypointsPayload;
}

const METRIC_NAMES = ['KLD', 'SIM', 'NSS', 'CC'] as const;
const SPLITS = ['Seen', 'Unseen'] as const;

function checkValues(c: Checker, v: unknown, path: string): void {
  const o = c.obj(v, path);
  for (const [k, x] of Object.entries(o)) {
    // null stands for "not measured" (JSON has no NaN); charts leave a gap.
    if (x !== null) c.num(x, `${path}.${k}`);
  }
}

/** Validates a metrics payload. */
export function checkMetrics(v: unknown): MetricsPayload {
  const c = new Checker('metrics');
  const p = c.obj(v, '');
  c.version(p);
  c.optStr(p.title, 'title');
  const metrics = c.arr(p.metrics, 'metrics');
  if (metrics.length === 0) c.fail('metrics', 'expected at least one metric name, got an empty array');
  metrics.forEach((m, i) => c.oneOf(m, `metrics[${i}]`, METRIC_NAMES));
  const runs = c.arr(p.runs, 'runs');
  if (runs.length === 0) c.fail('runs', 'expected at least one run, got an empty array');
  runs.forEach((r, i) => {
    const o = c.obj(r, `runs[${i}]`);
    c.str(o.name, `runs[${i}].name`);
    c.oneOf(o.kind, `runs[${i}].kind`, ['run', 'reference'] as const);
    const results = c.obj(o.results, `runs[${i}].results`);
    for (const [split, res] of Object.entries(results)) {
      c.oneOf(split, `runs[${i}].results`, SPLITS);
      const sr = c.obj(res, `runs[${i}].results.${split}`);
      checkValues(c, sr.overall, `runs[${i}].results.${split}.overall`);
      const per = c.obj(sr.perClass, `runs[${i}].results.${split}.perClass`);
      for (const [cls, vals] of Object.entries(per)) checkValues(c, vals, `runs[${i}].results.${split}.perClass[${JSON.stringify(cls)}]`);
      if (sr.perPart !== undefined) {
        const pp = c.obj(sr.perPart, `runs[${i}].results.${split}.perPart`);
        for (const [part, vals] of Object.entries(pp)) checkValues(c, vals, `runs[${i}].results.${split}.perPart[${JSON.stringify(part)}]`);
      }
      c.optNum(sr.count, `runs[${i}].results.${split}.count`, { min: 0 });
    }
  });
  c.optNum(p.nssThreshold, 'nssThreshold');
  for (const key of ['classOrder', 'partOrder'] as const) {
    if (p[key] !== undefined) c.arr(p[key], key).forEach((n, i) => c.str(n, `${key}[${i}]`));
  }
  return p as unknown as MetricsPayload;
}

/** Validates a training payload. */
export function checkTraining(v: unknown): TrainingPayload {
  const c = new Checker('training');
  const p = c.obj(v, '');
  c.version(p);
  c.str(p.runId, 'runId');
  c.optStr(p.title, 'title');
  c.oneOf(p.state, 'state', ['running', 'done', 'interrupted', 'error'] as const);
  c.optStr(p.model, 'model');
  c.optStr(p.backend, 'backend');
  c.num(p.step, 'step', { min: 0 });
  c.num(p.totalSteps, 'totalSteps', { min: 0 });
  c.num(p.epoch, 'epoch', { min: 0 });
  c.num(p.totalEpochs, 'totalEpochs', { min: 0 });
  c.arr(p.history, 'history').forEach((h, i) => {
    const o = c.obj(h, `history[${i}]`);
    c.num(o.step, `history[${i}].step`);
    // A diverged loss is data worth seeing (NaN arrives as null in JSON): drawn as a gap.
    if (o.loss !== null) c.num(o.loss, `history[${i}].loss`);
    if (o.lossIn !== undefined && o.lossIn !== null) c.num(o.lossIn, `history[${i}].lossIn`);
    if (o.lossNon !== undefined && o.lossNon !== null) c.num(o.lossNon, `history[${i}].lossNon`);
    c.num(o.lr, `history[${i}].lr`);
  });
  c.arr(p.epochs, 'epochs').forEach((e, i) => {
    const o = c.obj(e, `epochs[${i}]`);
    c.num(o.epoch, `epochs[${i}].epoch`);
    c.num(o.step, `epochs[${i}].step`);
    checkValues(c, o.metrics, `epochs[${i}].metrics`);
  });
  c.optNum(p.imagesPerSec, 'imagesPerSec', { min: 0 });
  c.optNum(p.etaSec, 'etaSec');
  c.optNum(p.elapsedSec, 'elapsedSec', { min: 0 });
  c.optStr(p.message, 'message');
  return p as unknown as TrainingPayload;
}

/** Validates a dataset payload. */
export function checkDataset(v: unknown): DatasetPayload {
  const c = new Checker('dataset');
  const p = c.obj(v, '');
  c.version(p);
  c.optStr(p.title, 'title');
  c.str(p.root, 'root');
  c.oneOf(p.split, 'split', SPLITS);
  c.oneOf(p.subset, 'subset', ['trainset', 'testset'] as const);
  const classes = c.arr(p.classes, 'classes');
  classes.forEach((k, i) => {
    const o = c.obj(k, `classes[${i}]`);
    c.str(o.name, `classes[${i}].name`);
    c.num(o.interactive, `classes[${i}].interactive`, { min: 0 });
    c.num(o.nonInteractive, `classes[${i}].nonInteractive`, { min: 0 });
    c.optNum(o.pairs, `classes[${i}].pairs`, { min: 0 });
  });
  const parts = c.arr(p.parts, 'parts');
  parts.forEach((x, i) => c.str(x, `parts[${i}]`));
  const matrix = c.arr(p.contactMatrix, 'contactMatrix');
  if (matrix.length !== parts.length) c.fail('contactMatrix', `expected ${parts.length} rows (one per part), got ${matrix.length}`);
  matrix.forEach((row, i) => {
    const r = c.arr(row, `contactMatrix[${i}]`);
    if (r.length !== classes.length) c.fail(`contactMatrix[${i}]`, `expected ${classes.length} columns (one per class), got ${r.length}`);
    r.forEach((x, j) => c.num(x, `contactMatrix[${i}][${j}]`, { min: 0 }));
  });
  c.optNum(p.thumbnailsOmitted, 'thumbnailsOmitted', { min: 0, int: true });
  c.optNum(p.thumbnailBudget, 'thumbnailBudget', { min: 0 });
  c.optStr(p.showClassCode, 'showClassCode');
  c.arr(p.thumbnails, 'thumbnails').forEach((t, i) => {
    const o = c.obj(t, `thumbnails[${i}]`);
    c.str(o.className, `thumbnails[${i}].className`);
    c.oneOf(o.kind, `thumbnails[${i}].kind`, ['interactive', 'non_interactive'] as const);
    c.str(o.label, `thumbnails[${i}].label`);
    c.image(o.image, `thumbnails[${i}].image`);
  });
  c.arr(p.errors, 'errors').forEach((e, i) => {
    const o = c.obj(e, `errors[${i}]`);
    c.str(o.file, `errors[${i}].file`);
    c.optNum(o.line, `errors[${i}].line`);
    c.str(o.message, `errors[${i}].message`);
  });
  return p as unknown as DatasetPayload;
}
