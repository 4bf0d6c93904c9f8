/**
 * Theme colours. Everything styled with CSS follows the `--vscode-*` variables by itself; canvases and
 * plotly charts hold resolved colours, so they read the variables again when they draw and redraw when
 * the theme changes (VS Code swaps the body class and rewrites the variables on <html>'s style).
 */
import type { Disposable } from './dom';

/** Resolved colours for canvas and chart drawing. */
export interface Theme {
  foreground: string;
  background: string;
  muted: string;
  border: string;
  grid: string;
  fontFamily: string;
  fontSize: number;
  /** Series colours (VS Code's charts.* palette). */
  series: string[];
  /** Colours for published (reference) rows. */
  reference: string[];
  dark: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

/** Parses #rgb/#rrggbb/rgb()/rgba() into [r, g, b] (0..255); undefined if unknown. */
export function parseColor(c: string): [number, number, number] | undefined {
  const s = c.trim();
  let m = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (m) {
    const hex = m[1];
    if (hex.length === 3 || hex.length === 4) return [0, 1, 2].map((i) => parseInt(hex[i] + hex[i], 16)) as [number, number, number];
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return undefined;
}

function luminance(c: string): number | undefined {
  const rgb = parseColor(c);
  return rgb ? (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255 : undefined;
}

function withAlpha(c: string, a: number): string {
  const rgb = parseColor(c);
  return rgb ? `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})` : c;
}

/** Reads the current theme from the computed styles of `el` (or the document). */
export function readTheme(el: Element = document.body): Theme {
  const style = getComputedStyle(el);
  const bodyClass = document.body.classList;
  const background = cssVar(style, '--vscode-editor-background', '');
  const bgLum = background ? luminance(background) : undefined;
  const dark = bodyClass.contains('vscode-dark') || bodyClass.contains('vscode-high-contrast') ? !bodyClass.contains('vscode-high-contrast-light') : bgLum !== undefined ? bgLum < 0.5 : false;
  const foreground = cssVar(style, '--vscode-editor-foreground', cssVar(style, '--vscode-foreground', dark ? '#cccccc' : '#1f1f1f'));
  const muted = cssVar(style, '--vscode-descriptionForeground', withAlpha(foreground, 0.7));
  const border = cssVar(style, '--vscode-panel-border', cssVar(style, '--vscode-editorWidget-border', withAlpha(foreground, 0.25)));
  const fontSizeRaw = parseFloat(cssVar(style, '--vscode-font-size', '13'));
  return {
    foreground,
    background: background || (dark ? '#1e1e1e' : '#ffffff'),
    muted,
    border,
    grid: withAlpha(foreground, 0.12),
    fontFamily: cssVar(style, '--vscode-font-family', 'system-ui, -apple-system, "Segoe UI", sans-serif'),
    fontSize: Number.isFinite(fontSizeRaw) ? fontSizeRaw : 13,
    series: [
      cssVar(style, '--vscode-charts-blue', dark ? '#3794ff' : '#1a85ff'),
      cssVar(style, '--vscode-charts-orange', dark ? '#d18616' : '#d18616'),
      cssVar(style, '--vscode-charts-green', dark ? '#89d185' : '#388a34'),
      cssVar(style, '--vscode-charts-purple', dark ? '#b180d7' : '#652d90'),
      cssVar(style, '--vscode-charts-red', dark ? '#f14c4c' : '#e51400'),
      cssVar(style, '--vscode-charts-yellow', dark ? '#cca700' : '#bf8803'),
    ],
    reference: dark
      ? ['#c8c8c8', '#e0c080', '#80c0e0', '#d0a0d0', '#a0d0a0', '#e09a9a', '#9aa6e0', '#8f8f8f']
      : ['#444444', '#8a6d1e', '#1e6d8a', '#7a3d7a', '#3d7a3d', '#8a3d3d', '#3d4a8a', '#808080'],
    dark,
  };
}

const listeners = new Set<() => void>();
let observer: MutationObserver | undefined;
let scheduled = false;

function notify(): void {
  // Several attribute writes arrive per theme switch; redraw once, after they are all applied.
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const fn of [...listeners]) fn();
  });
}

/**
 * Calls `fn` after the theme changes (body class or the inline style that carries the --vscode-*
 * variables). One observer serves every output; it is disconnected when the last listener goes.
 */
export function onThemeChange(fn: () => void): Disposable {
  listeners.add(fn);
  if (!observer) {
    observer = new MutationObserver(notify);
    const opts: MutationObserverInit = { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind', 'data-vscode-theme-id'] };
    observer.observe(document.documentElement, opts);
    if (document.body) observer.observe(document.body, opts);
  }
  return {
    dispose: () => {
      listeners.delete(fn);
      if (listeners.size === 0 && observer) {
        observer.disconnect();
        observer = undefined;
      }
    },
  };
}

/** Number of live theme listeners (for leak checks). */
export function themeListenerCount(): number {
  return listeners.size;
}
