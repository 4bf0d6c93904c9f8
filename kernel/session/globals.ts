/**
 * What every cell can use without importing anything: `kernel`, `display` and `require`.
 * The notebook's language service types the `kernel` global of cells with {@link KernelGlobal}
 * (emitted into dist/types), so its TSDoc is what users see.
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
