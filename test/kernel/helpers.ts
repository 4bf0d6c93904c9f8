/**
 * Shared helpers of the kernel tests: a fresh kernel bundle (dist/kernel.js is rebuilt when a kernel
 * source is newer), temporary notebook folders, and sessions that record every output.
 */
import { build } from 'esbuild';
import { mkdtempSync, mkdirSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecuteResult, MimeBundle, StreamName } from '../../kernel/protocol';
import { KernelSession, type CellCallbacks, type KernelSessionOptions } from '../../kernel/client/index';

export const root = join(__dirname, '..', '..');
export const kernelScript = join(root, 'dist', 'kernel.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

let built: Promise<void> | undefined;

/** Rebuilds dist/kernel.js (same options as esbuild.mjs) when a kernel source is newer than it. */
export function ensureKernelBuilt(): Promise<void> {
  built ??= (async () => {
    let bundleTime = 0;
    try {
      bundleTime = Math.min(statSync(kernelScript).mtimeMs, statSync(join(root, 'dist', 'kernel-interrupt-worker.js')).mtimeMs);
    } catch {
      bundleTime = 0;
    }
    if (bundleTime > newestMtime(join(root, 'kernel'))) return;
    await build({
      entryPoints: { kernel: join(root, 'kernel/main.ts'), 'kernel-interrupt-worker': join(root, 'kernel/session/interruptWorker.ts') },
      outdir: join(root, 'dist'),
      bundle: true,
      sourcemap: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'warning',
      legalComments: 'none',
      external: ['sharp', 'esbuild', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'],
      inject: [join(root, 'kernel/intrinsics.ts')],
    });
  })();
  return built;
}

/** A temporary notebook folder with the given files (paths relative to it). */
export function notebookDir(files: Record<string, string> = {}): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'al-kernel-test-'));
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One recorded output event of a cell, in arrival order. */
export type OutputEvent =
  | { kind: 'stream'; name: StreamName; text: string }
  | { kind: 'display'; displayId: string; bundle: MimeBundle; update: boolean }
  | { kind: 'clear'; displayId: string };

/** Callbacks that record every output. */
export function recorder(): CellCallbacks & { events: OutputEvent[]; text(name?: StreamName): string } {
  const events: OutputEvent[] = [];
  return {
    events,
    onStream: (name, text) => events.push({ kind: 'stream', name, text }),
    onDisplay: (displayId, bundle, update) => events.push({ kind: 'display', displayId, bundle, update }),
    onClearDisplay: (displayId) => events.push({ kind: 'clear', displayId }),
    text: (name) =>
      events
        .filter((e): e is Extract<OutputEvent, { kind: 'stream' }> => e.kind === 'stream' && (name === undefined || e.name === name))
        .map((e) => e.text)
        .join(''),
  };
}

/** A session on the built kernel with the cpu backend (quick to start). */
export function session(dir: string, extra: Partial<KernelSessionOptions> = {}): KernelSession {
  return new KernelSession({ notebookDir: dir, backend: 'cpu', kernelScript, startTimeoutMs: 30_000, ...extra });
}

let cellNo = 0;

/** Runs TypeScript code as a cell and returns its result with its outputs. */
export async function run(s: KernelSession, code: string, label?: string): Promise<ExecuteResult & { out: ReturnType<typeof recorder> }> {
  const out = recorder();
  const n = ++cellNo;
  const result = await s.execute({ cellId: `cell-${n}`, cellLabel: label ?? `Cell ${n}`, code, language: 'typescript' }, out);
  return { ...result, out };
}

/** text/plain of the displays of a cell's outputs, in order. */
export function displayedText(out: ReturnType<typeof recorder>): string[] {
  return out.events.filter((e): e is Extract<OutputEvent, { kind: 'display' }> => e.kind === 'display').map((e) => String(e.bundle['text/plain']));
}
