import sharp from 'sharp';
import type { ImageRef } from '../../protocol';
import type { TensorLike } from './quantize';

/** Decoded pixels, row-major, interleaved channels. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Encoded bytes (PNG/JPEG/...), an {@link ImageRef}, or raw pixels: what sharp can read directly. */
export type StaticImage = Buffer | ImageRef | RawImage;

/**
 * An image given to a viz builder: a {@link StaticImage}, or an image tensor [h, w, 3] (or [1, h, w, 3]) whose
 * value range is detected as {@link imageFromTensor} does (ImageNet-normalised tensors are undone).
 */
export type ImageInput = StaticImage | TensorLike;

function isTensorImage(v: ImageInput): v is TensorLike {
  return !Buffer.isBuffer(v) && typeof (v as TensorLike).data === 'function' && Array.isArray((v as TensorLike).shape);
}

/** Reads an image tensor's pixels; other inputs pass through. */
export async function resolveImage(input: ImageInput): Promise<StaticImage> {
  return isTensorImage(input) ? imageFromTensor(input) : input;
}

/** Largest side of any image embedded in an output or a PNG fallback, so saved notebooks stay small. */
export const MAX_OUTPUT_SIDE = 512;

function isImageRef(v: StaticImage): v is ImageRef {
  return !Buffer.isBuffer(v) && typeof (v as ImageRef).data === 'string';
}

/** A sharp pipeline reading any {@link ImageInput}. */
export function sharpOf(input: StaticImage): sharp.Sharp {
  // Photos are shown upright, as their EXIF orientation says (annotations use that orientation too).
  if (Buffer.isBuffer(input)) return sharp(input, { autoOrient: true });
  if (isImageRef(input)) return sharp(Buffer.from(input.data, 'base64'), { autoOrient: true });
  const { data, width, height, channels } = input;
  if (data.length !== width * height * channels) {
    throw new Error(`raw image: expected ${width * height * channels} bytes (${width} x ${height} x ${channels}), got ${data.length}`);
  }
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
}

/**
 * Encodes raw pixels as PNG.
 * @param data - row-major interleaved bytes, width*height*channels
 */
export async function encodePng(data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 3): Promise<Buffer> {
  return sharpOf({ data, width, height, channels }).png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer();
}

/** Decodes any image input to RGB bytes, resized to exactly width x height (stretched, as maps are). */
export async function rgbAt(input: ImageInput, width: number, height: number): Promise<Uint8Array> {
  const buf = await sharpOf(await resolveImage(input)).removeAlpha().resize(width, height, { fit: 'fill' }).toColourspace('srgb').raw().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * An {@link ImageRef} for a payload, downscaled so that its longer side is at most `maxSide`.
 * @param options.format - `jpeg` (default, photos) or `png`
 * @param options.maxSide - default {@link MAX_OUTPUT_SIDE}
 */
export async function toImageRef(input: ImageInput, options: { format?: 'jpeg' | 'png'; maxSide?: number } = {}): Promise<ImageRef> {
  const maxSide = options.maxSide ?? MAX_OUTPUT_SIDE;
  const format = options.format ?? 'jpeg';
  let pipe = sharpOf(await resolveImage(input)).removeAlpha().resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  pipe = format === 'png' ? pipe.png({ compressionLevel: 9 }) : pipe.jpeg({ quality: 85 });
  const { data, info } = await pipe.toBuffer({ resolveWithObject: true });
  return { mime: format === 'png' ? 'image/png' : 'image/jpeg', data: data.toString('base64'), width: info.width, height: info.height };
}

/**
 * Raw pixels from an image tensor [height, width, 3] (or [1, h, w, 3]).
 * @param options.normalization - how the tensor's values map to bytes: `imagenet` undoes ImageNet mean/std,
 *   `unit` means [0, 1], `byte` means [0, 255]. Default: `unit` if every value lies in [0, 1], else `byte`
 *   unless values go below 0, then `imagenet`.
 */
export async function imageFromTensor(tensor: TensorLike, options: { normalization?: 'imagenet' | 'unit' | 'byte' } = {}): Promise<RawImage> {
  const shape = tensor.shape.length === 4 && tensor.shape[0] === 1 ? tensor.shape.slice(1) : tensor.shape;
  if (shape.length !== 3 || shape[2] !== 3) throw new Error(`imageFromTensor: expected shape [height, width, 3], got [${tensor.shape.join(', ')}]`);
  const [height, width] = shape;
  const v = await tensor.data();
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  const norm = options.normalization ?? (lo >= 0 && hi <= 1 ? 'unit' : lo >= 0 ? 'byte' : 'imagenet');
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = norm === 'imagenet' ? (v[i] * std[i % 3] + mean[i % 3]) * 255 : norm === 'unit' ? v[i] * 255 : v[i];
    out[i] = x < 0 ? 0 : x > 255 ? 255 : Math.round(x);
  }
  return { data: out, width, height, channels: 3 };
}

/** Escapes text for SVG. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}
