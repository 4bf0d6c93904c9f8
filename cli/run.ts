/**
 * `affordance-lab run`: executes a notebook headless in one kernel, the way "Run All" does in VS Code,
 * and writes it with its outputs.
 */
import { accessSync, constants, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BackendChoice, MimeBundle } from '../kernel/protocol';
import { cellLabel, FRESH_KERNEL_NOTICE, hostError, kernelFailure } from '../host/failures';
import type { HostSession } from '../host/kernelPort';
import { NotebookOutputs } from '../host/outputModel';
import { BACKEND_ENV_VAR, DEFAULTS, parseBackend } from '../host/settings';
import { startHostSession } from '../host/session';
import type { RunCommand } from './args';
import { codeCells, readNotebook, serializeNotebook, toIpynbOutput, UsageError, withCellIds, type CodeCell, type Ipynb } from './ipynb';

/** Where the runner writes progress (stderr) and, for `--out -`, the notebook (stdout). */
export interface RunIO {
  progress(line: string): void;
  stdout(text: string): void;
  env: Record<string, string | undefined>;
  /** Folder of the bundles (dist/), where kernel.js lives. */
  distDir: string;
  /**
   * Rewrites the terminal's last line in place (a TTY): the live state of the running cell. Without it,
   * that state is printed as a line of its own every `progressIntervalMs`.
   */
  status?: (line: string) => void;
  /** @default 10000 */
  progressIntervalMs?: number;
}

/** The first line of a display's text, to show as the live state of a cell (the training view's summary). */
export function displaySummary(bundle: MimeBundle): string | undefined {
  const text = bundle['text/plain'];
  const plain = Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : undefined;
  const line = plain?.split('\n').map((l) => l.trim()).find((l) => l.length > 0);
  if (!line) return undefined;
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

/**
 * The live state of the running cell: the latest text of each of its display handles. On a TTY the
 * state replaces itself on one line as displays update (at most 5 times a second); otherwise a line
 * every `intervalMs` says how long the cell has run and what its displays show.
 */
class LiveProgress {
  private readonly latest = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private lastDrawn = 0;
  private shown = false;
  private started = Date.now();
  private label = '';

  constructor(
    private readonly io: RunIO,
    private readonly intervalMs: number,
  ) {}

  begin(label: string): void {
    this.label = label;
    this.latest.clear();
    this.started = Date.now();
    if (!this.io.status) {
      this.timer = setInterval(() => this.io.progress(this.line()), this.intervalMs);
      this.timer.unref();
    }
  }

  display(displayId: string, bundle: MimeBundle): void {
    const summary = displaySummary(bundle);
    if (!summary) return;
    this.latest.set(displayId, summary);
    if (!this.io.status || Date.now() - this.lastDrawn < 200) return;
    this.lastDrawn = Date.now();
    this.shown = true;
    this.io.status(this.line());
  }

  end(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.io.status?.('');
    this.shown = false;
  }

  private line(): string {
    const parts = [...this.latest.values()].slice(-3);
    return `${this.label} running for ${seconds(Date.now() - this.started)}${parts.length ? `: ${parts.join(' | ')}` : ''}`;
  }
}

/** The default output: `<name>.executed.ipynb` beside the input, so the input is never overwritten. */
export function defaultOutPath(input: string): string {
  const dir = path.dirname(input);
  const base = path.basename(input).replace(/\.ipynb$/i, '');
  return path.join(dir, `${base}.executed.ipynb`);
}

/**
 * Checks, before anything runs, that the output can be written: its folder exists and is writable, and
 * an existing file there is a writable file.
 * @throws UsageError naming the path and the problem
 */
export function checkWritable(out: string): void {
  const dir = path.dirname(path.resolve(out));
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new UsageError(`${out}: cannot write, folder ${dir} does not exist`);
  }
  if (!dirStat.isDirectory()) throw new UsageError(`${out}: cannot write, ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${out}: cannot write, folder ${dir} is not writable`);
  }
  try {
    const st = statSync(out);
    if (st.isDirectory()) throw new UsageError(`${out}: cannot write, it is a folder`);
    accessSync(out, constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`${out}: cannot write (${(e as Error).message})`);
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a notebook. */
function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw new UsageError(`${file}: cannot write (${(e as Error).message})`);
  }
}

/** First non-empty line of a cell, shortened, to name the cell in messages. */
export function firstLine(code: string): string {
  const line = code.split('\n').find((l) => l.trim().length > 0)?.trim() ?? '(empty)';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** The notebook to write: executed cells get their outputs and count, cells that did not run are cleared. */
function executedNotebook(nb: Ipynb, cells: CodeCell[], outputs: NotebookOutputs, counts: Map<number, number>): Ipynb {
  const byIndex = new Map(cells.map((c) => [c.index, c]));
  return withCellIds({
    ...nb,
    cells: nb.cells.map((cell, index) => {
      const code = byIndex.get(index);
      if (!code) return cell;
      const count = counts.get(index);
      return {
        ...cell,
        execution_count: count ?? null,
        outputs: count === undefined ? [] : outputs.outputs(`cell-${index}`).map((e) => toIpynbOutput(e)),
      };
    }),
  });
}

/** How long the runner waits after the last cell for the output of timers the cells left scheduled. */
export const PENDING_OUTPUT_WAIT_MS = 2000;

async function waitForPending(session: HostSession, io: RunIO): Promise<void> {
  const deadline = Date.now() + PENDING_OUTPUT_WAIT_MS;
  let pending = await session.pending();
  while (pending > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    pending = await session.pending();
  }
  if (pending > 0) io.progress(`${pending} timer(s) the cells started were still pending ${PENDING_OUTPUT_WAIT_MS / 1000} s after the last cell; their output, if any, is not in the notebook`);
}

/**
 * Runs the notebook and writes it.
 * @returns the exit code: 0 all cells ran (or --allow-errors), 1 a cell failed or the kernel died
 * @throws UsageError for bad input (exit code 2), before any cell runs
 */
export async function runNotebook(cmd: RunCommand, io: RunIO): Promise<number> {
  const nb = readNotebook(cmd.notebook);
  const cells = codeCells(nb, cmd.notebook);
  const out = cmd.out ?? defaultOutPath(cmd.notebook);
  if (out !== '-') checkWritable(out);
  let backend: BackendChoice = cmd.backend ?? 'auto';
  const envBackend = io.env[BACKEND_ENV_VAR]?.trim();
  if (!cmd.backend && envBackend) {
    try {
      backend = parseBackend(envBackend, BACKEND_ENV_VAR);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }

  const maxChars = DEFAULTS.maxOutputChars;
  const outputs = new NotebookOutputs(maxChars);
  const counts = new Map<number, number>();
  const started = Date.now();
  let session: HostSession | undefined;
  let failed: { cell: CodeCell; message: string } | undefined;
  let errors = 0;
  let order = 0;
  /** The kernel died: the next cell runs in a fresh one and says so. */
  let died = false;
  const live = new LiveProgress(io, io.progressIntervalMs ?? 10_000);

  const stop = (): void => {
    // Ctrl+C: stop the kernel before leaving so that no process is left behind.
    io.progress('stopped: shutting the kernel down; nothing was written');
    void (session?.dispose() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  try {
    for (const [i, cell] of cells.entries()) {
      const label = `[${i + 1}/${cells.length}] cell ${cell.number} (${firstLine(cell.code)})`;
      const cellId = `cell-${cell.index}`;
      const count = ++order;
      counts.set(cell.index, count);
      const t0 = Date.now();
      let error;
      let timedOut = false;
      try {
        session ??= await startHostSession({
          notebookDir: path.dirname(path.resolve(cmd.notebook)),
          backend,
          kernelScript: path.join(io.distDir, 'kernel.js'),
          nodePath: process.execPath,
          // The kernel also reads the variable; it carries the resolved choice so that --backend wins.
          env: { [BACKEND_ENV_VAR]: backend },
          startTimeoutMs: DEFAULTS.kernelStartTimeoutSeconds * 1000,
          interruptGraceMs: DEFAULTS.interruptGraceSeconds * 1000,
          maxOutputChars: maxChars,
          onProgress: (m) => io.progress(m),
        });
        if (died) {
          died = false;
          outputs.stream(cellId, 'stderr', FRESH_KERNEL_NOTICE);
        }
        const timer = cmd.timeoutSec === undefined ? undefined : setTimeout(() => {
          timedOut = true;
          void session?.interrupt();
        }, cmd.timeoutSec * 1000);
        live.begin(label);
        try {
          const result = await session.execute(
            { cellId, cellLabel: cellLabel(count), code: cell.code, language: cell.language },
            {
              onStream: (name, text) => outputs.stream(cellId, name, text),
              onDisplay: (id, bundle, update, result) => {
                outputs.display(cellId, id, bundle, update, result ? count : undefined);
                if (!result) live.display(id, bundle);
              },
              onClearDisplay: (id) => outputs.clearDisplay(id),
            },
          );
          if (result.status !== 'ok') error = result.error ?? hostError('Interrupted', 'The cell was interrupted.');
        } finally {
          clearTimeout(timer);
          live.end();
        }
      } catch (e) {
        const f = kernelFailure(e);
        error = f.error;
        // The kernel is gone (or never started): a later cell, with --allow-errors, gets a fresh one.
        const gone = session;
        session = undefined;
        if (f.kernelGone) died = true;
        await gone?.dispose().catch(() => undefined);
      }
      if (timedOut) error = hostError('Timeout', `Cell ${cell.number} ran longer than --timeout ${cmd.timeoutSec} s and was interrupted.${error ? ` ${error.name}: ${error.message}` : ''}`);
      if (error) {
        outputs.error(cellId, error);
        errors++;
        io.progress(`${label} failed after ${seconds(Date.now() - t0)}: ${error.name}: ${error.message.split('\n')[0]}`);
        if (!cmd.allowErrors) {
          failed = { cell, message: `${error.name}: ${error.message}` };
          break;
        }
      } else {
        io.progress(`${label} ok in ${seconds(Date.now() - t0)}`);
      }
    }
    // Output of timers the cells started may still come: wait a little for it, as a notebook would show it.
    if (session) await waitForPending(session, io);
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await session?.dispose();
  }

  const text = serializeNotebook(executedNotebook(nb, cells, outputs, counts));
  if (out === '-') io.stdout(text);
  else writeAtomically(out, text);
  const where = out === '-' ? 'stdout' : out;
  if (failed) {
    io.progress(`cell ${failed.cell.number} failed (${firstLine(failed.cell.code)}): ${failed.message.split('\n')[0]}`);
    io.progress(`wrote ${where} with the outputs so far; cells after cell ${failed.cell.number} did not run`);
    return 1;
  }
  io.progress(`ran ${cells.length} cells in ${seconds(Date.now() - started)}${errors ? ` (${errors} with errors, --allow-errors)` : ''}; wrote ${where}`);
  return 0;
}
