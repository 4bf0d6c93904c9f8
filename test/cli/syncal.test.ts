/**
 * `affordance-lab syncal` through the real dist/cli.js (run `npm run build` first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = join(resolve(__dirname, '..', '..'), 'dist', 'cli.js');

function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

void test('syncal writes a dataset in the CAL layout', () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
  const dir = join(mkdtempSync(join(tmpdir(), 'al-syncal-')), 'syncal');
  const r = cli(['syncal', dir, '--per-class', '1', '--seed', '5', '--size', '96']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['Seen', 'Unseen', 'syncal.json']);
  assert.match(r.stderr, /syncal: wrote \d+ images to /);
});

void test('syncal: bad arguments get one line and exit code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-syncal-bad-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const cases: [string[], RegExp][] = [
    [['syncal', file], /a-file: exists and is not a folder/],
    [['syncal', dir, '--size', '50'], /option --size is 50; expected an integer from 96 to 1024/],
    [['syncal', dir, '--per-class', 'many'], /option --per-class is "many"; expected a positive number/],
    [['syncal'], /syncal: missing <dir>/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});
