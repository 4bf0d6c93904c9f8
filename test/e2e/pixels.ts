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

/** Turbo's top end is dark red, about (122, 13, 0): strongly red, little green or blue. */
export function isHot([r, g, b, a]: Rgba): boolean {
  return a > 200 && r > 90 && r > 3 * g && r > 3 * b;
}

/** Turbo's bottom end (the polynomial approximation the renderer draws) is near black, about (35, 23, 27). */
export function isCold([r, g, b, a]: Rgba): boolean {
  return a > 200 && r < 60 && r + g + b < 150;
}
