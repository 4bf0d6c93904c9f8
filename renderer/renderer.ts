/**
 * The renderer core: one view per output id, dispatched by MIME type, each owning a DisposableStore that
 * is released when the output is removed or drawn again. Updates of an output (same id, same element,
 * e.g. live training) go to the existing view when it can take them in place.
 */
import type { OutputItem, RendererApi, RendererContext } from 'vscode-notebook-renderer';
import type { AffordanceMime } from '../kernel/protocol';
import { DisposableStore, RenderCancelled, h } from './dom';
import { viewMemory, type ViewMemory } from './memory';
import { ensureStyles } from './styles';
import { themeListenerCount } from './theme';
import { PayloadError, UnsupportedVersionError } from './validate';
import { renderHeatmap } from './heatmap';
import { renderKeypoints } from './keypoints';
import { renderMetrics } from './metrics';
import { renderTraining } from './training';
import { renderDataset } from './dataset';

/** What a view factory gets besides its payload. */
export interface ViewEnv {
  /** Fires when the render is abandoned (re-render, removal, or VS Code's cancellation). */
  signal: AbortSignal;
  /** Everything the view registers here is released on dispose. */
  store: DisposableStore;
  /** The output's saved control values. */
  memory: ViewMemory;
}

/** A drawn output. `update` takes a new payload in place; returning false asks for a rebuild. */
export interface View {
  update?(payload: unknown, signal: AbortSignal): Promise<boolean>;
}

type ViewFactory = (root: HTMLElement, payload: unknown, env: ViewEnv) => Promise<View>;

const FACTORIES: Record<AffordanceMime, ViewFactory> = {
  'application/vnd.affordance-lab.heatmap.v1+json': renderHeatmap,
  'application/vnd.affordance-lab.keypoints.v1+json': renderKeypoints,
  'application/vnd.affordance-lab.metrics.v1+json': renderMetrics,
  'application/vnd.affordance-lab.training.v1+json': renderTraining,
  'application/vnd.affordance-lab.dataset.v1+json': renderDataset,
};

interface Entry {
  element: HTMLElement;
  root: HTMLElement;
  mime: string;
  store: DisposableStore;
  abort: AbortController;
  view?: View;
  /** Set while the view shows an error box (an update then rebuilds). */
  failed: boolean;
}

/** Counters exposed for leak checks in tests and diagnostics. */
export interface RendererStats {
  outputs: number;
  themeListeners: number;
}

/** The renderer API plus the diagnostics hook. */
export interface AffordanceRendererApi extends RendererApi {
  renderOutputItem(outputItem: OutputItem, element: HTMLElement, signal: AbortSignal): Promise<void>;
  disposeOutputItem(id?: string): void;
  stats(): RendererStats;
}

/**
 * Creates the renderer for a context (VS Code's, or the standalone one of {@link renderStandalone}).
 * The context's state keeps each output's control settings (see memory.ts).
 */
export function createRenderer(context: RendererContext<unknown>): AffordanceRendererApi {
  const outputs = new Map<string, Entry>();

  const disposeEntry = (id: string): void => {
    const entry = outputs.get(id);
    if (!entry) return;
    outputs.delete(id);
    entry.abort.abort();
    entry.store.dispose();
    entry.root.remove();
  };

  const linkSignal = (outer: AbortSignal, inner: AbortController): (() => void) => {
    if (outer.aborted) {
      inner.abort();
      return () => undefined;
    }
    const onAbort = (): void => inner.abort();
    outer.addEventListener('abort', onAbort, { once: true });
    return () => outer.removeEventListener('abort', onAbort);
  };

  const api: AffordanceRendererApi = {
    async renderOutputItem(item, element, signal) {
      ensureStyles(element.ownerDocument);
      let payload: unknown;
      let parseError: unknown;
      try {
        payload = item.json();
      } catch (e) {
        parseError = e;
      }

      const prev = outputs.get(item.id);
      if (prev && !parseError && !prev.failed && prev.element === element && prev.mime === item.mime && prev.view?.update) {
        const unlink = linkSignal(signal, prev.abort);
        try {
          if (await prev.view.update(payload, prev.abort.signal)) return;
        } catch (e) {
          if (e instanceof RenderCancelled || prev.abort.signal.aborted) return;
          // Fall through: a rebuild shows the error box for the bad update.
        } finally {
          unlink();
        }
      }

      disposeEntry(item.id);
      // The element is ours: drop whatever an earlier renderer or rendering left in it.
      element.replaceChildren();
      const root = h('div', { className: 'al-root', attrs: { 'data-output-id': item.id, 'data-mime': item.mime } });
      element.append(root);
      const entry: Entry = { element, root, mime: item.mime, store: new DisposableStore(), abort: new AbortController(), failed: false };
      outputs.set(item.id, entry);
      const unlink = linkSignal(signal, entry.abort);
      try {
        if (parseError) throw new PayloadError(mimeKind(item.mime), '', `the output is not valid JSON (${errorMessage(parseError)})`);
        const factory = (FACTORIES as Record<string, ViewFactory | undefined>)[item.mime];
        if (!factory) throw new Error(`no Affordance Lab view for MIME type ${JSON.stringify(item.mime)}; this renderer draws ${Object.keys(FACTORIES).join(', ')}`);
        entry.view = await factory(root, payload, { signal: entry.abort.signal, store: entry.store, memory: viewMemory(context, item.id) });
      } catch (e) {
        if (e instanceof RenderCancelled || entry.abort.signal.aborted) {
          // Cancelled by VS Code (not replaced by a newer render): drop the half-built view.
          if (outputs.get(item.id) === entry) disposeEntry(item.id);
          return;
        }
        entry.failed = true;
        entry.store.dispose();
        entry.store = new DisposableStore();
        root.replaceChildren(errorBox(e, item));
      } finally {
        unlink();
      }
    },

    disposeOutputItem(id) {
      if (id === undefined) for (const k of [...outputs.keys()]) disposeEntry(k);
      else disposeEntry(id);
    },

    stats() {
      return { outputs: outputs.size, themeListeners: themeListenerCount() };
    },
  };
  return api;
}

function mimeKind(mime: string): string {
  const m = /^application\/vnd\.affordance-lab\.([a-z]+)\./.exec(mime);
  return m ? m[1] : mime;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The box shown instead of a view: what failed, why, and the start of the raw output. */
function errorBox(e: unknown, item: OutputItem): HTMLElement {
  const title =
    e instanceof UnsupportedVersionError
      ? `This ${e.kind} output was written by a newer version of Affordance Lab`
      : e instanceof PayloadError
        ? `This ${e.kind} output cannot be drawn: the payload is malformed`
        : 'Affordance Lab could not draw this output';
  const box = h('div', { className: 'al-error', attrs: { role: 'alert' } }, h('div', { className: 'al-error-title', text: title }), h('div', { className: 'al-error-message', text: errorMessage(e) }));
  let raw = '';
  try {
    raw = item.text();
  } catch {
    raw = '';
  }
  const details = h('details', {}, h('summary', { text: `Output ${item.mime} (${raw.length.toLocaleString('en-US')} characters)` }));
  details.append(h('pre', { text: raw.length > 2000 ? raw.slice(0, 2000) + '…' : raw }));
  box.append(details);
  return box;
}
