import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCell, mapPosition, CellCompileError } from '../../kernel/session/compile';

void test('imports become awaited importer calls declared with const', async () => {
  const c = await compileCell(`import d, { a as b, c } from 'm';\nimport * as ns from 'n';\nimport 'side';\nimport e, * as all from 'o';`, 'typescript', 'Cell 1', 'cell-1');
  assert.match(c.code, /let \{ default: d, a: b, c \} = __k\.d\(await __k\.w\(__k\.import\("m"\)\)\);/);
  assert.match(c.code, /let ns = await __k\.w\(__k\.import\("n"\)\);/);
  assert.match(c.code, /^await __k\.w\(__k\.import\("side"\)\);$/m);
  assert.match(c.code, /let all = await __k\.w\(__k\.import\("o"\)\), e = __k\.d\(all\)\.default;/);
});

void test('type-only imports disappear, value imports unused in the cell stay for later cells', async () => {
  const c = await compileCell(`import type { T } from 'types';\nimport { later } from 'm';\nlet x: T;`, 'typescript', 'Cell 1', 'cell-1');
  assert.doesNotMatch(c.code, /types/);
  assert.match(c.code, /let \{ later \} = /);
});

void test('every await races the abort signal, dynamic import and import.meta are the kernel\'s', async () => {
  const c = await compileCell(`async function f() { return await g(); }\nfor (const x of [1]) await f();\nconst m = await import('x');\nimport.meta.url`, 'typescript', 'Cell 1', 'cell-1');
  assert.match(c.code, /return await __k\.w\(g\(\)\)/);
  assert.match(c.code, /await __k\.w\(f\(\)\)/);
  assert.match(c.code, /await __k\.w\(__k\.import\("x"\)\)/);
  assert.match(c.code, /__k\.last\(\(__k\.meta\.url\)\)/);
});

void test('only a final expression statement is displayed', async () => {
  assert.match((await compileCell('let a = 1;\na + 1', 'typescript', 'C', 'c')).code, /__k\.last\(\(a \+ 1\)\)/);
  assert.doesNotMatch((await compileCell('let a = 1;', 'typescript', 'C', 'c')).code, /__k\.last/);
});

void test('the composed source map leads back to the cell\'s own line and column', async () => {
  const src = `import { x } from 'm';\nconst n: number = 1;\n\n   throw new Error('here');`;
  const c = await compileCell(src, 'typescript', 'Cell 4', 'cell-4');
  const lines = c.code.split('\n');
  const line = lines.findIndex((l) => l.includes('throw')) + 1;
  const column = lines[line - 1].indexOf('new') + 1;
  assert.deepEqual(mapPosition(c.traceMap(), line, column), { line: 4, column: 10 });
});

void test('a declaration repeated inside one cell is a syntax error at the cell\'s line and column', async () => {
  await assert.rejects(compileCell('const q = 1;\nconst q = 2;', 'typescript', 'Cell 2', 'c'), (e: unknown) => {
    assert.ok(e instanceof CellCompileError);
    assert.match(e.message, /"q" has already been declared/);
    assert.equal(e.line, 2);
    assert.equal(e.column, 7);
    assert.match(e.cellStack, /at Cell 2:2:7/);
    return true;
  });
});

void test('a syntax error in JavaScript cells is located too', async () => {
  await assert.rejects(compileCell('let ok = 1;\nfoo(', 'javascript', 'Cell 9', 'c'), /Unexpected end of file/);
});

void test('top-level const and class become let, so a re-run cell may change the kind of a declaration', async () => {
  const c = await compileCell('const a = 1;\nexport const b = 2;\nclass K {}\nfor (const x of [a]) x;', 'typescript', 'C', 'c');
  assert.match(c.code, /^let a = 1;$/m);
  assert.match(c.code, /^let b = 2;$/m);
  assert.match(c.code, /^let K = class K \{\n?\};?$/m);
  assert.match(c.code, /for \(const x of \[a\]\)/);
});

void test('an assignment to a const of the same cell is a compile error at its position', async () => {
  await assert.rejects(compileCell('const fixed = 1;\nfixed = 2;', 'typescript', 'Cell 5', 'c'), (e: unknown) => {
    assert.ok(e instanceof CellCompileError);
    assert.match(e.message, /assignment is not allowed: "fixed" is a constant/);
    assert.match(e.cellStack, /at Cell 5:2:1/);
    return true;
  });
});
