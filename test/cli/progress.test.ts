/**
 * The runner's live progress, in process on the real kernel (dist/kernel.js): the latest text of the
 * running cell's display handles, as a line every interval without a terminal, or rewritten in place
 * on one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from '../../cli/args';
import { displaySummary, runNotebook } from '../../cli/run';

const DIST = resolve(__dirname, '..', '..', 'dist');
const CELL = "const h = display('step 0');\nfor (let i = 1; i <= 8; i++) {\n  await kernel.sleep(150);\n  h.update(`step ${i}  loss ${(1 / i).toFixed(3)}  ETA ${8 - i} s`);\n}";

function notebookFile(): { input: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'al-progress-'));
  const input = join(dir, 'progress.ipynb');
  writeFileSync(input, JSON.stringify({ cells: [{ cell_type: 'code', id: 'p1', metadata: {}, source: CELL, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
  return { input, out: join(dir, 'progress.out.ipynb') };
}

void test('without a terminal, a line every interval shows how long the cell ran and its latest display text', async () => {
  assert.ok(existsSync(join(DIST, 'kernel.js')), 'run npm run build first');
  const { input, out } = notebookFile();
  const lines: string[] = [];
  const code = await runNotebook(parseArgs(['run', input, '--out', out, '--backend', 'cpu']) as Parameters<typeof runNotebook>[0], {
    progress: (l) => lines.push(l),
    stdout: () => undefined,
    env: {},
    distDir: DIST,
    progressIntervalMs: 300,
  });
  assert.equal(code, 0, lines.join('\n'));
  const live = lines.filter((l) => / running for /.test(l));
  assert.ok(live.length >= 2, `live lines: ${JSON.stringify(lines)}`);
  assert.ok(live.some((l) => /cell 1 .* running for \d+\.\d+ s: step [1-8] {2}loss/.test(l)), JSON.stringify(live));
});

void test('on a terminal the live state is rewritten in place, and cleared when the cell ends', async () => {
  const { input, out } = notebookFile();
  const lines: string[] = [];
  const statuses: string[] = [];
  const code = await runNotebook(parseArgs(['run', input, '--out', out, '--backend', 'cpu']) as Parameters<typeof runNotebook>[0], {
    progress: (l) => lines.push(l),
    status: (l) => statuses.push(l),
    stdout: () => undefined,
    env: {},
    distDir: DIST,
    progressIntervalMs: 300,
  });
  assert.equal(code, 0, lines.join('\n'));
  assert.ok(statuses.filter((s) => /step \d/.test(s)).length >= 2, JSON.stringify(statuses));
  assert.equal(statuses.at(-1), '', 'the live line is cleared before the next message');
  assert.equal(lines.filter((l) => / running for /.test(l)).length, 0, 'no interval lines on a terminal');
});

void test('the summary of a display is the first line of its text', () => {
  assert.equal(displaySummary({ 'text/plain': ['\n', 'step 3 loss 0.2\n', 'more'] }), 'step 3 loss 0.2');
  assert.equal(displaySummary({ 'image/png': 'AAAA' }), undefined);
});
