/**
 * Turns what a failed run throws into the error shown in the cell (plain Node; the CLI uses it too).
 */
import type { CellError } from '../kernel/protocol';
import { describeExit } from '../kernel/client/errors';

/** The fields of the kernel client's KernelProcessExitedError that the message is built from. */
interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
}

function isProcessExit(e: unknown): e is Error & ProcessExit {
  return e instanceof Error && 'exitCode' in e && 'stderrTail' in e;
}

/** The cell's error, and whether the kernel is gone (so that the next run starts a fresh one). */
export interface KernelFailure {
  error: CellError;
  kernelGone: boolean;
}

/**
 * The error to show for an exception thrown while a cell ran: a kernel that died gets its exit code and
 * the last lines of its stderr; any other error is shown with its own name and message.
 */
export function kernelFailure(e: unknown): KernelFailure {
  if (isProcessExit(e)) {
    const tail = e.stderrTail.trim();
    const message =
      `The kernel process ${describeExit(e.exitCode, e.signal)} while the cell was running.\n` +
      'Queued cells were cancelled; the next run starts a fresh kernel (earlier state is lost).' +
      (tail ? `\nLast lines of the kernel's stderr:\n${tail}` : '\nThe kernel wrote nothing to stderr.');
    return { error: hostError('KernelDied', message), kernelGone: true };
  }
  // Errors before the cell ran (settings, start-up timeout, spawn failure): the host's stack says nothing
  // about the cell, so only the name and message are shown.
  if (e instanceof Error) return { error: hostError(e.name || 'Error', e.message), kernelGone: false };
  return { error: hostError('Error', String(e)), kernelGone: false };
}

/**
 * How stacks name a cell: by its execution count, as the editor shows it left of the cell (`[2]`) and
 * Jupyter, GitHub and nbconvert show `In [2]`. The position would not do: it changes when cells are
 * added above, and the numbers the editor shows are the counts.
 */
export function cellLabel(executionCount: number | undefined): string {
  return executionCount === undefined ? 'Cell [ ]' : `Cell [${executionCount}]`;
}

/** A cell error raised by the host rather than by the cell's code: its "stack" is just the message. */
export function hostError(name: string, message: string): CellError {
  return { name, message, stack: `${name}: ${message}` };
}

/**
 * Shown (on stderr) at the start of the first cell that runs on a fresh kernel after the previous one
 * died, so that the loss of state is never silent.
 */
export const FRESH_KERNEL_NOTICE =
  'The kernel process that ran the earlier cells has died (see the cell that was running). This cell runs in a fresh kernel: the variables and imports of earlier cells are gone; run the cells it needs again.\n';
