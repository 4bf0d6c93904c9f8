/**
 * Which cells and notebooks belong to this kernel. Plain Node (no `vscode` import).
 */
import type { CellLanguage } from '../kernel/protocol';

/**
 * Language ids the controller accepts. `affordance-ts` is a TypeScript-highlighted id contributed by
 * this extension so that VS Code's own TypeScript checker, which sees each cell as a separate file,
 * does not report false errors for names declared in earlier cells. It comes first: VS Code gives new
 * cells of a notebook the first language of its selected kernel.
 */
export const SUPPORTED_LANGUAGE_IDS = ['affordance-ts', 'typescript', 'javascript'] as const;

/** The notebook-aware TypeScript cell language this extension contributes (package.json `languages`). */
export const AFFORDANCE_TS_LANGUAGE_ID = SUPPORTED_LANGUAGE_IDS[0];

/** The kernelspec name a notebook written for this kernel carries in its Jupyter metadata. */
export const KERNELSPEC_NAME = 'affordance-lab';

/** The notebook type of .ipynb files (VS Code's built-in serializer), the one this kernel runs. */
export const JUPYTER_NOTEBOOK_TYPE = 'jupyter-notebook';

/** The kernel's language for an editor language id, or undefined for a language it does not run. */
export function cellLanguage(languageId: string): CellLanguage | undefined {
  switch (languageId.toLowerCase()) {
    case 'typescript':
    case 'affordance-ts':
    case 'ts':
      return 'typescript';
    case 'javascript':
    case 'js':
      return 'javascript';
    default:
      return undefined;
  }
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/**
 * The notebook-level Jupyter metadata (kernelspec, language_info) wherever the host keeps it: at the top
 * of an .ipynb file, or inside VS Code's notebook metadata (`metadata.metadata` in current versions of
 * the ipynb serializer, `custom.metadata` in older ones).
 */
export function jupyterMetadata(notebookMetadata: unknown): Json {
  const m = obj(notebookMetadata) ?? {};
  return obj(obj(m.custom)?.metadata) ?? obj(m.metadata) ?? m;
}

/** The notebook's declared language (language_info.name, else kernelspec.language), lower case. */
export function notebookLanguage(notebookMetadata: unknown): string | undefined {
  const m = jupyterMetadata(notebookMetadata);
  const info = obj(m.language_info)?.name;
  const spec = obj(m.kernelspec)?.language;
  const name = typeof info === 'string' ? info : typeof spec === 'string' ? spec : undefined;
  return name?.toLowerCase();
}

/**
 * Whether this kernel should be the notebook's preferred one: its metadata declares TypeScript, or one
 * of its code cells is TypeScript. A JavaScript-only notebook is left to other kernels (Node kernels
 * claim it as well) but can still pick this one.
 */
export function prefersThisKernel(notebookMetadata: unknown, codeCellLanguageIds: readonly string[]): boolean {
  const lang = notebookLanguage(notebookMetadata);
  if (lang === 'typescript' || lang === 'ts') return true;
  const spec = obj(jupyterMetadata(notebookMetadata).kernelspec)?.name;
  if (typeof spec === 'string' && /typescript|affordance/i.test(spec)) return true;
  return codeCellLanguageIds.some((id) => cellLanguage(id) === 'typescript');
}

/** The Jupyter metadata a notebook created by this extension starts with: it preselects this kernel. */
export const NEW_NOTEBOOK_METADATA = {
  kernelspec: { display_name: 'Affordance Lab (TypeScript)', language: 'typescript', name: KERNELSPEC_NAME },
  language_info: { file_extension: '.ts', name: 'typescript' },
} as const;

/** What `claimsBlankNotebook` needs to know of one cell. */
export interface CellSketch {
  code: boolean;
  text: string;
}

/**
 * Whether a notebook is one the editor has just created with nothing in it: not saved anywhere yet
 * (`untitled`), no kernel or language in its metadata, and only empty code cells. VS Code's own
 * "New Jupyter Notebook" creates one such notebook with an empty Python cell; where no other extension
 * provides kernels for Jupyter notebooks, this kernel is the one the editor shows for it, and its cell is
 * given notebook-aware TypeScript at once (instead of at the first run).
 */
export function claimsBlankNotebook(scheme: string, notebookMetadata: unknown, cells: readonly CellSketch[], otherKernelProviders: readonly string[]): boolean {
  if (scheme !== 'untitled' || otherKernelProviders.length > 0 || cells.length === 0) return false;
  const m = jupyterMetadata(notebookMetadata);
  if (m.kernelspec !== undefined || m.language_info !== undefined) return false;
  return cells.every((c) => c.code && c.text.trim() === '');
}

/** What `kernelProviders` needs to know of one installed extension. */
export interface ExtensionSketch {
  id: string;
  builtin: boolean;
  activationEvents: readonly string[];
}

/**
 * Installed extensions other than this one that may provide kernels for Jupyter notebooks: those that
 * activate when one opens (VS Code's built-in .ipynb support only reads and writes the files).
 */
export function kernelProviders(extensions: readonly ExtensionSketch[], selfId: string): string[] {
  return extensions
    .filter((e) => e.id.toLowerCase() !== selfId.toLowerCase() && !e.builtin)
    .filter((e) => e.activationEvents.some((ev) => ev === 'onNotebook:jupyter-notebook' || ev === 'onNotebook:*'))
    .map((e) => e.id);
}
