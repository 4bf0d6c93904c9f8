/**
 * Renderer fixtures, generated in code so that each test knows where the interesting pixels are:
 * heatmaps with Gaussian hot spots at known places, a posed COCO-17 skeleton with contacts, metrics of
 * three runs over the paper's 23 classes (with the published PIAL-Net row as reference), a training
 * run in progress, and a dataset summary with thumbnails and problems.
 */
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  DatasetPayload,
  HeatmapPayload,
  ImageRef,
  KeypointsPayload,
  MetricValues,
  MetricsPayload,
  MetricsRun,
  QuantizedMap,
  TrainingPayload,
} from '../../kernel/protocol';
import { rng } from '../rng';

export const MIMES = {
  heatmap: 'application/vnd.affordance-lab.heatmap.v1+json',
  keypoints: 'application/vnd.affordance-lab.keypoints.v1+json',
  metrics: 'application/vnd.affordance-lab.metrics.v1+json',
  training: 'application/vnd.affordance-lab.training.v1+json',
  dataset: 'application/vnd.affordance-lab.dataset.v1+json',
} as const;

export const CHANNELS = ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside'] as const;

/** Encodes an RGB image computed per pixel as a PNG ImageRef. */
export async function pngImage(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Promise<ImageRef> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const i = (y * width + x) * 3;
      raw[i] = r;
      raw[i + 1] = g;
      raw[i + 2] = b;
    }
  }
  const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 3 }).toBuffer();
  return { mime: 'image/png', data: png.toString('base64'), width, height };
}

/** A plain grey PNG of any size, encoded by libvips without a per-pixel loop (for large images). */
export async function solidPng(width: number, height: number, grey = 172): Promise<ImageRef> {
  const png = await sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey + 6 } } }).png({ compressionLevel: 1 }).toBuffer();
  return { mime: 'image/png', data: png.toString('base64'), width, height };
}

/** A quiet grey scene with a darker "object" (a low-contrast backdrop, as real photos are under an overlay). */
export function scenePixel(width: number, height: number): (x: number, y: number) => [number, number, number] {
  return (x, y) => {
    const inObject = x > width * 0.3 && x < width * 0.7 && y > height * 0.55 && y < height * 0.8;
    const v = Math.round(150 + 40 * (y / height) - (inObject ? 60 : 0));
    return [v, v, Math.min(255, v + 8)];
  };
}

/** A map with one Gaussian bump at (cx, cy) in [0,1] map coordinates, quantised to u8 over [0, peak]. */
export function gaussianMap(name: string, size: number, cx: number, cy: number, sigma: number, peak = 1): QuantizedMap {
  const bytes = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = (x + 0.5) / size - cx;
      const dy = (y + 0.5) / size - cy;
      bytes[y * size + x] = Math.round(255 * Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)));
    }
  }
  return { name, width: size, height: size, encoding: 'u8', data: bytes.toString('base64'), min: 0, max: peak };
}

/** Hot-spot centre of each channel in the heatmap fixture, in [0,1] image coordinates. */
export const HOT_SPOTS: Record<(typeof CHANNELS)[number], [number, number]> = {
  Back: [0.3, 0.35],
  Hips: [0.5, 0.6],
  Hands: [0.75, 0.25],
  Feet: [0.45, 0.9],
  Mouth: [0.5, 0.15],
  Outside: [0.15, 0.8],
};

/** A heatmap payload: six channels with a hot spot each, optionally ground truth shifted a little. */
export async function heatmapPayload(opts: { size?: number; mapSize?: number; gt?: boolean; title?: string; image?: boolean } = {}): Promise<HeatmapPayload> {
  const size = opts.size ?? 256;
  const mapSize = opts.mapSize ?? 64;
  const maps = CHANNELS.map((c) => gaussianMap(c, mapSize, HOT_SPOTS[c][0], HOT_SPOTS[c][1], 0.07, 0.8));
  const payload: HeatmapPayload = { version: 1, title: opts.title ?? 'Sample 0017 · Sit on', maps, colormap: 'turbo', opacity: 0.6 };
  if (opts.image !== false) payload.image = await pngImage(size, size, scenePixel(size, size));
  if (opts.gt) payload.gt = CHANNELS.map((c) => gaussianMap(c, mapSize, HOT_SPOTS[c][0] + 0.08, HOT_SPOTS[c][1] + 0.04, 0.06, 1));
  return payload;
}

const COCO17_NAMES = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
  'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
];
const COCO17_SKELETON: [number, number][] = [
  [15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8], [7, 9],
  [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6],
];

/** A person (facing the viewer, so their left is on the image's right) sitting, at 320x400. */
export const POSE: [number, number, number][] = [
  [160, 70, 0.98], [170, 60, 0.95], [150, 60, 0.96], [182, 66, 0.22], [138, 66, 0.9],
  [195, 120, 0.97], [125, 120, 0.97], [215, 180, 0.9], [105, 180, 0.88], [225, 235, 0.85], [95, 235, 0.4],
  [185, 235, 0.93], [135, 235, 0.94], [230, 260, 0.9], [90, 260, 0.91], [235, 350, 0.8], [85, 350, 0.35],
];

/** A keypoints payload: the POSE skeleton, hands and hips in contact with a chair. */
export async function keypointsPayload(opts: { image?: boolean; title?: string } = {}): Promise<KeypointsPayload> {
  const width = 320;
  const height = 400;
  const p: KeypointsPayload = {
    version: 1,
    title: opts.title ?? 'Sample 0017 · Sit on',
    width,
    height,
    keypoints: POSE.map(([x, y, score]) => ({ x, y, score })),
    names: [...COCO17_NAMES],
    skeleton: COCO17_SKELETON.map(([a, b]) => [a, b]),
    contacts: [
      { channel: 'Hips', points: [[180, 245], [140, 245], [160, 250]] },
      { channel: 'Hands', points: [[228, 245], [92, 245]] },
      { channel: 'Feet', points: [[235, 362]] },
    ],
  };
  if (opts.image !== false) p.image = await pngImage(width, height, scenePixel(width, height));
  return p;
}

interface PaperData {
  overall: Record<string, { seen: MetricValues; unseen: MetricValues }>;
  perClassKLD: Record<'seen' | 'unseen', { classes: string[]; methods: Record<string, number[]> }>;
}

/** The published numbers shipped with the project. */
export function paperData(): PaperData {
  return JSON.parse(readFileSync(join(__dirname, '../../data/pial-cvpr2023.json'), 'utf8')) as PaperData;
}

export { rng } from '../rng';

/**
 * Metrics of `runs` runs over the paper's 23 Seen classes (and its 6 Unseen ones), plus the published
 * PIAL-Net row as a reference. `classes` renames the classes (e.g. to put markup in a name).
 */
export function metricsPayload(opts: { runs?: number; reference?: boolean; allReferences?: boolean; classes?: string[]; title?: string } = {}): MetricsPayload {
  const paper = paperData();
  const seenClasses = opts.classes ?? paper.perClassKLD.seen.classes;
  const unseenClasses = paper.perClassKLD.unseen.classes;
  const rand = rng(7);
  const names = ['PIAL-Net (ours)', 'no pose branch', 'no interactive loss'];
  const runFor = (name: string, quality: number): MetricsRun => {
    const per = (classes: string[], hard: number): Record<string, MetricValues> =>
      Object.fromEntries(classes.map((c) => [c, { KLD: Number((0.4 + hard * quality * (0.6 + rand() * 1.6)).toFixed(3)), SIM: Number((0.9 - 0.15 * hard * quality - rand() * 0.25).toFixed(3)), NSS: Number((4.2 - hard * quality - rand() * 1.8).toFixed(3)) }]));
    const mean = (pc: Record<string, MetricValues>): MetricValues => {
      const vs = Object.values(pc);
      const avg = (k: 'KLD' | 'SIM' | 'NSS'): number => Number((vs.reduce((s, v) => s + (v[k] ?? 0), 0) / vs.length).toFixed(3));
      return { KLD: avg('KLD'), SIM: avg('SIM'), NSS: avg('NSS') };
    };
    const seen = per(seenClasses, 1);
    const unseen = per(unseenClasses, 2.2);
    const parts = per([...CHANNELS], 1.3);
    return { name, kind: 'run', results: { Seen: { overall: mean(seen), perClass: seen, perPart: parts, count: 1380 }, Unseen: { overall: mean(unseen), perClass: unseen, count: 412 } } };
  };
  const runs: MetricsRun[] = names.slice(0, opts.runs ?? 3).map((n, i) => runFor(n, 1 + i * 0.35));
  if (opts.reference !== false) {
    // As the kernel's metricsOutput({ reference }) writes them: overall KLD/SIM/NSS and per-class KLD.
    const methods = opts.allReferences ? Object.keys(paper.overall) : ['PIAL-Net'];
    for (const m of methods) {
      const pc = (split: 'seen' | 'unseen', classes: string[]): Record<string, MetricValues> => {
        const vals = paper.perClassKLD[split].methods[m];
        return vals ? Object.fromEntries(classes.map((c, i) => [c, { KLD: vals[i] }])) : {};
      };
      runs.push({
        name: opts.allReferences ? `${m} (CVPR 2023)` : m,
        kind: 'reference',
        results: {
          Seen: { overall: paper.overall[m].seen, perClass: pc('seen', seenClasses) },
          Unseen: { overall: paper.overall[m].unseen, perClass: pc('unseen', unseenClasses) },
        },
      });
    }
  }
  return { version: 1, title: opts.title ?? 'CAL · per-class results', metrics: ['KLD', 'SIM', 'NSS'], runs, nssThreshold: 0.5 };
}

/** A training run after `steps` steps (of 600), with per-epoch validation every 100 steps. */
export function trainingPayload(steps: number, state: TrainingPayload['state'] = 'running', runId = 'run-1'): TrainingPayload {
  const history = Array.from({ length: Math.ceil(steps / 5) }, (_, i) => {
    const step = (i + 1) * 5;
    const decay = Math.exp(-step / 180);
    const wiggle = 0.04 * Math.sin(step / 7);
    return { step, loss: Number((0.35 + 2.2 * decay + wiggle).toFixed(4)), lossIn: Number((0.25 + 1.6 * decay + wiggle).toFixed(4)), lossNon: Number((0.1 + 0.6 * decay).toFixed(4)), lr: Number((1e-3 * (step < 50 ? step / 50 : 0.5 * (1 + Math.cos((Math.PI * step) / 600)))).toExponential(3)) };
  });
  const epochs = Array.from({ length: Math.floor(steps / 100) }, (_, i) => ({
    epoch: i + 1,
    step: (i + 1) * 100,
    metrics: { KLD: Number((2.6 * Math.exp(-(i + 1) / 3) + 0.9).toFixed(3)), SIM: Number((0.75 - 0.4 * Math.exp(-(i + 1) / 3)).toFixed(3)), NSS: Number((3.6 - 2 * Math.exp(-(i + 1) / 3)).toFixed(3)) },
  }));
  return {
    version: 1,
    runId,
    title: 'PIAL-Net on SynCAL (Seen)',
    state,
    model: 'PIAL-Net (tiny)',
    backend: 'wasm',
    step: steps,
    totalSteps: 600,
    epoch: Math.floor(steps / 100),
    totalEpochs: 6,
    history,
    epochs,
    imagesPerSec: 41.7,
    etaSec: state === 'running' ? (600 - steps) / 5 : 0,
    elapsedSec: steps / 5,
    message: state === 'done' ? 'Best checkpoint: epoch 6 (KLD 1.14)' : undefined,
  };
}

const CLASS_COLOURS: [number, number, number][] = [
  [214, 96, 77], [67, 147, 195], [90, 174, 97], [153, 112, 171], [224, 130, 20], [120, 120, 120],
];

/** A dataset summary over the paper's 23 classes, with 12 thumbnails and three problems. */
export async function datasetPayload(opts: { classes?: string[]; title?: string } = {}): Promise<DatasetPayload> {
  const classes = opts.classes ?? paperData().perClassKLD.seen.classes;
  const rand = rng(11);
  const counts = classes.map((name) => {
    const interactive = 20 + Math.floor(rand() * 120);
    return { name, interactive, nonInteractive: Math.floor(interactive * (0.4 + rand() * 0.5)), pairs: interactive * 2 };
  });
  const matrix = CHANNELS.map((_, pi) => counts.map((c, ci) => ((pi + ci) % 4 === 0 ? c.interactive : (pi * 7 + ci * 3) % 5 === 0 ? Math.floor(c.interactive / 3) : 0)));
  const thumbnails: DatasetPayload['thumbnails'] = [];
  for (let i = 0; i < 12; i++) {
    const cls = classes[i % 4];
    const [r, g, b] = CLASS_COLOURS[i % 4];
    const image = await pngImage(48, 48, (x, y) => {
      const d = Math.hypot(x - 24, y - 24) / 24;
      const k = d < 0.6 ? 1 : 0.55;
      return [Math.round(r * k), Math.round(g * k), Math.round(b * k)];
    });
    thumbnails.push({ className: cls, kind: i % 3 === 2 ? 'non_interactive' : 'interactive', label: `${String(i + 1).padStart(4, '0')}.jpg`, image });
  }
  return {
    version: 1,
    title: opts.title ?? 'SynCAL · Seen trainset',
    root: '/data/SynCAL',
    split: 'Seen',
    subset: 'trainset',
    classes: counts,
    parts: [...CHANNELS],
    contactMatrix: matrix,
    thumbnails,
    errors: [
      { file: 'Seen/trainset/pairs.txt', line: 12, message: 'refers to a missing image Sit_on/0099.jpg' },
      { file: 'Seen/trainset/Kick/0004.json', message: 'keypoints: expected 17 entries, got 16' },
      { file: 'Seen/trainset/Cut/0010.png', message: 'mask is 120x90, image is 128x96' },
    ],
  };
}
