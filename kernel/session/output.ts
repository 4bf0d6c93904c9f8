/**
 * Everything a cell writes, on its way to the host: console and process.stdout/stderr become `stream`
 * notifications, `display(...)` becomes `display`/`clearDisplay` notifications, all in the order they
 * happened and attributed to the running cell (or to the last one, for output after it finished).
 *
 * Stream text is coalesced for a few milliseconds (many small writes become one message) but flushed
 * before any display message, so that text and rich outputs stay in order. Display updates are
 * throttled per display id; the last one is always sent before the cell's result.
 */
import type { ClearDisplayParams, DisplayParams, MimeBundle, StreamName, StreamParams } from '../protocol';
import { OutputText } from '../client/outputText';

/** Where notifications go (the JSON-RPC connection in the kernel, a recorder in tests). */
export interface OutputChannel {
  stream(params: StreamParams): void;
  display(params: DisplayParams): void;
  clearDisplay(params: ClearDisplayParams): void;
}

interface Segment {
  cellId: string;
  name: StreamName;
  text: string;
}

interface PendingUpdate {
  cellId: string;
  bundle: MimeBundle;
  timer: NodeJS.Timeout | undefined;
}

/** Options of {@link OutputRouter}. */
export interface OutputRouterOptions {
  /** Stream text per cell and stream beyond which nothing more is sent (the host shows a notice). */
  maxOutputChars: number;
  /** Coalescing window for stream text. @default 8 */
  flushMs?: number;
  /** Minimum interval between two updates of one display. @default 100 */
  updateIntervalMs?: number;
  /**
   * The cell whose code is writing (from the async context the write happens in), when it is not the
   * running one: output of a timer or a promise a cell started goes to that cell, as Jupyter's parent
   * header does.
   */
  origin?: () => string | undefined;
}

/** Writes within one coalescing window that are sent one by one before coalescing starts. */
const BURST_WRITES = 16;

export class OutputRouter {
  private cellId: string | undefined;
  private segments: Segment[] = [];
  private lastFlush = 0;
  private windowStart = 0;
  private windowWrites = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private texts = new Map<StreamName, OutputText>();
  /** Text accounting (truncation) of earlier cells that still write. */
  private readonly earlierTexts = new Map<string, Map<StreamName, OutputText>>();
  private readonly lastUpdate = new Map<string, number>();
  private readonly pending = new Map<string, PendingUpdate>();
  private readonly flushMs: number;
  private readonly updateIntervalMs: number;

  constructor(
    private readonly channel: OutputChannel,
    private options: OutputRouterOptions,
  ) {
    this.flushMs = options.flushMs ?? 8;
    this.updateIntervalMs = options.updateIntervalMs ?? 100;
  }

  setMaxOutputChars(max: number): void {
    this.options = { ...this.options, maxOutputChars: max };
  }

  /** Output from now on belongs to this cell (it stays the target after the cell finished). */
  beginCell(cellId: string): void {
    this.flush();
    if (this.cellId !== undefined) {
      this.earlierTexts.delete(this.cellId);
      this.earlierTexts.set(this.cellId, this.texts);
      if (this.earlierTexts.size > 50) this.earlierTexts.delete(this.earlierTexts.keys().next().value as string);
    }
    this.earlierTexts.delete(cellId);
    this.cellId = cellId;
    this.texts = new Map();
  }

  /** The cell the output being written belongs to. */
  private target(): string | undefined {
    return this.options.origin?.() ?? this.cellId;
  }

  /** Sends everything still held back for the cell (text and the last display updates). */
  endCell(): void {
    this.flushDisplays();
    this.flush();
  }

  /** The cell output goes to, if any. */
  get currentCellId(): string | undefined {
    return this.cellId;
  }

  /** Stream text written by cell code. Returns false when there is no cell to attribute it to. */
  write(name: StreamName, text: string, cellId: string | undefined = this.target()): boolean {
    if (cellId === undefined) return false;
    if (text.length === 0) return true;
    let texts = cellId === this.cellId ? this.texts : this.earlierTexts.get(cellId);
    if (!texts) {
      texts = new Map();
      this.earlierTexts.set(cellId, texts);
    }
    let acc = texts.get(name);
    if (!acc) {
      acc = new OutputText(this.options.maxOutputChars);
      texts.set(name, acc);
    }
    if (acc.truncated) return true;
    acc.append(text);
    const last = this.segments[this.segments.length - 1];
    if (last && last.name === name && last.cellId === cellId) last.text += text;
    else this.segments.push({ cellId, name, text });
    const now = performance.now();
    if (now - this.windowStart >= this.flushMs) {
      this.windowStart = now;
      this.windowWrites = 0;
    }
    this.windowWrites++;
    // Sparse writes go out at once (a busy loop may follow and block every timer); a flood of writes is
    // coalesced, flushed from the write itself once the window has passed, or by the timer.
    if (this.windowWrites <= BURST_WRITES || now - this.lastFlush >= this.flushMs) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.flushMs);
    return true;
  }

  /** Sends the coalesced stream text now. */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.lastFlush = performance.now();
    if (this.segments.length === 0) return;
    const segments = this.segments;
    this.segments = [];
    for (const s of segments) this.channel.stream({ cellId: s.cellId, name: s.name, text: s.text });
  }

  /** A new output, or an update of one (throttled per display id). */
  display(bundle: MimeBundle, displayId: string, update: boolean, executeResult = false): void {
    const cellId = this.target();
    if (cellId === undefined) return;
    if (!update) {
      this.dropPending(displayId);
      this.flush();
      this.lastUpdate.set(displayId, performance.now());
      this.channel.display(executeResult ? { cellId, displayId, bundle, update: false, executeResult: true } : { cellId, displayId, bundle, update: false });
      return;
    }
    const now = performance.now();
    const since = now - (this.lastUpdate.get(displayId) ?? -Infinity);
    if (since >= this.updateIntervalMs && !this.pending.has(displayId)) {
      this.flush();
      this.lastUpdate.set(displayId, now);
      this.channel.display({ cellId, displayId, bundle, update: true });
      return;
    }
    const p = this.pending.get(displayId);
    if (p) {
      p.bundle = bundle;
      p.cellId = cellId;
      // In a busy loop the timer cannot fire: send from here once the interval has passed.
      if (since >= this.updateIntervalMs) this.sendPending(displayId);
      return;
    }
    const entry: PendingUpdate = { cellId, bundle, timer: undefined };
    entry.timer = setTimeout(() => this.sendPending(displayId), Math.max(0, this.updateIntervalMs - since));
    this.pending.set(displayId, entry);
  }

  /** Removes an output. */
  clear(displayId: string): void {
    const cellId = this.target();
    if (cellId === undefined) return;
    this.dropPending(displayId);
    this.flush();
    this.channel.clearDisplay({ cellId, displayId });
  }

  private sendPending(displayId: string): void {
    const p = this.pending.get(displayId);
    if (!p) return;
    this.dropPending(displayId);
    this.flush();
    this.lastUpdate.set(displayId, performance.now());
    this.channel.display({ cellId: p.cellId, displayId, bundle: p.bundle, update: true });
  }

  private dropPending(displayId: string): void {
    const p = this.pending.get(displayId);
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(displayId);
  }

  /** Sends every held-back display update now. */
  flushDisplays(): void {
    for (const id of [...this.pending.keys()]) this.sendPending(id);
  }
}
