/**
 * Image decoding for payload images: base64 -> Blob -> ImageBitmap. createImageBitmap needs no object URL
 * (nothing to revoke, no CSP question in the webview) and decodes off the main thread where it can.
 */
import type { ImageRef } from '../kernel/protocol';
import { base64ToBytes } from './dom';
import { PayloadError } from './validate';

/** Largest side drawn from a payload image; bigger images are downscaled once at decode time. */
export const MAX_DISPLAY_SIDE = 2048;

/**
 * Decodes an ImageRef, downscaled so that neither side exceeds `maxSide`.
 * @param kind payload kind for error messages (e.g. `heatmap`)
 * @param path field path for error messages (e.g. `image`)
 */
export async function decodeImage(ref: ImageRef, kind: string, path: string, maxSide = MAX_DISPLAY_SIDE): Promise<ImageBitmap> {
  const bytes = base64ToBytes(ref.data);
  const blob = new Blob([bytes], { type: ref.mime });
  const scale = Math.min(1, maxSide / Math.max(ref.width, ref.height));
  try {
    if (scale < 1) {
      return await createImageBitmap(blob, {
        resizeWidth: Math.max(1, Math.round(ref.width * scale)),
        resizeHeight: Math.max(1, Math.round(ref.height * scale)),
        resizeQuality: 'high',
      });
    }
    return await createImageBitmap(blob);
  } catch (e) {
    throw new PayloadError(kind, `${path}.data`, `could not be decoded as ${ref.mime} (${e instanceof Error ? e.message : String(e)})`);
  }
}
