import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputText } from '../../kernel/client/outputText';

void test('a carriage return replaces the current line, as a terminal shows it', () => {
  const o = new OutputText(1000);
  o.append('step 1/3\rstep 2/3\rstep 3/3\ndone\n');
  assert.equal(o.text, 'step 3/3\ndone\n');
});

void test('\\r\\n is a plain line end, also when split across chunks', () => {
  const o = new OutputText(1000);
  o.append('a\r');
  o.append('\nb');
  assert.equal(o.text, 'a\nb');
});

void test('progress written in many chunks keeps only the last state of the line', () => {
  const o = new OutputText(1000);
  o.append('head\n');
  for (let i = 0; i <= 100; i += 10) o.append(`\r${i}%`);
  assert.equal(o.text, 'head\n100%');
});

void test('text beyond the limit is cut with a visible notice and later text is dropped', () => {
  const o = new OutputText(10);
  o.append('0123456');
  assert.equal(o.truncated, false);
  o.append('789abcdef');
  assert.equal(o.truncated, true);
  o.append('XYZ');
  assert.match(o.text, /^0123456789\n\[output truncated: more than 10 characters/);
  assert.doesNotMatch(o.text, /XYZ|abc/);
});

void test('overwritten progress does not count against the limit', () => {
  const o = new OutputText(20);
  for (let i = 0; i < 1000; i++) o.append(`\rstep ${i}`);
  assert.equal(o.truncated, false);
  assert.equal(o.text, 'step 999');
});

void test('a limit that is not a positive number is rejected with the value', () => {
  assert.throws(() => new OutputText(0), /maxChars: expected a positive number, got 0/);
  assert.throws(() => new OutputText(Number.NaN), /got NaN/);
});
