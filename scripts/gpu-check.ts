/**
 * Parts of scripts/gpu-check.sh written in TypeScript (run with tsx):
 *   info <backend>        prints runtime.info() of that backend as JSON, or {"backend", "error"}
 *   report <dir> <mode>   merges <dir>/info-*.json, <dir>/bench.json, <dir>/webgpu-suite.tap and
 *                         <dir>/env.json into <dir>/gpu-check.json and <dir>/gpu-check.txt
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initRuntime, runtimeInfo, describeRuntime, type BackendName } from '../kernel/runtime/index';
import type { RuntimeInfo } from '../kernel/protocol';

const ROOT = resolve(__dirname, '..');

async function info(backend: string): Promise<void> {
  try {
    await initRuntime({ backend: backend as BackendName | 'auto', notebookDir: ROOT, nativeModulesPath: process.env.GPU_CHECK_NATIVE || undefined });
    const i = runtimeInfo();
    process.stdout.write(JSON.stringify({ requested: backend, ...i, text: describeRuntime(i).text }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ requested: backend, error: e instanceof Error ? e.message : String(e) }) + '\n');
  }
}

interface SuiteTest {
  name: string;
  ok: boolean;
  skipped: boolean;
  ms: number;
}

/** Top-level results of a node:test TAP stream. */
function parseTap(tap: string): { tests: SuiteTest[]; counts: Record<string, number> } {
  const tests: SuiteTest[] = [];
  const lines = tap.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # SKIP(.*))?$/.exec(lines[i]);
    if (!m) continue;
    let ms = 0;
    for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) {
      const d = /^ {2}duration_ms: ([\d.]+)/.exec(lines[j]);
      if (d) {
        ms = Number(d[1]);
        break;
      }
    }
    tests.push({ name: m[2], ok: m[1] === 'ok', skipped: m[3] !== undefined, ms });
  }
  const counts: Record<string, number> = {};
  for (const k of ['tests', 'pass', 'fail', 'skipped', 'cancelled', 'duration_ms']) {
    const m = new RegExp(`^# ${k} ([\\d.]+)$`, 'm').exec(tap);
    if (m) counts[k] = Number(m[1]);
  }
  return { tests, counts };
}

function readJson(p: string): unknown {
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined;
}

function report(dir: string, mode: string): void {
  const infos = readdirSync(dir)
    .filter((f) => /^info-.*\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Partial<RuntimeInfo> & { requested: string; error?: string });
  const bench = readJson(join(dir, 'bench.json')) as Record<string, number | string> | undefined;
  const env = readJson(join(dir, 'env.json')) as Record<string, string> | undefined;
  const tapFile = join(dir, 'webgpu-suite.tap');
  const suite = existsSync(tapFile) ? parseTap(readFileSync(tapFile, 'utf8')) : undefined;
  const steps = readJson(join(dir, 'steps.json')) as Record<string, number> | undefined;
  const out = { generated: new Date().toISOString(), mode, environment: env, runtime: infos, bench, webgpuSuite: suite, exitCodes: steps };
  writeFileSync(join(dir, 'gpu-check.json'), JSON.stringify(out, null, 2) + '\n');

  const lines: string[] = [];
  lines.push(`gpu-check ${out.generated} (${mode === 'software' ? 'software adapter allowed' : 'a hardware adapter required for webgpu'})`);
  if (env) lines.push(`machine: ${env.gpu || 'no NVIDIA GPU (nvidia-smi absent)'}; node ${env.node}; ${env.os}`);
  lines.push('', 'backends:');
  for (const i of infos) {
    if (i.error) lines.push(`  ${i.requested.padEnd(10)} not available: ${i.error}`);
    else lines.push(`  ${i.requested.padEnd(10)} -> ${i.backend}: ${i.device}${i.adapter ? (i.adapter.software ? ' [software]' : ' [hardware]') : ''}`);
  }
  if (bench) {
    lines.push('', 'benchmarks:');
    for (const [k, v] of Object.entries(bench)) {
      if (/^runtime\.(conv_gflops|train_step_ms)_[a-z]+/.test(k) || /^(model|metrics)\./.test(k) || k === 'runtime.backends_found') {
        lines.push(`  ${k.padEnd(44)} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`);
      }
    }
  }
  if (suite) {
    const c = suite.counts;
    lines.push('', `webgpu suite: ${c.pass ?? 0} passed, ${c.fail ?? 0} failed, ${c.skipped ?? 0} skipped in ${((c.duration_ms ?? 0) / 1000).toFixed(1)} s`);
    for (const t of suite.tests) lines.push(`  ${t.skipped ? 'skip' : t.ok ? 'ok  ' : 'FAIL'} ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.name}`);
  }
  if (steps) lines.push('', `exit codes: ${Object.entries(steps).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  writeFileSync(join(dir, 'gpu-check.txt'), lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'info' && a) {
  void info(a).then(() => process.exit(0));
} else if (cmd === 'report' && a) {
  report(resolve(a), b ?? 'hardware');
} else {
  console.error('usage: gpu-check.ts info <backend> | report <dir> [software|hardware]');
  process.exit(2);
}
