import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleToItems, decodeBase64, isJsonMime, itemBytes } from '../../host/outputData';
import { MIME } from '../../kernel/protocol';

// 1x1 transparent PNG.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

void test('a custom JSON payload stays an object and comes before its image fallback', () => {
  const payload = { version: 1, maps: [] };
  const { items, problems } = bundleToItems({ 'image/png': PNG_B64, [MIME.heatmap]: payload, 'text/plain': 'heatmap' });
  assert.deepEqual(problems, []);
  assert.deepEqual(items.map((i) => i.mime), [MIME.heatmap, 'image/png', 'text/plain']);
  assert.equal(items[0].kind, 'json');
  assert.deepEqual(items[0].value, payload);
});

void test('image/png becomes the decoded PNG bytes', () => {
  const { items } = bundleToItems({ 'image/png': PNG_B64 });
  assert.equal(items[0].kind, 'bytes');
  const bytes = items[0].value as Uint8Array;
  assert.deepEqual([...bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47], `got ${[...bytes.slice(0, 8)].join(',')}`);
});

void test('text types accept a string or the line array Jupyter stores', () => {
  const { items } = bundleToItems({ 'text/markdown': ['| a |\n', '|---|\n'], 'text/plain': 'x' });
  assert.deepEqual(items.map((i) => [i.kind, i.value]), [['text', '| a |\n|---|\n'], ['text', 'x']]);
});

void test('a JSON payload sent as text is parsed; broken JSON is reported, not thrown', () => {
  const ok = bundleToItems({ 'application/json': '{"a":1}' });
  assert.deepEqual(ok.items[0].value, { a: 1 });
  const bad = bundleToItems({ 'application/json': '{a:', 'text/plain': 'fallback' });
  assert.equal(bad.items.length, 1);
  assert.match(bad.problems[0], /application\/json: expected JSON/);
});

void test('bad entries are named and left out while the rest of the bundle survives', () => {
  const { items, problems } = bundleToItems({ 'image/png': 'not base64 !!', 'text/html': 42, 'text/plain': 'ok' });
  assert.deepEqual(items.map((i) => i.mime), ['text/plain']);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /image\/png: expected a base64 string, got text that is not base64/);
  assert.match(problems[1], /text\/html: expected a string, got a number/);
});

void test('strict base64 decoding rejects what Node would silently accept', () => {
  assert.equal(decodeBase64('ab$c'), undefined);
  assert.equal(decodeBase64('abcde'), undefined);
  assert.deepEqual([...(decodeBase64('aGk=\n') ?? [])], [104, 105]);
});

void test('isJsonMime and itemBytes', () => {
  assert.ok(isJsonMime(MIME.metrics));
  assert.ok(isJsonMime('application/json'));
  assert.ok(!isJsonMime('text/plain'));
  assert.equal(Buffer.from(itemBytes({ mime: 'application/json', kind: 'json', value: { a: [1] } })).toString(), '{"a":[1]}');
  assert.equal(Buffer.from(itemBytes({ mime: 'text/plain', kind: 'text', value: 'é' })).toString(), 'é');
});
