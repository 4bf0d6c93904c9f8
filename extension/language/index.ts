/**
 * Language features for notebook cells of language `affordance-ts`: completions, hovers, signature help,
 * go to definition and diagnostics from one TypeScript program per notebook that sees the cells the way
 * the kernel runs them (see core/service.ts), held by a worker thread (worker.ts, client.ts). VS Code's own TypeScript support never sees these cells,
 * because their language id is not `typescript`; the grammar keeps TypeScript's highlighting.
 */
import * as vscode from 'vscode';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { AFFORDANCE_TS_LANGUAGE_ID, jupyterMetadata, KERNELSPEC_NAME, prefersThisKernel } from '../../host/languages';
import { isBlankForThisKernel } from '../newNotebook';
import { LanguageWorkerClient } from './client';
import type { CellInput, CellPosition, CellRange, CompletionEntry, DefinitionLocation } from './core/types';
import type { LanguageMethod, LanguageMethods } from './protocol';

// The cell language id this module serves (contributed in package.json with TypeScript's grammar), and the
// kernelspec name of notebooks written for this kernel: defined with the other language rules in host/languages.ts.
export { AFFORDANCE_TS_LANGUAGE_ID, KERNELSPEC_NAME };


/** Cells that take part in the notebook's program: what the kernel runs. */
const PROGRAM_LANGUAGES = new Set([AFFORDANCE_TS_LANGUAGE_ID, 'typescript', 'javascript']);

/** Diagnostics wait for a pause in typing this long. */
const DIAGNOSTICS_DELAY_MS = 300;

const selector: vscode.DocumentSelector = { language: AFFORDANCE_TS_LANGUAGE_ID };

const toPosition = (p: vscode.Position): CellPosition => ({ line: p.line, character: p.character });
const toRange = (r: CellRange): vscode.Range => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);

/**
 * Switches a notebook's TypeScript code cells to `affordance-ts` (JavaScript cells stay as they are), or with
 * `everyCodeCell` all its code cells (a blank new notebook this kernel takes: its empty cell is Python).
 */
export async function useNotebookLanguage(notebook: vscode.NotebookDocument, everyCodeCell = false): Promise<number> {
  let switched = 0;
  for (const cell of notebook.getCells()) {
    if (cell.kind === vscode.NotebookCellKind.Code && (cell.document.languageId === 'typescript' || (everyCodeCell && cell.document.languageId !== AFFORDANCE_TS_LANGUAGE_ID))) {
      await vscode.languages.setTextDocumentLanguage(cell.document, AFFORDANCE_TS_LANGUAGE_ID);
      switched++;
    }
  }
  return switched;
}

/**
 * One language service per open notebook, in the language worker, fed with the notebook's current cells
 * on each request. TypeScript never loads into the extension host.
 */
class NotebookServices implements vscode.Disposable {
  private readonly client: LanguageWorkerClient;

  constructor(
    private readonly typesDir: string,
    log: (message: string) => void,
  ) {
    this.client = new LanguageWorkerClient(join(typesDir, 'language-worker.js'), log);
  }

  /** The notebook that holds a cell document, if any. */
  notebookOf(document: vscode.TextDocument): vscode.NotebookDocument | undefined {
    const key = document.uri.toString();
    return vscode.workspace.notebookDocuments.find((nb) => nb.getCells().some((c) => c.document.uri.toString() === key));
  }

  /** Calls the notebook's service with its cells brought up to date. */
  call<K extends LanguageMethod>(notebook: vscode.NotebookDocument, method: K, ...args: Parameters<LanguageMethods[K]>): Promise<ReturnType<LanguageMethods[K]>> {
    const key = notebook.uri.toString();
    if (!this.client.isOpen(key)) this.client.open(key, { notebookDir: notebookFolder(notebook), typesDir: this.typesDir });
    return this.client.call(key, method, args, cellsOf(notebook));
  }

  /** The notebook and the cell id of a cell document, or undefined outside a notebook. */
  forDocument(document: vscode.TextDocument): { notebook: vscode.NotebookDocument; cellId: string } | undefined {
    const notebook = this.notebookOf(document);
    return notebook ? { notebook, cellId: document.uri.toString() } : undefined;
  }

  close(notebook: vscode.NotebookDocument): void {
    this.client.close(notebook.uri.toString());
  }

  dispose(): void {
    void this.client.dispose();
  }
}

/** The code cells the kernel runs, in order, as the service takes them. */
function cellsOf(notebook: vscode.NotebookDocument): CellInput[] {
  return notebook
    .getCells()
    .filter((c) => c.kind === vscode.NotebookCellKind.Code && PROGRAM_LANGUAGES.has(c.document.languageId))
    .map((c) => ({ id: c.document.uri.toString(), text: c.document.getText() }));
}

/** Imports in cells resolve from the notebook's folder; an untitled notebook uses its workspace folder. */
function notebookFolder(notebook: vscode.NotebookDocument): string {
  if (notebook.uri.scheme === 'file') return dirname(notebook.uri.fsPath);
  const folder = vscode.workspace.getWorkspaceFolder(notebook.uri) ?? vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : tmpdir();
}

function locationOf(notebook: vscode.NotebookDocument, loc: DefinitionLocation): vscode.Location | undefined {
  if (loc.kind === 'file') return new vscode.Location(vscode.Uri.file(loc.fileName), toRange(loc.range));
  const cell = notebook.getCells().find((c) => c.document.uri.toString() === loc.cellId);
  return cell ? new vscode.Location(cell.document.uri, toRange(loc.range)) : undefined;
}

const completionKinds: Record<string, vscode.CompletionItemKind> = {
  keyword: vscode.CompletionItemKind.Keyword,
  script: vscode.CompletionItemKind.File,
  module: vscode.CompletionItemKind.Module,
  'external module name': vscode.CompletionItemKind.Module,
  class: vscode.CompletionItemKind.Class,
  'local class': vscode.CompletionItemKind.Class,
  interface: vscode.CompletionItemKind.Interface,
  type: vscode.CompletionItemKind.Interface,
  'type parameter': vscode.CompletionItemKind.TypeParameter,
  enum: vscode.CompletionItemKind.Enum,
  'enum member': vscode.CompletionItemKind.EnumMember,
  var: vscode.CompletionItemKind.Variable,
  'local var': vscode.CompletionItemKind.Variable,
  let: vscode.CompletionItemKind.Variable,
  parameter: vscode.CompletionItemKind.Variable,
  alias: vscode.CompletionItemKind.Variable,
  const: vscode.CompletionItemKind.Constant,
  function: vscode.CompletionItemKind.Function,
  'local function': vscode.CompletionItemKind.Function,
  method: vscode.CompletionItemKind.Method,
  property: vscode.CompletionItemKind.Property,
  getter: vscode.CompletionItemKind.Property,
  setter: vscode.CompletionItemKind.Property,
  constructor: vscode.CompletionItemKind.Constructor,
  string: vscode.CompletionItemKind.Constant,
  directory: vscode.CompletionItemKind.Folder,
};

/** What a completion item needs to fetch its details later. */
interface PendingDetails {
  document: vscode.TextDocument;
  position: CellPosition;
  entry: CompletionEntry;
}

function completionProvider(services: NotebookServices): vscode.CompletionItemProvider {
  const pending = new WeakMap<vscode.CompletionItem, PendingDetails>();
  return {
    async provideCompletionItems(document, position, _token, context) {
      const found = services.forDocument(document);
      if (!found) return undefined;
      const trigger = context.triggerCharacter as Parameters<LanguageMethods['getCompletions']>[2];
      const list = await services.call(found.notebook, 'getCompletions', found.cellId, toPosition(position), trigger);
      if (!list) return undefined;
      const items = list.entries.map((entry) => {
        const item = new vscode.CompletionItem(entry.name, completionKinds[entry.kind] ?? vscode.CompletionItemKind.Text);
        item.sortText = entry.sortText;
        if (entry.insertText !== undefined) item.insertText = entry.insertText;
        if (entry.replacementRange) item.range = toRange(entry.replacementRange);
        if (entry.kindModifiers.includes('deprecated')) item.tags = [vscode.CompletionItemTag.Deprecated];
        pending.set(item, { document, position: toPosition(position), entry });
        return item;
      });
      return new vscode.CompletionList(items, list.isIncomplete);
    },
    async resolveCompletionItem(item) {
      const p = pending.get(item);
      if (!p) return item;
      const found = services.forDocument(p.document);
      const details = found && (await services.call(found.notebook, 'getCompletionDetails', found.cellId, p.position, p.entry.name, p.entry.source, p.entry.data));
      if (details) {
        item.detail = details.detail;
        item.documentation = new vscode.MarkdownString(details.documentation);
      }
      return item;
    },
  };
}

function hoverProvider(services: NotebookServices): vscode.HoverProvider {
  return {
    async provideHover(document, position) {
      const found = services.forDocument(document);
      const info = found && (await services.call(found.notebook, 'getHover', found.cellId, toPosition(position)));
      if (!info) return undefined;
      const md = new vscode.MarkdownString().appendCodeblock(info.text, 'typescript');
      if (info.documentation) md.appendMarkdown('\n\n' + info.documentation);
      return new vscode.Hover(md, toRange(info.range));
    },
  };
}

function signatureHelpProvider(services: NotebookServices): vscode.SignatureHelpProvider {
  return {
    async provideSignatureHelp(document, position) {
      const found = services.forDocument(document);
      const result = found && (await services.call(found.notebook, 'getSignatureHelp', found.cellId, toPosition(position)));
      if (!result) return undefined;
      const help = new vscode.SignatureHelp();
      help.signatures = result.signatures.map((s) => {
        const info = new vscode.SignatureInformation(s.label, new vscode.MarkdownString(s.documentation));
        info.parameters = s.parameters.map((p) => new vscode.ParameterInformation([p.label[0], p.label[1]], new vscode.MarkdownString(p.documentation)));
        return info;
      });
      help.activeSignature = result.activeSignature;
      help.activeParameter = result.activeParameter;
      return help;
    },
  };
}

function definitionProvider(services: NotebookServices): vscode.DefinitionProvider {
  return {
    async provideDefinition(document, position) {
      const found = services.forDocument(document);
      if (!found) return undefined;
      const definitions = await services.call(found.notebook, 'getDefinition', found.cellId, toPosition(position));
      return definitions
        .map((d) => locationOf(found.notebook, d))
        .filter((l): l is vscode.Location => l !== undefined);
    },
  };
}

/**
 * Diagnostics as you type, after a short pause, one cell per request to the language worker (the
 * extension host, and running a cell, never wait on a check), so a newer edit cancels an older pass
 * between cells. They are advice only: the controller never looks at them.
 */
class DiagnosticsScheduler implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('affordance-lab');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly generation = new Map<string, number>();
  /** Per notebook, the first cell index whose diagnostics are due. */
  private readonly dueFrom = new Map<string, number>();

  constructor(
    private readonly services: NotebookServices,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * Re-checks the notebook after a pause, from cell `fromIndex` on: an edit can
   * change what later cells see, never what earlier ones do. Cells a cancelled pass did not reach stay due.
   */
  schedule(notebook: vscode.NotebookDocument, fromIndex = 0): void {
    const key = notebook.uri.toString();
    clearTimeout(this.timers.get(key));
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    this.dueFrom.set(key, Math.min(this.dueFrom.get(key) ?? Infinity, fromIndex));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.run(notebook, gen).catch((e: unknown) => this.log(`diagnostics of ${notebook.uri.fsPath} failed: ${e instanceof Error ? e.message : String(e)}`));
      }, DIAGNOSTICS_DELAY_MS),
    );
  }

  private async run(notebook: vscode.NotebookDocument, gen: number): Promise<void> {
    const key = notebook.uri.toString();
    const from = this.dueFrom.get(key) ?? 0;
    const all = notebook.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    if (!all.some((c) => c.document.languageId === AFFORDANCE_TS_LANGUAGE_ID)) {
      for (const c of all) this.collection.delete(c.document.uri);
      this.dueFrom.delete(key);
      return;
    }
    const cells = all.filter((c) => c.index >= from);
    // The cell being edited first: that is where the eye is.
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    cells.sort((a, b) => Number(b.document.uri.toString() === active) - Number(a.document.uri.toString() === active));
    for (const cell of cells) {
      if (this.generation.get(key) !== gen || notebook.isClosed) return;
      if (cell.document.languageId !== AFFORDANCE_TS_LANGUAGE_ID) {
        this.collection.delete(cell.document.uri);
        continue;
      }
      const found = await this.services.call(notebook, 'getDiagnostics', cell.document.uri.toString());
      if (this.generation.get(key) !== gen) return;
      const diagnostics = found.map((d) => {
        const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
        const diagnostic = new vscode.Diagnostic(toRange(d.range), d.message, severity);
        diagnostic.source = 'ts';
        diagnostic.code = d.code;
        return diagnostic;
      });
      this.collection.set(cell.document.uri, diagnostics);
    }
    if (this.generation.get(key) === gen) this.dueFrom.delete(key);
  }

  /** Drops the diagnostics of cells that left the notebook. */
  forget(cells: readonly vscode.NotebookCell[]): void {
    for (const c of cells) this.collection.delete(c.document.uri);
  }

  clear(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
    this.dueFrom.delete(key);
    for (const c of notebook.getCells()) this.collection.delete(c.document.uri);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.collection.dispose();
  }
}

/**
 * A notebook this kernel is preselected for: saved with it (its Jupyter metadata names the kernelspec
 * `affordance-lab`), or one the controller's affinity prefers (TypeScript metadata or cells). VS Code
 * only reports a controller as selected once the user picks it or runs a cell, so this is how such a
 * notebook gets its cells switched as soon as it opens.
 */
function preselectsThisKernel(nb: vscode.NotebookDocument): boolean {
  if (nb.notebookType !== 'jupyter-notebook') return false;
  const spec = jupyterMetadata(nb.metadata).kernelspec;
  const name = typeof spec === 'object' && spec !== null ? (spec as { name?: unknown }).name : undefined;
  if (name === KERNELSPEC_NAME) return true;
  // The controller's affinity preselects the kernel for it (VS Code shows it as the notebook's kernel but
  // reports it selected only at the first run): its cells switch when it opens, not at that run.
  const languages = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code).map((c) => c.document.languageId);
  return prefersThisKernel(nb.metadata, languages);
}

/**
 * Registers the notebook language features. A notebook's TypeScript cells switch to `affordance-ts` when
 * it opens with the kernelspec `affordance-lab` in its metadata, and, with the kernel's controller passed,
 * when that controller is selected for it (TypeScript cells added later to such a notebook switch too).
 * The command `affordance-lab.useNotebookTypeScript` switches the active notebook by hand.
 */
export function registerNotebookLanguageFeatures(context: vscode.ExtensionContext, controller?: vscode.NotebookController): vscode.Disposable {
  // A blank new notebook is taken once: its cells arrive just after it opens (a change event), and a cell the
  // user then sets back to another language stays so.
  const taken = new WeakSet<vscode.NotebookDocument>();
  const blank = (nb: vscode.NotebookDocument): boolean => {
    if (!controller || taken.has(nb) || !isBlankForThisKernel(nb, context.extension.id)) return false;
    taken.add(nb);
    return true;
  };
  const output = vscode.window.createOutputChannel('Affordance Lab Language', { log: true });
  const services = new NotebookServices(context.asAbsolutePath('dist/types'), (m) => output.warn(m));
  const diagnostics = new DiagnosticsScheduler(services, (m) => output.warn(m));
  const selected = new Set<vscode.NotebookDocument>();
  const isOurs = (nb: vscode.NotebookDocument): boolean => selected.has(nb) || nb.getCells().some((c) => c.document.languageId === AFFORDANCE_TS_LANGUAGE_ID);
  const switchLanguage = (nb: vscode.NotebookDocument, everyCodeCell = false): void => {
    useNotebookLanguage(nb, everyCodeCell).then(
      (n) => {
        if (n > 0) output.info(`${nb.uri.toString(true)}: ${n} ${everyCodeCell ? 'empty' : 'TypeScript'} cell(s) switched to ${AFFORDANCE_TS_LANGUAGE_ID}`);
        diagnostics.schedule(nb);
      },
      (e: unknown) => output.warn(`could not switch the cells of ${nb.uri.fsPath} to ${AFFORDANCE_TS_LANGUAGE_ID}: ${e instanceof Error ? e.message : String(e)}`),
    );
  };

  const disposables: vscode.Disposable[] = [
    output,
    services,
    diagnostics,
    vscode.languages.registerCompletionItemProvider(selector, completionProvider(services), '.', '"', "'", '/', '@', '<', '#'),
    vscode.languages.registerHoverProvider(selector, hoverProvider(services)),
    vscode.languages.registerSignatureHelpProvider(selector, signatureHelpProvider(services), { triggerCharacters: ['(', ',', '<'], retriggerCharacters: [')'] }),
    vscode.languages.registerDefinitionProvider(selector, definitionProvider(services)),
    vscode.commands.registerCommand('affordance-lab.useNotebookTypeScript', async () => {
      const nb = vscode.window.activeNotebookEditor?.notebook;
      if (!nb) {
        void vscode.window.showInformationMessage('Open a notebook first: this switches its TypeScript cells to notebook-aware TypeScript.');
        return;
      }
      await useNotebookLanguage(nb);
      diagnostics.schedule(nb);
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.scheme !== 'vscode-notebook-cell' || e.contentChanges.length === 0) return;
      const nb = services.notebookOf(e.document);
      const cell = nb?.getCells().find((c) => c.document === e.document);
      if (nb && isOurs(nb)) diagnostics.schedule(nb, cell?.index ?? 0);
    }),
    vscode.workspace.onDidChangeNotebookDocument((e) => {
      if (e.contentChanges.length > 0 && blank(e.notebook)) {
        switchLanguage(e.notebook, true);
        return;
      }
      if (!isOurs(e.notebook)) return;
      const added = e.contentChanges.some((c) => c.addedCells.some((cell) => cell.kind === vscode.NotebookCellKind.Code && cell.document.languageId === 'typescript'));
      if (added && (selected.has(e.notebook) || preselectsThisKernel(e.notebook))) switchLanguage(e.notebook);
      // Text edits arrive through onDidChangeTextDocument; here only cells added, removed or moved count.
      if (e.contentChanges.length > 0) {
        diagnostics.forget(e.contentChanges.flatMap((c) => c.removedCells));
        diagnostics.schedule(e.notebook, Math.min(...e.contentChanges.map((c) => c.range.start)));
      }
    }),
    // A cell whose language changes is closed and reopened as a document. VS Code itself may set a cell of
    // a notebook this kernel was just selected for to plain TypeScript (the first cell of a new notebook):
    // that cell switches too, so that it never shows plain TypeScript's "Cannot redeclare" diagnostics.
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (doc.uri.scheme !== 'vscode-notebook-cell') return;
      const nb = services.notebookOf(doc);
      if (!nb) return;
      if (doc.languageId === 'typescript' && (selected.has(nb) || preselectsThisKernel(nb))) switchLanguage(nb);
      else if (doc.languageId === AFFORDANCE_TS_LANGUAGE_ID) diagnostics.schedule(nb);
    }),
    vscode.workspace.onDidOpenNotebookDocument((nb) => {
      if (blank(nb)) switchLanguage(nb, true);
      else if (preselectsThisKernel(nb)) switchLanguage(nb);
      else if (isOurs(nb)) diagnostics.schedule(nb);
    }),
    vscode.workspace.onDidCloseNotebookDocument((nb) => {
      selected.delete(nb);
      diagnostics.clear(nb);
      services.close(nb);
    }),
  ];
  if (controller) {
    disposables.push(
      controller.onDidChangeSelectedNotebooks(({ notebook, selected: isSelected }) => {
        if (isSelected) {
          selected.add(notebook);
          switchLanguage(notebook);
        } else selected.delete(notebook);
      }),
    );
  }
  for (const nb of vscode.workspace.notebookDocuments) {
    if (blank(nb)) switchLanguage(nb, true);
    else if (preselectsThisKernel(nb)) switchLanguage(nb);
    else if (isOurs(nb)) diagnostics.schedule(nb);
  }
  return vscode.Disposable.from(...disposables);
}
