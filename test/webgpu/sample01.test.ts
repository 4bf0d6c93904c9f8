/**
 * Sample 01 executed by the headless runner (dist/cli.js, a real kernel process) on webgpu: every cell
 * succeeds, runtime.info() in the notebook names webgpu and its adapter, and the text outputs and the
 * kinds of rich output match the sample as saved (executed on wasm). Needs `npm run build` first
 * (`npm test` builds; CI runs this suite after it).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { webgpuSkip, webgpuEnv } from './setup';
import { generateSynCAL } from '../../kernel/ml/data/index';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SAMPLE = join(ROOT, 'samples', '01-explore-dataset.ipynb');

interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}

const text = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join('') : v ?? '');
const src = (c: Cell): string => text(c.source);
const code = (p: string): Cell[] => (JSON.parse(readFileSync(p, 'utf8')) as { cells: Cell[] }).cells.filter((c) => c.cell_type === 'code');

let dir = '';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'al-webgpu-sample-'));
  // The sample's default SynCAL (seed 0), in a temporary folder the notebook reads as a CAL folder (CAL_ROOT).
  if (!webgpuSkip) await generateSynCAL(join(dir, 'syncal'), { seed: 0 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

void test('sample 01 runs end to end on webgpu through the CLI and gives the saved outputs', { skip: webgpuSkip, timeout: 600_000 }, () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const out = join(dir, 'out.ipynb');
  // The dataset is in a temporary folder; the notebook stays in samples/ so that the kernel finds
  // the `webgpu` package from there upwards, as it would next to a user's notebooks.
  const r = spawnSync(process.execPath, [CLI, 'run', SAMPLE, '--out', out, '--timeout', '300'], {
    encoding: 'utf8',
    env: { ...webgpuEnv(), CAL_ROOT: join(dir, 'syncal') },
    timeout: 590_000,
  });
  assert.equal(r.status, 0, `CLI failed:\n${r.stderr}\n${r.stdout}`);
  assert.match(r.stderr + r.stdout, /kernel ready: webgpu on /);
  const got = code(out);
  const saved = code(SAMPLE);
  assert.equal(got.length, saved.length);
  for (const [i, c] of got.entries()) {
    const outs = c.outputs ?? [];
    const errors = outs.filter((o) => o.output_type === 'error');
    assert.deepEqual(errors, [], `cell ${i} (${src(c).split('\n')[0]}) failed`);
    assert.ok(outs.length > 0, `cell ${i} has outputs`);
  }
  // runtime.info(): the first code cell.
  const info = text(got[0].outputs?.[0]?.data?.['text/plain'] as string | string[] | undefined);
  assert.match(info, /^backend +webgpu$/m);
  assert.match(info, /^adapter +(software|hardware) \(/m);
  // Cells after the dataset one: same text outputs and the same kinds of rich output as saved.
  for (let i = 2; i < got.length; i++) {
    const a = got[i].outputs ?? [];
    const b = saved[i].outputs ?? [];
    const kinds = (os: Output[]): string[] => os.map((o) => `${o.output_type}:${Object.keys(o.data ?? {}).sort().join(',')}`);
    assert.deepEqual(kinds(a), kinds(b), `cell ${i} (${src(got[i]).split('\n')[0]}): output kinds`);
    const streams = (os: Output[]): string => os.filter((o) => o.output_type === 'stream').map((o) => text(o.text)).join('');
    assert.equal(streams(a), streams(b), `cell ${i}: text output`);
  }
});
