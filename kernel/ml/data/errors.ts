import type { DatasetIssue } from '../../protocol';

/**
 * A problem with a dataset file: which file, where (line and/or field) and what was expected.
 * The message reads `file:line: field: problem (expected ...)`.
 */
export class CalDataError extends Error {
  override readonly name = 'CalDataError';
  constructor(
    /** Path of the offending file or folder. */
    readonly file: string,
    /** What is wrong and what was expected. */
    readonly detail: string,
    /** 1-based line in the file, when known. */
    readonly line?: number,
    /** JSON field (e.g. `kps3[2]`) or column, when known. */
    readonly field?: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${field !== undefined ? `${field}: ` : ''}${detail}`);
  }

  /** As an entry of the dataset report. */
  toIssue(): DatasetIssue {
    return { file: this.file, ...(this.line !== undefined ? { line: this.line } : {}), message: `${this.field !== undefined ? `${this.field}: ` : ''}${this.detail}` };
  }
}

/** What to do with a bad file: `throw` stops at the first, `skip` leaves the item out and records the problem. */
export type OnError = 'throw' | 'skip';

/** Collects problems according to {@link OnError}. */
export class ProblemLog {
  readonly issues: DatasetIssue[] = [];
  constructor(readonly mode: OnError) {}
  /** Throws in `throw` mode; records the problem in `skip` mode. */
  report(e: CalDataError): void {
    if (this.mode === 'throw') throw e;
    this.issues.push(e.toIssue());
  }
}

/** 1-based line of a character offset in a text. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < Math.min(offset, text.length); i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** 1-based line where `"key"` first appears as a JSON key, if it does. */
export function lineOfKey(text: string, key: string): number | undefined {
  const m = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`).exec(text);
  return m ? lineOfOffset(text, m.index) : undefined;
}
