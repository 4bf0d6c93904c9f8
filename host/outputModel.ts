/**
 * Output bookkeeping for one notebook, shared by the notebook controller and the headless runner.
 *
 * Each cell has an ordered list of outputs. Stream text is appended to the cell's last output when that
 * is a stream of the same name (so a chatty loop makes one output, not thousands), and starts a new
 * output after a rich display so that text and pictures stay in the order they were produced. Display
 * ids are tracked across the notebook: an update replaces every output with that id wherever it is,
 * even in a cell that finished long ago; a clear removes them. The model is plain data; the host applies
 * the {@link OutputChange}s it returns (VS Code: append / replace items / replace all; CLI: nothing until
 * the notebook is written).
 */
import type { CellError, MimeBundle, StreamName } from '../kernel/protocol';
import { OutputText } from '../kernel/client/outputText';

export interface StreamEntry {
  kind: 'stream';
  name: StreamName;
  /** The text as shown: `\r` applied, truncated with a notice beyond the limit. */
  buffer: OutputText;
}

export interface DisplayEntry {
  kind: 'display';
  displayId: string;
  bundle: MimeBundle;
  /** Set for the value of a cell's last expression: Jupyter's `execute_result` with this count. */
  executionCount?: number;
}

export interface ErrorEntry {
  kind: 'error';
  error: CellError;
}

export type OutputEntry = StreamEntry | DisplayEntry | ErrorEntry;

/** What changed; `cell` is the id of the cell whose outputs changed (not always the running one). */
export type OutputChange =
  | { type: 'append'; cell: string; entry: OutputEntry }
  | { type: 'update'; cell: string; entry: OutputEntry }
  | { type: 'remove'; cell: string; entry: OutputEntry };

/** The outputs of every cell of one notebook, keyed by the cell id the host uses in `execute`. */
export class NotebookOutputs {
  /** @param maxChars characters kept per stream output before it is truncated with a notice */
  constructor(private readonly maxChars: number) {}

  private readonly cells = new Map<string, OutputEntry[]>();
  /** displayId -> the cells and entries showing it (a display id may be shown more than once). */
  private readonly displays = new Map<string, { cell: string; entry: DisplayEntry }[]>();

  /** The outputs of a cell, in order (empty for a cell that has none). */
  outputs(cell: string): readonly OutputEntry[] {
    return this.cells.get(cell) ?? [];
  }

  /** Forgets a cell's outputs (it is about to run again); its display ids no longer reach it. */
  clear(cell: string): void {
    const entries = this.cells.get(cell);
    if (!entries) return;
    this.cells.delete(cell);
    for (const e of entries) if (e.kind === 'display') this.forgetDisplay(e.displayId, e);
  }

  /** Appends stream text to the cell's last output if it is the same stream, else starts a new output. */
  stream(cell: string, name: StreamName, text: string): OutputChange {
    const entries = this.list(cell);
    const last = entries[entries.length - 1];
    if (last?.kind === 'stream' && last.name === name) {
      last.buffer.append(text);
      return { type: 'update', cell, entry: last };
    }
    const entry: StreamEntry = { kind: 'stream', name, buffer: new OutputText(this.maxChars) };
    entry.buffer.append(text);
    entries.push(entry);
    return { type: 'append', cell, entry };
  }

  /**
   * A rich output. `update: true` replaces every output already showing `displayId` (in any cell); when
   * there is none, or for `update: false`, a new output is appended to `cell`.
   */
  display(cell: string, displayId: string, bundle: MimeBundle, update: boolean, executionCount?: number): OutputChange[] {
    const shown = this.displays.get(displayId);
    if (update && shown?.length) {
      return shown.map((s) => {
        s.entry.bundle = bundle;
        return { type: 'update', cell: s.cell, entry: s.entry } as const;
      });
    }
    const entry: DisplayEntry = executionCount === undefined ? { kind: 'display', displayId, bundle } : { kind: 'display', displayId, bundle, executionCount };
    this.list(cell).push(entry);
    this.displays.set(displayId, [...(shown ?? []), { cell, entry }]);
    return [{ type: 'append', cell, entry }];
  }

  /** Removes every output showing `displayId`; nothing happens for an id that is not shown. */
  clearDisplay(displayId: string): OutputChange[] {
    const shown = this.displays.get(displayId) ?? [];
    this.displays.delete(displayId);
    const changes: OutputChange[] = [];
    for (const s of shown) {
      const entries = this.cells.get(s.cell);
      const i = entries?.indexOf(s.entry) ?? -1;
      if (entries && i >= 0) {
        entries.splice(i, 1);
        changes.push({ type: 'remove', cell: s.cell, entry: s.entry });
      }
    }
    return changes;
  }

  /** The cell's error output (always appended last, after what the cell printed). */
  error(cell: string, error: CellError): OutputChange {
    const entry: ErrorEntry = { kind: 'error', error };
    this.list(cell).push(entry);
    return { type: 'append', cell, entry };
  }

  private list(cell: string): OutputEntry[] {
    let entries = this.cells.get(cell);
    if (!entries) {
      entries = [];
      this.cells.set(cell, entries);
    }
    return entries;
  }

  private forgetDisplay(displayId: string, entry: DisplayEntry): void {
    const rest = (this.displays.get(displayId) ?? []).filter((s) => s.entry !== entry);
    if (rest.length) this.displays.set(displayId, rest);
    else this.displays.delete(displayId);
  }
}
