import sharp from 'sharp';
import { COCO17_NAMES, COCO17_SKELETON, CONTACT_CHANNELS, MIME, type ContactChannel, type ContactPoints, type Keypoint, type KeypointsPayload } from '../../protocol';
import { escapeXml, MAX_OUTPUT_SIDE, resolveImage, sharpOf, toImageRef, type ImageInput } from './image';
import { VizOutput } from './output';

/** Colour of each contact channel in every fallback image (renderers pick their own from the theme). */
export const CHANNEL_COLORS: Record<ContactChannel, string> = {
  Back: '#e6194b',
  Hips: '#f58231',
  Hands: '#ffe119',
  Feet: '#3cb44b',
  Mouth: '#f032e6',
  Outside: '#4363d8',
};

/** Shortest long side of a keypoints fallback image. */
const MIN_FALLBACK_SIDE = 320;

/** Options of {@link keypointsOutput}. Coordinates are in the `width` x `height` space. */
export interface KeypointsOptions {
  image?: ImageInput;
  /** Coordinate space of keypoints and contacts (usually the image's original size). */
  width: number;
  height: number;
  /** COCO-17 keypoints as objects or `[x, y, score]` triples; empty for an image without a person. */
  keypoints: readonly (Keypoint | readonly number[])[];
  /** Contact points per channel, as a list or a record channel -> points. */
  contacts: readonly ContactPoints[] | Partial<Record<ContactChannel, readonly (readonly number[])[]>>;
  title?: string;
  /** Keypoints with a lower score are drawn hollow. @default 0.3 */
  scoreThreshold?: number;
}

function normKeypoints(kps: KeypointsOptions['keypoints']): Keypoint[] {
  return kps.map((k, i) => {
    if (Array.isArray(k)) {
      const a = k as readonly number[];
      if (a.length < 2) throw new Error(`keypointsOutput: keypoint ${i} must be [x, y, score], got [${a.join(', ')}]`);
      return { x: a[0], y: a[1], score: a[2] ?? 1 };
    }
    return k as Keypoint;
  });
}

function normContacts(c: KeypointsOptions['contacts']): ContactPoints[] {
  const list: ContactPoints[] = Array.isArray(c)
    ? (c as readonly ContactPoints[]).map((x) => ({ channel: x.channel, points: x.points.map((p) => [p[0], p[1]] as [number, number]) }))
    : Object.entries(c as Partial<Record<ContactChannel, readonly (readonly number[])[]>>).map(([channel, pts]) => ({
        channel: channel as ContactChannel,
        points: (pts ?? []).map((p) => [p[0], p[1]] as [number, number]),
      }));
  for (const x of list) {
    if (!(CONTACT_CHANNELS as readonly string[]).includes(x.channel)) throw new Error(`keypointsOutput: unknown contact channel "${x.channel}", expected one of ${CONTACT_CHANNELS.join(', ')}`);
  }
  return list.filter((x) => x.points.length > 0);
}

/** SVG overlay (in output pixels) with skeleton, keypoints, contact points and a legend. */
export function keypointsSvg(outW: number, outH: number, scale: number, kps: Keypoint[], contacts: ContactPoints[], title: string | undefined, threshold: number): string {
  const parts: string[] = [];
  const r = Math.max(2, Math.round(outW / 110));
  const lw = Math.max(1.5, outW / 180);
  if (kps.length === 17) {
    for (const [a, b] of COCO17_SKELETON) {
      const p = kps[a], q = kps[b];
      // Left limbs (odd COCO indices) cyan, right limbs magenta, centre white: a flip is visible at a glance.
      const col = a % 2 === 1 && b % 2 === 1 ? '#00e5ff' : a % 2 === 0 && b % 2 === 0 && a > 0 && b > 0 ? '#ff4fd8' : '#ffffff';
      parts.push(`<line x1="${(p.x * scale).toFixed(1)}" y1="${(p.y * scale).toFixed(1)}" x2="${(q.x * scale).toFixed(1)}" y2="${(q.y * scale).toFixed(1)}" stroke="${col}" stroke-width="${lw.toFixed(1)}" stroke-opacity="0.9"/>`);
    }
  }
  for (const k of kps) {
    const fill = k.score >= threshold ? '#ffffff' : 'none';
    parts.push(`<circle cx="${(k.x * scale).toFixed(1)}" cy="${(k.y * scale).toFixed(1)}" r="${r}" fill="${fill}" stroke="#222" stroke-width="1"/>`);
  }
  for (const c of contacts) {
    const col = CHANNEL_COLORS[c.channel];
    for (const [x, y] of c.points) {
      const d = r * 1.6;
      parts.push(`<rect x="${(x * scale - d).toFixed(1)}" y="${(y * scale - d).toFixed(1)}" width="${(2 * d).toFixed(1)}" height="${(2 * d).toFixed(1)}" fill="${col}" stroke="#000" stroke-width="1" transform="rotate(45 ${(x * scale).toFixed(1)} ${(y * scale).toFixed(1)})"/>`);
    }
  }
  let ly = title ? 30 : 14;
  if (title) parts.push(`<text x="4" y="15" font-family="DejaVu Sans, sans-serif" font-size="13" font-weight="bold" fill="#fff" stroke="#000" stroke-width="0.4">${escapeXml(title)}</text>`);
  for (const c of contacts) {
    parts.push(`<rect x="4" y="${ly - 9}" width="10" height="10" fill="${CHANNEL_COLORS[c.channel]}"/><text x="18" y="${ly}" font-family="DejaVu Sans, sans-serif" font-size="11" fill="#fff" stroke="#000" stroke-width="0.3">${escapeXml(c.channel)}</text>`);
    ly += 14;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${outW}" height="${outH}">${parts.join('')}</svg>`;
}

/**
 * A keypoints output (MIME `application/vnd.affordance-lab.keypoints.v1+json`): the image (at most 512 px),
 * COCO-17 keypoints with names and skeleton, contact points per channel, and an image/png fallback with the
 * skeleton and contacts drawn by SVG over the image.
 * @returns a displayable; pass it to `display()`
 */
export async function keypointsOutput(options: KeypointsOptions): Promise<VizOutput<typeof MIME.keypoints>> {
  const { width, height } = options;
  if (!(width > 0 && height > 0)) throw new Error(`keypointsOutput: width and height must be positive, got ${width} x ${height}`);
  const kps = normKeypoints(options.keypoints);
  if (kps.length !== 0 && kps.length !== 17) throw new Error(`keypointsOutput: expected 17 COCO keypoints or none, got ${kps.length}`);
  const contacts = normContacts(options.contacts);
  // Large images shrink to 512 px; small ones grow to 320 px so that the labels stay legible.
  const longSide = Math.max(width, height);
  const scale = Math.min(MAX_OUTPUT_SIDE / longSide, Math.max(1, MIN_FALLBACK_SIDE / longSide));
  const outW = Math.max(1, Math.round(width * scale)), outH = Math.max(1, Math.round(height * scale));
  const payload: KeypointsPayload = {
    version: 1,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.image ? { image: await toImageRef(await resolveImage(options.image)) } : {}),
    width,
    height,
    keypoints: kps,
    names: [...COCO17_NAMES],
    skeleton: COCO17_SKELETON.map(([a, b]) => [a, b] as [number, number]),
    contacts,
  };
  const image = options.image ? await resolveImage(options.image) : undefined;
  const base = image
    ? sharpOf(image).removeAlpha().resize(outW, outH, { fit: 'fill' })
    : sharp({ create: { width: outW, height: outH, channels: 3, background: '#202020' } });
  const svg = Buffer.from(keypointsSvg(outW, outH, outW / width, kps, contacts, options.title, options.scoreThreshold ?? 0.3));
  // Resize first into a buffer: sharp applies composite before resize within one pipeline.
  const resized = await base.png().toBuffer();
  const png = await sharp(resized).composite([{ input: svg, top: 0, left: 0 }]).png({ compressionLevel: 9 }).toBuffer();
  return new VizOutput(MIME.keypoints, payload, { 'image/png': png.toString('base64') });
}
