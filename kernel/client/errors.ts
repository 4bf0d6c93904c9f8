/**
 * Typed errors of the kernel client. Hosts tell them apart by class (or by their fields: a
 * KernelProcessExitedError always has `exitCode`, `signal` and `stderrTail`).
 */

/** Describes how a process ended, e.g. "exited with code 3" or "was killed by SIGKILL". */
export function describeExit(exitCode: number | null, signal: string | null): string {
  if (signal) return `was killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or killed from outside)' : ''}`;
  if (exitCode === null) return 'ended';
  return `exited with code ${exitCode}`;
}

/**
 * The kernel process ended (exit, crash, signal, out of memory, spawn failure, broken pipe) while a
 * request was outstanding. Every running and queued request fails with it.
 */
export class KernelProcessExitedError extends Error {
  /**
   * @param exitCode exit code, or null when killed by a signal or never started
   * @param signal the signal that ended it, if any
   * @param stderrTail the last lines the process wrote to stderr
   * @param reason what happened, when it is not a plain exit (e.g. the spawn error)
   */
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
    reason?: string,
  ) {
    const tail = stderrTail.trim();
    super(
      `The kernel process died: it ${reason ?? describeExit(exitCode, signal)}.` + (tail ? `\nLast lines of its stderr:\n${tail}` : '\nIt wrote nothing to stderr.'),
    );
    this.name = 'KernelProcessExitedError';
  }
}

/** The kernel did not start: bad options, spawn failure, a start-up timeout or a failed initialize. */
export class KernelStartError extends Error {
  constructor(
    message: string,
    readonly stderrTail = '',
  ) {
    super(stderrTail.trim() ? `${message}\nLast lines of the kernel's stderr:\n${stderrTail.trim()}` : message);
    this.name = 'KernelStartError';
  }
}

/** An interrupt did not stop the cell within the grace period: the kernel was killed and state was lost. */
export class KernelRestartedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelRestartedError';
  }
}

/** A queued cell that never ran, because the kernel died, was restarted or was shut down before it. */
export class CellCancelledError extends Error {
  constructor(reason: string) {
    super(`Cell not run: ${reason}.`);
    this.name = 'CellCancelledError';
  }
}
