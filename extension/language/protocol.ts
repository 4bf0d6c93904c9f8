/**
 * Messages between the extension host and the language worker (a worker thread that owns every
 * notebook's TypeScript program, so that parsing and checking never hold up the extension host).
 *
 *   host -> worker   LanguageRequest: open a notebook's service, close it, or call one of its methods;
 *                    a call may carry the notebook's current cells, applied before the method runs
 *   worker -> host   LanguageResponse: the method's value, or the error's message, under the request's id
 */
import type { NotebookLanguageService, NotebookLanguageServiceOptions } from './core/service';
import type { CellInput } from './core/types';

/** The service methods a host may call, by name. */
export type LanguageMethod = 'getCompletions' | 'getCompletionDetails' | 'getHover' | 'getSignatureHelp' | 'getDefinition' | 'getDiagnostics' | 'cellIds';

export type LanguageMethods = Pick<NotebookLanguageService, LanguageMethod>;

export type LanguageRequest =
  | { readonly id: number; readonly kind: 'open'; readonly notebook: string; readonly options: NotebookLanguageServiceOptions }
  | { readonly id: number; readonly kind: 'close'; readonly notebook: string }
  | { readonly id: number; readonly kind: 'call'; readonly notebook: string; readonly method: LanguageMethod; readonly args: readonly unknown[]; readonly cells?: readonly CellInput[] };

export type LanguageResponse = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string };
