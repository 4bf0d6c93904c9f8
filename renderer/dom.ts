/**
 * DOM helpers shared by every view. Payload strings only ever reach the page through `textContent`,
 * attribute values and plotly labels escaped by {@link plotText}; nothing here parses HTML.
 */

/** Something that releases what it holds. */
export interface Disposable {
  dispose(): void;
}

/**
 * A bag of disposables released together, in reverse order of registration (listeners go before the
 * nodes they listen to). Adding to a disposed store disposes the item at once, so a view that is torn
 * down while it is still being built (the output was re-rendered or removed) cannot leak.
 */
export class DisposableStore implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  /** Whether {@link dispose} has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Registers `item`; returns it for chaining. */
  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  /** Registers a cleanup function. */
  defer(fn: () => void): void {
    this.add({ dispose: fn });
  }

  /** Adds an event listener that is removed when the store is disposed. */
  listen<K extends keyof HTMLElementEventMap>(target: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void): void {
    target.addEventListener(type, fn as EventListener);
    this.defer(() => target.removeEventListener(type, fn as EventListener));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const items = this.items.reverse();
    this.items = [];
    for (const item of items) {
      try {
        item.dispose();
      } catch (e) {
        // One failing cleanup must not keep the others from running.
        console.error('Affordance Lab renderer: cleanup failed', e);
      }
    }
  }
}

interface ElementOptions {
  className?: string;
  /** Set as textContent: never parsed as HTML. */
  text?: string;
  attrs?: Record<string, string>;
  title?: string;
}

/** Creates an element with text (as textContent), attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, options: ElementOptions = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (options.className) el.className = options.className;
  if (options.text !== undefined) el.textContent = options.text;
  if (options.title !== undefined) el.title = options.title;
  for (const [k, v] of Object.entries(options.attrs ?? {})) el.setAttribute(k, v);
  // Strings become text nodes, never markup.
  for (const c of children) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** A labelled <select>; returns the wrapper and the select. */
export function selectControl(label: string, options: { value: string; label: string }[], value: string, className: string): { wrap: HTMLLabelElement; select: HTMLSelectElement } {
  const select = h('select', { className });
  for (const o of options) {
    const opt = h('option', { text: o.label });
    opt.value = o.value;
    select.append(opt);
  }
  select.value = value;
  const wrap = h('label', { className: 'al-control' }, h('span', { text: label }), select);
  return { wrap, select };
}

/** A labelled range input with a live value readout. */
export function rangeControl(label: string, min: number, max: number, step: number, value: number, className: string, format: (v: number) => string): { wrap: HTMLLabelElement; input: HTMLInputElement; readout: HTMLSpanElement } {
  const input = h('input', { className, attrs: { type: 'range', min: String(min), max: String(max), step: String(step) } });
  input.value = String(value);
  const readout = h('span', { className: 'al-range-value', text: format(value) });
  const wrap = h('label', { className: 'al-control' }, h('span', { text: label }), input, readout);
  return { wrap, input, readout };
}

/** A labelled checkbox. */
export function checkboxControl(label: string, checked: boolean, className: string): { wrap: HTMLLabelElement; input: HTMLInputElement } {
  const input = h('input', { className, attrs: { type: 'checkbox' } });
  input.checked = checked;
  const wrap = h('label', { className: 'al-control al-check' }, input, h('span', { text: label }));
  return { wrap, input };
}

/** A group of radio-like toggle buttons; `onChange` gets the chosen value. */
export function segmentedControl(label: string, values: string[], value: string, className: string, onChange: (v: string) => void, store: DisposableStore): { wrap: HTMLDivElement; set(v: string): void } {
  const buttons = values.map((v) => {
    const b = h('button', { className: `al-seg ${className}`, text: v, attrs: { type: 'button', 'data-value': v } });
    store.listen(b, 'click', () => {
      set(v);
      onChange(v);
    });
    return b;
  });
  const set = (v: string): void => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.value === v));
  };
  set(value);
  const wrap = h('div', { className: 'al-control al-segmented', attrs: { role: 'group', 'aria-label': label } }, h('span', { text: label }), ...buttons);
  return { wrap, set };
}

/** Formats a metric-like number compactly (3 significant digits, no exponent for ordinary values). */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

/**
 * Formats a value for tables: three decimals, the precision published tables use, so numbers can be
 * compared with the paper digit for digit, and decimal points line up.
 */
export function fmtTable(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return v.toFixed(1);
  return v.toFixed(3);
}

/** Formats seconds as "1h 02m", "3m 12s" or "42s". */
export function fmtDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec) || sec < 0) return '–';
  const s = Math.round(sec);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Escapes a payload string for plotly, whose labels accept a subset of HTML (`<b>`, `<a href>`, ...):
 * with `<`, `>` and `&` as entities a class named `<b>x</b>` is shown literally, not in bold.
 */
export function plotText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Decodes base64 (no data: prefix) to bytes. */
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  // Native decoding (Chromium 140+) is several times faster than atob + a byte loop on large maps.
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (native) return native.call(Uint8Array, b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Thrown when a render was abandoned because its output was re-rendered or removed. */
export class RenderCancelled extends Error {
  constructor() {
    super('render cancelled');
    this.name = 'RenderCancelled';
  }
}

/** Throws {@link RenderCancelled} if `signal` has fired; call after every await in a view factory. */
export function checkSignal(signal: AbortSignal): void {
  if (signal.aborted) throw new RenderCancelled();
}

/** Coalesces calls into at most one per animation frame. */
export function frameScheduler(fn: () => void, store: DisposableStore): () => void {
  let handle = 0;
  store.defer(() => {
    if (handle) cancelAnimationFrame(handle);
    handle = 0;
  });
  return () => {
    if (handle || store.isDisposed) return;
    handle = requestAnimationFrame(() => {
      handle = 0;
      if (!store.isDisposed) fn();
    });
  };
}

/**
 * Observes size changes of `el` (after layout) and calls `fn`, until the store is disposed. Where the
 * browser reports device pixels (Chromium), a devicePixelRatio change (zoom, another screen) counts
 * as a size change too, so canvases re-allocate their backing store and stay crisp.
 */
export function onResize(el: HTMLElement, fn: () => void, store: DisposableStore): void {
  let last = '';
  const ro = new ResizeObserver((entries) => {
    const e = entries[entries.length - 1];
    const device = e.devicePixelContentBoxSize?.[0]?.inlineSize;
    // Only width matters to our layouts; ignoring height changes avoids redraw loops when content grows.
    const key = `${Math.round(e.contentRect.width)}:${device ?? window.devicePixelRatio}`;
    if (key === last) return;
    last = key;
    fn();
  });
  try {
    ro.observe(el, { box: 'device-pixel-content-box' });
  } catch {
    ro.observe(el);
  }
  store.defer(() => ro.disconnect());
}
