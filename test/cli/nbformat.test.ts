/**
 * Every notebook the project ships or writes is valid nbformat 4.5 by nbformat's own validator
 * (Debian's python3-nbformat), without warnings; the last expression's value is an `execute_result`.
 * Skipped, saying why, where no python3 has nbformat.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

/** Reads each notebook and validates it; any warning (a missing cell id, for one) counts as a failure. */
const VALIDATE = `
import sys, warnings
import nbformat
bad = 0
for path in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            with open(path, encoding='utf-8') as f:
                nb = nbformat.read(f, as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
        except Exception as e:
            print(f'{path}: invalid: {type(e).__name__}: {str(e).splitlines()[0]}')
            bad += 1
            continue
    for w in caught:
        print(f'{path}: {w.category.__name__}: {str(w.message).splitlines()[0]}')
        bad += 1
sys.exit(1 if bad else 0)
`;

function pythonWithNbformat(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import nbformat'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

const python = pythonWithNbformat();
const skip = python ? false : 'no python3 with nbformat here (Debian: apt-get install python3-nbformat)';

function validate(files: string[]): { ok: boolean; report: string } {
  const r = spawnSync(python as string, ['-c', VALIDATE, ...files], { encoding: 'utf8' });
  return { ok: r.status === 0, report: `${r.stdout}${r.stderr}` };
}

function notebooksUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    if (name.name === 'node_modules' || name.name.startsWith('.') || name.name === 'out' || name.name === 'dist') continue;
    const p = join(dir, name.name);
    if (name.isDirectory()) out.push(...notebooksUnder(p));
    else if (name.name.endsWith('.ipynb')) out.push(p);
  }
  return out;
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'al-nbformat-'));
});

void test('every notebook in the repository validates without warnings', { skip }, () => {
  const files = [...notebooksUnder(join(ROOT, 'samples')), ...notebooksUnder(join(ROOT, 'test'))];
  assert.ok(files.some((f) => relative(ROOT, f).startsWith('samples/')), 'the samples are checked');
  const r = validate(files);
  assert.ok(r.ok, r.report);
});

void test('a notebook the CLI writes validates, with cell ids and an execute_result for the last value', { skip }, () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const nb = {
    cells: [
      { cell_type: 'markdown', metadata: {}, source: ['# no ids in this file'] },
      { cell_type: 'code', metadata: {}, source: ['const a = 41;'], outputs: [], execution_count: null },
      { cell_type: 'code', metadata: {}, source: ["console.log('text');\n", "display('shown');\n", 'a + 1'], outputs: [], execution_count: null },
      { cell_type: 'code', metadata: {}, source: ["throw new Error('kept as an error output')"], outputs: [], execution_count: null },
    ],
    metadata: { kernelspec: { name: 'affordance-lab', display_name: 'Affordance Lab (TypeScript)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const input = join(dir, 'no-ids.ipynb');
  writeFileSync(input, JSON.stringify(nb));
  const outs = ['first.ipynb', 'second.ipynb'].map((name) => {
    const out = join(dir, name);
    const r = spawnSync(process.execPath, [CLI, 'run', input, '--out', out, '--allow-errors'], { encoding: 'utf8', env: { ...process.env, AFFORDANCE_LAB_BACKEND: 'wasm' }, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    return out;
  });
  const v = validate(outs);
  assert.ok(v.ok, v.report);
  const [first, second] = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { cells: { id?: string; execution_count?: number; outputs?: Record<string, unknown>[] }[] });
  const ids = first.cells.map((c) => c.id);
  assert.ok(ids.every((id) => typeof id === 'string' && /^[a-zA-Z0-9-_]{1,64}$/.test(id)), JSON.stringify(ids));
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  assert.deepEqual(second.cells.map((c) => c.id), ids, 'the same notebook gets the same ids');
  const valueCell = first.cells[2];
  const result = valueCell.outputs?.at(-1);
  assert.equal(result?.output_type, 'execute_result');
  assert.equal(result?.execution_count, valueCell.execution_count);
  assert.deepEqual(result?.data, { 'text/plain': ['42'] });
  assert.equal(valueCell.outputs?.find((o) => (o.data as Record<string, unknown> | undefined)?.['text/plain'] !== undefined && o !== result)?.output_type, 'display_data', 'display() stays display_data');
});
