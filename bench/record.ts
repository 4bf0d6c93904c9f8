import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/** bench/results.json, or the file named by AFFORDANCE_LAB_BENCH_RESULTS (scripts/gpu-check.sh writes its own). */
const resultsFile = process.env.AFFORDANCE_LAB_BENCH_RESULTS || join(__dirname, 'results.json');

/**
 * Merges figures into bench/results.json (keys like `kernel.roundtrip_p50_ms`) and prints them.
 * Each bench file owns its own key prefix; values are numbers, or strings for notes such as the backend.
 */
export function record(values: Record<string, number | string>): void {
  const current: Record<string, unknown> = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(values)) {
    current[k] = v;
    console.log(`${k.padEnd(44)} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`);
  }
  const tmp = resultsFile + '.tmp';
  writeFileSync(tmp, JSON.stringify(current, null, 2) + '\n');
  renameSync(tmp, resultsFile);
}

/** Percentile of a sample (p in [0, 100]), nearest-rank. */
export function percentile(sample: number[], p: number): number {
  const s = [...sample].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}
