import sharp from 'sharp';
import { CalDataError } from './errors';

/** How image pixels become tensor values. `imagenet`: (v/255 - mean) / std; `unit`: v/255; `none`: 0..255. */
export type Normalization = 'imagenet' | 'unit' | 'none';

/** ImageNet channel mean and std (RGB), as the training defaults use. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** A decoded image resized to size x size RGB, with its original size. */
export interface DecodedImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes an image file with sharp and resizes it to size x size (stretched, bilinear), RGB.
 * Truncated files fail (sharp `failOn: 'truncated'`) rather than yielding grey rows.
 * @throws CalDataError naming the file when it cannot be decoded
 */
export async function decodeImage(path: string, size: number): Promise<DecodedImage> {
  try {
    // EXIF orientation is applied, as annotation tools (labelme) and cv2.imread do, so sizes and points agree.
    const img = sharp(path, { failOn: 'truncated', autoOrient: true });
    const meta = await img.metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new Error('no image size in the header');
    const buf = await img.removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    if (buf.length !== size * size * 3) throw new Error(`decoded ${buf.length} bytes, expected ${size * size * 3}`);
    return { rgb: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), width, height };
  } catch (e) {
    throw new CalDataError(path, `cannot decode image (${(e as Error).message}); expected a complete JPEG or PNG file`);
  }
}

/** Float pixels from RGB bytes with optional brightness/contrast factors (applied in [0, 1] space, then clamped). */
export function toFloat(rgb: Uint8Array, norm: Normalization, brightness = 1, contrast = 1): Float32Array {
  // Every byte value maps to one float per channel: three 256-entry tables make this a lookup.
  const luts = [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    for (let b = 0; b < 256; b++) {
      let v = b / 255;
      if (brightness !== 1 || contrast !== 1) v = Math.min(1, Math.max(0, (v - 0.5) * contrast + 0.5) * brightness);
      lut[b] = norm === 'imagenet' ? (v - IMAGENET_MEAN[c]) / IMAGENET_STD[c] : norm === 'unit' ? v : v * 255;
    }
    return lut;
  });
  const [l0, l1, l2] = luts;
  const out = new Float32Array(rgb.length);
  for (let i = 0; i + 2 < rgb.length; i += 3) {
    out[i] = l0[rgb[i]];
    out[i + 1] = l1[rgb[i + 1]];
    out[i + 2] = l2[rgb[i + 2]];
  }
  return out;
}

/** Mirrors an HWC array left-right in place (any channel count). */
export function flipHwc(a: Float32Array, size: number, channels: number): Float32Array {
  const row = size * channels;
  for (let y = 0; y < size; y++) {
    const o = y * row;
    for (let x = 0; x < size >> 1; x++) {
      const a0 = o + x * channels, b0 = o + (size - 1 - x) * channels;
      for (let c = 0; c < channels; c++) {
        const t = a[a0 + c];
        a[a0 + c] = a[b0 + c];
        a[b0 + c] = t;
      }
    }
  }
  return a;
}

/** COCO-17 index pairs swapped by a horizontal flip (left <-> right). */
export const COCO17_FLIP_PAIRS: readonly (readonly [number, number])[] = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]];

/**
 * Mirrors a pose [17 x 3] (x, y, score; pixel-centre coordinates of a size-wide image) in place:
 * x -> size - 1 - x, and left/right keypoints swap places so that "left_wrist" stays the person's left wrist.
 */
export function flipPose(p: Float32Array, size: number): Float32Array {
  for (let i = 0; i < 17; i++) p[i * 3] = size - 1 - p[i * 3];
  for (const [a, b] of COCO17_FLIP_PAIRS) {
    for (let c = 0; c < 3; c++) {
      const t = p[a * 3 + c];
      p[a * 3 + c] = p[b * 3 + c];
      p[b * 3 + c] = t;
    }
  }
  return p;
}
