import type { ColormapName } from '../../protocol';

/** A 256-entry RGB lookup table, 768 bytes, entry i at [3i, 3i+1, 3i+2]. */
export type ColorLut = Uint8Array;

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Turbo as Google's polynomial fit (max error under 1 % of the published table), which avoids shipping the table.
 * @see https://ai.googleblog.com/2019/08/turbo-improved-rainbow-colormap-for.html
 */
function turbo(x: number): [number, number, number] {
  const x2 = x * x, x3 = x2 * x, x4 = x3 * x, x5 = x4 * x;
  const r = 0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5;
  const g = 0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5;
  const b = 0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5;
  return [r, g, b];
}

/** Viridis as a degree-6 polynomial fit of matplotlib's table. */
function viridis(x: number): [number, number, number] {
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
  for (let ch = 0; ch < 3; ch++) {
    let v = 0;
    for (let i = 6; i >= 0; i--) v = v * x + c[i][ch];
    out[ch] = v;
  }
  return out;
}

function jet(x: number): [number, number, number] {
  return [1.5 - Math.abs(4 * x - 3), 1.5 - Math.abs(4 * x - 2), 1.5 - Math.abs(4 * x - 1)];
}

const cache = new Map<ColormapName, ColorLut>();

/**
 * The 256-entry lookup table of a colormap (value 0 -> entry 0, value 1 -> entry 255).
 * @param name - `turbo`, `jet` or `viridis`
 */
export function colormapLut(name: ColormapName): ColorLut {
  const hit = cache.get(name);
  if (hit) return hit;
  const f = name === 'turbo' ? turbo : name === 'jet' ? jet : name === 'viridis' ? viridis : undefined;
  if (!f) throw new Error(`colormap: unknown colormap "${String(name)}", expected one of turbo, jet, viridis`);
  const lut = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    const rgb = f(i / 255);
    for (let ch = 0; ch < 3; ch++) lut[3 * i + ch] = Math.round(clamp01(rgb[ch]) * 255);
  }
  cache.set(name, lut);
  return lut;
}
