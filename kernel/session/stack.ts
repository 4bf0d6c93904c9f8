/**
 * Stack traces as the user should see them: frames of cells point at the cell's own line and column
 * (through the composed source map of the cell), frames of bundled local files at the file's own
 * lines, and the kernel's internal frames are gone.
 */
import { originalPositionFor, type TraceMap } from '@jridgewell/trace-mapping';

interface SourceEntry {
  map: () => TraceMap;
  /** Label shown instead of the URL (e.g. "Cell 3"), or a function naming the original source. */
  name: string | ((source: string) => string);
}

/** Cell URLs and local files whose frames are mapped; the oldest entries are dropped beyond the cap. */
const sources = new Map<string, SourceEntry>();
const MAX_SOURCES = 500;

function remember(url: string, entry: SourceEntry): void {
  sources.delete(url);
  sources.set(url, entry);
  if (sources.size > MAX_SOURCES) {
    const oldest = sources.keys().next().value;
    if (oldest !== undefined) sources.delete(oldest);
  }
}

/** Registers a cell's sourceURL with its label and (lazily built) source map. */
export function registerCell(url: string, label: string, map: () => TraceMap): void {
  remember(url, { map, name: label });
}

/** Registers a bundled local file: frames in `file` are mapped to the original sources. */
export function registerSourceMap(file: string, map: () => TraceMap, sourcePath: (source: string) => string): void {
  remember(file, { map, name: sourcePath });
}

const FRAME = /^(\s*at (?:.*? \()?)(.*?):(\d+):(\d+)(\)?)$/;

/** Whether a frame belongs to the kernel rather than to the user's code. */
function isKernelFrame(line: string, kernelFiles: readonly string[]): boolean {
  return kernelFiles.some((f) => line.includes(f)) || line.includes('node:inspector') || line.includes('node:async_hooks') || line.includes('node:internal/');
}

/**
 * Maps the stack frames found anywhere in a text (an inspected value holding an error) and drops the
 * kernel's, keeping every other line.
 */
export function cleanFrames(text: string, kernelFiles: readonly string[]): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (!/^\s*at /.test(line)) return [line];
      const trail = /,$/.test(line) ? ',' : '';
      const mapped = cleanStack(trail ? line.slice(0, -1) : line, kernelFiles);
      if (mapped === '' || /at new Promise \(<anonymous>\)/.test(line)) return [];
      return [mapped + trail];
    })
    .join('\n');
}

/**
 * Rewrites a V8 stack: maps cell and local-file frames, drops kernel frames, and cuts the stack where
 * it leaves the user's code (everything below the first cell frame that is followed by a kernel frame).
 * @param stack `error.stack`
 * @param kernelFiles paths of the kernel's own bundle files
 */
export function cleanStack(stack: string, kernelFiles: readonly string[]): string {
  const lines = stack.split('\n');
  const out: string[] = [];
  let seenUserFrame = false;
  let inFrames = false;
  for (const line of lines) {
    const isFrame = /^\s*at /.test(line);
    if (!isFrame) {
      // The message (possibly several lines) before the first frame.
      if (!inFrames) out.push(line);
      continue;
    }
    inFrames = true;
    if (isKernelFrame(line, kernelFiles)) {
      if (seenUserFrame) break;
      continue;
    }
    const m = FRAME.exec(line);
    const entry = m ? sources.get(m[2]) : undefined;
    if (m && entry) {
      seenUserFrame = true;
      const pos = originalPositionFor(entry.map(), { line: Number(m[3]), column: Math.max(0, Number(m[4]) - 1) });
      if (pos.line !== null && pos.column !== null) {
        const name = typeof entry.name === 'string' ? entry.name : entry.name(pos.source ?? m[2]);
        out.push(`${m[1]}${name}:${pos.line}:${pos.column + 1}${m[5]}`);
      } else {
        const name = typeof entry.name === 'string' ? entry.name : m[2];
        out.push(`${m[1]}${name}:${m[3]}:${m[4]}${m[5]}`);
      }
      continue;
    }
    if (seenUserFrame && /\(<anonymous>\)$/.test(line) && /at new Promise /.test(line)) continue;
    out.push(line);
  }
  return out.join('\n');
}
