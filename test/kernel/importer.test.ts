/**
 * The kernel's module resolution, in process (the same loader the kernel uses for cells).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModuleLoader, ModuleNotFoundError, resolvePackageEntry } from '../../kernel/session/importer';
import { tf } from '../../kernel/runtime/index';
import { notebookDir } from './helpers';

const nb = notebookDir({
  'node_modules/@scope/conditional/package.json': JSON.stringify({
    name: '@scope/conditional',
    type: 'module',
    exports: { '.': { require: './no.cjs', node: { import: './node.js' }, default: './default.js' }, './extra': { import: './extra.js' } },
  }),
  'node_modules/@scope/conditional/node.js': "export const which = 'node-import';\n",
  'node_modules/@scope/conditional/default.js': "export const which = 'default';\n",
  'node_modules/@scope/conditional/extra.js': 'export default 7;\n',
  'node_modules/typed-module/package.json': JSON.stringify({ name: 'typed-module', type: 'module', main: 'lib.js' }),
  'node_modules/typed-module/lib.js': "export const kind = 'esm-main';\n",
  'node_modules/dyn-cjs/package.json': JSON.stringify({ name: 'dyn-cjs' }),
  'node_modules/dyn-cjs/index.js': "for (const k of ['a', 'b']) module.exports[k] = k.toUpperCase();\n",
  'sub/dir/.keep': '',
});
void after(() => nb.cleanup());

const loader = new ModuleLoader(`${nb.dir}/sub/dir`, nb.dir);
const readingPackageJson = new ModuleLoader(`${nb.dir}/sub/dir`, nb.dir, { nodeEsmResolver: false });

void test('an ES-module-only package with nested conditions resolves from a folder above the notebook', async () => {
  assert.equal((await loader.import('@scope/conditional')).which, 'node-import');
  assert.equal((await loader.import('@scope/conditional/extra')).default, 7);
});

void test('without Node\'s ESM resolver the package.json is read with the same result', async () => {
  assert.equal((await readingPackageJson.import('@scope/conditional')).which, 'node-import');
  assert.equal((await readingPackageJson.import('@scope/conditional/extra')).default, 7);
  assert.equal(resolvePackageEntry('@scope/conditional', `${nb.dir}/sub/dir`), `${nb.dir}/node_modules/@scope/conditional/node.js`);
  assert.equal(resolvePackageEntry('absent', nb.dir), undefined);
});

void test('a "type": "module" package with a main field is imported as an ES module', async () => {
  assert.equal((await loader.import('typed-module')).kind, 'esm-main');
});

void test('a CommonJS package exposes every property of module.exports, also ones Node cannot detect', async () => {
  const ns = await loader.import('dyn-cjs');
  assert.equal(ns.a, 'A');
  assert.equal(ns.b, 'B');
  assert.deepEqual(ns.default, { a: 'A', b: 'B' });
  assert.deepEqual(loader.require('dyn-cjs'), { a: 'A', b: 'B' });
});

void test("tfjs package names are the kernel's one instance", async () => {
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) {
    assert.equal(await loader.import(name), tf, name);
    assert.equal(loader.require(name), tf, name);
  }
});

void test('a default import of a namespace without default gets the namespace', async () => {
  const ns = await loader.import('@tensorflow/tfjs');
  assert.equal(loader.withDefaultExport(ns).default, tf);
});

void test('a missing package and a non-string specifier give clear errors', async () => {
  await assert.rejects(loader.import('not-installed-anywhere'), (e: unknown) => e instanceof ModuleNotFoundError && /Cannot find module 'not-installed-anywhere' \(searched from .*sub\/dir and /.test(e.message));
  await assert.rejects(loader.import(42), /expected a module name or path as a string, got number/);
});
