import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../cli/args';
import { UsageError } from '../../cli/ipynb';

void test('run with every option', () => {
  assert.deepEqual(parseArgs(['run', 'a.ipynb', '--out', 'b.ipynb', '--allow-errors', '--timeout', '2.5', '--backend', 'wasm']), {
    command: 'run',
    notebook: 'a.ipynb',
    out: 'b.ipynb',
    allowErrors: true,
    timeoutSec: 2.5,
    backend: 'wasm',
  });
  assert.deepEqual(parseArgs(['run', '--timeout=3', 'a.ipynb']), { command: 'run', notebook: 'a.ipynb', out: undefined, allowErrors: false, timeoutSec: 3, backend: undefined });
  assert.equal((parseArgs(['run', 'a.ipynb', '-o', 'c.ipynb']) as { out?: string }).out, 'c.ipynb');
  assert.deepEqual((parseArgs(['run', '--', '--odd-name.ipynb']) as { notebook: string }).notebook, '--odd-name.ipynb');
});

void test('help, version, syncal', () => {
  assert.deepEqual(parseArgs(['--help']), { command: 'help' });
  assert.deepEqual(parseArgs(['--version']), { command: 'version' });
  assert.deepEqual(parseArgs(['syncal', 'd', '--seed', '7', '--per-class', '3']), { command: 'syncal', dir: 'd', seed: 7, perClass: 3, size: undefined });
});

const bad: [string[], RegExp][] = [
  [[], /missing command/],
  [['frobnicate'], /unknown command "frobnicate"/],
  [['run'], /run: missing <notebook.ipynb>/],
  [['run', 'a.ipynb', 'b.ipynb'], /expected one notebook, got 2/],
  [['run', 'a.ipynb', '--verbose'], /unknown option --verbose for "run"/],
  [['run', 'a.ipynb', '--timeout'], /option --timeout needs a value/],
  [['run', 'a.ipynb', '--out', '--allow-errors'], /option --out needs a value/],
  [['run', 'a.ipynb', '--timeout', 'soon'], /option --timeout is "soon"; expected a positive number/],
  [['run', 'a.ipynb', '--timeout', '0'], /expected a positive number/],
  [['run', 'a.ipynb', '--backend', 'cuda'], /--backend is "cuda", which is not a backend; expected one of auto, tensorflow, webgpu, wasm, cpu/],
  [['run', 'a.ipynb', '--allow-errors=yes'], /option --allow-errors takes no value/],
  [['syncal', 'd', '--per-class', '2.5'], /--per-class is "2.5"; expected a positive integer/],
  [['syncal', 'd', '--seed', '-1'], /needs a value|expected a non-negative integer/],
];
for (const [argv, message] of bad) {
  void test(`bad command line: ${argv.join(' ') || '(nothing)'}`, () => {
    assert.throws(() => parseArgs(argv), (e: Error) => e instanceof UsageError && message.test(e.message) && !e.message.includes('\n'));
  });
}
