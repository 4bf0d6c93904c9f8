/**
 * The kernel's output router, in process with a recording channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputRouter, type OutputChannel } from '../../kernel/session/output';
import type { ClearDisplayParams, DisplayParams, StreamParams } from '../../kernel/protocol';

function recording(): OutputChannel & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    stream: (p: StreamParams) => log.push(`${p.cellId} ${p.name} ${JSON.stringify(p.text)}`),
    display: (p: DisplayParams) => log.push(`${p.cellId} ${p.update ? 'update' : 'display'} ${p.displayId} ${String(p.bundle['text/plain'])}`),
    clearDisplay: (p: ClearDisplayParams) => log.push(`${p.cellId} clear ${p.displayId}`),
  };
}

void test('nothing is sent before a cell has started (the caller writes such text to the real stream)', () => {
  const ch = recording();
  const r = new OutputRouter(ch, { maxOutputChars: 100 });
  assert.equal(r.write('stdout', 'early'), false);
  assert.deepEqual(ch.log, []);
});

void test('a flood of writes is coalesced, in order, and flushed before a display and at the end of the cell', () => {
  const ch = recording();
  const r = new OutputRouter(ch, { maxOutputChars: 10_000, flushMs: 60_000 });
  r.beginCell('c1');
  for (let i = 0; i < 40; i++) r.write(i < 30 ? 'stdout' : 'stderr', `${i} `);
  r.display({ 'text/plain': 'picture' }, 'd1', false);
  r.write('stdout', 'after');
  r.endCell();
  const text = ch.log.filter((l) => !l.includes('display')).map((l) => JSON.parse(l.slice(l.indexOf('"'))) as string).join('');
  assert.equal(text, Array.from({ length: 40 }, (_, i) => `${i} `).join('') + 'after');
  assert.ok(ch.log.length < 40, `writes were not coalesced: ${ch.log.length} messages`);
  assert.ok(ch.log.every((l, i) => i === 0 || !/stderr/.test(ch.log[i - 1]) || !/stdout "[0-9]/.test(l)), 'stdout text after stderr text');
  const displayAt = ch.log.findIndex((l) => l.includes('display d1'));
  assert.match(ch.log[displayAt - 1], /stderr ".*39 "$/);
  assert.match(ch.log[displayAt + 1], /"after"/);
});

void test('display updates are throttled per display and the last one is sent when the cell ends', () => {
  const ch = recording();
  const r = new OutputRouter(ch, { maxOutputChars: 100, updateIntervalMs: 60_000 });
  r.beginCell('c1');
  r.display({ 'text/plain': 'v0' }, 'd', false);
  for (let i = 1; i <= 20; i++) r.display({ 'text/plain': `v${i}` }, 'd', true);
  r.display({ 'text/plain': 'other' }, 'e', true);
  assert.deepEqual(ch.log, ['c1 display d v0', 'c1 update e other']);
  r.endCell();
  assert.deepEqual(ch.log, ['c1 display d v0', 'c1 update e other', 'c1 update d v20']);
});

void test('clearing a display drops its pending update', () => {
  const ch = recording();
  const r = new OutputRouter(ch, { maxOutputChars: 100, updateIntervalMs: 60_000 });
  r.beginCell('c1');
  r.display({ 'text/plain': 'v0' }, 'd', false);
  r.display({ 'text/plain': 'v1' }, 'd', true);
  r.clear('d');
  r.endCell();
  assert.deepEqual(ch.log, ['c1 display d v0', 'c1 clear d']);
});

void test('output after a cell ended goes to that cell until the next one begins', () => {
  const ch = recording();
  const r = new OutputRouter(ch, { maxOutputChars: 100 });
  r.beginCell('c1');
  r.endCell();
  r.write('stdout', 'late');
  r.beginCell('c2');
  r.write('stdout', 'new');
  r.endCell();
  assert.deepEqual(ch.log, ['c1 stdout "late"', 'c2 stdout "new"']);
});

void test('beyond the limit nothing more is sent for the cell; the next cell starts afresh', () => {
  const ch = recording();
  const r = new OutputRouter(ch, { maxOutputChars: 10 });
  r.beginCell('c1');
  r.write('stdout', '0123456789abc');
  r.write('stdout', 'dropped');
  r.endCell();
  r.beginCell('c2');
  r.write('stdout', 'fresh');
  r.endCell();
  assert.deepEqual(ch.log, ['c1 stdout "0123456789abc"', 'c2 stdout "fresh"']);
});
