/**
 * Reading canvas pixels inside the notebook's output webview, and telling the turbo colormap's hot end from
 * its cold end.
 */
import type { Locator } from 'playwright-core';

export type Rgba = [number, number, number, number];

/** The pixel of `canvas`'s bitmap at fractional position (fx, fy) in [0, 1] of its width and height. */
export async function canvasPixel(canvas: Locator, fx: number, fy: number): Promise<Rgba> {
  return canvas.evaluate(
    (el, [x, y]) => {
      const c = el as HTMLCanvasElement;
      const ctx = c.getContext('2d');
      if (!ctx) throw new Error('canvas has no 2d context');
      const px = Math.min(c.width - 1, Math.floor(x * c.width));
      const py = Math.min(c.height - 1, Math.floor(y * c.height));
      const d = ctx.getImageData(px, py, 1, 1).data;
      return [d[0], d[1], d[2], d[3]] as [number, number, number, number];
    },
    [fx, fy] as const,
  );
}

/** Turbo's top end is dark red (122, 4, 3): strongly red, little blue. */
export function isHot([r, g, b, a]: Rgba): boolean {
  return a > 200 && r > 90 && r > 2 * b && r > g;
}

/** Turbo's bottom end is dark indigo (48, 18, 59): more blue than red, and not bright. */
export function isCold([r, g, b, a]: Rgba): boolean {
  return a > 200 && b > r && r < 90 && g < 120;
}
