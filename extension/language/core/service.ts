import ts from 'typescript';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';

const { join } = posix;
import { collectTopLevelDeclarations, summarizeDeclarations, type TopLevelDeclaration } from './declarations';
import type {
  CellDiagnostic,
  CellInput,
  CellPosition,
  CellRange,
  CompletionDetails,
  CompletionList,
  DefinitionLocation,
  DiagnosticSeverity,
  HoverInfo,
  SignatureHelpResult,
} from './types';

/**
 * One TypeScript LanguageService per notebook that sees the cells as the kernel runs them.
 *
 * Each cell is its own virtual module `<notebook folder>/__affordance_cell_<n>__.ts`:
 *
 *   <prelude>      the names earlier cells left in the session, minus the ones this cell declares itself:
 *                    declare let x: typeof import('./__affordance_cell_1__').x;   (variables)
 *                    import { tf, Model } from './__affordance_cell_1__';         (everything else)
 *   <cell text>    verbatim, so a cell offset is the virtual offset minus the prelude's length
 *   <suffix>       export { x, Model, … };   the cell's own top-level names, for the cells after it
 *
 * Because each cell is a module, a later declaration of a name shadows the earlier one (the later cell
 * simply does not import it) and "Cannot redeclare" never crosses cells; a duplicate inside one cell is
 * still an error, as in the kernel. Modules allow top-level await. The prelude of a cell depends only on
 * which names earlier cells declare, not on their types, so a keystroke that adds no top-level name
 * changes one virtual file; TypeScript re-checks lazily, and only what the request needs.
 *
 * The files live in the notebook's folder, so imports resolve from there (its node_modules, local .ts
 * files); `affordance-lab`, @tensorflow/tfjs and Node's types come from the shipped dist/types folder
 * (the kernel's own tfjs wins over any other copy, as in the kernel).
 */

/** Shared by every notebook's service, so library declarations are parsed once per extension host. */
const documentRegistry = ts.createDocumentRegistry();

/** What scripts/build-types.mjs wrote into dist/types/manifest.json. */
interface TypesManifest {
  library: string;
  globals: string | null;
  lib: string;
  packages: string[];
}

export interface NotebookLanguageServiceOptions {
  /** The notebook's folder: cells' imports resolve from here (its node_modules, relative files). */
  readonly notebookDir: string;
  /** The folder built by scripts/build-types.mjs (dist/types in the extension). */
  readonly typesDir: string;
}

interface GeneratedName {
  /** Offsets in the virtual file. */
  readonly start: number;
  readonly end: number;
  readonly name: string;
  /** The cell whose declaration this generated text stands for. */
  readonly cellId: string;
}

interface CellState {
  readonly id: string;
  readonly fileName: string;
  readonly specifier: string;
  text: string;
  lineStarts: number[];
  declarations: Map<string, TopLevelDeclaration>;
  prelude: string;
  content: string;
  generated: GeneratedName[];
  /** Names the prelude imports (shown without TypeScript's "(alias)" decoration in hovers). */
  importedNames: Set<string>;
  version: number;
  snapshot: ts.IScriptSnapshot;
}

const virtualPrefix = '__affordance_cell_';
const globalsName = '__affordance_lab_globals__.d.ts';

/**
 * The kernel's globals for cells: typed by the kernel session's own `KernelGlobal` interface
 * (kernel/session/globals.ts, emitted into dist/types), so TSDoc and go to definition lead there.
 */
function globalsDeclarations(typesDir: string, manifest: TypesManifest): string {
  const file = manifest.globals ? join(typesDir, manifest.globals) : undefined;
  if (!file || !existsSync(file) || !/export (?:declare )?interface KernelGlobal\b/.test(readFileSync(file, 'utf8'))) return fallbackGlobals;
  const specifier = JSON.stringify(file.replace(/\.d\.ts$/, ''));
  return `import type { KernelGlobal } from ${specifier};
declare global {
  /** The kernel running this notebook: the interrupt signal, sleep, display, MIME bundles, the notebook's folder. */
  const kernel: KernelGlobal;
  /**
   * Shows a value as a rich output of the running cell (a heatmap, a chart, a table, or text) and returns a
   * handle whose \`update(value)\` replaces that output in place and whose \`clear()\` removes it.
   */
  const display: KernelGlobal['display'];
}
export {};
`;
}

/** The kernel's globals when the kernel session's declarations were not built (an older dist/types). */
const fallbackGlobals = `import type { display as affordanceDisplay } from 'affordance-lab';
declare global {
  /**
   * Shows a value as a rich output of the running cell (a heatmap, a chart, a table, or text) and returns a
   * handle whose \`update(value)\` replaces that output in place and whose \`clear()\` removes it.
   */
  const display: typeof affordanceDisplay;
  /** The kernel running this notebook. */
  const kernel: {
    /** Aborted when the user interrupts the running cell; pass it to long loops and fetches. */
    readonly signal: AbortSignal;
    /** Resolves after \`ms\` milliseconds, or rejects as soon as the cell is interrupted. */
    sleep(ms: number): Promise<void>;
  };
}
export {};
`;

function toTsPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/\/+$/, '');
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (c === 10) starts.push(i + 1);
  }
  return starts;
}

function severityOf(category: ts.DiagnosticCategory): DiagnosticSeverity {
  switch (category) {
    case ts.DiagnosticCategory.Error:
      return 'error';
    case ts.DiagnosticCategory.Warning:
      return 'warning';
    case ts.DiagnosticCategory.Suggestion:
      return 'suggestion';
    default:
      return 'message';
  }
}

/** TSDoc (documentation and tags) as Markdown. */
function docToMarkdown(documentation: readonly ts.SymbolDisplayPart[] | undefined, tags: readonly ts.JSDocTagInfo[] | undefined): string {
  const parts = [ts.displayPartsToString(documentation as ts.SymbolDisplayPart[] | undefined)];
  for (const tag of tags ?? []) {
    const text = ts.displayPartsToString(tag.text);
    parts.push(`*@${tag.name}*${text ? ` — ${text.replace(/\n/g, ' ')}` : ''}`);
  }
  return parts.filter((p) => p.length > 0).join('\n\n');
}

/** Reads dist/types/manifest.json, with an error that says how to produce it. */
function readManifest(typesDir: string): TypesManifest {
  const file = join(typesDir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`notebook language service: ${file} not found; build it with \`node scripts/build-types.mjs\` (part of \`npm run build\`)`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<TypesManifest>;
  if (typeof parsed.library !== 'string' || typeof parsed.lib !== 'string' || !Array.isArray(parsed.packages)) {
    throw new Error(`notebook language service: ${file} is not a types manifest (expected fields library, lib, packages)`);
  }
  return { library: parsed.library, lib: parsed.lib, packages: parsed.packages, globals: parsed.globals ?? null };
}

/** Compiler options for cells: how the kernel runs them (ES2022+, modules, Node, no DOM). */
export function notebookCompilerOptions(typesDir: string, manifest: TypesManifest): ts.CompilerOptions {
  const packagesDir = join(typesDir, 'packages');
  const paths: ts.MapLike<string[]> = { 'affordance-lab': [join(typesDir, manifest.library)] };
  for (const name of manifest.packages) {
    if (name.startsWith('@types/')) continue;
    paths[name] = [join(packagesDir, name)];
    paths[`${name}/*`] = [join(packagesDir, name, '*')];
  }
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: [manifest.lib.replace(/^lib\//, '')],
    types: ['node'],
    typeRoots: [join(packagesDir, '@types')],
    paths,
    strict: true,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
    resolveJsonModule: true,
    allowImportingTsExtensions: true,
    allowJs: true,
    checkJs: false,
    skipLibCheck: true,
    noEmit: true,
    forceConsistentCasingInFileNames: false,
  };
}

/**
 * The notebook's language service: feed it the cells with {@link NotebookLanguageService.setCells} (cheap
 * when little changed) and ask for completions, hovers, signatures, definitions and diagnostics by cell id
 * and position.
 */
export class NotebookLanguageService {
  private readonly cells = new Map<string, CellState>();
  private order: CellState[] = [];
  private nextSeq = 1;
  private projectVersion = 0;
  private readonly realSnapshots = new Map<string, { version: string; snapshot: ts.IScriptSnapshot | undefined }>();
  private readonly globalsFile: string;
  private readonly globalsSnapshot: ts.IScriptSnapshot;
  private readonly globalsText: string;
  private readonly options: ts.CompilerOptions;
  private readonly service: ts.LanguageService;

  private readonly config: NotebookLanguageServiceOptions;

  constructor(options: NotebookLanguageServiceOptions) {
    // TypeScript names files with forward slashes on every platform; so do the virtual files.
    const config = { notebookDir: toTsPath(options.notebookDir), typesDir: toTsPath(options.typesDir) };
    this.config = config;
    if (!options.notebookDir) throw new Error('notebook language service: notebookDir is empty (expected the notebook\'s folder)');
    const manifest = readManifest(config.typesDir);
    this.options = notebookCompilerOptions(config.typesDir, manifest);
    this.globalsFile = join(config.notebookDir, globalsName);
    this.globalsText = globalsDeclarations(config.typesDir, manifest);
    this.globalsSnapshot = ts.ScriptSnapshot.fromString(this.globalsText);
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => this.options,
      getProjectVersion: () => String(this.projectVersion),
      getScriptFileNames: () => [this.globalsFile, ...this.order.map((c) => c.fileName)],
      getScriptVersion: (fileName) => this.scriptVersion(fileName),
      getScriptSnapshot: (fileName) => this.scriptSnapshot(fileName),
      getCurrentDirectory: () => config.notebookDir,
      getDefaultLibFileName: () => join(config.typesDir, manifest.lib),
      fileExists: (fileName) => this.isVirtual(fileName) || ts.sys.fileExists(fileName),
      readFile: (fileName, encoding) => this.virtualText(fileName) ?? ts.sys.readFile(fileName, encoding),
      directoryExists: (dir) => dir === config.notebookDir || ts.sys.directoryExists(dir),
      getDirectories: (dir) => (ts.sys.directoryExists(dir) ? ts.sys.getDirectories(dir) : []),
      readDirectory: (path, extensions, exclude, include, depth) => ts.sys.readDirectory(path, extensions, exclude, include, depth),
      realpath: (p) => (this.isVirtual(p) ? p : ts.sys.realpath ? ts.sys.realpath(p) : p),
      useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
    };
    this.service = ts.createLanguageService(host, documentRegistry);
  }

  /** The virtual file name of a cell (for diagnostics of this service's own behaviour and for tests). */
  fileNameOf(cellId: string): string {
    return this.cell(cellId).fileName;
  }

  /** The generated text of a cell's virtual module (prelude + cell + exports). */
  virtualContentOf(cellId: string): string {
    return this.cell(cellId).content;
  }

  /**
   * Replaces the notebook's cells (in run order). Unchanged cells keep their version, so TypeScript reuses
   * their syntax trees; only cells whose text or visible earlier names changed are new to it.
   */
  setCells(inputs: readonly CellInput[]): void {
    // Checked before anything changes, so bad input leaves the service as it was.
    const firstIndex = new Map<string, number>();
    for (const [i, input] of inputs.entries()) {
      if (typeof input?.id !== 'string' || input.id.length === 0) throw new Error(`notebook language service: cell ${i} has no id (expected a non-empty string)`);
      if (typeof input.text !== 'string') throw new Error(`notebook language service: cell ${i} (${input.id}) has text of type ${typeof input.text} (expected a string)`);
      const earlier = firstIndex.get(input.id);
      if (earlier !== undefined) throw new Error(`notebook language service: cell id ${input.id} appears twice (cells ${earlier} and ${i})`);
      firstIndex.set(input.id, i);
    }
    const seen = new Set(firstIndex.keys());
    let changed = inputs.length !== this.order.length;
    const order: CellState[] = [];
    for (const [i, input] of inputs.entries()) {
      let state = this.cells.get(input.id);
      if (!state) {
        const n = this.nextSeq++;
        state = {
          id: input.id,
          fileName: join(this.config.notebookDir, `${virtualPrefix}${n}__.ts`),
          specifier: `./${virtualPrefix}${n}__`,
          text: '',
          lineStarts: [0],
          declarations: new Map(),
          prelude: '',
          content: '',
          generated: [],
          importedNames: new Set(),
          version: 0,
          snapshot: ts.ScriptSnapshot.fromString(''),
        };
        this.cells.set(input.id, state);
        this.updateText(state, input.text);
        changed = true;
      } else if (state.text !== input.text) {
        this.updateText(state, input.text);
        changed = true;
      }
      if (this.order[i] !== state) changed = true;
      order.push(state);
    }
    for (const id of [...this.cells.keys()]) if (!seen.has(id)) this.cells.delete(id);
    this.order = order;
    if (this.rebuildVirtualFiles() || changed) this.projectVersion++;
  }

  /** Replaces one cell's text (a keystroke); the cell must already be known. */
  updateCell(cellId: string, text: string): void {
    const state = this.cell(cellId);
    if (state.text === text) return;
    this.updateText(state, text);
    this.rebuildVirtualFiles();
    this.projectVersion++;
  }

  /** Ids of the cells, in run order. */
  cellIds(): string[] {
    return this.order.map((c) => c.id);
  }

  getCompletions(cellId: string, position: CellPosition, triggerCharacter?: ts.CompletionsTriggerCharacter): CompletionList | undefined {
    const cell = this.cell(cellId);
    const result = this.service.getCompletionsAtPosition(cell.fileName, this.toOffset(cell, position), {
      triggerCharacter,
      includeCompletionsWithInsertText: true,
      includeAutomaticOptionalChainCompletions: true,
      // Auto-imports would edit the generated prelude; cells import explicitly.
      includeCompletionsForModuleExports: false,
    });
    if (!result) return undefined;
    return {
      isIncomplete: result.isIncomplete ?? false,
      isMemberCompletion: result.isMemberCompletion,
      entries: result.entries.map((e) => ({
        name: e.name,
        kind: e.kind,
        kindModifiers: e.kindModifiers ?? '',
        sortText: e.sortText,
        insertText: e.insertText,
        replacementRange: e.replacementSpan ? this.toCellRange(cell, e.replacementSpan.start, e.replacementSpan.start + e.replacementSpan.length) : undefined,
        source: e.source,
        data: e.data,
      })),
    };
  }

  getCompletionDetails(cellId: string, position: CellPosition, name: string, source?: string, data?: unknown): CompletionDetails | undefined {
    const cell = this.cell(cellId);
    const details = this.service.getCompletionEntryDetails(cell.fileName, this.toOffset(cell, position), name, undefined, source, undefined, data as ts.CompletionEntryData | undefined);
    if (!details) return undefined;
    return { detail: ts.displayPartsToString(details.displayParts), documentation: docToMarkdown(details.documentation, details.tags) };
  }

  getHover(cellId: string, position: CellPosition): HoverInfo | undefined {
    const cell = this.cell(cellId);
    const info = this.service.getQuickInfoAtPosition(cell.fileName, this.toOffset(cell, position));
    if (!info) return undefined;
    const range = this.toCellRange(cell, info.textSpan.start, info.textSpan.start + info.textSpan.length);
    if (!range) return undefined;
    const name = cell.content.slice(info.textSpan.start, info.textSpan.start + info.textSpan.length);
    if (cell.importedNames.has(name) && info.kind === ts.ScriptElementKind.alias) {
      // A name from an earlier cell reaches this cell through a generated import (no other import of that
      // name can be in scope); describe it as its declaring cell does, TSDoc included.
      const origin = this.originOf(cell, name);
      if (origin) {
        const there = this.service.getQuickInfoAtPosition(origin.cell.fileName, origin.cell.prelude.length + origin.decl.start);
        if (there) return { text: ts.displayPartsToString(there.displayParts), documentation: docToMarkdown(there.documentation, there.tags), range };
      }
    }
    let documentation = docToMarkdown(info.documentation, info.tags);
    if (!documentation && cell.generated.some((g) => g.name === name && g.start < cell.prelude.length)) {
      // A variable of an earlier cell is redeclared in this cell's prelude, without its TSDoc: when the name
      // really resolves there (not to a local of the same name), take the TSDoc from the declaring cell.
      const origin = this.originOf(cell, name);
      const defs = this.service.getDefinitionAtPosition(cell.fileName, info.textSpan.start) ?? [];
      if (origin && defs.some((d) => d.fileName === cell.fileName && d.textSpan.start < cell.prelude.length)) {
        const there = this.service.getQuickInfoAtPosition(origin.cell.fileName, origin.cell.prelude.length + origin.decl.start);
        if (there) documentation = docToMarkdown(there.documentation, there.tags);
      }
    }
    return { text: ts.displayPartsToString(info.displayParts), documentation, range };
  }

  getSignatureHelp(cellId: string, position: CellPosition): SignatureHelpResult | undefined {
    const cell = this.cell(cellId);
    const help = this.service.getSignatureHelpItems(cell.fileName, this.toOffset(cell, position), undefined);
    if (!help) return undefined;
    const signatures = help.items.map((item) => {
      let label = ts.displayPartsToString(item.prefixDisplayParts);
      const separator = ts.displayPartsToString(item.separatorDisplayParts);
      const parameters = item.parameters.map((p, i) => {
        if (i > 0) label += separator;
        const start = label.length;
        label += ts.displayPartsToString(p.displayParts);
        return { label: [start, label.length] as const, documentation: ts.displayPartsToString(p.documentation) };
      });
      label += ts.displayPartsToString(item.suffixDisplayParts);
      return { label, documentation: docToMarkdown(item.documentation, item.tags), parameters };
    });
    return { signatures, activeSignature: help.selectedItemIndex, activeParameter: help.argumentIndex };
  }

  /** Definitions: in cells of this notebook (generated names lead to the cell that declared them) or in files. */
  getDefinition(cellId: string, position: CellPosition): DefinitionLocation[] {
    const cell = this.cell(cellId);
    const found = this.service.getDefinitionAtPosition(cell.fileName, this.toOffset(cell, position)) ?? [];
    const out: DefinitionLocation[] = [];
    const key = new Set<string>();
    for (const def of found) {
      const loc = this.mapLocation(def.fileName, def.textSpan.start, def.textSpan.start + def.textSpan.length);
      if (!loc) continue;
      const k = JSON.stringify(loc);
      if (!key.has(k)) {
        key.add(k);
        out.push(loc);
      }
    }
    return out;
  }

  /** Syntax and type errors of one cell, at the cell's own lines; nothing about the generated text. */
  getDiagnostics(cellId: string): CellDiagnostic[] {
    const cell = this.cell(cellId);
    const all = [...this.service.getSyntacticDiagnostics(cell.fileName), ...this.service.getSemanticDiagnostics(cell.fileName)];
    const out: CellDiagnostic[] = [];
    for (const d of all) {
      if (d.start === undefined) continue;
      const range = this.toCellRange(cell, d.start, d.start + (d.length ?? 0));
      if (!range) continue;
      out.push({ cellId, range, message: ts.flattenDiagnosticMessageText(d.messageText, '\n'), severity: severityOf(d.category), code: d.code });
    }
    return out;
  }

  dispose(): void {
    this.service.dispose();
    this.cells.clear();
    this.order = [];
  }

  // --- internals -------------------------------------------------------------------------------------

  private cell(cellId: string): CellState {
    const state = this.cells.get(cellId);
    if (!state) throw new Error(`notebook language service: no cell with id ${cellId} (the notebook has ${this.order.length} cells; call setCells first)`);
    return state;
  }

  private updateText(state: CellState, text: string): void {
    state.text = text;
    state.lineStarts = computeLineStarts(text);
    const sf = ts.createSourceFile(state.fileName, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    state.declarations = summarizeDeclarations(collectTopLevelDeclarations(sf));
  }

  /** Regenerates preludes and suffixes; returns whether any virtual file changed. */
  private rebuildVirtualFiles(): boolean {
    let changed = false;
    const live = new Map<string, { cell: CellState; decl: TopLevelDeclaration }>();
    for (const cell of this.order) {
      const generated: GeneratedName[] = [];
      const importedNames = new Set<string>();
      let prelude = '';
      const imports = new Map<CellState, string[]>();
      for (const [name, { cell: from, decl }] of live) {
        if (cell.declarations.has(name)) continue;
        if (decl.kind === 'variable') {
          const head = `declare ${decl.keyword ?? 'let'} `;
          generated.push({ start: prelude.length + head.length, end: prelude.length + head.length + name.length, name, cellId: from.id });
          const type = decl.untyped ? 'any' : `typeof import('${from.specifier}').${name}`;
          prelude += `${head}${name}: ${type};\n`;
        } else {
          const list = imports.get(from) ?? [];
          list.push(name);
          imports.set(from, list);
        }
      }
      for (const [from, names] of imports) {
        prelude += 'import { ';
        names.forEach((name, i) => {
          if (i > 0) prelude += ', ';
          generated.push({ start: prelude.length, end: prelude.length + name.length, name, cellId: from.id });
          importedNames.add(name);
          prelude += name;
        });
        prelude += ` } from '${from.specifier}';\n`;
      }
      let suffix = '\n;export { ';
      const own = [...cell.declarations.values()].filter((d) => !d.exported);
      const base = prelude.length + cell.text.length;
      own.forEach((d, i) => {
        if (i > 0) suffix += ', ';
        generated.push({ start: base + suffix.length, end: base + suffix.length + d.name.length, name: d.name, cellId: cell.id });
        suffix += d.name;
      });
      suffix += ' };\n';
      const content = prelude + cell.text + suffix;
      cell.prelude = prelude;
      cell.generated = generated;
      cell.importedNames = importedNames;
      if (content !== cell.content) {
        cell.content = content;
        cell.version++;
        cell.snapshot = ts.ScriptSnapshot.fromString(content);
        changed = true;
      }
      for (const [name, decl] of cell.declarations) live.set(name, { cell, decl });
    }
    return changed;
  }

  /** The cell (and its declaration) that a generated name of `cell`'s prelude stands for. */
  private originOf(cell: CellState, name: string): { cell: CellState; decl: TopLevelDeclaration } | undefined {
    const generated = cell.generated.find((g) => g.name === name && g.start < cell.prelude.length);
    const origin = generated ? this.cells.get(generated.cellId) : undefined;
    const decl = origin?.declarations.get(name);
    return origin && decl ? { cell: origin, decl } : undefined;
  }

  private cellByFile(fileName: string): CellState | undefined {
    if (!fileName.includes(virtualPrefix)) return undefined;
    return this.order.find((c) => c.fileName === fileName);
  }

  private isVirtual(fileName: string): boolean {
    return fileName === this.globalsFile || this.cellByFile(fileName) !== undefined;
  }

  private virtualText(fileName: string): string | undefined {
    if (fileName === this.globalsFile) return this.globalsText;
    return this.cellByFile(fileName)?.content;
  }

  private scriptVersion(fileName: string): string {
    if (fileName === this.globalsFile) return '1';
    const cell = this.cellByFile(fileName);
    if (cell) return `c${cell.version}`;
    return this.realFile(fileName).version;
  }

  private scriptSnapshot(fileName: string): ts.IScriptSnapshot | undefined {
    if (fileName === this.globalsFile) return this.globalsSnapshot;
    const cell = this.cellByFile(fileName);
    if (cell) return cell.snapshot;
    return this.realFile(fileName).snapshot;
  }

  /**
   * Real files: declarations under dist/types or any node_modules are read once; the notebook's own
   * modules (a local utils.ts) are re-read when their modification time changes.
   */
  private realFile(fileName: string): { version: string; snapshot: ts.IScriptSnapshot | undefined } {
    const immutable = fileName.startsWith(this.config.typesDir) || fileName.includes('/node_modules/');
    const cached = this.realSnapshots.get(fileName);
    if (cached && immutable) return cached;
    let version = 'missing';
    try {
      version = String(statSync(fileName).mtimeMs);
    } catch {
      // Missing: TypeScript reports the unresolved import itself.
    }
    if (cached && cached.version === version) return cached;
    const text = version === 'missing' ? undefined : ts.sys.readFile(fileName);
    const entry = { version, snapshot: text === undefined ? undefined : ts.ScriptSnapshot.fromString(text) };
    this.realSnapshots.set(fileName, entry);
    return entry;
  }

  private toOffset(cell: CellState, position: CellPosition): number {
    const line = Math.max(0, Math.min(position.line, cell.lineStarts.length - 1));
    const lineStart = cell.lineStarts[line];
    const lineEnd = line + 1 < cell.lineStarts.length ? cell.lineStarts[line + 1] : cell.text.length;
    return cell.prelude.length + Math.max(lineStart, Math.min(lineStart + Math.max(0, position.character), lineEnd));
  }

  private toCellPosition(cell: CellState, cellOffset: number): CellPosition {
    const starts = cell.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= cellOffset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: cellOffset - starts[lo] };
  }

  /** A virtual span as a cell range, or undefined when it lies (partly) in generated text. */
  private toCellRange(cell: CellState, start: number, end: number): CellRange | undefined {
    const s = start - cell.prelude.length;
    const e = end - cell.prelude.length;
    if (s < 0 || e > cell.text.length || e < s) return undefined;
    return { start: this.toCellPosition(cell, s), end: this.toCellPosition(cell, e) };
  }

  private mapLocation(fileName: string, start: number, end: number): DefinitionLocation | undefined {
    if (fileName === this.globalsFile) return undefined;
    const cell = this.cellByFile(fileName);
    if (cell) {
      const range = this.toCellRange(cell, start, end);
      if (range) return { kind: 'cell', cellId: cell.id, range };
      const generated = cell.generated.find((g) => start >= g.start && start < g.end);
      if (!generated) return undefined;
      const origin = this.cells.get(generated.cellId);
      const decl = origin?.declarations.get(generated.name);
      if (!origin || !decl) return undefined;
      const from = origin.prelude.length + decl.start;
      const to = origin.prelude.length + decl.end;
      const originRange = this.toCellRange(origin, from, to);
      return originRange ? { kind: 'cell', cellId: origin.id, range: originRange } : undefined;
    }
    const sf = this.service.getProgram()?.getSourceFile(fileName);
    if (!sf) return undefined;
    const a = sf.getLineAndCharacterOfPosition(start);
    const b = sf.getLineAndCharacterOfPosition(end);
    return { kind: 'file', fileName, range: { start: a, end: b } };
  }
}
