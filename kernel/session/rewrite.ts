/**
 * The rewrite that turns a compiled cell (plain ES2022 after esbuild's transform) into a script for
 * V8's REPL mode:
 *
 * - static `import` declarations become awaited calls to the kernel's importer, declared with `let`
 *   (REPL mode lets a re-run cell declare them again);
 * - top-level `const` and `class` declarations become `let` (see below);
 * - dynamic `import(x)` calls the kernel's importer, `import.meta` is the notebook's;
 * - every `await x` becomes `await __k.w(x)`, which races `x` against the cell's AbortSignal so that an
 *   interrupted async loop stops at its next await;
 * - a final expression statement is handed to `__k.last(...)`, which displays its value;
 * - `export` keywords are dropped (a cell is a script, its declarations are already session-wide).
 *
 * The output keeps every other character where it was, and a source map (magic-string) leads back.
 */
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

type MagicStringClass = typeof import('magic-string', { with: { 'resolution-mode': 'import' } }).default;
let MagicString: MagicStringClass | undefined;

/** Loads the rewriter's dependencies (magic-string is an ES module); call once before {@link rewriteCell}. */
export async function loadRewriter(): Promise<void> {
  MagicString ??= (await import('magic-string')).default;
}

/** Name of the kernel's helper object inside cell code. */
export const HELPER = '__k';

export interface RewriteResult {
  code: string;
  /** Source map of the rewrite (input: the compiled cell), created on demand. */
  map(): RawMap;
  /** Whether the cell ends with an expression whose value is displayed. */
  hasLastExpression: boolean;
}

export interface RawMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  file?: string;
  sourcesContent?: (string | null)[];
}

/** A syntax error with the 1-based line and 0-based column of the compiled code. */
export class RewriteSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'SyntaxError';
  }
}

type Node = acorn.Node & Record<string, unknown>;

function importCall(source: string): string {
  return `await ${HELPER}.w(${HELPER}.import(${source}))`;
}

/** Rewrites one ImportDeclaration into a `const` declaration (or a bare awaited call). */
function rewriteImport(node: acorn.ImportDeclaration, src: string): string {
  const source = src.slice(node.source.start, node.source.end);
  if (node.specifiers.length === 0) return `${importCall(source)};`;
  const ns = node.specifiers.find((s): s is acorn.ImportNamespaceSpecifier => s.type === 'ImportNamespaceSpecifier');
  const def = node.specifiers.find((s): s is acorn.ImportDefaultSpecifier => s.type === 'ImportDefaultSpecifier');
  const named = node.specifiers.filter((s): s is acorn.ImportSpecifier => s.type === 'ImportSpecifier');
  const key = (s: acorn.ImportSpecifier): string =>
    s.imported.type === 'Identifier' ? s.imported.name : JSON.stringify(String(s.imported.value));
  if (ns) {
    // `import d, * as ns from 'm'`: the namespace first, the default from it.
    const parts = [`${ns.local.name} = ${importCall(source)}`];
    if (def) parts.push(`${def.local.name} = ${HELPER}.d(${ns.local.name}).default`);
    return `let ${parts.join(', ')};`;
  }
  const props: string[] = [];
  if (def) props.push(`default: ${def.local.name}`);
  for (const s of named) {
    const k = key(s);
    props.push(k === s.local.name ? k : `${k}: ${s.local.name}`);
  }
  // A default import of a module without one (the kernel's bundled namespaces) gets the namespace.
  const value = def ? `${HELPER}.d(${importCall(source)})` : importCall(source);
  return `let { ${props.join(', ')} } = ${value};`;
}

/**
 * Rewrites compiled cell code. Throws {@link RewriteSyntaxError} when the code does not parse
 * (for example a declaration repeated inside the same cell).
 */
export function rewriteCell(code: string, sourceName: string): RewriteResult {
  let program: acorn.Program;
  try {
    program = acorn.parse(code, {
      ecmaVersion: 'latest',
      sourceType: 'module',
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: false,
      locations: false,
    });
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    const message = err.message.replace(/ \(\d+:\d+\)$/, '');
    throw new RewriteSyntaxError(message, err.loc?.line ?? 1, err.loc?.column ?? 0);
  }
  if (!MagicString) throw new Error('rewriteCell: loadRewriter() was not awaited');
  const ms = new MagicString(code);

  // V8's REPL mode re-declares a `let` as `let` and a `const` as `const`, but not one as the other: a
  // cell edited from `let x` to `const x` would fail. Top-level lexical declarations are therefore all
  // `let` (assignments to a const inside its own cell are still rejected by esbuild's transform).
  const lexical = (decl: acorn.Declaration | acorn.Expression | acorn.FunctionDeclaration | acorn.ClassDeclaration | acorn.AnonymousFunctionDeclaration | acorn.AnonymousClassDeclaration | null | undefined): void => {
    if (!decl) return;
    if (decl.type === 'VariableDeclaration' && decl.kind === 'const') ms.overwrite(decl.start, decl.start + 'const'.length, 'let');
    else if (decl.type === 'ClassDeclaration' && decl.id) {
      ms.appendLeft(decl.start, `let ${decl.id.name} = `);
      ms.prependRight(decl.end, ';');
    }
  };
  for (const stmt of program.body) {
    switch (stmt.type) {
      case 'ImportDeclaration':
        ms.overwrite(stmt.start, stmt.end, rewriteImport(stmt, code));
        break;
      case 'VariableDeclaration':
      case 'ClassDeclaration':
        lexical(stmt);
        break;
      case 'ExportNamedDeclaration':
        if (stmt.declaration) {
          ms.remove(stmt.start, stmt.declaration.start);
          lexical(stmt.declaration);
        } else ms.remove(stmt.start, stmt.end);
        break;
      case 'ExportDefaultDeclaration':
        ms.remove(stmt.start, stmt.declaration.start);
        break;
      case 'ExportAllDeclaration':
        ms.remove(stmt.start, stmt.end);
        break;
      default:
        break;
    }
  }

  walk.full(program, (n) => {
    const node = n as Node;
    if (node.type === 'AwaitExpression') {
      const arg = (node as unknown as acorn.AwaitExpression).argument;
      ms.appendLeft(arg.start, `${HELPER}.w(`);
      ms.prependRight(arg.end, ')');
    } else if (node.type === 'ImportExpression') {
      ms.overwrite(node.start, node.start + 'import'.length, `${HELPER}.import`);
    } else if (node.type === 'MetaProperty') {
      const mp = node as unknown as acorn.MetaProperty;
      if (mp.meta.name === 'import') ms.overwrite(node.start, node.end, `${HELPER}.meta`);
    }
  });

  const last = program.body[program.body.length - 1];
  let hasLastExpression = false;
  if (last && last.type === 'ExpressionStatement') {
    const expr = last.expression;
    ms.appendLeft(expr.start, `${HELPER}.last((`);
    ms.prependRight(expr.end, '))');
    hasLastExpression = true;
  }

  return {
    code: ms.toString(),
    map: () => {
      const m = ms.generateMap({ hires: true, source: sourceName, includeContent: false });
      return { version: m.version, sources: m.sources, names: m.names, mappings: m.mappings, file: m.file };
    },
    hasLastExpression,
  };
}
