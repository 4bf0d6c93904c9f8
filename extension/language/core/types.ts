/**
 * Plain data that the notebook language service takes and returns: positions are zero-based lines and
 * UTF-16 characters inside one cell, as in VS Code, so an adapter only has to wrap them.
 */

/** One code cell, in the order the notebook runs them (top to bottom). */
export interface CellInput {
  /** Stable for the cell's life (the adapter uses the cell document's URI). */
  readonly id: string;
  readonly text: string;
}

export interface CellPosition {
  readonly line: number;
  readonly character: number;
}

export interface CellRange {
  readonly start: CellPosition;
  readonly end: CellPosition;
}

/** Where a definition lives: in a cell of this notebook, or in a real file (a library's .d.ts, a local module). */
export type DefinitionLocation =
  | { readonly kind: 'cell'; readonly cellId: string; readonly range: CellRange }
  | { readonly kind: 'file'; readonly fileName: string; readonly range: CellRange };

export type DiagnosticSeverity = 'error' | 'warning' | 'suggestion' | 'message';

export interface CellDiagnostic {
  readonly cellId: string;
  readonly range: CellRange;
  readonly message: string;
  readonly severity: DiagnosticSeverity;
  /** TypeScript's error code (e.g. 2322). */
  readonly code: number;
}

export interface CompletionEntry {
  readonly name: string;
  /** TypeScript's ScriptElementKind (`function`, `const`, `method`, `property`, …). */
  readonly kind: string;
  readonly kindModifiers: string;
  readonly sortText: string;
  readonly insertText?: string;
  /** The text the completion replaces, when TypeScript names it. */
  readonly replacementRange?: CellRange;
  /** Passed back to {@link NotebookLanguageServiceApi.getCompletionDetails} (module of an export, …). */
  readonly source?: string;
  readonly data?: unknown;
}

export interface CompletionList {
  readonly isIncomplete: boolean;
  readonly isMemberCompletion: boolean;
  readonly entries: readonly CompletionEntry[];
}

export interface CompletionDetails {
  /** The declaration as TypeScript prints it (`function tensor2d(values: …): Tensor2D`). */
  readonly detail: string;
  /** TSDoc as Markdown. */
  readonly documentation: string;
}

export interface HoverInfo {
  readonly text: string;
  /** TSDoc as Markdown. */
  readonly documentation: string;
  readonly range: CellRange;
}

export interface SignatureInfo {
  readonly label: string;
  readonly documentation: string;
  /** Each parameter as [start, end) offsets into {@link SignatureInfo.label}, with its documentation. */
  readonly parameters: readonly { readonly label: readonly [number, number]; readonly documentation: string }[];
}

export interface SignatureHelpResult {
  readonly signatures: readonly SignatureInfo[];
  readonly activeSignature: number;
  readonly activeParameter: number;
}
