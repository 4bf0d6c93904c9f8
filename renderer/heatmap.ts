/**
 * Heatmap view: the base image with one map overlaid through a colormap, a channel selector, prediction
 * and ground truth side by side with an optional difference panel, the value under the cursor and a
 * legend per panel. Canvases are sized to their CSS width times devicePixelRatio, so the picture stays
 * crisp at any output width and zoom; maps are colourised once per (map, colormap) at map resolution
 * and stretched with smoothing.
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
}

/** A map's values as the bytes a colormap is indexed by, plus the legend range. */
interface ColourSource {
  key: string;
  width: number;
  height: number;
  bytes: Uint8Array;
  min: number;
  max: number;
  colormap: ColormapName | DivergingName;
}

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
  };
  const remember = (): void => env.memory.save({ channel: state.channel === ALL ? '*' : maps[state.channel].name, colormap: state.colormap, opacity: state.opacity, showImage: state.showImage, showDiff: state.showDiff, fade: state.fade });

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
  toolbar.append(channel.wrap, cmap.wrap, opacity.wrap);
  const imageToggle = checkboxControl('Image', state.showImage || p.image === undefined, 'al-show-image');
  if (p.image) toolbar.append(imageToggle.wrap);
  const fadeToggle = checkboxControl('Fade low values', state.fade, 'al-fade');
  if (p.image) toolbar.append(fadeToggle.wrap);
  const diffToggle = checkboxControl('Difference', state.showDiff, 'al-show-diff');
  if (gt.size > 0) toolbar.append(diffToggle.wrap);

  const panelsEl = h('div', { className: 'al-panels' });
  const readout = h('div', { className: 'al-readout' });
  const hint = 'Move the pointer over the picture to read values.';
  readout.textContent = hint;
  const header: HTMLElement[] = [];
  if (p.title) header.push(h('div', { className: 'al-title', text: p.title }));
  root.append(...header, toolbar, panelsEl, readout);

  let panels: Panel[] = [];

  const gtFor = (m: DecodedMap): DecodedMap | undefined => gt.get(m.name);

  const sourceFor = (panel: Panel): ColourSource | undefined => {
    const m = maps[panel.map];
    if (panel.kind === 'pred') return { key: `p${panel.map}`, ...m, colormap: state.colormap };
    const g = gtFor(m);
    if (!g) return undefined;
    if (panel.kind === 'gt') return { key: `g${panel.map}`, ...g, colormap: state.colormap };
    return diffSource(m, g, diffCache);
  };

  const colouredCanvas = (src: ColourSource): HTMLCanvasElement => {
    const fade = state.fade && state.showImage && p.image !== undefined;
    const key = `${src.key}:${src.colormap}:${fade}`;
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
      for (let i = 0, j = 0; i < bytes.length; i++, j += 4) {
        const b = bytes[i];
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
      const legend = h('div', { className: 'al-legend' }, legendMin, legendBar, legendMax);
      legend.style.maxWidth = canvas.style.maxWidth;
      panelsEl.append(h('div', { className: 'al-panel', attrs: { 'data-kind': kind } }, h('div', { className: 'al-panel-title', text: title }), canvas, legend));
      return { kind, map, canvas, legendBar, legendMin, legendMax };
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
      panel.legendMin.textContent = fmt(src.min);
      panel.legendMax.textContent = fmt(src.max);
      panel.canvas.dataset.min = String(src.min);
      panel.canvas.dataset.max = String(src.max);
    }
  };
  const scheduleDraw = frameScheduler(draw, store);

  const readAt = (fx: number, fy: number, mapIndex: number): void => {
    const m = maps[mapIndex];
    const at = (d: DecodedMap): number => {
      const x = Math.min(d.width - 1, Math.max(0, Math.floor(fx * d.width)));
      const y = Math.min(d.height - 1, Math.max(0, Math.floor(fy * d.height)));
      return mapValue(d, y * d.width + x);
    };
    const px = Math.min(dimW - 1, Math.floor(fx * dimW));
    const py = Math.min(dimH - 1, Math.floor(fy * dimH));
    const v = at(m);
    const g = gtFor(m);
    let text = `${m.name} at (${px}, ${py}): `;
    if (g) {
      const gv = at(g);
      text += `prediction ${fmt(v)} · ground truth ${fmt(gv)} · difference ${fmt(v - gv)}`;
    } else {
      text += fmt(v);
    }
    readout.textContent = text;
  };

  // One listener on the panel container serves every canvas, present and future.
  store.listen(panelsEl, 'pointermove', (e) => {
    const target = e.target;
    if (!(target instanceof HTMLCanvasElement) || !target.classList.contains('al-view')) return;
    const r = target.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    readAt(Math.min(0.999999, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(0.999999, Math.max(0, (e.clientY - r.top) / r.height)), Number(target.dataset.map));
  });
  store.listen(panelsEl, 'pointerleave', () => {
    readout.textContent = hint;
  });

  store.listen(channel.select, 'change', () => {
    state.channel = Number(channel.select.value);
    remember();
    rebuild();
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

/** Prediction − GT as diverging colours, symmetric around 0 (GT sampled at the prediction's grid). */
function diffSource(m: DecodedMap, g: DecodedMap, cache: Map<string, ColourSource>): ColourSource {
  const key = `d:${m.name}`;
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
  const range = maxAbs > 0 ? maxAbs : 1;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.round(((diff[i] / range) * 0.5 + 0.5) * 255);
  const src: ColourSource = { key, width: m.width, height: m.height, bytes, min: -range, max: range, colormap: 'diverging' };
  cache.set(key, src);
  return src;
}
