import type { MimeBundle } from './protocol';

/**
 * Rich display, shared by the kernel session and the `affordance-lab` library.
 *
 * An object is displayable when it has a method under {@link MIME_BUNDLE} returning a MIME bundle (a
 * custom JSON MIME type plus its fallback). `display(value)` sends it to the running cell through the
 * sink that the kernel session installs; outside a kernel (plain Node, tests) there is no sink and
 * display only returns a handle whose bundle can be inspected.
 */
export const MIME_BUNDLE: unique symbol = Symbol.for('affordance-lab.mimeBundle');

/** Marks the handles returned by {@link display}, so that a cell ending in `display(x)` shows x once. */
export const DISPLAY_HANDLE: unique symbol = Symbol.for('affordance-lab.displayHandle');

export interface Displayable {
  [MIME_BUNDLE](): MimeBundle;
}

export function isDisplayable(value: unknown): value is Displayable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Displayable>)[MIME_BUNDLE] === 'function';
}

export interface DisplayHandle {
  /** Present on every handle made by {@link display}. */
  readonly [DISPLAY_HANDLE]?: true;
  readonly id: string;
  /** The bundle last sent (after conversion), useful in tests and outside a kernel. */
  readonly bundle: MimeBundle;
  /** Replace this output in place (throttled by the kernel; the last update always arrives). */
  update(value: unknown): void;
  /** Remove this output. */
  clear(): void;
}

export interface DisplaySink {
  display(bundle: MimeBundle, displayId: string, update: boolean): void;
  clear(displayId: string): void;
  /** Converts any value (displayable, string, plain object) into a bundle. */
  toBundle(value: unknown): MimeBundle;
}

let sink: DisplaySink | undefined;
let counter = 0;

/** Installed by the kernel session; tests may install their own to capture outputs. */
export function setDisplaySink(s: DisplaySink | undefined): void {
  sink = s;
}

/** The bundle for a value without a kernel: displayables as they are, anything else as text/plain. */
export function defaultBundle(value: unknown): MimeBundle {
  if (isDisplayable(value)) return value[MIME_BUNDLE]();
  if (typeof value === 'string') return { 'text/plain': value };
  try {
    return { 'text/plain': JSON.stringify(value, null, 2) ?? String(value) };
  } catch {
    return { 'text/plain': String(value) };
  }
}

/** Shows a value as a rich output in the running cell and returns a handle to update or clear it. */
export function display(value: unknown, options: { id?: string } = {}): DisplayHandle {
  const id = options.id ?? `display-${process.pid}-${++counter}`;
  const toBundle = (v: unknown): MimeBundle => (sink ? sink.toBundle(v) : defaultBundle(v));
  let bundle = toBundle(value);
  sink?.display(bundle, id, false);
  return {
    [DISPLAY_HANDLE]: true,
    id,
    get bundle() {
      return bundle;
    },
    update(v: unknown) {
      bundle = toBundle(v);
      sink?.display(bundle, id, true);
    },
    clear() {
      sink?.clear(id);
    },
  };
}
