/**
 * Applies output changes from {@link NotebookOutputs} to VS Code's notebook cells.
 *
 * VS Code changes outputs only through a cell execution. The running cell's execution is used while it
 * runs; a display update that targets a cell which finished earlier (a live training chart updated from
 * a later cell) goes through a short execution created for that purpose that keeps the cell's execution
 * order and timing. Every edit goes through one per-notebook chain so that edits land in the order the
 * kernel produced them; stream text is coalesced so that a loop printing thousands of lines costs a few
 * editor updates, not thousands.
 */
import * as vscode from 'vscode';
import type { CellError, MimeBundle, StreamName } from '../kernel/protocol';
import { bundleToItems, type OutputItemData } from '../host/outputData';
import { NotebookOutputs, type OutputChange, type OutputEntry } from '../host/outputModel';

/** How long stream text waits to be coalesced with what follows before it is shown. */
const STREAM_FLUSH_MS = 50;

/** Converts converted item data to VS Code output items. */
export function toVscodeItems(items: readonly OutputItemData[]): vscode.NotebookCellOutputItem[] {
  return items.map((item) => {
    switch (item.kind) {
      case 'json':
        return vscode.NotebookCellOutputItem.json(item.value, item.mime);
      case 'text':
        return vscode.NotebookCellOutputItem.text(item.value, item.mime);
      case 'bytes':
        return new vscode.NotebookCellOutputItem(item.value, item.mime);
    }
  });
}

/** The outputs of one notebook, as the editor shows them. */
export class NotebookOutputView {
  readonly model: NotebookOutputs;
  private readonly outputs = new Map<OutputEntry, vscode.NotebookCellOutput>();
  private readonly cells = new Map<string, vscode.NotebookCell>();
  private readonly running = new Map<string, vscode.NotebookCellExecution>();
  private readonly dirtyStreams = new Set<OutputEntry>();
  private flushTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly controller: vscode.NotebookController,
    /** Characters per stream output before it is truncated with a notice. */
    maxOutputChars: number,
    private readonly log: (message: string) => void,
  ) {
    this.model = new NotebookOutputs(maxOutputChars);
  }

  /** Starts tracking a cell that begins to run: its old outputs are cleared. */
  async begin(cellId: string, cell: vscode.NotebookCell, execution: vscode.NotebookCellExecution): Promise<void> {
    for (const e of this.model.outputs(cellId)) {
      this.outputs.delete(e);
      this.dirtyStreams.delete(e);
    }
    this.model.clear(cellId);
    this.cells.set(cellId, cell);
    this.running.set(cellId, execution);
    this.enqueue(() => execution.clearOutput());
    await this.idle();
  }

  /** Waits for every pending edit of the cell and stops using its execution (call before `end`). */
  async finish(cellId: string): Promise<void> {
    await this.flushStreams();
    this.running.delete(cellId);
  }

  stream(cellId: string, name: StreamName, text: string): void {
    this.apply(this.model.stream(cellId, name, text));
  }

  display(cellId: string, displayId: string, bundle: MimeBundle, update: boolean, executionCount?: number): void {
    for (const c of this.model.display(cellId, displayId, bundle, update, executionCount)) this.apply(c);
  }

  clearDisplay(displayId: string): void {
    for (const c of this.model.clearDisplay(displayId)) this.apply(c);
  }

  error(cellId: string, error: CellError): void {
    this.apply(this.model.error(cellId, error));
  }

  /** Resolves when every edit queued so far has been applied. */
  async idle(): Promise<void> {
    await this.chain;
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  private apply(change: OutputChange): void {
    const { entry } = change;
    if (change.type === 'update' && entry.kind === 'stream') {
      // Stream text is shown in batches; the entry's items are rebuilt from the whole text at flush.
      this.dirtyStreams.add(entry);
      this.flushTimer ??= setTimeout(() => void this.flushStreams(), STREAM_FLUSH_MS);
      return;
    }
    // Pending stream text goes first so that text printed before a picture appears before it.
    this.queueStreamFlush();
    const cellId = change.cell;
    if (change.type === 'append') {
      const output = this.createOutput(cellId, entry);
      this.outputs.set(entry, output);
      this.edit(cellId, (exec) => exec.appendOutput(output));
    } else if (change.type === 'update') {
      const output = this.outputs.get(entry);
      if (!output) return;
      this.replaceItems(cellId, output, this.items(cellId, entry));
    } else {
      this.outputs.delete(entry);
      const rest = this.model.outputs(cellId).flatMap((e) => this.outputs.get(e) ?? []);
      this.edit(cellId, (exec) => exec.replaceOutput(rest));
    }
  }

  private async flushStreams(): Promise<void> {
    this.queueStreamFlush();
    await this.idle();
  }

  private queueStreamFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const entry of this.dirtyStreams) {
      const output = this.outputs.get(entry);
      const cellId = this.cellOf(entry);
      if (!output || !cellId) continue;
      this.replaceItems(cellId, output, this.items(cellId, entry));
    }
    this.dirtyStreams.clear();
  }

  /**
   * Replaces an output's items. The output object keeps the new items too: a later `replaceOutput`
   * (after a display is cleared) sends the objects as they are, and would otherwise bring back old items.
   */
  private replaceItems(cellId: string, output: vscode.NotebookCellOutput, items: vscode.NotebookCellOutputItem[]): void {
    output.items = items;
    this.edit(cellId, (exec) => exec.replaceOutputItems(items, output));
  }

  private cellOf(entry: OutputEntry): string | undefined {
    for (const cellId of this.running.keys()) if (this.model.outputs(cellId).includes(entry)) return cellId;
    for (const cellId of this.cells.keys()) if (this.model.outputs(cellId).includes(entry)) return cellId;
    return undefined;
  }

  private createOutput(cellId: string, entry: OutputEntry): vscode.NotebookCellOutput {
    // VS Code's ipynb serializer saves an output whose metadata says so as an `execute_result`.
    if (entry.kind === 'display' && entry.executionCount !== undefined) {
      return new vscode.NotebookCellOutput(this.items(cellId, entry), { outputType: 'execute_result', executionCount: entry.executionCount, metadata: {} });
    }
    return new vscode.NotebookCellOutput(this.items(cellId, entry));
  }

  private items(cellId: string, entry: OutputEntry): vscode.NotebookCellOutputItem[] {
    switch (entry.kind) {
      case 'stream': {
        const text = entry.buffer.text;
        return [entry.name === 'stderr' ? vscode.NotebookCellOutputItem.stderr(text) : vscode.NotebookCellOutputItem.stdout(text)];
      }
      case 'error': {
        const err = new Error(entry.error.message);
        err.name = entry.error.name;
        err.stack = entry.error.stack;
        return [vscode.NotebookCellOutputItem.error(err)];
      }
      case 'display': {
        const { items, problems } = bundleToItems(entry.bundle);
        // A payload that cannot be shown is reported beside the output, not silently dropped.
        if (problems.length) queueMicrotask(() => this.stream(cellId, 'stderr', problems.map((p) => `display ${entry.displayId}: ${p}\n`).join('')));
        return toVscodeItems(items);
      }
    }
  }

  /** Queues an edit on the cell's running execution, or on a short one for a cell that finished. */
  private edit(cellId: string, op: (exec: vscode.NotebookCellExecution) => Thenable<void>): void {
    this.enqueue(async () => {
      const running = this.running.get(cellId);
      if (running) return op(running);
      const cell = this.cells.get(cellId);
      if (!cell || cell.notebook.isClosed) return;
      let exec: vscode.NotebookCellExecution;
      try {
        exec = this.controller.createNotebookCellExecution(cell);
      } catch (e) {
        // The cell is queued to run again: its outputs are about to be cleared, so the update is moot.
        this.log(`output update for ${cellId} skipped: ${(e as Error).message}`);
        return;
      }
      const summary = cell.executionSummary;
      exec.executionOrder = summary?.executionOrder;
      exec.start(summary?.timing?.startTime);
      try {
        await op(exec);
      } finally {
        exec.end(summary?.success, summary?.timing?.endTime);
      }
    });
  }

  private enqueue(op: () => Thenable<void> | Promise<void> | void): void {
    this.chain = this.chain.then(op).then(
      () => undefined,
      (e: unknown) => this.log(`output edit failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}
