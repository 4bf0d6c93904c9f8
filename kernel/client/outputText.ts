/**
 * Stream text of one output as a terminal would show it, bounded in size. Both hosts (the notebook
 * controller and the CLI) and the kernel itself use it, so that all three agree on what is shown.
 *
 * - `\r` returns to the start of the line: the next text replaces the line (progress bars update in
 *   place instead of piling up); `\r\n` is an ordinary line end.
 * - Beyond `maxChars` characters the text is cut and a visible notice is appended; later text is
 *   dropped, so a runaway loop cannot freeze the editor.
 */
export class OutputText {
  private done = '';
  private line = '';
  private pendingReturn = false;
  private cut = false;

  /** @param maxChars characters kept before the text is truncated (at least 1) */
  constructor(readonly maxChars: number) {
    if (!Number.isFinite(maxChars) || maxChars < 1) throw new RangeError(`maxChars: expected a positive number, got ${maxChars}`);
  }

  /** Whether the limit was reached (later appends are ignored). */
  get truncated(): boolean {
    return this.cut;
  }

  /** Appends a chunk as written by the program (chunks may split `\r\n` anywhere). */
  append(chunk: string): void {
    if (this.cut || chunk.length === 0) return;
    let i = 0;
    while (i < chunk.length) {
      const c = chunk.charCodeAt(i);
      if (c === 10 /* \n */) {
        this.done += this.line + '\n';
        this.line = '';
        this.pendingReturn = false;
        i++;
      } else if (c === 13 /* \r */) {
        this.pendingReturn = true;
        i++;
      } else {
        let j = i;
        while (j < chunk.length) {
          const d = chunk.charCodeAt(j);
          if (d === 10 || d === 13) break;
          j++;
        }
        if (this.pendingReturn) {
          this.line = '';
          this.pendingReturn = false;
        }
        this.line += chunk.slice(i, j);
        i = j;
      }
      if (this.done.length + this.line.length > this.maxChars) {
        const all = this.done + this.line;
        this.done = all.slice(0, this.maxChars);
        this.line = '';
        this.cut = true;
        return;
      }
    }
  }

  /** The text to show, with the truncation notice when the limit was reached. */
  get text(): string {
    const body = this.done + this.line;
    if (!this.cut) return body;
    return `${body}${body.endsWith('\n') ? '' : '\n'}[output truncated: more than ${this.maxChars} characters; the rest was not shown (setting affordanceLab.maxOutputChars)]\n`;
  }
}
