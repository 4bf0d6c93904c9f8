import sharp from 'sharp';
import { MIME, type ColormapName, type HeatmapPayload, type QuantizedMap } from '../../protocol';
import { colormapLut } from './colormap';
import { encodePng, escapeXml, resolveImage, rgbAt, sharpOf, toImageRef, type ImageInput, type StaticImage } from './image';
import { VizOutput } from './output';
import { mapValues, quantizeMap, type MapInput } from './quantize';

/** Options of {@link heatmapOutput}. */
export interface HeatmapOptions {
  /** Base image under the maps (stretched to the maps' aspect); without it the maps are drawn alone. */
  image?: ImageInput;
  /** Predicted (or the only) maps, usually one per contact channel. */
  maps: MapInput[];
  /** Ground-truth maps (same names), drawn as a second block of rows in the fallback. */
  gt?: MapInput[];
  /** @default 'turbo' */
  colormap?: ColormapName;
  /** Peak overlay opacity over the image in [0, 1]. @default 0.6 */
  opacity?: number;
  title?: string;
  /**
   * Size of the original image, in whose pixels the view reads out the position under the cursor, when `image`
   * is a resized copy (for example the model's 224 x 224 input of a 640 x 480 photo). @default the size of `image`
   */
  imageSize?: { width: number; height: number };
  /**
   * Maps larger than this (either side) are resampled (bilinear) to fit it in the payload, which keeps saved
   * notebooks small: a 224 x 224 map is 67 kB of base64, a 112 x 112 one 17 kB. @default 224
   */
  maxMapSide?: number;
}

const LABEL_H = 16;
const FALLBACK_WIDTH = 480;

/** Bilinear sample of a map at size t x t (half-pixel centres), for the PNG fallback only. */
function resampleSquare(v: Float32Array, w: number, h: number, t: number): Float32Array {
  const out = new Float32Array(t * t);
  for (let y = 0; y < t; y++) {
    const sy = Math.min(Math.max((y + 0.5) * (h / t) - 0.5, 0), h - 1);
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, h - 1), fy = sy - y0;
    for (let x = 0; x < t; x++) {
      const sx = Math.min(Math.max((x + 0.5) * (w / t) - 0.5, 0), w - 1);
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, w - 1), fx = sx - x0;
      const a = v[y0 * w + x0] * (1 - fx) + v[y0 * w + x1] * fx;
      const b = v[y1 * w + x0] * (1 - fx) + v[y1 * w + x1] * fx;
      out[y * t + x] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}

/** Bilinear resample (half-pixel centres) of a w x h map to w2 x h2. */
function resample(v: Float32Array, w: number, h: number, w2: number, h2: number): Float32Array {
  const out = new Float32Array(w2 * h2);
  for (let y = 0; y < h2; y++) {
    const sy = Math.min(Math.max((y + 0.5) * (h / h2) - 0.5, 0), h - 1);
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, h - 1), fy = sy - y0;
    for (let x = 0; x < w2; x++) {
      const sx = Math.min(Math.max((x + 0.5) * (w / w2) - 0.5, 0), w - 1);
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, w - 1), fx = sx - x0;
      out[y * w2 + x] = (v[y0 * w + x0] * (1 - fx) + v[y0 * w + x1] * fx) * (1 - fy) + (v[y1 * w + x0] * (1 - fx) + v[y1 * w + x1] * fx) * fy;
    }
  }
  return out;
}

/** A map quantised for the payload, first shrunk to fit maxSide. */
function payloadMap(name: string, v: Float32Array, w: number, h: number, maxSide: number): QuantizedMap {
  const s = Math.min(1, maxSide / Math.max(w, h));
  if (s >= 1) return quantizeMap(name, v, w, h);
  const w2 = Math.max(1, Math.round(w * s)), h2 = Math.max(1, Math.round(h * s));
  return quantizeMap(name, resample(v, w, h, w2, h2), w2, h2);
}

/**
 * The colour scale every tile shares, as the view's default: [0, 1] when all values lie in it (probabilities,
 * GT), otherwise the range of all maps together, so tiles compare.
 */
function sharedRange(all: Float32Array[]): { lo: number; hi: number } {
  let lo = Infinity, hi = -Infinity;
  for (const v of all) {
    for (const x of v) {
      if (!Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  if (lo === Infinity || (lo >= 0 && hi <= 1)) return { lo: 0, hi: 1 };
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

/** Width and height of an image input without decoding its pixels where the format says them. */
async function sizeOf(image: StaticImage): Promise<{ width: number; height: number }> {
  if (!Buffer.isBuffer(image)) return { width: image.width, height: image.height };
  const meta = await sharpOf(image).metadata();
  if (!meta.width || !meta.height) throw new Error('heatmapOutput: the image has no width and height (expected a PNG or JPEG)');
  return { width: meta.width, height: meta.height };
}

/**
 * Renders labelled tiles (one per map, `cols` per row) into one PNG: each tile is the base image with the map
 * overlaid in the colormap (alpha grows with the value), or the colormap alone without an image. All tiles share
 * one colour scale: [0, 1] when every value lies in it, else the range of all tiles.
 */
export async function renderHeatmapTiles(
  tiles: ({ label: string; values: Float32Array; width: number; height: number } | null)[],
  options: { image?: ImageInput; colormap?: ColormapName; opacity?: number; cols?: number; title?: string } = {},
): Promise<Buffer> {
  const n = tiles.length;
  if (tiles.every((x) => x === null)) throw new Error('heatmap: no maps to draw');
  const cols = options.cols ?? Math.min(n, 3);
  const t = Math.min(256, Math.floor(FALLBACK_WIDTH / cols));
  const rows = Math.ceil(n / cols);
  const titleH = options.title ? 20 : 0;
  const W = cols * t, H = titleH + rows * (t + LABEL_H);
  const canvas = new Uint8Array(W * H * 3).fill(32);
  const lut = colormapLut(options.colormap ?? 'turbo');
  const base = options.image ? await rgbAt(options.image, t, t) : undefined;
  const opacity = options.opacity ?? 0.6;
  const labels: string[] = [];
  const { lo, hi } = sharedRange(tiles.filter((x) => x !== null).map((x) => x.values));
  tiles.forEach((tile, i) => {
    if (!tile) return;
    const cx = (i % cols) * t;
    const cy = titleH + Math.floor(i / cols) * (t + LABEL_H) + LABEL_H;
    const v = resampleSquare(tile.values, tile.width, tile.height, t).map((x) => (Number.isFinite(x) ? (x - lo) / (hi - lo) : 0));
    for (let y = 0; y < t; y++) {
      for (let x = 0; x < t; x++) {
        const u = v[y * t + x];
        const k = Math.round(Math.min(Math.max(u, 0), 1) * 255) * 3;
        const o = ((cy + y) * W + cx + x) * 3;
        const bi = (y * t + x) * 3;
        const a = base ? opacity * Math.min(Math.max(u, 0), 1) : 1;
        for (let c = 0; c < 3; c++) canvas[o + c] = Math.round((base ? base[bi + c] : 0) * (1 - a) + lut[k + c] * a);
      }
    }
    labels.push(`<text x="${cx + 4}" y="${cy - 4}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#eee">${escapeXml(tile.label)}</text>`);
  });
  if (options.title) labels.push(`<text x="4" y="15" font-family="DejaVu Sans, sans-serif" font-size="13" font-weight="bold" fill="#fff">${escapeXml(options.title)}</text>`);
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${labels.join('')}</svg>`);
  const png = await encodePng(canvas, W, H, 3);
  // A 256-colour palette keeps the fallback small (a 6-channel pred + GT grid drops from ~200 kB to ~70 kB).
  return sharp(png).composite([{ input: svg, top: 0, left: 0 }]).png({ compressionLevel: 9, palette: true, quality: 90, dither: 0.5 }).toBuffer();
}

/**
 * A heatmap output (MIME `application/vnd.affordance-lab.heatmap.v1+json`): maps quantised to 8 bits per
 * {@link quantizeMap}, the base image downscaled to at most 512 px, and an image/png fallback with one
 * labelled tile per map (prediction rows first, then GT rows).
 * @returns a displayable; pass it to `display()`
 * @throws when a map's values do not match its width x height, or `gt` names differ from `maps`
 */
export async function heatmapOutput(options: HeatmapOptions): Promise<VizOutput<typeof MIME.heatmap>> {
  const image = options.image ? await resolveImage(options.image) : undefined;
  const maxSide = options.maxMapSide ?? 224;
  if (!(maxSide >= 1)) throw new Error(`heatmapOutput: maxMapSide must be at least 1, got ${maxSide}`);
  const maps = await Promise.all(options.maps.map(async (m) => ({ m, v: await mapValues(m) })));
  const gt = options.gt ? await Promise.all(options.gt.map(async (m) => ({ m, v: await mapValues(m) }))) : undefined;
  if (gt) {
    const names = new Set(options.maps.map((m) => m.name));
    for (const g of gt) if (!names.has(g.m.name)) throw new Error(`heatmapOutput: gt map "${g.m.name}" has no predicted map of that name (maps: ${[...names].join(', ')})`);
  }
  const payload: HeatmapPayload = {
    version: 1,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(image ? { image: await toImageRef(image) } : {}),
    maps: maps.map(({ m, v }) => payloadMap(m.name, v, m.width, m.height, maxSide)),
    ...(gt ? { gt: gt.map(({ m, v }) => payloadMap(m.name, v, m.width, m.height, maxSide)) } : {}),
    colormap: options.colormap ?? 'turbo',
    opacity: options.opacity ?? 0.6,
  };
  const size = options.imageSize ?? (image ? await sizeOf(image) : undefined);
  if (size) {
    if (!Number.isInteger(size.width) || !Number.isInteger(size.height) || size.width < 1 || size.height < 1) {
      throw new Error(`heatmapOutput: imageSize must be positive integers, got ${size.width} x ${size.height}`);
    }
    payload.imageSize = { width: size.width, height: size.height };
  }
  const cols = Math.min(maps.length, 3);
  // GT starts on a fresh row so that prediction and GT of a channel line up vertically.
  const padded = Math.ceil(maps.length / cols) * cols;
  const tiles = [
    ...maps.map(({ m, v }) => ({ label: gt ? `${m.name} (pred)` : m.name, values: v, width: m.width, height: m.height })),
    ...Array<null>(gt ? padded - maps.length : 0).fill(null),
    ...(gt ?? []).map(({ m, v }) => ({ label: `${m.name} (GT)`, values: v, width: m.width, height: m.height })),
  ];
  const png = await renderHeatmapTiles(tiles, { image, colormap: options.colormap, opacity: options.opacity, cols, title: options.title });
  return new VizOutput(MIME.heatmap, payload, { 'image/png': png.toString('base64') });
}
