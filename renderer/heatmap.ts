/**
 * Heatmap view: the base image with one map overlaid through a colormap, a channel selector, prediction
 * and ground truth side by side with an optional difference panel, the value under the cursor in a
 * tooltip and a legend per panel. All maps of an output share one colour scale by default ([0, 1] when
 * every map lies in it, as sigmoid outputs and GT maps do), so a channel that barely fires looks cold;
 * stretching each map to its own range is an option the legend names. Canvases are sized to their CSS
 * width times devicePixelRatio, so the picture stays crisp at any output width and zoom; maps are
 * colourised once per (map, colormap, scale) at map resolution and stretched with smoothing.
 */
import type { ColormapName } from '../kernel/protocol';
import { COLORMAPS, colormapLut, drawLegendBar, type DivergingName } from './colormap';
import { checkSignal, checkboxControl, fmt, frameScheduler, h, onResize, rangeControl, selectControl } from './dom';
import { decodeImage } from './image';
import type { View, ViewEnv } from './renderer';
import { onThemeChange, readTheme } from './theme';
import { checkHeatmap, mapValue, type DecodedMap } from './validate';
import { savedBool, savedNumber, savedOneOf } from './memory';

type PanelKind = 'pred' | 'gt' | 'diff';

interface Panel {
  kind: PanelKind;
  /** Index into the payload's maps. */
  map: number;
  canvas: HTMLCanvasElement;
  legendBar: HTMLCanvasElement;
  legendMin: HTMLSpanElement;
  legendMax: HTMLSpanElement;
  legendScale: HTMLDivElement;
}

/**
 * A map's values as bytes (value = min + byte / 255 * (max - min)) and the range [lo, hi] the colormap
 * spans: byte values are placed on that range, so maps with different ranges share one scale.
 */
interface ColourSource {
  key: string;
  width: number;
  height: number;
  bytes: Uint8Array;
  min: number;
  max: number;
  lo: number;
  hi: number;
  colormap: ColormapName | DivergingName;
}

/** How the colormap spans the values: one scale for every map of the output, or each map stretched to its own range. */
export type HeatmapScale = 'shared' | 'channel';
const SCALES = ['shared', 'channel'] as const;

/** `state.channel` value of the overview that shows every channel at once. */
const ALL = -1;

/** Largest CSS height of one panel; wide outputs get wide panels, tall images do not run off screen. */
const MAX_PANEL_CSS_HEIGHT = 560;

/** Draws a heatmap payload into `root`. */
export async function renderHeatmap(root: HTMLElement, payload: unknown, env: ViewEnv): Promise<View> {
  const { payload: p, maps, gt } = checkHeatmap(payload);
  const { store, signal } = env;

  // The image decodes off the main thread while the controls are built and the map is colourised.
  const decoding = p.image ? decodeImage(p.image, 'heatmap', 'image') : undefined;
  // Marked handled here: if building fails first, the decode error must not surface as unhandled.
  void decoding?.catch(() => undefined);
  let base: ImageBitmap | undefined;
  // Maps are stretched over the image; without one, the first map's grid sets the aspect ratio.
  const dimW = p.image?.width ?? maps[0].width;
  const dimH = p.image?.height ?? maps[0].height;
  // Positions are read out in the original image's pixels; the payload's image may be a downscaled copy.
  const origW = p.imageSize?.width ?? dimW;
  const origH = p.imageSize?.height ?? dimH;
  // The shared scale: [0, 1] when every map lies in it (probabilities, GT), else the range of all maps.
  const allMaps = [...maps, ...gt.values()];
  const allMin = Math.min(...allMaps.map((m) => m.min));
  const allMax = Math.max(...allMaps.map((m) => m.max));
  const natural = allMin >= 0 && allMax <= 1;
  const shared = natural ? { lo: 0, hi: 1 } : { lo: allMin, hi: allMax > allMin ? allMax : allMin + 1 };

  const saved = env.memory.load();
  const savedChannel = saved.channel === '*' && maps.length > 1 ? ALL : maps.findIndex((m) => m.name === saved.channel);
  const state = {
    channel: savedChannel === ALL ? ALL : Math.max(0, savedChannel),
    colormap: savedOneOf(saved.colormap, COLORMAPS) ?? p.colormap ?? 'turbo',
    opacity: savedNumber(saved.opacity, 0, 1) ?? p.opacity ?? 0.6,
    showImage: p.image !== undefined && (savedBool(saved.showImage) ?? true),
    showDiff: savedBool(saved.showDiff) ?? false,
    // Low values fade out so the image stays readable where the map says nothing.
    fade: savedBool(saved.fade) ?? true,
    scale: savedOneOf(saved.scale, SCALES) ?? 'shared',
  };
  const remember = (): void => env.memory.save({ channel: state.channel === ALL ? '*' : maps[state.channel].name, colormap: state.colormap, opacity: state.opacity, showImage: state.showImage, showDiff: state.showDiff, fade: state.fade, scale: state.scale });

  const coloured = new Map<string, HTMLCanvasElement>();
  store.defer(() => coloured.clear());
  const diffCache = new Map<string, ColourSource>();

  // ---- controls ----
  const toolbar = h('div', { className: 'al-toolbar' });
  const channelOptions = maps.map((m, i) => ({ value: String(i), label: m.name }));
  if (maps.length > 1) channelOptions.push({ value: String(ALL), label: 'all channels' });
  const channel = selectControl('Channel', channelOptions, String(state.channel), 'al-channel');
  const cmap = selectControl('Colormap', COLORMAPS.map((c) => ({ value: c, label: c })), state.colormap, 'al-colormap');
  const opacity = rangeControl('Opacity', 0, 1, 0.05, state.opacity, 'al-opacity', (v) => `${Math.round(v * 100)}%`);
  const sharedLabel = natural ? 'shared 0 – 1' : `shared ${fmt(shared.lo)} – ${fmt(shared.hi)}`;
  const scaleCtl = selectControl('Scale', [{ value: 'shared', label: sharedLabel }, { value: 'channel', label: 'each map stretched' }], state.scale, 'al-scale');
  scaleCtl.select.title = 'Shared: one colour scale for every map of this output, so their strengths compare. Stretched: each map from its own minimum to its maximum.';
  toolbar.append(channel.wrap, scaleCtl.wrap, cmap.wrap, opacity.wrap);
  const imageToggle = checkboxControl('Image', state.showImage || p.image === undefined, 'al-show-image');
  if (p.image) toolbar.append(imageToggle.wrap);
  const fadeToggle = checkboxControl('Fade low values', state.fade, 'al-fade');
  if (p.image) toolbar.append(fadeToggle.wrap);
  const diffToggle = checkboxControl('Difference', state.showDiff, 'al-show-diff');
  if (gt.size > 0) toolbar.append(diffToggle.wrap);

  const panelsEl = h('div', { className: 'al-panels' });
  // The value under the pointer, in a tooltip next to it (kept inside the output).
  const tip = h('div', { className: 'al-tooltip', attrs: { 'aria-hidden': 'true' } });
  tip.hidden = true;
  const header: HTMLElement[] = [];
  if (p.title) header.push(h('div', { className: 'al-title', text: p.title }));
  root.classList.add('al-has-tooltip');
  root.append(...header, toolbar, panelsEl, tip);

  let panels: Panel[] = [];

  const gtFor = (m: DecodedMap): DecodedMap | undefined => gt.get(m.name);

  const sourceFor = (panel: Panel): ColourSource | undefined => {
    const m = maps[panel.map];
    const range = (d: DecodedMap): { lo: number; hi: number } => (state.scale === 'shared' ? shared : { lo: d.min, hi: d.max > d.min ? d.max : d.min + 1 });
    if (panel.kind === 'pred') return { key: `p${panel.map}`, ...m, ...range(m), colormap: state.colormap };
    const g = gtFor(m);
    if (!g) return undefined;
    if (panel.kind === 'gt') return { key: `g${panel.map}`, ...g, ...range(g), colormap: state.colormap };
    // Shared: a difference of d has the same colour on every channel (the scale spans ±(hi - lo)).
    return diffSource(m, g, diffCache, state.scale === 'shared' ? shared.hi - shared.lo : undefined);
  };

  const colouredCanvas = (src: ColourSource): HTMLCanvasElement => {
    const fade = state.fade && state.showImage && p.image !== undefined;
    const key = `${src.key}:${src.colormap}:${fade}:${src.lo}:${src.hi}`;
    let c = coloured.get(key);
    if (c) return c;
    c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext('2d');
    if (ctx) {
      const img = ctx.createImageData(src.width, src.height);
      const lut = colormapLut(src.colormap);
      const out = img.data;
      const bytes = src.bytes;
      const alpha = alphaRamp(fade, src.colormap === 'diverging');
      // Byte -> colormap index on [lo, hi]: values outside the scale take its end colours.
      const index = new Uint8Array(256);
      const span = src.hi - src.lo;
      for (let b = 0; b < 256; b++) {
        const v = src.min + (b / 255) * (src.max - src.min);
        index[b] = Math.round(Math.min(1, Math.max(0, (v - src.lo) / span)) * 255);
      }
      for (let i = 0, j = 0; i < bytes.length; i++, j += 4) {
        const b = index[bytes[i]];
        const k = b * 3;
        out[j] = lut[k];
        out[j + 1] = lut[k + 1];
        out[j + 2] = lut[k + 2];
        out[j + 3] = alpha[b];
      }
      ctx.putImageData(img, 0, 0);
    }
    coloured.set(key, c);
    return c;
  };

  const buildPanels = (): void => {
    const specs: { kind: PanelKind; map: number; title: string }[] = [];
    if (state.channel === ALL) {
      // Overview: every channel's prediction, then a row of ground truth where there is one.
      maps.forEach((m, i) => specs.push({ kind: 'pred', map: i, title: m.name }));
      maps.forEach((m, i) => {
        if (gtFor(m)) specs.push({ kind: 'gt', map: i, title: `${m.name} · ground truth` });
      });
    } else {
      const m = maps[state.channel];
      const withGt = gtFor(m) !== undefined;
      specs.push({ kind: 'pred', map: state.channel, title: withGt ? 'Prediction' : m.name });
      if (withGt) {
        specs.push({ kind: 'gt', map: state.channel, title: 'Ground truth' });
        if (state.showDiff) specs.push({ kind: 'diff', map: state.channel, title: 'Difference (prediction − ground truth)' });
      }
    }
    panels = specs.map(({ kind, map, title }) => {
      const canvas = h('canvas', { className: 'al-view', attrs: { 'data-kind': kind, 'data-map': String(map), role: 'img', 'aria-label': `${title}: ${maps[map].name}` } });
      canvas.style.maxWidth = `${Math.round((MAX_PANEL_CSS_HEIGHT * dimW) / dimH)}px`;
      const legendBar = h('canvas', { attrs: { 'aria-hidden': 'true' } });
      const legendMin = h('span', { className: 'al-legend-min' });
      const legendMax = h('span', { className: 'al-legend-max' });
      const legendScale = h('div', { className: 'al-legend-scale' });
      const legend = h('div', { className: 'al-legend' }, legendMin, legendBar, legendMax, legendScale);
      legend.style.maxWidth = canvas.style.maxWidth;
      panelsEl.append(h('div', { className: 'al-panel', attrs: { 'data-kind': kind } }, h('div', { className: 'al-panel-title', text: title }), canvas, legend));
      return { kind, map, canvas, legendBar, legendMin, legendMax, legendScale };
    });
    const columns = state.channel === ALL ? Math.min(3, maps.length) : panels.length;
    panelsEl.style.gridTemplateColumns = `repeat(${columns}, minmax(0, 1fr))`;
  };

  const rebuild = (): void => {
    panelsEl.replaceChildren();
    buildPanels();
    draw();
  };

  const draw = (): void => {
    const theme = readTheme(root);
    const dpr = window.devicePixelRatio || 1;
    for (const panel of panels) {
      const src = sourceFor(panel);
      if (!src) continue;
      const canvas = panel.canvas;
      // Before the output is laid out (or when detached) fall back to the picture's own size.
      const cssW = canvas.clientWidth || Math.min(dimW, 480);
      const cssH = (cssW * dimH) / dimW;
      canvas.style.height = `${cssH}px`;
      const bw = Math.max(1, Math.round(cssW * dpr));
      const bh = Math.max(1, Math.round(cssH * dpr));
      if (canvas.width !== bw) canvas.width = bw;
      if (canvas.height !== bh) canvas.height = bh;
      const ctx = canvas.getContext('2d');
      if (!ctx) continue;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalAlpha = 1;
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      const withImage = state.showImage && base !== undefined;
      if (withImage && base) {
        ctx.drawImage(base, 0, 0, bw, bh);
      } else {
        ctx.fillStyle = theme.background;
        ctx.fillRect(0, 0, bw, bh);
      }
      // Without an image the map is the picture: full strength; over an image the slider blends it.
      ctx.globalAlpha = withImage ? state.opacity : 1;
      ctx.drawImage(colouredCanvas(src), 0, 0, bw, bh);
      ctx.globalAlpha = 1;
      drawLegendBar(panel.legendBar, src.colormap);
      panel.legendMin.textContent = fmt(src.lo);
      panel.legendMax.textContent = fmt(src.hi);
      // The legend says which scale is on, and where this map's own values lie on it.
      const own = src.colormap === 'diverging' ? `largest |difference| ${fmt(Math.max(Math.abs(src.min), Math.abs(src.max)))}` : `this map ${fmt(src.min)} – ${fmt(src.max)}`;
      panel.legendScale.textContent = `${state.scale === 'shared' ? 'shared scale' : 'stretched to this map'} · ${own}`;
      panel.legendScale.dataset.scale = state.scale;
      panel.canvas.dataset.min = String(src.lo);
      panel.canvas.dataset.max = String(src.hi);
    }
  };
  const scheduleDraw = frameScheduler(draw, store);

  /** The value a map holds at a fraction of the picture, and its quantisation error (half a byte step). */
  const sample = (d: DecodedMap, fx: number, fy: number): { v: number; err: number } => {
    const x = Math.min(d.width - 1, Math.max(0, Math.floor(fx * d.width)));
    const y = Math.min(d.height - 1, Math.max(0, Math.floor(fy * d.height)));
    return { v: mapValue(d, y * d.width + x), err: (d.max - d.min) / 510 };
  };

  const readAt = (fx: number, fy: number, mapIndex: number, kind: PanelKind): void => {
    const m = maps[mapIndex];
    const px = Math.min(origW - 1, Math.floor(fx * origW));
    const py = Math.min(origH - 1, Math.floor(fy * origH));
    const lines: [string, string][] = [];
    const pred = sample(m, fx, fy);
    const g = gtFor(m);
    lines.push([g ? 'prediction' : 'value', fmtQuantised(pred.v, pred.err)]);
    if (g) {
      const gv = sample(g, fx, fy);
      lines.push(['ground truth', fmtQuantised(gv.v, gv.err)], ['difference', fmtQuantised(pred.v - gv.v, pred.err + gv.err)]);
    }
    const title = h('div', { className: 'al-tooltip-title', text: `${m.name}${kind === 'gt' ? ' · ground truth' : kind === 'diff' ? ' · difference' : ''}` });
    const where = h('div', { className: 'al-tooltip-at', text: `x ${px}, y ${py} px of ${origW} × ${origH}` });
    const rows = lines.map(([k, v]) => h('div', { className: 'al-tooltip-row' }, h('span', { text: k }), h('span', { className: 'al-tooltip-value', text: v })));
    const quant = h('div', { className: 'al-tooltip-note', text: `map ${m.width} × ${m.height}, stored in 8 bits: ± is half a step` });
    tip.replaceChildren(title, where, ...rows, quant);
  };

  /** Places the tooltip next to the pointer, flipped to the other side where it would leave the output. */
  const placeTip = (clientX: number, clientY: number): void => {
    tip.hidden = false;
    const r = root.getBoundingClientRect();
    const w = tip.offsetWidth;
    const ht = tip.offsetHeight;
    const gap = 14;
    let x = clientX - r.left + gap;
    let y = clientY - r.top + gap;
    if (x + w > r.width) x = clientX - r.left - gap - w;
    if (y + ht > r.height) y = clientY - r.top - gap - ht;
    tip.style.left = `${Math.max(0, Math.min(x, r.width - w))}px`;
    tip.style.top = `${Math.max(0, Math.min(y, r.height - ht))}px`;
  };

  // One listener on the panel container serves every canvas, present and future.
  store.listen(panelsEl, 'pointermove', (e) => {
    const target = e.target;
    if (!(target instanceof HTMLCanvasElement) || !target.classList.contains('al-view')) {
      tip.hidden = true;
      return;
    }
    const r = target.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    readAt(Math.min(0.999999, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(0.999999, Math.max(0, (e.clientY - r.top) / r.height)), Number(target.dataset.map), target.dataset.kind as PanelKind);
    placeTip(e.clientX, e.clientY);
  });
  store.listen(panelsEl, 'pointerleave', () => {
    tip.hidden = true;
  });

  store.listen(channel.select, 'change', () => {
    state.channel = Number(channel.select.value);
    remember();
    rebuild();
  });
  store.listen(scaleCtl.select, 'change', () => {
    state.scale = scaleCtl.select.value as HeatmapScale;
    remember();
    draw();
  });
  store.listen(cmap.select, 'change', () => {
    state.colormap = cmap.select.value as ColormapName;
    remember();
    draw();
  });
  store.listen(opacity.input, 'input', () => {
    state.opacity = Number(opacity.input.value);
    remember();
    opacity.readout.textContent = `${Math.round(state.opacity * 100)}%`;
    draw();
  });
  store.listen(imageToggle.input, 'change', () => {
    state.showImage = imageToggle.input.checked;
    remember();
    draw();
  });
  store.listen(fadeToggle.input, 'change', () => {
    state.fade = fadeToggle.input.checked;
    remember();
    draw();
  });
  store.listen(diffToggle.input, 'change', () => {
    state.showDiff = diffToggle.input.checked;
    remember();
    rebuild();
  });

  buildPanels();
  for (const panel of panels) {
    const src = sourceFor(panel);
    if (src) colouredCanvas(src);
  }
  if (decoding) {
    const bitmap = await decoding;
    store.defer(() => bitmap.close());
    checkSignal(signal);
    base = bitmap;
  }
  draw();
  onResize(root, scheduleDraw, store);
  store.add(onThemeChange(scheduleDraw));
  return {};
}

/** Below this fraction of the range (of |value| for differences) a faded overlay turns transparent. */
const FADE_KNEE = 0.35;

/** Alpha per byte: opaque, or rising linearly to opaque at FADE_KNEE (from the centre for diverging maps). */
function alphaRamp(fade: boolean, diverging: boolean): Uint8Array {
  const a = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const t = diverging ? Math.abs(b / 255 - 0.5) * 2 : b / 255;
    a[b] = fade ? Math.round(255 * Math.min(1, t / FADE_KNEE)) : 255;
  }
  return a;
}

/**
 * A value with its quantisation error `err`, to the digits the error allows: 0.1424 ± 0.0007. An exact
 * value (a constant map) is given to three significant digits.
 */
export function fmtQuantised(v: number, err: number): string {
  if (!(err > 0)) return fmt(v);
  const decimals = Math.min(12, Math.max(0, Math.ceil(-Math.log10(err))));
  const e = Number(err.toPrecision(1));
  return `${v.toFixed(decimals)} ± ${e < 1e-4 ? e.toExponential(0) : e.toFixed(decimals)}`;
}

/**
 * Prediction − GT as diverging colours, symmetric around 0 (GT sampled at the prediction's grid). The
 * scale spans ±`span` when given (the shared scale), else ± the largest |difference| of this map.
 */
function diffSource(m: DecodedMap, g: DecodedMap, cache: Map<string, ColourSource>, span?: number): ColourSource {
  const key = `d:${m.name}:${span ?? 'own'}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const n = m.width * m.height;
  const diff = new Float32Array(n);
  let maxAbs = 0;
  for (let y = 0; y < m.height; y++) {
    const gy = Math.min(g.height - 1, Math.floor(((y + 0.5) * g.height) / m.height));
    for (let x = 0; x < m.width; x++) {
      const gx = Math.min(g.width - 1, Math.floor(((x + 0.5) * g.width) / m.width));
      const d = mapValue(m, y * m.width + x) - mapValue(g, gy * g.width + gx);
      diff[y * m.width + x] = d;
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
  }
  const own = maxAbs > 0 ? maxAbs : 1;
  const range = span ?? own;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.round(((diff[i] / own) * 0.5 + 0.5) * 255);
  const src: ColourSource = { key, width: m.width, height: m.height, bytes, min: -own, max: own, lo: -range, hi: range, colormap: 'diverging' };
  cache.set(key, src);
  return src;
}
