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
