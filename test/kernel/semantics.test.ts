/**
 * Cell semantics restated from other TypeScript notebook kernels' suites (tslab's executor tests,
 * Deno's REPL tests) and from how Node runs one script: names changing kind across cells, constness
 * across cells, module resolution of local files, missing exports, and globals shadowed by a cell.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelSession } from '../../kernel/client/index';
import { displayedText, ensureKernelBuilt, notebookDir, run, session } from './helpers';

let s: KernelSession;
let nb: ReturnType<typeof notebookDir>;

void before(async () => {
  await ensureKernelBuilt();
  nb = notebookDir({
    'node_modules/esm-only/package.json': JSON.stringify({ name: 'esm-only', type: 'module', exports: { '.': { import: './index.js' } } }),
    'node_modules/esm-only/index.js': 'export const greet = (n) => `hello ${n}`;\nexport default 42;\n',
    'node_modules/dual/package.json': JSON.stringify({ name: 'dual', exports: { '.': { import: './esm.mjs', require: './cjs.cjs' } } }),
    'node_modules/dual/esm.mjs': "export const build = 'import';\nexport default 'esm-default';\n",
    'node_modules/dual/cjs.cjs': "exports.build = 'require';\n",
    'lib/uses-esm.ts': "import answer, { greet } from 'esm-only';\nimport { build } from 'dual';\nexport const message = (n: string): string => `${greet(n)} ${answer} ${build}`;\n",
  });
  s = session(nb.dir);
  await s.start();
});

void after(async () => {
  await s.dispose();
  nb.cleanup();
});

async function ok(code: string, label?: string): Promise<Awaited<ReturnType<typeof run>>> {
  const r = await run(s, code, label);
  assert.equal(r.status, 'ok', `cell failed: ${r.error?.stack}\n--- code:\n${code}`);
  return r;
}

async function value(code: string): Promise<string> {
  const shown = displayedText((await ok(code)).out);
  assert.equal(shown.length, 1, `expected one displayed value, got ${JSON.stringify(shown)}`);
  return shown[0];
}

void describe('a name may change its kind in a later cell (as in tslab)', () => {
  void test('enum, then let', async () => {
    await ok('enum Direction { Up = 1, Down }');
    assert.equal(await value('Direction.Down'), '2');
    assert.equal(await value('let Direction = null;\nDirection'), 'null');
  });

  void test('function, then let; let, then function; var, then const; class, then function', async () => {
    await ok('function g1(): number { return 1 }');
    assert.equal(await value("let g1 = 'x';\ng1"), "'x'");
    await ok('let l2 = 1;');
    assert.equal(await value('function l2(): number { return 2 }\nl2()'), '2');
    await ok('var v3 = 1;');
    assert.equal(await value('const v3 = 3;\nv3'), '3');
    await ok('class K4 {}');
    assert.equal(await value('function K4(): string { return "fn" }\nK4()'), "'fn'");
  });

  void test('a function is hoisted as before, and a var keeps being one binding within the cell', async () => {
    assert.equal(await value('const early = hoisted(2);\nfunction hoisted(x: number): number { return x * 21 }\nearly'), '42');
    assert.equal(await value('for (var vi = 0; vi < 3; vi++) {}\nif (vi > 0) { var inner = vi }\n[vi, inner]'), '[ 3, 3 ]');
  });

  void test('a var or function of a cell does not replace a global of the process', async () => {
    await ok('var structuredClone = 5;\nfunction queueMicrotask() { return "mine" }');
    assert.equal(await value('[structuredClone, queueMicrotask(), typeof globalThis.structuredClone, typeof globalThis.queueMicrotask]'), "[ 5, 'mine', 'function', 'function' ]");
  });
});

void describe('const stays const across cells', () => {
  void test('assigning to a const of an earlier cell is a TypeError at the cell line; the value stays', async () => {
    await ok('const cx = 3;');
    const r = await run(s, 'const other = 1;\ncx = cx * cx;', 'Cell 5');
    assert.equal(r.status, 'error');
    assert.equal(r.error?.name, 'TypeError');
    assert.equal(r.error?.message, 'Assignment to constant variable.');
    assert.match(r.error?.stack ?? '', /at Cell 5:2:/);
    assert.doesNotMatch(r.error?.stack ?? '', /kernel\.js/);
    assert.equal(await value('cx'), '3');
  });

  void test('every form of assignment is refused, only when it runs', async () => {
    await ok('const cy = 1;');
    for (const code of ['cy++', 'cy += 1', '[cy] = [5]', '({ cy } = { cy: 5 })', 'for (cy of [1]) {}', 'const f = () => { cy = 2 }; f()']) {
      const r = await run(s, code);
      assert.equal(r.status, 'error', code);
      assert.equal(r.error?.message, 'Assignment to constant variable.', code);
    }
    assert.equal(await value('if (false) cy = 9;\ncy ||= 7;\ncy'), '1');
  });

  void test('a local name that shadows the const may be assigned; re-declaring the const works', async () => {
    assert.equal(await value('function sq(cx: number): number { cx = cx * cx; return cx }\nsq(4)'), '16');
    assert.equal(await value('const cx = 10;\ncx'), '10');
    assert.equal(await value('let cx = 11;\ncx = 12;\ncx'), '12');
    assert.equal(await value('cx = 13;\ncx'), '13');
  });

  void test('an imported binding is constant too', async () => {
    await ok("import { greet } from 'esm-only';");
    const r = await run(s, 'greet = null;');
    assert.equal(r.error?.message, 'Assignment to constant variable.');
  });
});

void describe('modules', () => {
  void test('a local .ts file resolves an ES-module-only package and the import build of a dual package', async () => {
    assert.equal(await value("import { message } from './lib/uses-esm';\nmessage('x')"), "'hello x 42 import'");
  });

  void test('a cell gets the import build of a package that has both, as Node and Deno do', async () => {
    assert.equal(await value("import dualDefault, { build } from 'dual';\n[build, dualDefault]"), "[ 'import', 'esm-default' ]");
  });

  void test('a missing named export of a package is a SyntaxError naming it', async () => {
    const r = await run(s, "import { nothere } from 'esm-only';\nnothere", 'Cell 9');
    assert.equal(r.status, 'error');
    assert.equal(r.error?.name, 'SyntaxError');
    assert.match(r.error?.message ?? '', /The requested module 'esm-only' does not provide an export named 'nothere'/);
    assert.match(r.error?.stack ?? '', /at Cell 9:1:/);
  });

  void test('a name imported only for its type is not checked (it is gone after the type strip)', async () => {
    assert.equal(await value("import { greet, OnlyAType } from 'esm-only';\nconst t: OnlyAType | undefined = undefined;\ngreet('t')"), "'hello t'");
  });
});

void describe('a cell may declare any name, also one of a global the kernel uses', () => {
  void test('class Promise, const performance and others leave the kernel working, with the same process', async () => {
    const own = notebookDir({ 'lib/local.ts': 'export const twice = (n: number): number => n * 2;\n' });
    const k = session(own.dir);
    try {
      const pid = (await k.start()).pid;
      const shadow = [
        'class Promise {}',
        'const performance = { acc: 0.93 };',
        'class Map {}',
        'let JSON = 1;',
        'class Error {}',
        'let Object = 2;',
        'let Symbol = 3;',
        'let setTimeout = 4;',
        'class Uint8Array {}',
        'let process = 5;',
      ].join('\n');
      const first = await run(k, shadow);
      assert.equal(first.status, 'ok', first.error?.stack);
      const checks: [string, string][] = [
        ['performance.acc', '0.93'],
        ['[typeof Promise, JSON, Object, Symbol, setTimeout, process]', "[ 'function', 1, 2, 3, 4, 5 ]"],
        ["const typed: number = 40;\nawait kernel.sleep(5);\ntyped + 2", '42'],
        ["import { twice } from './lib/local';\ntwice(21)", '42'],
        ["import * as tf from '@tensorflow/tfjs';\ntf.tensor([20, 22]).sum().dataSync()[0]", '42'],
      ];
      for (const [code, expected] of checks) {
        const r = await run(k, code);
        assert.equal(r.status, 'ok', `${code}: ${r.error?.stack}`);
        assert.deepEqual(displayedText(r.out), [expected], code);
      }
      const failing = await run(k, "throw new globalThis.Error('still an error');");
      assert.equal(failing.error?.message, 'still an error');
      assert.equal(k.info?.pid, pid, 'the kernel process is the one that started');
    } finally {
      await k.dispose();
      own.cleanup();
    }
  });
});
