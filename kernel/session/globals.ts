/**
 * What every cell can use without importing anything: `kernel`, `display` and `require`.
 * The types here describe them for IntelliSense ({@link KERNEL_GLOBALS_DTS} is the declaration text
 * the notebook's language service adds to every cell).
 */
import { MIME_BUNDLE, type DisplayHandle, type Displayable } from '../display';
import type { MimeBundle } from '../protocol';

/** Thrown at an `await` (or by {@link KernelGlobal.sleep}) of a cell that was interrupted. */
export class InterruptedError extends Error {
  constructor(message = 'Interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** The `kernel` object of every cell. */
export interface KernelGlobal {
  /**
   * AbortSignal of the running cell: aborted when the user interrupts it. Long loops may check
   * `kernel.signal.aborted` or pass the signal on (every `await` in cell code already honours it).
   */
  readonly signal: AbortSignal;
  /** Shows a value as a rich output; the handle updates or clears it in place. */
  display(value: unknown, options?: { id?: string }): DisplayHandle;
  /** Resolves after `ms` milliseconds; rejects with an InterruptedError when the cell is interrupted. */
  sleep(ms: number): Promise<void>;
  /** Wraps a ready-made MIME bundle (MIME type -> data) so that `display` shows it as it is. */
  mime(bundle: MimeBundle): Displayable;
  /** Folder of the notebook (relative paths in cells start here). */
  readonly notebookDir: string;
}

/** Wraps a MIME bundle as a displayable value. */
export function mimeDisplayable(bundle: MimeBundle): Displayable {
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) {
    throw new TypeError(`kernel.mime: expected an object of MIME type -> data, got ${Array.isArray(bundle) ? 'an array' : typeof bundle}`);
  }
  return { [MIME_BUNDLE]: () => bundle };
}

/** Declarations of the cell globals, for the notebook's TypeScript language service. */
export const KERNEL_GLOBALS_DTS = `
interface AffordanceLabDisplayHandle {
  /** Id of the output. */
  readonly id: string;
  /** Replaces the output in place (throttled; the last update always arrives). */
  update(value: unknown): void;
  /** Removes the output. */
  clear(): void;
}
/** The kernel of this notebook. */
declare const kernel: {
  /** AbortSignal of the running cell: aborted when the user interrupts it. */
  readonly signal: AbortSignal;
  /** Shows a value as a rich output; the handle updates or clears it in place. */
  display(value: unknown, options?: { id?: string }): AffordanceLabDisplayHandle;
  /** Resolves after ms milliseconds; rejects when the cell is interrupted. */
  sleep(ms: number): Promise<void>;
  /** Wraps a MIME bundle (MIME type -> data) so that display shows it as it is. */
  mime(bundle: Record<string, unknown>): object;
  /** Folder of the notebook. */
  readonly notebookDir: string;
};
/** Shows a value as a rich output in this cell; the handle updates or clears it in place. */
declare function display(value: unknown, options?: { id?: string }): AffordanceLabDisplayHandle;
`;
