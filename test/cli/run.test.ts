/**
 * The headless runner end to end: the real dist/cli.js, the real kernel process, temporary notebooks.
 * (`npm test` builds first; run `npm run build` before running this folder alone.)
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
let dir = '';

interface Cell {
  cell_type: string;
  source: string[] | string;
  metadata: Record<string, unknown>;
  id?: string;
  outputs?: Record<string, unknown>[];
  execution_count?: number | null;
}

function notebook(cells: (string | { markdown: string })[]): { cells: Cell[]; metadata: Record<string, unknown>; nbformat: number; nbformat_minor: number } {
  return {
    cells: cells.map((c, i) =>
      typeof c === 'string'
        ? { cell_type: 'code', id: `c${i}`, metadata: { tags: [`t${i}`] }, source: c.split(/(?<=\n)/), outputs: [], execution_count: null }
        : { cell_type: 'markdown', id: `m${i}`, metadata: {}, source: c.markdown },
    ),
    metadata: { kernelspec: { name: 'affordance-lab', display_name: 'Affordance Lab (TypeScript)', language: 'typescript' }, language_info: { name: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function write(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.AFFORDANCE_LAB_BACKEND;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...base, AFFORDANCE_LAB_BACKEND: 'wasm', ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function read(p: string): { cells: Cell[] } {
  return JSON.parse(readFileSync(p, 'utf8')) as { cells: Cell[] };
}

before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'al-cli-'));
});

void test('runs every cell in one kernel and writes outputs in the form VS Code writes them', () => {
  const input = write(
    'ok.ipynb',
    notebook([
      { markdown: '# A title' },
      "const x: number = 20 + 1\nconsole.log('x is', x)\nconst written = process.stderr.write('careful\\n')",
      'x * 2',
      "const bundle = { 'application/vnd.affordance-lab.metrics.v1+json': { version: 1, metrics: ['KLD'], runs: [] }, 'text/plain': 'metrics' };\n" +
        "({ [Symbol.for('affordance-lab.mimeBundle')]: () => bundle })",
      "for (let i = 0; i <= 3; i++) process.stdout.write(`\\rstep ${i}`)\nconsole.log('')",
    ]),
  );
  const before = readFileSync(input, 'utf8');
  const r = cli(['run', input]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(input, 'utf8'), before, 'the input is not touched');
  const out = join(dir, 'ok.executed.ipynb');
  const text = readFileSync(out, 'utf8');
  assert.ok(text.endsWith('}\n') && text.startsWith('{\n "cells": [\n  {\n'), 'one-space indentation, sorted keys, trailing newline');
  const cells = read(out).cells;
  assert.deepEqual(cells[0], notebook([{ markdown: '# A title' }]).cells[0], 'markdown cells are kept as they are');
  assert.deepEqual(cells.slice(1).map((c) => [c.id, c.execution_count, c.metadata]), [
    ['c1', 1, { tags: ['t1'] }],
    ['c2', 2, { tags: ['t2'] }],
    ['c3', 3, { tags: ['t3'] }],
    ['c4', 4, { tags: ['t4'] }],
  ]);
  assert.deepEqual(cells[1].outputs, [
    { name: 'stdout', output_type: 'stream', text: ['x is 21\n'] },
    { name: 'stderr', output_type: 'stream', text: ['careful\n'] },
  ]);
  assert.equal(cells[2].outputs?.length, 1);
  assert.equal(cells[2].outputs?.[0].output_type, 'execute_result', "the last expression's value is Jupyter's execute_result");
  assert.equal(cells[2].outputs?.[0].execution_count, 2);
  assert.deepEqual((cells[2].outputs?.[0].data as Record<string, unknown>)['text/plain'], ['42']);
  const data = cells[3].outputs?.[0].data as Record<string, unknown>;
  assert.deepEqual(data['application/vnd.affordance-lab.metrics.v1+json'], { metrics: ['KLD'], runs: [], version: 1 }, 'a custom MIME payload stays JSON');
  assert.deepEqual(cells[4].outputs, [{ name: 'stdout', output_type: 'stream', text: ['step 3\n'] }], '\\r progress overwrites itself');
  assert.match(r.stderr, /\[1\/4\] cell 2 \(const x: number = 20 \+ 1\) ok in/);
});

void test('the first failing cell stops the run, is named, and the notebook is still written', () => {
  const input = write('fail.ipynb', notebook(["console.log('one')", "throw new TypeError('boom')", "console.log('never')"]));
  const out = join(dir, 'fail.out.ipynb');
  const r = cli(['run', input, '--out', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cell 2 failed \(throw new TypeError\('boom'\)\): TypeError: boom/);
  const cells = read(out).cells;
  const err = cells[1].outputs?.[0];
  assert.equal(err?.output_type, 'error');
  assert.equal(err?.ename, 'TypeError');
  assert.equal(err?.evalue, 'boom');
  assert.ok(Array.isArray(err?.traceback) && (err.traceback as string[]).length > 0);
  assert.deepEqual([cells[2].outputs, cells[2].execution_count], [[], null], 'cells after the failure did not run');
});

void test('--allow-errors runs every cell and exits 0', () => {
  const input = write('allow.ipynb', notebook(["throw new Error('first')", "console.log('still runs')"]));
  const out = join(dir, 'allow.out.ipynb');
  const r = cli(['run', input, '--out', out, '--allow-errors']);
  assert.equal(r.status, 0, r.stderr);
  const cells = read(out).cells;
  assert.equal(cells[0].outputs?.[0].output_type, 'error');
  assert.deepEqual(cells[1].outputs, [{ name: 'stdout', output_type: 'stream', text: ['still runs\n'] }]);
});

void test('a kernel that exits mid-cell fails the cell with its exit code; --allow-errors continues in a fresh kernel', () => {
  const input = write('crash.ipynb', notebook(["import { writeSync } from 'node:fs'\nconst before = process.pid\nwriteSync(2, 'about to exit\\n')\nprocess.exit(7)", "console.log(typeof before, 'fresh')"]));
  const strict = cli(['run', input, '--out', join(dir, 'crash.strict.ipynb')]);
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, /cell 1 failed .*KernelDied: The kernel process exited with code 7/);
  const out = join(dir, 'crash.out.ipynb');
  const r = cli(['run', input, '--out', out, '--allow-errors']);
  assert.equal(r.status, 0, r.stderr);
  const cells = read(out).cells;
  assert.equal(cells[0].outputs?.at(-1)?.ename, 'KernelDied');
  assert.match(String(cells[0].outputs?.at(-1)?.evalue), /code 7[\s\S]*about to exit/);
  const [notice, printed] = cells[1].outputs ?? [];
  assert.equal(notice?.name, 'stderr');
  assert.match(String((notice?.text as string[]).join('')), /has died[\s\S]*fresh kernel: the variables and imports of earlier cells are gone/, 'the next cell says that the state is gone');
  assert.deepEqual(printed, { name: 'stdout', output_type: 'stream', text: ['undefined fresh\n'] }, 'the next cell runs in a new kernel without the old state');
});

void test('--timeout interrupts a cell that runs too long and fails it', () => {
  const input = write('slow.ipynb', notebook(['let n = 0\nwhile (true) { n++ }']));
  const r = cli(['run', input, '--out', join(dir, 'slow.out.ipynb'), '--timeout', '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cell 1 failed \(let n = 0\): Timeout: Cell 1 ran longer than --timeout 1 s/);
});

void test('bad input: one line on stderr, exit code 2, nothing written', () => {
  const nb = write('good.ipynb', notebook(['1']));
  const readonly = join(dir, 'ro');
  spawnSync('mkdir', [readonly]);
  chmodSync(readonly, 0o500);
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['run', join(dir, 'missing.ipynb')], /missing\.ipynb: no such file/],
    [['run', write('bad.ipynb', '{"cells": [')], /bad\.ipynb: not valid JSON/],
    [['run', write('notnb.ipynb', '{"hello": 1}')], /notnb\.ipynb: not a notebook/],
    [['run', nb, '--out', join(dir, 'no', 'such', 'dir', 'x.ipynb')], /cannot write, folder .* does not exist/],
    [['run', nb, '--out', dir], /cannot write, it is a folder/],
    [['run', nb, '--wat'], /unknown option --wat/],
    [['run', nb], /AFFORDANCE_LAB_BACKEND is "gpu-please", which is not a backend/, { AFFORDANCE_LAB_BACKEND: 'gpu-please' }],
  ];
  if (process.getuid?.() !== 0) cases.push([['run', nb, '--out', join(readonly, 'x.ipynb')], /is not writable/]);
  for (const [args, message, env] of cases) {
    const r = cli(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}, got:\n${r.stderr}`);
    assert.match(lines[0], message);
  }
  assert.ok(!existsSync(join(dir, 'good.executed.ipynb')), 'nothing was written for bad input');
});

void test('--out naming the input overwrites it (the only way to)', () => {
  const input = write('inplace.ipynb', notebook(["console.log('in place')"]));
  const r = cli(['run', input, '--out', input]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(read(input).cells[0].outputs, [{ name: 'stdout', output_type: 'stream', text: ['in place\n'] }]);
});

/**
 * Notebooks saved by VS Code 1.100.3 (code-server 4.100.3) after "Run All" with this kernel, beside their
 * inputs: `parity` has streams, \r progress, a final value, a custom MIME bundle with PNG and markdown
 * fallbacks and an error; `display-update` updates a display of the first cell from the second and
 * clears another. VS Code also recorded each cell's language id (`metadata.vscode.languageId`, set when
 * the cells switched to affordance-ts), which the CLI keeps as it finds it; that key is taken out before
 * comparing.
 */
for (const name of ['parity', 'display-update']) {
  void test(`${name}: the written file is byte for byte what VS Code saves after running the same notebook`, () => {
    const fixtures = join(__dirname, 'fixtures');
    const saved = JSON.parse(readFileSync(join(fixtures, `${name}.saved-by-vscode.ipynb`), 'utf8')) as { cells: Cell[] };
    for (const c of saved.cells) delete c.metadata.vscode;
    const expected = JSON.stringify(saved, undefined, 1) + '\n';
    const out = join(dir, `${name}.out.ipynb`);
    const r = cli(['run', join(fixtures, `${name}.ipynb`), '--out', out, '--allow-errors']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), expected);
  });
}

void test('--out - writes the executed notebook to stdout and progress to stderr', () => {
  const input = write('stdout.ipynb', notebook(["console.log('to stdout')"]));
  const r = cli(['run', input, '--out', '-']);
  assert.equal(r.status, 0, r.stderr);
  const nb = JSON.parse(r.stdout) as { cells: Cell[] };
  assert.deepEqual(nb.cells[0].outputs, [{ name: 'stdout', output_type: 'stream', text: ['to stdout\n'] }]);
  assert.match(r.stderr, /wrote stdout/);
  assert.ok(!existsSync(join(dir, 'stdout.executed.ipynb')));
});

void test('--backend wins over AFFORDANCE_LAB_BACKEND', () => {
  const input = write('backend.ipynb', notebook(['1']));
  const r = cli(['run', input, '--out', join(dir, 'backend.out.ipynb'), '--backend', 'wasm'], { AFFORDANCE_LAB_BACKEND: 'not-a-backend' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /backend wasm/);
});

void test('Ctrl+C stops the run and its kernel process, and writes nothing', async () => {
  const pidFile = join(dir, 'kernel.pid');
  const input = write('sigint.ipynb', notebook([`import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid))\nawait new Promise((r) => setTimeout(r, 60_000))`]));
  const env = { ...process.env, AFFORDANCE_LAB_BACKEND: 'wasm' };
  const child = spawn(process.execPath, [CLI, 'run', input], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // Wait (without a time limit of its own: the test runner's applies) until the cell runs in the kernel.
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 50));
  const kernelPid = Number(readFileSync(pidFile, 'utf8'));
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /stopped: shutting the kernel down/);
  assert.throws(() => process.kill(kernelPid, 0), /ESRCH/, `kernel process ${kernelPid} is still running`);
  assert.ok(!existsSync(join(dir, 'sigint.executed.ipynb')));
});

void test('output of a timer that fires after the last cell lands in the cell that started it; a timer still pending is named', () => {
  const input = write('late.ipynb', notebook(["void setTimeout(() => console.log('late line'), 400);", '1 + 1']));
  const out = join(dir, 'late.out.ipynb');
  const r = cli(['run', input, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(read(out).cells[0].outputs, [{ name: 'stdout', output_type: 'stream', text: ['late line\n'] }]);
  assert.doesNotMatch(r.stderr, /still pending/);
  const forever = write('forever.ipynb', notebook(['void setInterval(() => {}, 1000);']));
  const r2 = cli(['run', forever, '--out', join(dir, 'forever.out.ipynb')]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stderr, /1 timer\(s\) the cells started were still pending 2 s after the last cell/);
});

void test('a stack names the cell by its execution count, as the editor shows it, not by its position', () => {
  const input = write('label.ipynb', notebook([{ markdown: '# above' }, 'const fine = 1;', "throw new TypeError('where')"]));
  const out = join(dir, 'label.out.ipynb');
  const r = cli(['run', input, '--out', out, '--allow-errors']);
  assert.equal(r.status, 0, r.stderr);
  const cell = read(out).cells[2];
  assert.equal(cell.execution_count, 2);
  assert.match((cell.outputs?.at(-1)?.traceback as string[]).join(''), /^TypeError: where\n {4}at Cell \[2\]:1:7$/);
});
