/**
 * Colormaps as 256-entry RGB lookup tables, shared by the kernel (the image/png fallback of a heatmap
 * output) and the renderer (the interactive view), so that both draw exactly the same colours.
 * Pure code: no Node, no DOM, no `vscode`.
 */
import type { ColormapName } from '../kernel/protocol';

/** A 256-entry RGB lookup table, 768 bytes, entry i at [3i, 3i+1, 3i+2]. */
export type ColorLut = Uint8Array;

/** Names the heatmap view offers, in menu order. */
export const COLORMAPS: readonly ColormapName[] = ['turbo', 'jet', 'viridis'];

/** Diverging map for prediction − ground truth: blue (below) through neutral grey to red (above). */
export type DivergingName = 'diverging';

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * Turbo as Google's polynomial fit (within a few 1/255 steps of the published table), which avoids shipping the table.
 * @see https://ai.googleblog.com/2019/08/turbo-improved-rainbow-colormap-for.html
 */
function turbo(x: number): [number, number, number] {
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  return [r, g, b];
}

/** Classic MATLAB jet. */
function jet(x: number): [number, number, number] {
  return [1.5 - Math.abs(4 * x - 3), 1.5 - Math.abs(4 * x - 2), 1.5 - Math.abs(4 * x - 1)];
}

/** Viridis as a degree-6 polynomial fit of matplotlib's table. */
function viridis(t: number): [number, number, number] {
  const c = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  const out: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    let v = c[6][k];
    for (let i = 5; i >= 0; i--) v = c[i][k] + t * v;
    out[k] = v;
  }
  return out;
}

/** Blue → grey → red, symmetric around 0.5. */
function diverging(x: number): [number, number, number] {
  const lo = [0.23, 0.3, 0.75];
  const mid = [0.86, 0.86, 0.86];
  const hi = [0.71, 0.02, 0.15];
  const [a, b, t] = x < 0.5 ? [lo, mid, x * 2] : [mid, hi, (x - 0.5) * 2];
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

const FUNCTIONS: Record<ColormapName | DivergingName, (x: number) => [number, number, number]> = { turbo, jet, viridis, diverging };
const cache = new Map<string, ColorLut>();

/**
 * The 256-entry lookup table of a colormap (value 0 -> entry 0, value 1 -> entry 255), cached.
 * @param name - `turbo`, `jet`, `viridis`, or `diverging` for difference views
 */
export function colormapLut(name: ColormapName | DivergingName): ColorLut {
  const hit = cache.get(name);
  if (hit) return hit;
  const f = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (!f) throw new Error(`colormap: unknown colormap "${String(name)}", expected one of ${[...COLORMAPS, 'diverging'].join(', ')}`);
  const lut = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    const rgb = f(i / 255);
    for (let ch = 0; ch < 3; ch++) lut[3 * i + ch] = Math.round(clamp01(rgb[ch]) * 255);
  }
  cache.set(name, lut);
  return lut;
}
