/**
 * Compiling a cell: esbuild's transform (types stripped, ES2022, a source map) followed by the rewrite
 * for V8's REPL mode (see rewrite.ts). The two source maps are composed only when a stack trace needs
 * them, so that a trivial cell costs one transform and one parse.
 */
import { transform, type TransformFailure } from './esbuild';
import remapping, { type EncodedSourceMap } from '@ampproject/remapping';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import type { CellLanguage } from '../protocol';
import { loadRewriter, rewriteCell, RewriteSyntaxError, type DeclarationKind, type RewriteOptions } from './rewrite';

/** A cell ready to evaluate. */
export interface CompiledCell {
  /** Code to evaluate, ending with its `//# sourceURL`. */
  code: string;
  /** The sourceURL under which V8 reports the cell's frames. */
  url: string;
  /** Source map from `code` back to the cell text, built on first use. */
  traceMap(): TraceMap;
  /** The cell's top-level names and their kinds (see rewrite.ts). */
  declared: Map<string, DeclarationKind>;
}

/** A compile error located in the cell's own text (1-based line, 1-based column). */
export class CellCompileError extends Error {
  constructor(
    message: string,
    readonly label: string,
    readonly line: number,
    readonly column: number,
    readonly lineText?: string,
  ) {
    super(message);
    this.name = 'SyntaxError';
  }

  /** Stack in V8's form, pointing at the cell. */
  get cellStack(): string {
    const excerpt = this.lineText !== undefined ? `\n\n  ${this.lineText}\n  ${' '.repeat(Math.max(0, this.column - 1))}^` : '';
    return `${this.name}: ${this.message}\n    at ${this.label}:${this.line}:${this.column}${excerpt}`;
  }
}

function isTransformFailure(e: unknown): e is TransformFailure {
  return e instanceof Error && Array.isArray((e as Partial<TransformFailure>).errors);
}

/**
 * Compiles the text of one cell.
 * @param code the cell's text
 * @param language typescript (types stripped) or javascript
 * @param label name shown in stack traces, e.g. "Cell 3"
 * @param url sourceURL to evaluate under (unique per run, no spaces)
 * @param options names of earlier cells' consts (assignments to them throw)
 * @throws CellCompileError for syntax errors, with the cell's line and column
 */
export async function compileCell(code: string, language: CellLanguage, label: string, url: string, options: RewriteOptions = {}): Promise<CompiledCell> {
  let js: string;
  let esbuildMap: string;
  try {
    const out = await transform(code, {
      loader: language === 'typescript' ? 'ts' : 'js',
      target: 'es2022',
      sourcemap: 'external',
      sourcefile: label,
      // Keep imports whose bindings are only used by later cells.
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
      logLevel: 'silent',
    });
    // Top-level consts run as `let` (see rewrite.ts), so an assignment to one is refused here instead.
    const constAssign = out.warnings.find((w) => w.id === 'assign-to-constant');
    if (constAssign) {
      const loc = constAssign.location;
      throw new CellCompileError(constAssign.text.replace('will throw because', 'is not allowed:'), label, loc?.line ?? 1, (loc?.column ?? 0) + 1, loc?.lineText);
    }
    js = out.code;
    esbuildMap = out.map;
  } catch (e) {
    if (isTransformFailure(e) && e.errors.length > 0) {
      const first = e.errors[0];
      const loc = first.location;
      throw new CellCompileError(first.text, label, loc?.line ?? 1, (loc?.column ?? 0) + 1, loc?.lineText);
    }
    throw e;
  }
  await loadRewriter();
  let rewritten;
  try {
    rewritten = rewriteCell(js, label, options);
  } catch (e) {
    if (e instanceof RewriteSyntaxError) {
      // Locate the error in the cell's text through esbuild's map.
      const pos = originalPositionFor(new TraceMap(esbuildMap), { line: e.line, column: e.column });
      const line = pos.line ?? e.line;
      const column = (pos.column ?? e.column) + 1;
      throw new CellCompileError(e.message, label, line, column, code.split('\n')[line - 1]);
    }
    throw e;
  }
  let traced: TraceMap | undefined;
  return {
    code: `${rewritten.code}\n//# sourceURL=${url}`,
    url,
    declared: rewritten.declared,
    traceMap() {
      if (!traced) {
        const first = rewritten.map() as EncodedSourceMap;
        const composed = remapping([first, esbuildMap], () => null);
        traced = new TraceMap(composed.toString());
      }
      return traced;
    },
  };
}

/** Maps a 1-based line and column of compiled code to the cell's own text (1-based both). */
export function mapPosition(map: TraceMap, line: number, column: number): { line: number; column: number } | undefined {
  const pos = originalPositionFor(map, { line, column: Math.max(0, column - 1) });
  if (pos.line === null || pos.column === null) return undefined;
  return { line: pos.line, column: pos.column + 1 };
}
