/**
 * Colormaps of the heatmap view: the lookup tables are shared with the kernel's PNG fallback
 * (common/colormap.ts), so the fallback image and the interactive view use the same colours.
 */
import type { ColormapName } from '../kernel/protocol';
import { colormapLut, type DivergingName } from '../common/colormap';

export { COLORMAPS, colormapLut, type DivergingName } from '../common/colormap';

/** A CSS linear-gradient-free legend: the LUT drawn into a 256x1 canvas, stretched by CSS. */
export function drawLegendBar(canvas: HTMLCanvasElement, name: ColormapName | DivergingName): void {
  canvas.width = 256;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(256, 1);
  const lut = colormapLut(name);
  for (let i = 0; i < 256; i++) {
    img.data[i * 4] = lut[i * 3];
    img.data[i * 4 + 1] = lut[i * 3 + 1];
    img.data[i * 4 + 2] = lut[i * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
