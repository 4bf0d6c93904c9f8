/**
 * Kernel figures: round trip of a trivial cell (request to result, through the real child process),
 * compile time of a 500-line cell, and start-up time (spawn to ready).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelClient, type CellCallbacks } from '../kernel/client/index';
import { compileCell } from '../kernel/session/compile';
import { ensureKernelBuilt, kernelScript } from '../test/kernel/helpers';
import { percentile, record } from './record';

const quiet: CellCallbacks = { onStream: () => undefined, onDisplay: () => undefined, onClearDisplay: () => undefined };

function cell500(): string {
  const lines: string[] = ["import * as tf from '@tensorflow/tfjs';", 'interface Row { id: number; name: string; score: number }'];
  for (let i = 0; lines.length < 498; i++) {
    lines.push(`const row${i}: Row = { id: ${i}, name: 'r${i}', score: Math.sqrt(${i}) };`);
    lines.push(`function f${i}(x: number): number { return x * ${i} + row${i}.score; }`);
    lines.push(`for (let k = 0; k < 2; k++) await Promise.resolve(f${i}(k));`);
  }
  lines.push('tf.getBackend();', 'row0.id');
  return lines.join('\n');
}

async function main(): Promise<void> {
  await ensureKernelBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'al-kernel-bench-'));
  try {
    // Start-up: spawn to ready, median of 3.
    const ready: number[] = [];
    const readyInKernel: number[] = [];
    let client: KernelClient | undefined;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const c = await KernelClient.start({ notebookDir: dir, backend: 'auto', kernelScript });
      ready.push(performance.now() - t0);
      readyInKernel.push(c.info.readyMs);
      if (i < 2) await c.dispose();
      else client = c;
    }
    if (!client) throw new Error('no kernel');
    // Round trip of a trivial cell, 200 runs after a warm-up.
    const exec = (n: number): Promise<unknown> => (client as KernelClient).execute({ cellId: `b${n}`, cellLabel: `Cell ${n}`, code: '1 + 1', language: 'typescript' }, quiet);
    for (let i = 0; i < 30; i++) await exec(i);
    const rt: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await exec(i);
      rt.push(performance.now() - t0);
    }
    await client.dispose();
    // Compile a 500-line cell (esbuild transform + rewrite), in this process, median of 20.
    const src = cell500();
    for (let i = 0; i < 5; i++) await compileCell(src, 'typescript', 'Cell 1', `w${i}`);
    const comp: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await compileCell(src, 'typescript', 'Cell 1', `c${i}`);
      comp.push(performance.now() - t0);
    }
    record({
      'kernel.roundtrip_p50_ms': percentile(rt, 50),
      'kernel.roundtrip_p95_ms': percentile(rt, 95),
      'kernel.compile_500_lines_ms': percentile(comp, 50),
      // The fastest run: what compiling costs when the machine is not shared with other work.
      'kernel.compile_500_lines_min_ms': Math.min(...comp),
      'kernel.ready_ms': percentile(ready, 50),
      'kernel.ready_in_process_ms': percentile(readyInKernel, 50),
      'kernel.backend': client.info.runtime.backend,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
