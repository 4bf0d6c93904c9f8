import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotebookOutputs, type OutputEntry } from '../../host/outputModel';

/** A readable summary of a cell's outputs. */
function shown(entries: readonly OutputEntry[]): string[] {
  return entries.map((o) => (o.kind === 'stream' ? `${o.name}:${o.buffer.text}` : o.kind === 'display' ? `display ${o.displayId}:${JSON.stringify(o.bundle)}` : `error:${o.error.message}`));
}

void test('stream text appends to the last output of the same stream', () => {
  const nb = new NotebookOutputs(1000);
  const a = nb.stream('c1', 'stdout', 'a\n');
  const b = nb.stream('c1', 'stdout', 'b\n');
  assert.equal(a.type, 'append');
  assert.equal(b.type, 'update');
  assert.equal(b.entry, a.entry);
  assert.deepEqual(shown(nb.outputs('c1')), ['stdout:a\nb\n']);
});

void test('a different stream, or a display in between, starts a new output (order is kept)', () => {
  const nb = new NotebookOutputs(1000);
  nb.stream('c1', 'stdout', 'one\n');
  nb.stream('c1', 'stderr', 'warn\n');
  nb.display('c1', 'd1', { 'text/plain': 'pic' }, false);
  nb.stream('c1', 'stderr', 'more\n');
  assert.deepEqual(shown(nb.outputs('c1')), ['stdout:one\n', 'stderr:warn\n', 'display d1:{"text/plain":"pic"}', 'stderr:more\n']);
});

void test('a display update replaces the output in the cell that showed it, even from another cell', () => {
  const nb = new NotebookOutputs(1000);
  nb.display('c1', 'd1', { 'text/plain': 'v1' }, false);
  const changes = nb.display('c2', 'd1', { 'text/plain': 'v2' }, true);
  assert.deepEqual(changes.map((c) => [c.type, c.cell]), [['update', 'c1']]);
  assert.deepEqual(shown(nb.outputs('c1')), ['display d1:{"text/plain":"v2"}']);
  assert.deepEqual(nb.outputs('c2'), []);
});

void test('an update for an unknown display id appends; a repeated display id is updated everywhere', () => {
  const nb = new NotebookOutputs(1000);
  assert.equal(nb.display('c1', 'x', { 'text/plain': '1' }, true)[0].type, 'append');
  nb.display('c2', 'x', { 'text/plain': '2' }, false);
  const changes = nb.display('c3', 'x', { 'text/plain': '3' }, true);
  assert.deepEqual(changes.map((c) => c.cell), ['c1', 'c2']);
});

void test('clearDisplay removes the output; clearing a cell forgets its display ids', () => {
  const nb = new NotebookOutputs(1000);
  nb.stream('c1', 'stdout', 'x');
  nb.display('c1', 'd1', { 'text/plain': 'p' }, false);
  const removed = nb.clearDisplay('d1');
  assert.deepEqual(removed.map((c) => [c.type, c.cell]), [['remove', 'c1']]);
  assert.equal(nb.outputs('c1').length, 1);
  assert.deepEqual(nb.clearDisplay('d1'), []);

  nb.display('c1', 'd2', { 'text/plain': 'p' }, false);
  nb.clear('c1');
  assert.deepEqual(nb.outputs('c1'), []);
  // After a re-run the old output is gone, so an update has nothing to replace and appends instead.
  assert.equal(nb.display('c1', 'd2', { 'text/plain': 'q' }, true)[0].type, 'append');
});

void test('the error output comes after what the cell printed', () => {
  const nb = new NotebookOutputs(1000);
  nb.stream('c1', 'stdout', 'before\n');
  nb.error('c1', { name: 'Error', message: 'boom', stack: 'Error: boom\n    at Cell 1:1:7' });
  assert.deepEqual(nb.outputs('c1').map((o) => o.kind), ['stream', 'error']);
});

void test('stream outputs apply carriage returns and stop at the limit with a notice', () => {
  const nb = new NotebookOutputs(20);
  nb.stream('c1', 'stdout', 'step 1\rstep 2\r');
  nb.stream('c1', 'stdout', 'step 3\n');
  assert.deepEqual(shown(nb.outputs('c1')), ['stdout:step 3\n']);
  nb.stream('c1', 'stdout', 'x'.repeat(100));
  const [entry] = nb.outputs('c1');
  assert.ok(entry.kind === 'stream' && entry.buffer.truncated);
  assert.match(shown([entry])[0], /^stdout:step 3\nx{13}\n\[output truncated: more than 20 characters/);
});
