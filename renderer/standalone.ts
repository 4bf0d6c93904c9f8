/**
 * The renderers outside VS Code (HTML reports, docs, test pages): the same `activate` and
 * `renderOutputItem` that VS Code calls, driven by a small context and output-item shim.
 *
 * ```ts
 * import { renderStandalone } from './dist/renderer/renderer.js';
 * const out = await renderStandalone(document.getElementById('cell-3')!, MIME.heatmap, payload);
 * await out.update(nextPayload);   // e.g. a newer training payload, drawn in place
 * out.dispose();                   // purges charts, removes listeners and nodes
 * ```
 */
import type { OutputItem, RendererContext } from 'vscode-notebook-renderer';
import { createRenderer, type AffordanceRendererApi } from './renderer';

/** A drawn standalone output. */
export interface StandaloneOutput {
  /** Output id used with the renderer. */
  readonly id: string;
  /** Draws a new payload for the same output (in place where the view supports it). */
  update(payload: unknown): Promise<void>;
  /** Removes the output and releases everything it holds. */
  dispose(): void;
}

/**
 * A renderer context for pages outside VS Code: trusted, no messaging, state kept in memory.
 * @param isTrusted value of `workspace.isTrusted` @default true
 */
export function createStandaloneContext(isTrusted = true): RendererContext<unknown> {
  let state: unknown;
  return {
    workspace: { isTrusted },
    setState: (v: unknown) => {
      state = v;
    },
    getState: () => state,
    getRenderer: () => Promise.resolve(undefined),
  };
}

/**
 * An OutputItem with VS Code's shape for a JSON payload (or raw text, passed as a string with
 * `raw: true`, e.g. to show what a malformed output looks like).
 */
export function createOutputItem(id: string, mime: string, payload: unknown, raw = false): OutputItem {
  const text = raw && typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    id,
    mime,
    metadata: undefined,
    text: () => text,
    json: () => JSON.parse(text) as unknown,
    data: () => new TextEncoder().encode(text),
    blob: () => new Blob([text], { type: mime }),
  };
}

let shared: AffordanceRendererApi | undefined;
let counter = 0;

/**
 * Draws one Affordance Lab output into `container` outside VS Code. Never rejects for a bad payload:
 * like in VS Code, the output then shows an error box.
 * @param container element the output is drawn into (its content is replaced)
 * @param mime one of the five `application/vnd.affordance-lab.*.v1+json` types
 * @param payload the JSON payload (as the kernel wrote it into the notebook)
 * @returns a handle to update or dispose the output
 */
export async function renderStandalone(container: HTMLElement, mime: string, payload: unknown): Promise<StandaloneOutput> {
  shared ??= createRenderer(createStandaloneContext());
  const api = shared;
  const id = `standalone-${++counter}`;
  await api.renderOutputItem(createOutputItem(id, mime, payload), container, new AbortController().signal);
  return {
    id,
    update: (next: unknown) => api.renderOutputItem(createOutputItem(id, mime, next), container, new AbortController().signal),
    dispose: () => api.disposeOutputItem(id),
  };
}
