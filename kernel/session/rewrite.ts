// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- eslint-scope ships no types; they are declared next to this file
/// <reference path="./eslint-scope.d.ts" />
/**
 * The rewrite that turns a compiled cell (plain ES2022 after esbuild's transform) into a script for
 * V8's REPL mode:
 *
 * - static `import` declarations become awaited calls to the kernel's importer, declared with `let`
 *   (REPL mode lets a re-run cell declare them again); the names the cell uses are checked against the
 *   module's exports, so a missing one is a SyntaxError as in Node;
 * - every top-level declaration becomes a `let` binding (see {@link rewriteCell}): `const`, `class`,
 *   `var` (hoisted), `function` (hoisted with its value) and TypeScript's enums and namespaces (which
 *   esbuild emits as `var`), so that a later cell may declare the same name with another kind;
 * - assignments to a `const` of an earlier cell throw a TypeError, as they would in one script;
 * - `for await (x of it)` iterates through the kernel's helper, whose `next()` honours an interrupt;
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
import { analyze, type Scope } from 'eslint-scope';

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
  /** The names the cell declares at its top level, with the kind they have for later cells. */
  declared: Map<string, DeclarationKind>;
}

/** How later cells may use a name: a `const` (and an import binding) cannot be assigned to. */
export type DeclarationKind = 'const' | 'let';

/** Options of {@link rewriteCell}. */
export interface RewriteOptions {
  /** Names that are `const` bindings of earlier cells: assigning to one throws a TypeError. */
  consts?: ReadonlySet<string>;
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

function importCall(source: string, names: readonly string[] = []): string {
  const checked = names.length > 0 ? `, ${JSON.stringify(names)}` : '';
  return `await ${HELPER}.w(${HELPER}.import(${source}${checked}))`;
}

/** Rewrites one ImportDeclaration into a `const` declaration (or a bare awaited call). */
function rewriteImport(node: acorn.ImportDeclaration, src: string, used: (local: string) => boolean): string {
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
  // Names used as values in this cell must exist (a name used only in types is gone after the type strip).
  const checked: string[] = [];
  for (const s of named) {
    const k = key(s);
    props.push(k === s.local.name ? k : `${k}: ${s.local.name}`);
    if (used(s.local.name)) checked.push(s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value));
  }
  // A default import of a module without one (the kernel's bundled namespaces) gets the namespace.
  const value = def ? `${HELPER}.d(${importCall(source, checked)})` : importCall(source, checked);
  return `let { ${props.join(', ')} } = ${value};`;
}

/** Names bound by a declaration pattern. */
function patternNames(p: acorn.Pattern | null | undefined, out: string[]): string[] {
  if (!p) return out;
  switch (p.type) {
    case 'Identifier':
      out.push(p.name);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern':
      for (const el of p.elements) patternNames(el, out);
      break;
    case 'RestElement':
      patternNames(p.argument, out);
      break;
    case 'AssignmentPattern':
      patternNames(p.left, out);
      break;
    default:
      break;
  }
  return out;
}

/**
 * Rewrites compiled cell code. Throws {@link RewriteSyntaxError} when the code does not parse
 * (for example a declaration repeated inside the same cell).
 *
 * V8's REPL mode lets a re-run cell declare a `let` again as `let` (or as `class`), and a `const` as
 * `const`, but not one kind as another, and never a `var` or `function` as a lexical binding or the
 * reverse ("Identifier has already been declared"). Every top-level declaration is therefore a `let`:
 * a `var` or `function` is declared with `let` at the start of the cell (a function with its value, so
 * it is hoisted as before), a `class` is `let K = class K {}`, and a `const` is a `let` whose constness
 * the kernel keeps: inside its own cell esbuild refuses an assignment to it, and in later cells an
 * assignment to it goes through `__k.cc`, which throws "Assignment to constant variable." as V8 does.
 * (A `var` or `function` of a cell is thus never a property of `globalThis`, and a cell cannot replace
 * a global such as `performance` for the rest of the process.)
 */
export function rewriteCell(code: string, sourceName: string, options: RewriteOptions = {}): RewriteResult {
  let program: acorn.Program;
  try {
    program = acorn.parse(code, {
      ecmaVersion: 'latest',
      sourceType: 'module',
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: false,
      locations: false,
      ranges: true,
    });
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    const message = err.message.replace(/ \(\d+:\d+\)$/, '');
    throw new RewriteSyntaxError(message, err.loc?.line ?? 1, err.loc?.column ?? 0);
  }
  if (!MagicString) throw new Error('rewriteCell: loadRewriter() was not awaited');
  const ms = new MagicString(code);
  const declared = new Map<string, DeclarationKind>();
  /** Names declared `let` at the start of the cell (vars and functions). */
  const hoisted = new Set<string>();
  const consts = options.consts ?? new Set<string>();

  // Scope analysis only when a cell has something that needs it (most cells have neither).
  const needsScopes = program.body.some((s) => s.type === 'ImportDeclaration' && s.specifiers.some((x) => x.type === 'ImportSpecifier')) || (consts.size > 0 && mentionsAny(program, consts));
  const scopes = needsScopes ? analyze(program, { ecmaVersion: 2022, sourceType: 'module' }) : undefined;
  const moduleScope: Scope | undefined = scopes?.globalScope.childScopes.find((c) => c.type === 'module');
  const used = (local: string): boolean => {
    const v = moduleScope?.variables.find((x) => x.name === local);
    return v ? v.references.length > 0 : true;
  };

  /** `var a = 1, b` -> `a = 1` (the names go to the hoisted `let`). */
  const varToAssignment = (decl: acorn.VariableDeclaration, where: 'statement' | 'forInit' | 'forHead'): void => {
    const decls = decl.declarations;
    for (const d of decls) for (const n of patternNames(d.id, [])) hoisted.add(n);
    if (where === 'forHead') {
      ms.remove(decl.start, decls[0].start);
      return;
    }
    if (decls.every((d) => !d.init)) {
      ms.overwrite(decl.start, decl.end, where === 'statement' ? ';' : '');
      return;
    }
    ms.remove(decl.start, decls[0].start);
    decls.forEach((d, i) => {
      if (d.init) {
        if (d.id.type === 'ObjectPattern') {
          ms.prependRight(d.start, '(');
          ms.appendLeft(d.end, ')');
        }
        return;
      }
      if (i < decls.length - 1) ms.remove(d.start, decls[i + 1].start);
      else ms.remove(decls[i - 1].end, d.end);
    });
  };

  /** Vars nested in the top level's blocks and loops (not in functions) are session-wide too. */
  const nestedVars = (node: acorn.Node | null | undefined): void => {
    if (!node) return;
    const n = node as Node;
    switch (node.type) {
      case 'VariableDeclaration':
        if ((node as acorn.VariableDeclaration).kind === 'var') varToAssignment(node as acorn.VariableDeclaration, 'statement');
        return;
      case 'BlockStatement':
      case 'StaticBlock':
        for (const s of (node as acorn.BlockStatement).body) nestedVars(s);
        return;
      case 'IfStatement':
        nestedVars((node as acorn.IfStatement).consequent);
        nestedVars((node as acorn.IfStatement).alternate);
        return;
      case 'ForStatement': {
        const f = node as acorn.ForStatement;
        if (f.init?.type === 'VariableDeclaration' && f.init.kind === 'var') varToAssignment(f.init, 'forInit');
        nestedVars(f.body);
        return;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        const f = node as acorn.ForInStatement | acorn.ForOfStatement;
        if (f.left.type === 'VariableDeclaration' && f.left.kind === 'var') varToAssignment(f.left, 'forHead');
        nestedVars(f.body);
        return;
      }
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
      case 'WithStatement':
        nestedVars(n.body as acorn.Node);
        return;
      case 'TryStatement': {
        const t = node as acorn.TryStatement;
        nestedVars(t.block);
        nestedVars(t.handler?.body);
        nestedVars(t.finalizer);
        return;
      }
      case 'SwitchStatement':
        for (const c of (node as acorn.SwitchStatement).cases) for (const s of c.consequent) nestedVars(s);
        return;
      default:
        return;
    }
  };

  const declaration = (decl: acorn.Node | null | undefined): void => {
    if (!decl) return;
    if (decl.type === 'VariableDeclaration') {
      const v = decl as acorn.VariableDeclaration;
      if (v.kind === 'var') {
        varToAssignment(v, 'statement');
        return;
      }
      for (const d of v.declarations) for (const n of patternNames(d.id, [])) declared.set(n, v.kind === 'const' ? 'const' : 'let');
      if (v.kind === 'const') ms.overwrite(v.start, v.start + 'const'.length, 'let');
    } else if (decl.type === 'ClassDeclaration') {
      const c = decl as acorn.ClassDeclaration;
      if (!c.id) return;
      declared.set(c.id.name, 'let');
      ms.appendLeft(c.start, `let ${c.id.name} = `);
      ms.prependRight(c.end, ';');
    } else if (decl.type === 'FunctionDeclaration') {
      const f = decl as acorn.FunctionDeclaration;
      if (!f.id) return;
      hoisted.add(f.id.name);
      // Hoisted with its value: moved to the start, after the `let`.
      ms.prependRight(f.start, `${f.id.name} = `);
      ms.appendLeft(f.end, ';');
      if (f.start > 0) ms.move(f.start, f.end, 0);
    } else nestedVars(decl);
  };

  for (const stmt of program.body) {
    switch (stmt.type) {
      case 'ImportDeclaration':
        ms.overwrite(stmt.start, stmt.end, rewriteImport(stmt, code, used));
        for (const s of stmt.specifiers) declared.set(s.local.name, 'const');
        break;
      case 'ExportNamedDeclaration':
        if (stmt.declaration) {
          ms.remove(stmt.start, stmt.declaration.start);
          declaration(stmt.declaration);
        } else ms.remove(stmt.start, stmt.end);
        break;
      case 'ExportDefaultDeclaration':
        ms.remove(stmt.start, stmt.declaration.start);
        if (stmt.declaration.type === 'FunctionDeclaration' || stmt.declaration.type === 'ClassDeclaration') declaration(stmt.declaration);
        break;
      case 'ExportAllDeclaration':
        ms.remove(stmt.start, stmt.end);
        break;
      default:
        declaration(stmt);
        break;
    }
  }
  for (const n of hoisted) declared.set(n, 'let');

  // Assignments to the consts of earlier cells (names this cell does not declare itself).
  if (scopes && consts.size > 0) {
    const shorthand = shorthandValues(program);
    for (const ref of scopes.globalScope.through) {
      const id = ref.identifier;
      if (!ref.isWrite() || !consts.has(id.name) || declared.has(id.name)) continue;
      const target = `${HELPER}.cc.${id.name}`;
      ms.overwrite(id.start, id.end, shorthand.has(id.start) ? `${id.name}: ${target}` : target);
    }
  }

  walk.full(program, (n) => {
    const node = n as Node;
    if (node.type === 'AwaitExpression') {
      const arg = (node as unknown as acorn.AwaitExpression).argument;
      ms.appendLeft(arg.start, `${HELPER}.w(`);
      ms.prependRight(arg.end, ')');
    } else if (node.type === 'ForOfStatement' && (node as unknown as acorn.ForOfStatement).await) {
      // The implicit awaits of `for await` (each next()) honour an interrupt like an explicit await.
      const right = (node as unknown as acorn.ForOfStatement).right;
      ms.appendLeft(right.start, `${HELPER}.iter(`);
      ms.prependRight(right.end, ')');
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
  if (hoisted.size > 0) ms.prepend(`let ${[...hoisted].join(', ')};`);

  return {
    code: ms.toString(),
    map: () => {
      const m = ms.generateMap({ hires: true, source: sourceName, includeContent: false });
      return { version: m.version, sources: m.sources, names: m.names, mappings: m.mappings, file: m.file };
    },
    hasLastExpression,
    declared,
  };
}

/** Start offsets of the values of shorthand properties (`{ a }`), in expressions and patterns alike. */
function shorthandValues(program: acorn.Program): Set<number> {
  const out = new Set<number>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return;
    const node = value as Node;
    if (node.type === 'Property' && (node as unknown as acorn.Property).shorthand) {
      const v = (node as unknown as acorn.Property).value as acorn.Node;
      out.add(v.type === 'AssignmentPattern' ? (v as acorn.AssignmentPattern).left.start : v.start);
    }
    for (const key of Object.keys(node)) if (key !== 'type' && key !== 'start' && key !== 'end' && key !== 'range') visit(node[key]);
  };
  visit(program);
  return out;
}

/** Whether any identifier in the program has one of the names (a cheap test before scope analysis). */
function mentionsAny(program: acorn.Program, names: ReadonlySet<string>): boolean {
  let found = false;
  walk.full(program, (n) => {
    if (!found && n.type === 'Identifier' && names.has((n as acorn.Identifier).name)) found = true;
  });
  return found;
}
